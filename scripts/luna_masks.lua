-- luna_masks SUBSET_DIR --annotations annotations.csv --out DIR: LUNA16 nodule masks (world-mm balls), slices and candidate patches
-- Usage: medula -s luna_masks subset0 --annotations annotations.csv --candidates candidates.csv --out masks
local runner = require "util.runner"
local vol = require "vol"

runner.main(arg, {
  name = "luna_masks",
  summary = "For every .mhd scan of SUBSET_DIR: OUT/<uid>/<uid>_nodule_mask.nii.gz (and .npy) with every\n"
    .. "nodule of annotations.csv as a ball in world millimetres, the three slices around each nodule\n"
    .. "with their circles (images_<uid>.npy, masks_<uid>.npy), and with --candidates, candidate-\n"
    .. "centred cubes (<uid>_candidates.npy and .csv).",
  positional = { { name = "SUBSET_DIR", help = "a folder of LUNA16 .mhd/.raw scans" } },
  options = {
    { long = "--annotations", required = true, metavar = "CSV", help = "LUNA16's annotations.csv" },
    { long = "--candidates", metavar = "CSV", help = "LUNA16's candidates.csv: patches around each candidate" },
    { long = "--out", required = true, metavar = "DIR", help = "the output folder" },
    { long = "--patch", type = "int", min = 2, default = 64, help = "candidate cube size (voxels)" },
    { long = "--legacy-circles", type = "flag", help = "the widely copied circles (distance vs diameter)" },
  },
  epilog = "Exit status: 0 all scans done, 2 bad usage, 3 a scan failed, 75 worth retrying, 130 interrupted.",
  plan = function(a)
    for _, f in ipairs({ a.annotations, a.candidates }) do
      if f and not vol.fs.exists(f) then error(f .. ": no such file", 0) end
    end
    return {
      recipe = "recipes.luna_case", input = a.subset_dir, pattern = "*.mhd", out = a.out,
      params = { annotations = vol.fs.absolute(a.annotations), candidates = a.candidates and vol.fs.absolute(a.candidates),
                 patch = a.patch, legacy = a.legacy_circles and 1 or 0 },
    }
  end,
})
