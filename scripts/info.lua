-- info FILE...: format, dtype, shape, geometry, orientation, value statistics and size of each image
-- Usage: medula -s info scan.nii.gz [more files...]
local vol = require "vol"

if #arg == 0 then
  io.stderr:write("usage: medula -s info FILE...\n")
  os.exit(2)
end

local failed = 0
for i, path in ipairs(arg) do
  local ok, v = pcall(vol.read, path)
  if ok then
    if i > 1 then
      print("")
    end
    print(table.concat(vol.describe(v, path), "\n"))
    v:release()
  else
    io.stderr:write("info: ", tostring(v), "\n")
    failed = failed + 1
  end
end
os.exit(failed == 0 and 0 or 1)
