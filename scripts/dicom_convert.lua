-- dicom_convert SRC DST [FORMAT]: every DICOM series under SRC (all
-- sub-folders) to one file each in DST, as .nii.gz (default), .nii, .mhd or
-- .mha, with a progress bar; prints one line per series.
-- Usage: medula -s dicom_convert dicom_tree/ out/ [nii.gz]
local vol = require "vol"

local src, dst, format = arg[1], arg[2], arg[3]
if not src or not dst then
  io.stderr:write("usage: medula -s dicom_convert SRC DST [nii.gz|nii|mhd|mha]\n")
  os.exit(2)
end

local ok, results = pcall(vol.dicom_convert, src, dst, {format = format})
if not ok then
  io.stderr:write("dicom_convert: ", tostring(results), "\n")
  os.exit(1)
end
local failed = 0
for _, r in ipairs(results) do
  if r.error then
    failed = failed + 1
    print(("skipped  %s (%d files): %s"):format(r.id, r.nfiles, r.error))
  else
    print(("wrote    %s  %s"):format(r.path, table.concat(r.shape, "x")))
  end
end
print(("%d series converted, %d skipped, %d other files ignored"):format(#results - failed, failed, results.skipped))
os.exit(failed == 0 and 0 or 1)
