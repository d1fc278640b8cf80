-- Generated datasets for the bundled workflows, each case with its truth:
--   dsb   chest CTs as DICOM series (one file per slice, random names,
--         shuffled InstanceNumbers, a rescale intercept per slice), the
--         table crossing the image, inside it or absent, lungs joined or
--         apart, nodules of several sizes (some touching the pleura);
--         truth/<case>_lung.nii.gz and truth/nodules.csv (world mm)
--   luna  the same chests as LUNA16 has them: <seriesuid>.mhd/.raw,
--         annotations.csv (nodules) and candidates.csv (nodules and
--         non-nodule points), truth/<seriesuid>_lung.nii.gz
--   nfbs  T1-like heads in the NFBS layout: <subject>/<subject>_T1w.nii.gz,
--         _brain.nii.gz, _brainmask.nii.gz, and truth/<subject>_bias.nii.gz
-- Every number comes from vol.rng(seed, kind, case): the same seed gives the
-- same files on any machine.
local csv = require "util.csv"
local doc = require("vol.help").doc

local dataset = {}
local KIND_STREAM = {dsb = 1, luna = 2, nfbs = 3}

-- ---- chests ------------------------------------------------------------------

-- A lung voxel (1-based) whose distance to the lung's edge suits a nodule of
-- radius r: touching the pleura (distance about r) or well inside.
local function nodule_site(rng, truth, dist, r, pleural)
  local nx, ny, nz = truth.shape[1], truth.shape[2], truth.shape[3]
  for _ = 1, 20000 do
    local i, j, k = rng:integer(1, nx), rng:integer(1, ny), rng:integer(1, nz)
    if truth:get(i, j, k) == 1 then
      local d = dist:get(i, j, k)
      if (pleural and math.abs(d - r) <= 1.0) or (not pleural and d >= r + 3) then return i, j, k end
    end
  end
  return nil
end

