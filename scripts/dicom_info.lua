-- dicom_info DIR [SERIES_ID]: the series of a DICOM folder (sub-folders
-- included), then the tags of one series (the first, or the one named).
-- Usage: medula -s dicom_info study/ [1.2.840....]
local vol = require "vol"

local dir, id = arg[1], arg[2]
if not dir then
  io.stderr:write("usage: medula -s dicom_info DIR [SERIES_ID]\n")
  os.exit(2)
end

local ok, lines = pcall(vol.dicom_info, dir, id)
if not ok then
  io.stderr:write("dicom_info: ", tostring(lines), "\n")
  os.exit(1)
end
print(table.concat(lines, "\n"))
