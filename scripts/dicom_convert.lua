-- dicom_convert [OPTIONS] SRC DST [FORMAT]: every DICOM series under SRC (all
-- sub-folders unless --no-recursive) to one file each in DST, as .nii.gz
-- (default), .nii, .mhd or .mha, with a progress bar; prints one line per
-- series. Options: --allow-nonuniform, --skip-damaged, --no-recursive,
-- --layout=dcm2niix|lps (NIfTI default: dcm2niix's array; see vol.dicom_convert).
-- Usage: medula -s dicom_convert [--allow-nonuniform] dicom_tree/ out/ [nii.gz]
local vol = require "vol"

local USAGE = "usage: medula -s dicom_convert [--allow-nonuniform] [--skip-damaged] [--no-recursive] "
  .. "[--layout=dcm2niix|lps] SRC DST [nii.gz|nii|mhd|mha]\n"
local opts, pos = {}, {}
for _, a in ipairs(arg) do
  if a == "--allow-nonuniform" then
    opts.allow_nonuniform = true
  elseif a == "--skip-damaged" then
    opts.skip_damaged = true
  elseif a == "--no-recursive" then
    opts.recursive = false
  elseif a:match("^%-%-layout=") then
    opts.layout = a:match("^%-%-layout=(.*)$")
  elseif a:sub(1, 2) == "--" then
    io.stderr:write("dicom_convert: unknown option ", a, "\n", USAGE)
    os.exit(2)
  else
    pos[#pos + 1] = a
  end
end
local src, dst = pos[1], pos[2]
opts.format = pos[3]
if not src or not dst or #pos > 3 then
  io.stderr:write(USAGE)
  os.exit(2)
end

local ok, results = pcall(vol.dicom_convert, src, dst, opts)
if not ok then
  io.stderr:write("dicom_convert: ", tostring(results):gsub("^dicom_convert: ", ""), "\n")
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
for _, d in ipairs(results.damaged) do print(("damaged  %s: %s"):format(d.path, d.error)) end
print(("%d series converted, %d skipped, %d damaged files left out, %d other files ignored"):format(
  #results - failed, failed, #results.damaged, results.skipped))
os.exit(failed == 0 and 0 or 1)
