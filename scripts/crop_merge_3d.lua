-- crop_merge_3d [IN...] [--out DIR]: the classic numpy crop-and-merge recipe beside full coverage on 3-D volumes, with resume and --jobs
-- Usage: medula -s crop_merge_3d scans/ --out out/ --patch 96 --overlap 32 --jobs 2
-- Crops each volume into overlapping patches and merges them back ('drop',
-- 'cover' and 'pad' modes), writes OUT/<case>/crop_merge_3d_{classic,full,lost}.nii.gz
-- and summary.txt/.csv, and prints how many voxels the classic recipe loses.
-- Without IN (or with "-"), the synthetic chest CT (256x256x120) is the case "chest".
local crop_merge = require "recipes.crop_merge"
local runner = require "util.runner"

runner.main(arg, {
  name = "crop_merge_3d",
  summary = "Crops each volume into overlapping patches, merges them back ('drop', 'cover', 'pad') and\n"
    .. "counts what the classic recipe loses: OUT/<case>/crop_merge_3d_{classic,full,lost}.nii.gz,\n"
    .. "summary.txt and summary.csv; OUT/ledger.csv makes a rerun skip finished cases.",
  positional = { { name = "IN", many = true, optional = true, default = "-",
    help = "volume files, DICOM series folders, folders of them (\"-\": the synthetic chest CT)" } },
  options = {
    { long = "--out", metavar = "DIR", default = "build/crop_merge_3d", help = "the output folder" },
    { long = "--patch", type = "int", min = 1, default = 96, help = "patch size in voxels" },
    { long = "--overlap", type = "int", min = 0, default = 32, help = "overlap in voxels" },
  },
  epilog = "Exit status: 0 all cases done, 2 bad usage, 3 a case failed, 75 worth retrying, 130 interrupted.",
  plan = function(a)
    if a.overlap >= a.patch then error(("--overlap (%d) must be smaller than --patch (%d)"):format(a.overlap, a.patch), 0) end
    return { recipe = "recipes.crop_merge_case", out = a.out, cases = crop_merge.cases(a["in"], 3),
             params = { dims = 3, patch = a.patch, overlap = a.overlap } }
  end,
  finish = function(a, plan)
    print(table.concat(crop_merge.report(a.out, plan.cases), "\n"))
  end,
})
