-- crop_merge_3d [VOLUME] [OUTDIR] [PATCH] [OVERLAP]: the classic numpy crop-and-merge recipe beside full coverage on a 3-D volume
-- Usage: medula -s crop_merge_3d [scan.nii.gz] [outdir] [96] [32]
-- Crops the volume into overlapping patches and merges them back ('drop',
-- 'cover' and 'pad' modes), prints how many voxels the classic recipe loses
-- and writes OUTDIR/crop_merge_3d_{classic,full,lost}.nii.gz. Without VOLUME
-- (or with "-"), the synthetic chest CT (256x256x120) is used.
local vol = require "vol"

if arg[1] == "-h" or arg[1] == "--help" then
  print("usage: medula -s crop_merge_3d [VOLUME|-] [OUTDIR] [PATCH] [OVERLAP]")
  os.exit(0)
end
local input, outdir = arg[1], arg[2] or "build/crop_merge"
local patch, overlap = tonumber(arg[3] or "96"), tonumber(arg[4] or "32")
if not patch or not overlap then
  io.stderr:write("crop_merge_3d: PATCH and OVERLAP must be numbers\n")
  os.exit(2)
end

local v
if input and input ~= "-" then
  v = vol.read(input)
else
  v = vol.phantom.chest{}
end
vol._mkdir_p(outdir)
local r = vol.crop_merge_compare(v, {patch=patch, overlap=overlap, outdir=outdir})
print(table.concat(r.summary, "\n"))
