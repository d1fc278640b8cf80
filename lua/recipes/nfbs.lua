-- The NFBS skull-strip data preparation as steps over medula's kernels:
--   local nfbs = require "recipes.nfbs"
--   local subjects = nfbs.subjects("NFBS_Dataset")       -- {id=, t1=, brain=, mask=}
--   local t1 = vol.read(s.t1)
--   local corrected = nfbs.bias_correct(t1)              -- N4, shrink 3, {20, 10, 10, 5}
--   local img, mask = nfbs.to_grid(corrected, vol.read(s.mask))   -- 2 mm, 96x128x160
--   img = nfbs.normalize(img, "rescale")                 -- 0..255 (or "zscore")
--   local brain = img * mask                             -- the skull-stripped brain
-- nfbs.run_case does it for one subject; nfbs.arrays gathers the training arrays.
local doc = require("vol.help").doc

local nfbs = {}

-- The recipe's grid: 2 mm, 96 x 128 x 160, centred on world 0 (RAS affine).
nfbs.AFFINE = {{2, 0, 0, -96}, {0, 2, 0, -128}, {0, 0, 2, -160}, {0, 0, 0, 1}}
nfbs.SHAPE = {96, 128, 160}

function nfbs.subjects(dir)
  local fs, out = vol.fs, {}
  local st = fs.stat(dir)
  if not st or st.kind ~= "dir" then error(dir .. ": no such folder", 2) end
  for _, name in ipairs(fs.list(dir)) do
    local sub = fs.join(dir, name)
    local t1 = fs.glob(fs.join(sub, "*_T1w.nii.gz"))[1]
    if t1 then
      local base = t1:sub(1, -#"_T1w.nii.gz" - 1)
      local s = {id = name, t1 = t1, brain = base .. "_brain.nii.gz", mask = base .. "_brainmask.nii.gz"}
      if not fs.exists(s.mask) then error(("%s: no brain mask beside %s"):format(s.mask, fs.basename(t1)), 2) end
      out[#out + 1] = s
    end
  end
  return out
end

function nfbs.bias_correct(t1, opts)
  opts = opts or {}
  if not t1.n4 then error("bias_correct: this medula has no v:n4", 2) end
  local corrected = t1:n4{shrink = opts.shrink or 3, iterations = opts.iterations or {20, 10, 10, 5}}
  return corrected
end

function nfbs.to_grid(img, mask, opts)
  opts = opts or {}
  local A, shape = opts.affine or nfbs.AFFINE, opts.shape or nfbs.SHAPE
  local g = img:resample_img{target_affine = A, target_shape = shape, interpolation = opts.interpolation or "continuous"}
  local m = mask and mask:resample_img{target_affine = A, target_shape = shape, interpolation = "nearest"}
  return g:astype("float32"), m and m:astype("uint8")
end

function nfbs.normalize(img, how, mask)
  how = how or "rescale"
  if how == "rescale" then -- SimpleITK's RescaleIntensity to 0..255
    local s = img:stats()
    local range = s.max - s.min
    if range == 0 then return img:astype("float32") * 0 end
    return ((img:astype("float32") - s.min) * (255 / range)):astype("float32")
  elseif how == "zscore" then -- over the mask when given, else the whole image
    local s = mask and img:stats(mask) or img:stats()
    return ((img:astype("float32") - s.mean) * (1 / (s.std > 0 and s.std or 1))):astype("float32")
  end
  error(("bad argument #2 to 'normalize' (rescale or zscore expected, got %s)"):format(tostring(how)), 2)
end

function nfbs.run_case(case, out, params)
  params = params or {}
  local t1 = vol.read(case.t1)
  local mask = vol.read(case.mask)
  local corrected = params.n4 == 0 and t1 or nfbs.bias_correct(t1)
  local img, m = nfbs.to_grid(corrected, mask, {interpolation = params.interpolation})
  local how = params.normalize or "rescale"
  if how == "both" then
    img = nfbs.normalize(nfbs.normalize(img, "rescale"), "zscore", m)
  else
    img = nfbs.normalize(img, how, m)
  end
  local brain = img * m
  img:write(out:path("image.nii.gz"))
  m:write(out:path("mask.nii.gz"))
  brain:astype("float32"):write(out:path("brain.nii.gz"))
  return {shape = table.concat(img.shape, "x")}
end

-- The training arrays of the subjects' outputs and a seeded split.
function nfbs.arrays(out, ids, opts)
  opts = opts or {}
  local fs, csv = vol.fs, require "util.csv"
  local imgs, masks, brains = {}, {}, {}
  for i, id in ipairs(ids) do
    imgs[i] = vol.read(fs.join(out, id, "image.nii.gz")):astype("float32")
    masks[i] = vol.read(fs.join(out, id, "mask.nii.gz")):astype("float32")
    brains[i] = vol.read(fs.join(out, id, "brain.nii.gz")):astype("float32")
  end
  local layout = opts.layout or "NDHWC"
  vol.save_npy_stack(fs.join(out, "images.npy"), imgs, {layout = layout})
  vol.save_npy_stack(fs.join(out, "masks.npy"), masks, {layout = layout})
  vol.save_npy_stack(fs.join(out, "brains.npy"), brains, {layout = layout})
  -- the split: a seeded shuffle, the first validation share held out
  local order = {}
  for i = 1, #ids do order[i] = i end
  local rng = vol.rng(opts.seed or 1, 0x5B17)
  for i = #order, 2, -1 do
    local j = rng:integer(1, i)
    order[i], order[j] = order[j], order[i]
  end
  local nval = math.floor(#ids * (opts.validation or 0.2) + 0.5)
  local rows = {}
  for rank, i in ipairs(order) do
    rows[#rows + 1] = {index = i - 1, subject = ids[i], split = rank <= nval and "validation" or "train"}
  end
  table.sort(rows, function(a, b) return a.index < b.index end)
  csv.write(fs.join(out, "split.csv"), rows, {"index", "subject", "split"})
  return #ids
end

doc(nfbs.subjects, [[
nfbs.subjects(dir) -> {{id=, t1=, brain=, mask=}, ...}
The NFBS layout: a folder per subject holding *_T1w.nii.gz, *_brain.nii.gz and
*_brainmask.nii.gz (a missing mask is an error naming it).]])
doc(nfbs.bias_correct, [[
nfbs.bias_correct(t1 [, {shrink=3, iterations={20, 10, 10, 5}}]) -> Volume
The recipe's N4BiasFieldCorrection (v:n4 with those parameters).]])
doc(nfbs.to_grid, [[
nfbs.to_grid(img [, mask, {affine=nfbs.AFFINE, shape={96, 128, 160}, interpolation="continuous"}])
  -> img, mask
nilearn's resample_img onto the recipe's 2 mm grid of 96 x 128 x 160 centred on
world 0; the mask with nearest, as uint8; the image as float32.]])
doc(nfbs.normalize, [[
nfbs.normalize(img, "rescale" | "zscore" [, mask]) -> float32 Volume
rescale: SimpleITK's RescaleIntensity to 0..255 (min -> 0, max -> 255); zscore: minus
the mean, over the standard deviation (inside mask when given).]])
doc(nfbs.run_case, [[
nfbs.run_case(case, out, params) -> summary
One subject (case.t1, case.mask): N4 (params.n4=0 skips it), the 2 mm grid,
normalisation (params.normalize: rescale, zscore or both), brain = image x mask;
writes image.nii.gz, mask.nii.gz, brain.nii.gz.]])
doc(nfbs.arrays, [[
nfbs.arrays(out, ids [, {layout="NDHWC", seed=1, validation=0.2}]) -> n
Stacks the subjects' outputs into out/images.npy, masks.npy and brains.npy, shape
(N, 96, 128, 160, 1) float32 for Keras (layout="NCDHW": (N, 1, 96, 128, 160)), and
writes out/split.csv: each subject's split (train or validation), drawn with seed.]])

return nfbs