-- One chest case: the CT (int16 HU), its lung truth and its nodules
-- ({x, y, z, diameter_mm, pleural}, world LPS mm).
function dataset.chest(seed, case, opts)
  opts = opts or {}
  local rng = vol.rng(seed, KIND_STREAM.dsb, case)
  local shape = opts.shape or {128, 128, 64}
  local fov = rng:uniform(320, 400)
  local spacing = {fov / shape[1], fov / shape[2], rng:uniform(250, 350) / shape[3]}
  local tables = {"sides", "narrow", "none"}
  local ct, truth = vol.phantom.chest{shape = shape, spacing = spacing, seed = seed * 1000 + case,
                                      table = tables[(case - 1) % 3 + 1], joined_lungs = rng:uniform() < 0.5,
                                      open_dome = true, truth = true}
  local dist = truth:edt()
  local nodules = {}
  for n = 1, rng:integer(1, 3) do
    local diameter = rng:uniform(4, 20)
    local pleural = n == 1 and rng:uniform() < 0.5
    local i, j, k = nodule_site(rng, truth, dist, diameter / 2, pleural)
    if i then
      local ball = vol.phantom.sphere{shape = shape, spacing = spacing, center = {i, j, k}, radius_mm = diameter / 2}
      ct = ct:where(ball:band(truth), 25, ct)
      local x, y, z = ct:index_to_world(i, j, k)
      nodules[#nodules + 1] = {x = x, y = y, z = z, diameter_mm = diameter, pleural = pleural}
    end
  end
  return ct, truth, nodules
end

local function case_id(kind, case) return ("%s%04d"):format(kind, case) end

-- "1.3.6.1.4.1.14519.5.2.1.6279.6001." and digits, as LUNA16's names look
local function series_uid(rng)
  local d = {}
  for i = 1, 30 do d[i] = tostring(rng:integer(i == 1 and 1 or 0, 9)) end
  return "1.3.6.1.4.1.14519.5.2.1.6279.6001." .. table.concat(d)
end

local function make_dsb(out, seed, cases, opts, report)
  local fs = vol.fs
  fs.mkdir(fs.join(out, "truth"))
  local rows = {}
  for case = 1, cases do
    local id = case_id("dsb", case)
    local ct, truth, nodules = dataset.chest(seed, case, opts)
    local rng = vol.rng(seed, KIND_STREAM.dsb, case, 99)
    local icpt = {}
    for k = 1, ct.shape[3] do icpt[k] = rng:uniform() < 0.5 and -1024 or -1000 end
    ct:write_dicom(fs.join(out, id), {seed = seed * 100000 + case, random_names = true, shuffle_instances = true,
                                      intercept = icpt, patient_id = id})
    truth:write(fs.join(out, "truth", id .. "_lung.nii.gz"))
    for _, n in ipairs(nodules) do
      rows[#rows + 1] = {case = id, x = n.x, y = n.y, z = n.z, diameter_mm = n.diameter_mm, pleural = n.pleural and 1 or 0}
    end
    report(case, id)
  end
  csv.write(fs.join(out, "truth", "nodules.csv"), rows, {"case", "x", "y", "z", "diameter_mm", "pleural"})
end

local function make_luna(out, seed, cases, opts, report)
  local fs = vol.fs
  fs.mkdir(fs.join(out, "truth"))
  local ann, cand = {}, {}
  for case = 1, cases do
    local ct, truth, nodules = dataset.chest(seed, case, opts)
    local rng = vol.rng(seed, KIND_STREAM.luna, case)
    local uid = series_uid(rng)
    ct:write(fs.join(out, uid .. ".mhd"))
    truth:write(fs.join(out, "truth", uid .. "_lung.nii.gz"))
    for _, n in ipairs(nodules) do
      ann[#ann + 1] = {seriesuid = uid, coordX = n.x, coordY = n.y, coordZ = n.z, diameter_mm = n.diameter_mm}
      cand[#cand + 1] = {seriesuid = uid, coordX = n.x, coordY = n.y, coordZ = n.z, class = 1}
    end
    for _ = 1, 3 do -- points in the lungs that are no nodule
      local i, j, k = nodule_site(rng, truth, truth:edt(), 2, false)
      if i then
        local x, y, z = ct:index_to_world(i, j, k)
        cand[#cand + 1] = {seriesuid = uid, coordX = x, coordY = y, coordZ = z, class = 0}
      end
    end
    report(case, uid)
  end
  csv.write(fs.join(out, "annotations.csv"), ann, {"seriesuid", "coordX", "coordY", "coordZ", "diameter_mm"})
  csv.write(fs.join(out, "candidates.csv"), cand, {"seriesuid", "coordX", "coordY", "coordZ", "class"})
end

-- ---- heads -------------------------------------------------------------------

-- A T1-like head: scalp, skull, CSF, grey and white matter as nested
-- ellipsoids, times a smooth bias field. Returns T1, brain mask, bias.
function dataset.head(seed, case, opts)
  opts = opts or {}
  local rng = vol.rng(seed, KIND_STREAM.nfbs, case)
  local shape = opts.head_shape or {96, 112, 96}
  local sp = {256 / shape[1] * 0.75, 256 / shape[2] * 0.75, 192 / shape[3] * 0.75}
  local s = rng:uniform(0.9, 1.05) -- head size
  local function ball(r_mm, value)
    return vol.phantom.sphere{shape = shape, spacing = {sp[1], sp[2] * 1.2, sp[3]}, radius_mm = r_mm * s,
                              value = value, dtype = "float32"}
  end
  -- tissue classes from the outside in; each inner ball overwrites
  local t1 = ball(92, 300)
  for _, layer in ipairs({{86, 80}, {80, 350}, {76, 150}, {72, 600}, {55, 850}}) do
    local b = ball(layer[1], 1)
    t1 = t1:where(b, layer[2], t1)
  end
  local brain = ball(76, 1):astype("uint8")
  local noise = vol.new{shape = shape, dtype = "float32"}
  vol.aug.noise(noise, 12, vol.rng(seed, KIND_STREAM.nfbs, case, 7))
  t1 = (t1 + noise):where(ball(92, 1), t1 + noise, 0):clamp(0, 4000)
  local bias = vol.new{shape = shape, dtype = "float32"}
  bias:fill(1)
  local coef = {}
  for i = 1, vol.aug.bias_terms(2) do coef[i] = i == 1 and 0 or rng:uniform(-0.25, 0.25) end
  vol.aug.bias(bias, 2, coef)
  t1 = (t1 * bias):astype("float32")
  -- the head's centre at world 0, as scanners centre the field of view
  local origin = {-(shape[1] - 1) / 2 * sp[1], -(shape[2] - 1) / 2 * sp[2], -(shape[3] - 1) / 2 * sp[3]}
  for _, v in ipairs({t1, brain, bias}) do v:set_spacing(sp); v:set_origin(origin) end
  return t1, brain, bias
end

local function make_nfbs(out, seed, cases, opts, report)
  local fs = vol.fs
  fs.mkdir(fs.join(out, "truth"))
  for case = 1, cases do
    local id = ("sub-%05d"):format(case)
    local t1, brain, bias = dataset.head(seed, case, opts)
    local dir = fs.join(out, id)
    fs.mkdir(dir)
    t1:write(fs.join(dir, id .. "_T1w.nii.gz"))
    local stripped = t1 * brain
    stripped:write(fs.join(dir, id .. "_brain.nii.gz"))
    brain:write(fs.join(dir, id .. "_brainmask.nii.gz"))
    bias:write(fs.join(out, "truth", id .. "_bias.nii.gz"))
    report(case, id)
  end
end

local MAKERS = {dsb = make_dsb, luna = make_luna, nfbs = make_nfbs}

function dataset.make(kind, opts)
  if not MAKERS[kind] then
    error(("bad argument #1 to 'make' (kind must be dsb, luna or nfbs, got %s)"):format(tostring(kind)), 2)
  end
  opts = opts or {}
  local cases, seed, out = opts.cases or 3, opts.seed or 1, opts.out
  if type(out) ~= "string" then error("bad argument #2 to 'make' (option 'out' (a folder) is required)", 2) end
  if math.type(cases) ~= "integer" or cases < 1 then error("bad argument #2 to 'make' (cases must be an integer >= 1)", 2) end
  if math.type(seed) ~= "integer" or seed < 0 then error("bad argument #2 to 'make' (seed must be an integer >= 0)", 2) end
  vol.fs.mkdir(out)
  local bar = vol.progress(cases, "make_dataset " .. kind)
  MAKERS[kind](out, seed, cases, opts, function(case, id)
    bar:step()
    if opts.verbose then print(("%s case %d: %s"):format(kind, case, id)) end
  end)
  bar:done()
  return out
end

doc(dataset.chest, [[
dataset.chest(seed, case [, {shape={128, 128, 64}}]) -> ct, lung_truth, nodules
One generated chest CT (int16 HU) with its lung mask and its nodules
({x=, y=, z=, diameter_mm=, pleural=} in world LPS mm): a field of view of
320-400 mm, anisotropic spacing, the table crossing the image, inside it or
absent (by case), lungs joined or apart, 1-3 nodules of 4-20 mm (the first
touching the pleura half the time).]])
doc(dataset.head, [[
dataset.head(seed, case [, {head_shape={96, 112, 96}}]) -> t1, brain_mask, bias
One generated T1-like head (float32): scalp, skull, CSF, grey and white matter,
noise, times a smooth random bias field (returned too); the brain mask is uint8.]])
doc(dataset.make, [[
dataset.make(kind, {out=, cases=3, seed=1, shape=, head_shape=, verbose=false}) -> out
Writes a generated dataset of kind "dsb" (DICOM series + truth/), "luna"
(.mhd + annotations.csv + candidates.csv + truth/) or "nfbs" (the NFBS subject
layout + truth/) into out. The same seed writes the same files.]])

return dataset
