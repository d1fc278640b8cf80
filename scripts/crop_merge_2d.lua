-- crop_merge_2d [IN...] [--out DIR]: the classic numpy crop-and-merge recipe beside full coverage on 2-D images, with resume and --jobs
-- Usage: medula -s crop_merge_2d slices/ --out out/ --patch 96 --overlap 32 --jobs 2
-- Crops each image into overlapping patches and merges them back ('drop',
-- 'cover' and 'pad' modes), writes OUT/<case>/crop_merge_2d_original_classic_full.png
-- and summary.txt/.csv, and prints how many pixels the classic recipe loses.
-- Without IN (or with "-"), a 256x256 slice of the synthetic chest CT is the case "chest_slice".
local crop_merge = require "recipes.crop_merge"
local runner = require "util.runner"

runner.main(arg, {
  name = "crop_merge_2d",
  summary = "Crops each image into overlapping patches, merges them back ('drop', 'cover', 'pad') and\n"
    .. "counts what the classic recipe loses: OUT/<case>/crop_merge_2d_original_classic_full.png,\n"
    .. "summary.txt and summary.csv; OUT/ledger.csv makes a rerun skip finished cases.",
  positional = { { name = "IN", many = true, optional = true, default = "-",
    help = "image files (PNG, NIfTI, ...), folders of them (\"-\": a slice of the synthetic chest CT)" } },
  options = {
    { long = "--out", metavar = "DIR", default = "build/crop_merge_2d", help = "the output folder" },
    { long = "--patch", type = "int", min = 1, default = 96, help = "patch size in pixels" },
    { long = "--overlap", type = "int", min = 0, default = 32, help = "overlap in pixels" },
  },
  epilog = "Exit status: 0 all cases done, 2 bad usage, 3 a case failed, 75 worth retrying, 130 interrupted.",
  plan = function(a)
    if a.overlap >= a.patch then error(("--overlap (%d) must be smaller than --patch (%d)"):format(a.overlap, a.patch), 0) end
    return { recipe = "recipes.crop_merge_case", out = a.out, cases = crop_merge.cases(a["in"], 2),
             params = { dims = 2, patch = a.patch, overlap = a.overlap } }
  end,
  finish = function(a, plan)
    print(table.concat(crop_merge.report(a.out, plan.cases), "\n"))
  end,
})
