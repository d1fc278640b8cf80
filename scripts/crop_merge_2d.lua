-- crop_merge_2d [IMAGE] [OUTDIR] [PATCH] [OVERLAP]: the classic numpy crop-and-merge recipe beside full coverage on a 2-D image
-- Usage: medula -s crop_merge_2d [slice.png] [outdir] [96] [32]
-- Crops the image into overlapping patches and merges them back ('drop',
-- 'cover' and 'pad' modes), prints how many pixels the classic recipe loses
-- and writes OUTDIR/crop_merge_2d_original_classic_full.png. Without IMAGE
-- (or with "-"), a slice of the synthetic chest CT is used.
local vol = require "vol"
local cli = require "util.cli"

cli.main("crop_merge_2d", function()
  local args = cli.parse(arg, {
    name = "crop_merge_2d",
    summary = "Crops into overlapping patches, merges back ('drop', 'cover', 'pad') and counts what the\n"
      .. "classic recipe loses.",
    positional = {
      { name = "IMAGE", optional = true, default = "-", help = "the input (\"-\": a slice of the synthetic chest CT)" },
      { name = "OUTDIR", optional = true, default = "build/crop_merge", help = "where the pictures go" },
      { name = "PATCH", type = "int", min = 1, optional = true, default = 96, help = "patch size in voxels" },
      { name = "OVERLAP", type = "int", min = 0, optional = true, default = 32, help = "overlap in voxels" },
    },
  })
  local input, outdir = args.image, args.outdir
  local img
  if input ~= "-" then
    img = vol.read(input)
  else
    img = vol.phantom.chest{shape={256, 256, 1}}
  end
  vol.fs.mkdir(outdir)
  local r = vol.crop_merge_compare(img, {patch=args.patch, overlap=args.overlap, outdir=outdir})
  print(table.concat(r.summary, "\n"))
end)
