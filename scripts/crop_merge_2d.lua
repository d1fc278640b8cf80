-- crop_merge_2d [IMAGE] [OUTDIR] [PATCH] [OVERLAP]: the classic numpy crop-and-merge recipe beside full coverage on a 2-D image
-- Usage: medula -s crop_merge_2d [slice.png] [outdir] [96] [32]
-- Crops the image into overlapping patches and merges them back ('drop',
-- 'cover' and 'pad' modes), prints how many pixels the classic recipe loses
-- and writes OUTDIR/crop_merge_2d_original_classic_full.png. Without IMAGE
-- (or with "-"), a slice of the synthetic chest CT is used.
local vol = require "vol"

if arg[1] == "-h" or arg[1] == "--help" then
  print("usage: medula -s crop_merge_2d [IMAGE|-] [OUTDIR] [PATCH] [OVERLAP]")
  os.exit(0)
end
local input, outdir = arg[1], arg[2] or "build/crop_merge"
local patch, overlap = tonumber(arg[3] or "96"), tonumber(arg[4] or "32")
if not patch or not overlap then
  io.stderr:write("crop_merge_2d: PATCH and OVERLAP must be numbers\n")
  os.exit(2)
end

local img
if input and input ~= "-" then
  img = vol.read(input)
else
  img = vol.phantom.chest{shape={256, 256, 1}}
end
vol._mkdir_p(outdir)
local r = vol.crop_merge_compare(img, {patch=patch, overlap=overlap, outdir=outdir})
print(table.concat(r.summary, "\n"))
