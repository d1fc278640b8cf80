-- lung_segment IN... --out DIR: the DSB2017 lung workflow (HU, 1 mm, lung mask, normalise, crop) over scans, with resume and --jobs
-- Usage: medula -s lung_segment scans/ --out out/ --jobs 2
local runner = require "util.runner"
local lung = require "recipes.lung"

runner.main(arg, {
  name = "lung_segment",
  summary = "Segments the lungs of each scan (a DICOM series folder, a folder of them, .mhd or NIfTI\n"
    .. "files) and writes OUT/<case>/image.npy, mask.npy (cropped, 1 mm, DSB2017-normalised), their\n"
    .. ".nii.gz twins and lungs.nii.gz; OUT/ledger.csv makes a rerun skip finished scans.",
  positional = { { name = "IN", many = true, help = "scans: DICOM series folders, folders of them, image files" } },
  options = {
    { long = "--out", required = true, metavar = "DIR", help = "the output folder" },
    { long = "--spacing", type = "number", min = 0, default = 1, help = "isotropic spacing in mm (0: keep)" },
    { long = "--resample", type = "choice", choices = { "linear", "dsb" }, default = "linear",
      help = "linear resampling, or the tutorial's (cubic zoom, its rounding)" },
    { long = "--background", type = "choice", choices = { "sides", "corner" }, default = "sides",
      help = "which air is outside the patient (corner: the tutorial's rule)" },
    { long = "--keep", type = "choice", choices = { "lungs", "largest" }, default = "lungs",
      help = "both lungs, or the tutorial's largest component" },
    { long = "--airways", type = "flag", default = false, help = "keep the trachea and main bronchi in the mask" },
    { long = "--padding", type = "choice", choices = { "air", "intercept" }, default = "air",
      help = "DICOM padding (-2000) becomes -1024 HU, or the intercept as the tutorial's get_pixels_hu" },
    { long = "--npy-only", type = "flag", default = false,
      help = "write image.npy, mask.npy and lungs.npy only (no .nii.gz twins)" },
    { long = "--mask", type = "choice", choices = { "3d", "2d" }, default = "3d",
      help = "the 3-D lung mask, or the LUNA16 tutorial's per-slice recipe (lung.mask_2d)" },
    { long = "--ties", type = "choice", choices = { "two", "classic" }, default = "two",
      help = "2-D recipe: exactly the two largest regions, or every region >= the second largest" },
    { long = "--dilate-mm", type = "number", min = 0, default = 5, help = "dilation of the mask (mm)" },
  },
  epilog = "Exit status: 0 all scans done, 2 bad usage, 3 a scan failed, 75 worth retrying, 130 interrupted.",
  plan = function(a)
    return {
      recipe = "recipes.lung_case", out = a.out, cases = lung.cases(a["in"]),
      params = { spacing = a.spacing, resample = a.resample, background = a.background, keep = a.keep,
                 airways = a.airways and 0 or 1, dilate_mm = a.dilate_mm, mask = a.mask, ties = a.ties,
                 padding = a.padding, npy_only = a.npy_only and 1 or 0 },
    }
  end,
})
