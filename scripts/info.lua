-- info FILE...: format, dtype, shape, geometry, orientation, value statistics and size of each image
-- Usage: medula -s info scan.nii.gz [more files...]
local vol = require "vol"
local cli = require "util.cli"

cli.main("info", function()
  local args = cli.parse(arg, {
    name = "info",
    summary = "Prints the format, dtype, shape, geometry, orientation, value statistics and size of each image.",
    positional = { { name = "FILE", many = true, help = "images: NIfTI, MetaImage, NumPy, PNG, DICOM" } },
    epilog = "Exit status: 0 when every file was read, 1 otherwise, 2 bad usage.",
  })
  local failed = 0
  for i, path in ipairs(args.file) do
    local ok, v = pcall(vol.read, path)
    if ok then
      if i > 1 then print("") end
      print(table.concat(vol.describe(v, path), "\n"))
      v:release()
    else
      io.stderr:write("info: ", cli.strip_location(tostring(v)), "\n")
      failed = failed + 1
    end
  end
  return failed == 0 and 0 or 1
end)
