-- dicom_convert [OPTIONS] SRC DST [FORMAT]: every DICOM series under SRC (all
-- sub-folders unless --no-recursive) to one file each in DST, as .nii.gz
-- (default), .nii, .mhd or .mha, with a progress bar; prints one line per
-- series. Options: --allow-nonuniform, --skip-damaged, --no-recursive,
-- --layout=dcm2niix|lps (NIfTI default: dcm2niix's array; see vol.dicom_convert).
-- Usage: medula -s dicom_convert [--allow-nonuniform] dicom_tree/ out/ [nii.gz]
local vol = require "vol"
local cli = require "util.cli"

cli.main("dicom_convert", function()
  local args = cli.parse(arg, {
    name = "dicom_convert",
    summary = "Converts every DICOM series under SRC to one file each in DST, one line per series.",
    options = {
      { long = "--allow-nonuniform", type = "flag", help = "accept slices that are not evenly spaced" },
      { long = "--skip-damaged", type = "flag", help = "leave out files that cannot be read, and say so" },
      { long = "--recursive", type = "flag", default = true, help = "only SRC itself, not its sub-folders" },
      { long = "--layout", type = "choice", choices = { "dcm2niix", "lps" },
        help = "NIfTI array order: dcm2niix's (default) or LPS" },
    },
    positional = {
      { name = "SRC", help = "the DICOM folder" },
      { name = "DST", help = "the output folder" },
      { name = "FORMAT", type = "choice", choices = { "nii.gz", "nii", "mhd", "mha" }, optional = true,
        help = "output format (default: nii.gz)" },
    },
    epilog = "Exit status: 0 when every series was converted, 1 otherwise, 2 bad usage.",
  })
  local results = vol.dicom_convert(args.src, args.dst, {
    allow_nonuniform = args.allow_nonuniform, skip_damaged = args.skip_damaged,
    recursive = args.recursive, layout = args.layout, format = args.format,
  })
  local failed = 0
  for _, r in ipairs(results) do
    if r.error then
      failed = failed + 1
      print(("skipped  %s (%d files): %s"):format(r.id, r.nfiles, r.error))
    else
      print(("wrote    %s  %s"):format(r.path, table.concat(r.shape, "x")))
    end
  end
  for _, d in ipairs(results.damaged) do print(("damaged  %s: %s"):format(d.path, d.error)) end
  print(("%d series converted, %d skipped, %d damaged files left out, %d other files ignored"):format(
    #results - failed, failed, #results.damaged, results.skipped))
  return failed == 0 and 0 or 1
end)
