-- crop_merge_3d [VOLUME] [OUTDIR] [PATCH] [OVERLAP]: the classic numpy crop-and-merge recipe beside full coverage on a 3-D volume
-- Usage: medula -s crop_merge_3d [scan.nii.gz] [outdir] [96] [32]
-- Crops the volume into overlapping patches and merges them back ('drop',
-- 'cover' and 'pad' modes), prints how many voxels the classic recipe loses
-- and writes OUTDIR/crop_merge_3d_{classic,full,lost}.nii.gz. Without VOLUME
-- (or with "-"), the synthetic chest CT (256x256x120) is used.
local vol = require "vol"
local cli = require "util.cli"

cli.main("crop_merge_3d", function()
  local args = cli.parse(arg, {
    name = "crop_merge_3d",
    summary = "Crops into overlapping patches, merges back ('drop', 'cover', 'pad') and counts what the\n"
      .. "classic recipe loses.",
    positional = {
      { name = "VOLUME", optional = true, default = "-", help = "the input (\"-\": the synthetic chest CT (256x256x120))" },
      { name = "OUTDIR", optional = true, default = "build/crop_merge", help = "where the pictures go" },
      { name = "PATCH", type = "int", min = 1, optional = true, default = 96, help = "patch size in voxels" },
      { name = "OVERLAP", type = "int", min = 0, optional = true, default = 32, help = "overlap in voxels" },
    },
  })
  local input, outdir = args.volume, args.outdir
  local v
  if input and input ~= "-" then
    v = vol.read(input)
  else
    v = vol.phantom.chest{}
  end
  vol.fs.mkdir(outdir)
  local r = vol.crop_merge_compare(v, {patch=args.patch, overlap=args.overlap, outdir=outdir})
  print(table.concat(r.summary, "\n"))
end)
