-- dicom_info DIR [SERIES_ID]: the series of a DICOM folder (sub-folders
-- included), then the tags of one series (the first, or the one named).
-- Usage: medula -s dicom_info study/ [1.2.840....]
local vol = require "vol"

local dir, id = arg[1], arg[2]
if not dir then
  io.stderr:write("usage: medula -s dicom_info DIR [SERIES_ID]\n")
  os.exit(2)
end

local ok, list = pcall(vol.dicom_series, dir, {recursive = true})
if not ok then
  io.stderr:write("dicom_info: ", tostring(list), "\n")
  os.exit(1)
end
print(("%d series, %d other files in %s"):format(#list, list.skipped, dir))
print(table.concat(vol.dicom_table(list), "\n"))

local chosen = list[1]
for _, s in ipairs(list) do
  if s.id == id then chosen = s end
end
if id and chosen.id ~= id then
  io.stderr:write("dicom_info: no series ", id, "\n")
  os.exit(1)
end
print("")
print("tags of " .. chosen.id .. " (" .. chosen.files[1] .. "):")
print(table.concat(vol.dicom_tags(vol.dicom_header(chosen.files[1])), "\n"))
