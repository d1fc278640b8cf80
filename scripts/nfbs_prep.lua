-- nfbs_prep DATASET_DIR --out DIR: NFBS skull-strip data (N4, 2 mm 96x128x160 grid, 0..255, masks) and training arrays
-- Usage: medula -s nfbs_prep NFBS_Dataset --out prepared --jobs 2
local runner = require "util.runner"
local nfbs = require "recipes.nfbs"

runner.main(arg, {
  name = "nfbs_prep",
  summary = "Prepares every subject of an NFBS-style dataset (a folder per subject with *_T1w.nii.gz,\n"
    .. "*_brain.nii.gz, *_brainmask.nii.gz): N4 bias correction, the 2 mm 96x128x160 grid, intensity\n"
    .. "normalisation, the skull-stripped brain; then OUT/images.npy, masks.npy, brains.npy\n"
    .. "(N, 96, 128, 160, 1) and OUT/split.csv.",
  positional = { { name = "DATASET_DIR", help = "the NFBS folder (one sub-folder per subject)" } },
  options = {
    { long = "--out", required = true, metavar = "DIR", help = "the output folder" },
    { long = "--normalize", type = "choice", choices = { "rescale", "zscore", "both" }, default = "rescale",
      help = "0..255, z-score, or 0..255 then z-score" },
    { long = "--interpolation", type = "choice", choices = { "continuous", "linear", "nearest" },
      default = "continuous", help = "for the images (masks are nearest)" },
    { long = "--no-n4", type = "flag", help = "skip the bias correction" },
    { long = "--layout", type = "choice", choices = { "NDHWC", "NCDHW" }, default = "NDHWC",
      help = "array layout: Keras (N, z, y, x, 1) or PyTorch (N, 1, z, y, x)" },
    { long = "--seed", type = "int", min = 0, default = 1, help = "seed of the train/validation split" },
    { long = "--validation", type = "number", min = 0, max = 1, default = 0.2, help = "validation share" },
  },
  epilog = "Exit status: 0 all subjects done, 2 bad usage, 3 a subject failed, 75 worth retrying, 130 interrupted.",
  plan = function(a)
    local cases = {}
    for _, s in ipairs(nfbs.subjects(a.dataset_dir)) do
      cases[#cases + 1] = { id = s.id, t1 = s.t1, mask = s.mask }
    end
    if #cases == 0 then error(a.dataset_dir .. ": no subject folder with a *_T1w.nii.gz", 0) end
    return { recipe = "recipes.nfbs_case", out = a.out, cases = cases,
             params = { normalize = a.normalize, interpolation = a.interpolation, n4 = a.no_n4 and 0 or 1 } }
  end,
  finish = function(a, plan)
    local ids = {}
    for i, c in ipairs(plan.cases) do ids[i] = c.id end
    local n = nfbs.arrays(a.out, ids, { layout = a.layout, seed = a.seed, validation = a.validation })
    print(("nfbs_prep: %d subject(s) in %s/images.npy, masks.npy, brains.npy; split in %s/split.csv"):format(
      n, a.out, a.out))
  end,
})
