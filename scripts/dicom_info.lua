-- dicom_info DIR [SERIES_ID]: the series of a DICOM folder (sub-folders
-- included), then the tags of one series (the first, or the one named).
-- Usage: medula -s dicom_info study/ [1.2.840....]
local vol = require "vol"
local cli = require "util.cli"

cli.main("dicom_info", function()
  local args = cli.parse(arg, {
    name = "dicom_info",
    summary = "Lists the DICOM series under DIR (sub-folders included), then the tags of one series.",
    positional = {
      { name = "DIR", help = "a folder of DICOM files" },
      { name = "SERIES_ID", optional = true, help = "the series whose tags to print (default: the first)" },
    },
  })
  print(table.concat(vol.dicom_info(args.dir, args.series_id), "\n"))
end)
