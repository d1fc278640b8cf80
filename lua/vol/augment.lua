-- vol.augment{...}: a seeded augmentation pipeline. Each transform draws its
-- parameters from its own counter-based stream keyed by (seed, case, epoch,
-- position in the pipeline); all spatial transforms compose into ONE
-- mapping and the image and its labels are resampled once (v:warp); the
-- intensity transforms then run in the listed order on the float32 image
-- (vol.aug.*). No voxel loops here.
local doc = require("vol.help").doc

local vol -- the module table, set when this file is installed

local DEG = math.pi / 180
local AXES = {x = 1, y = 2, z = 3}

local function fail(msg) error(msg, 3) end

-- ---- 3x3 / 4x4 helpers (row-major lists) -----------------------------------

local function mat_identity()
  return {1, 0, 0, 0, 1, 0, 0, 0, 1}
end

local function mat_mul(A, B)
  local C = {}
  for r = 0, 2 do
    for c = 0, 2 do
      local s = 0
      for k = 0, 2 do s = s + A[r * 3 + k + 1] * B[k * 3 + c + 1] end
      C[r * 3 + c + 1] = s
    end
  end
  return C
end

local function mat_vec(A, v)
  local out = {}
  for r = 0, 2 do
    out[r + 1] = A[r * 3 + 1] * v[1] + A[r * 3 + 2] * v[2] + A[r * 3 + 3] * v[3]
  end
  return out
end

-- An affine map q = A p + t, composed as (A1, t1) o (A2, t2).
local function affine_compose(a, b)
  local t = mat_vec(a.A, b.t)
  return {A = mat_mul(a.A, b.A), t = {t[1] + a.t[1], t[2] + a.t[2], t[3] + a.t[3]}}
end

local function rotation(axis, angle)
  local c, s = math.cos(angle), math.sin(angle)
  if axis == 1 then return {1, 0, 0, 0, c, -s, 0, s, c} end
  if axis == 2 then return {c, 0, s, 0, 1, 0, -s, 0, c} end
  return {c, -s, 0, s, c, 0, 0, 0, 1}
end

-- ---- option readers --------------------------------------------------------

-- A range: a number d gives {-d, d} (around = 1: {1 - d, 1 + d}; around =
-- 0: {0, d}), a pair {lo, hi} is taken as it is.
local function range_opt(spec, key, default, around)
  local r = spec[key]
  if r == nil then r = default end
  if type(r) == "number" then
    r = around == 1 and {1 - r, 1 + r} or around == 0 and {0, r} or {-r, r}
  end
  if type(r) ~= "table" or type(r[1]) ~= "number" or type(r[2]) ~= "number" or r[1] > r[2] then
    fail(("augment: %s.%s must be a number or a range {lo, hi} with lo <= hi"):format(spec[1], key))
  end
  return {r[1], r[2]}
end

local function axes_opt(spec, default)
  local a = spec.axes or default
  if type(a) == "string" then a = {a} end
  local out = {}
  for i, name in ipairs(a) do
    local k = AXES[name] or (math.type(name) == "integer" and name >= 1 and name <= 3 and name)
    if not k then
      fail(("augment: %s.axes[%d] must be x, y, z or 1..3 (got %s)"):format(spec[1], i, tostring(name)))
    end
    out[#out + 1] = k
  end
  return out
end

local function prob_opt(spec)
  local p = spec.p == nil and 1 or spec.p
  if type(p) ~= "number" or p < 0 or p > 1 then
    fail(("augment: %s.p must be a probability in [0, 1]"):format(spec[1]))
  end
  return p
end

local function per_axis(x, n)
  if type(x) == "number" then return {x, x, x} end
  if type(x) == "table" and #x == n then return {x[1], x[2], x[3] or 1} end
  return nil
end

-- ---- the transforms --------------------------------------------------------
-- Each entry: keys (valid options), spatial (true: returns an affine or a
-- displacement), draw(spec, rng, ctx) -> params, apply(...).

local T = {}

T.flip = {keys = {"axes", "p", "p_axis"}, spatial = true}
function T.flip.draw(s, rng, ctx)
  local flipped = {}
  for _, a in ipairs(axes_opt(s, ctx.spatial_axes)) do
    flipped[#flipped + 1] = rng:uniform() < (s.p_axis or 0.5) and a or nil
  end
  return {axes = flipped}
end
function T.flip.affine(p)
  local A = mat_identity()
  for _, a in ipairs(p.axes) do A[(a - 1) * 3 + a] = -1 end
  return {A = A, t = {0, 0, 0}}
end

T.rot90 = {keys = {"axes", "p"}, spatial = true}
function T.rot90.draw(s, rng, ctx)
  local ax = axes_opt(s, {1, 2})
  if #ax ~= 2 or ax[1] == ax[2] then fail("augment: rot90.axes must name two different axes") end
  return {axes = ax, k = rng:integer(0, 3)}
end
function T.rot90.affine(p)
  -- k quarter turns in the plane of the two axes (from the first towards the second)
  local A = mat_identity()
  local i, j = p.axes[1], p.axes[2]
  local c = ({1, 0, -1, 0})[p.k + 1]
  local s = ({0, 1, 0, -1})[p.k + 1]
  A[(i - 1) * 3 + i], A[(i - 1) * 3 + j] = c, s
  A[(j - 1) * 3 + i], A[(j - 1) * 3 + j] = -s, c
  return {A = A, t = {0, 0, 0}}
end

T.rotate = {keys = {"degrees", "axes", "p"}, spatial = true}
function T.rotate.draw(s, rng, ctx)
  local r = range_opt(s, "degrees", 10)
  local angles = {0, 0, 0}
  for _, a in ipairs(axes_opt(s, ctx.ndim == 2 and {3} or {1, 2, 3})) do
    angles[a] = rng:uniform(r[1], r[2])
  end
  return {degrees = angles}
end
function T.rotate.affine(p)
  -- forward rotation R = Rz Ry Rx; the mapping reads the input at R^-1 p
  local R = mat_mul(rotation(3, p.degrees[3] * DEG),
    mat_mul(rotation(2, p.degrees[2] * DEG), rotation(1, p.degrees[1] * DEG)))
  local Rt = {R[1], R[4], R[7], R[2], R[5], R[8], R[3], R[6], R[9]}
  return {A = Rt, t = {0, 0, 0}}
end

T.scale = {keys = {"range", "isotropic", "p"}, spatial = true}
function T.scale.draw(s, rng, ctx)
  local r = range_opt(s, "range", 0.1, 1)
  if r[1] <= 0 then fail("augment: scale.range must be > 0") end
  local f = {1, 1, 1}
  if s.isotropic == false then
    for a = 1, ctx.ndim do f[a] = rng:uniform(r[1], r[2]) end
  else
    local x = rng:uniform(r[1], r[2])
    for a = 1, ctx.ndim do f[a] = x end
  end
  return {factors = f}
end
function T.scale.affine(p)
  -- factor > 1 magnifies the content: the output reads the input at p / f
  return {A = {1 / p.factors[1], 0, 0, 0, 1 / p.factors[2], 0, 0, 0, 1 / p.factors[3]}, t = {0, 0, 0}}
end

T.translate = {keys = {"mm", "p"}, spatial = true}
function T.translate.draw(s, rng, ctx)
  local r = range_opt(s, "mm", 5)
  local t = {0, 0, 0}
  for a = 1, ctx.ndim do t[a] = rng:uniform(r[1], r[2]) end
  return {mm = t}
end
function T.translate.affine(p)
  return {A = mat_identity(), t = {-p.mm[1], -p.mm[2], -p.mm[3]}}
end

T.shear = {keys = {"range", "p"}, spatial = true}
function T.shear.draw(s, rng, ctx)
  local r = range_opt(s, "range", 0.1)
  local sh = {}
  for i = 1, 6 do sh[i] = 0 end
  local n = ctx.ndim == 2 and 2 or 6
  for i = 1, n do sh[i] = rng:uniform(r[1], r[2]) end
  return {shear = sh} -- xy, yx, xz, zx, yz, zy
end
function T.shear.affine(p)
  local s = p.shear
  return {A = {1, s[1], s[3], s[2], 1, s[5], s[4], s[6], 1}, t = {0, 0, 0}}
end

T.elastic = {keys = {"control_points", "magnitude_mm", "locked_borders", "p"}, spatial = true}
function T.elastic.draw(s, rng, ctx)
  local K = per_axis(s.control_points or 7, ctx.ndim)
  local m = per_axis(s.magnitude_mm or 7.5, ctx.ndim)
  if not K or not m then fail("augment: elastic.control_points and magnitude_mm take a number or one per axis") end
  if ctx.ndim == 2 then K[3], m[3] = 4, 0 end
  for a = 1, 3 do
    if math.type(K[a]) ~= "integer" or K[a] < 4 then fail("augment: elastic.control_points must be integers >= 4") end
    if m[a] < 0 then fail("augment: elastic.magnitude_mm must be >= 0") end
  end
  local locked = s.locked_borders == nil and 2 or s.locked_borders
  local n = K[1] * K[2] * K[3]
  local d = {}
  for c = 1, 3 do
    for k = 0, K[3] - 1 do
      for j = 0, K[2] - 1 do
        for i = 0, K[1] - 1 do
          local x = rng:uniform(-m[c], m[c])
          local border = (i < locked or i >= K[1] - locked or j < locked or j >= K[2] - locked
            or (ctx.ndim == 3 and (k < locked or k >= K[3] - locked)))
          d[(c - 1) * n + (k * K[2] + j) * K[1] + i + 1] = border and 0 or x
        end
      end
    end
  end
  return {lattice = K, displacement_mm = d}
end

-- Intensity transforms: apply(img, params, ctx) in place on float32.
T.noise = {keys = {"std", "p"}}
function T.noise.draw(s, rng)
  local r = range_opt(s, "std", {0, 0.1}, 0)
  if r[1] < 0 then fail("augment: noise.std must be >= 0") end
  return {std = rng:uniform(r[1], r[2]), stream = rng:integer(0, 2 ^ 40)}
end
function T.noise.apply(img, p, ctx)
  vol.aug.noise(img, p.std, vol.rng(ctx.seed, ctx.case, ctx.epoch, ctx.index, p.stream))
end

T.blur = {keys = {"sigma_mm", "p"}}
function T.blur.draw(s, rng)
  local r = range_opt(s, "sigma_mm", {0.5, 1.5}, 0)
  if r[1] < 0 then fail("augment: blur.sigma_mm must be >= 0") end
  return {sigma_mm = rng:uniform(r[1], r[2])}
end
function T.blur.apply(img, p, ctx)
  local sp = img.spacing
  local sigma = {p.sigma_mm / sp[1], p.sigma_mm / sp[2]}
  if ctx.ndim == 3 then sigma[3] = p.sigma_mm / sp[3] end
  vol.aug.blur(img, sigma)
end

T.gamma = {keys = {"range", "invert", "retain_stats", "p"}}
function T.gamma.draw(s, rng)
  local r = range_opt(s, "range", {0.7, 1.5})
  if r[1] <= 0 then fail("augment: gamma.range must be > 0") end
  -- nnU-Net's draw: half the time below 1, half above, when the range spans 1
  local g
  if r[1] < 1 and r[2] > 1 then
    if rng:uniform() < 0.5 then g = rng:uniform(r[1], 1) else g = rng:uniform(1, r[2]) end
  else
    rng:uniform()
    g = rng:uniform(r[1], r[2])
  end
  return {gamma = g}
end
function T.gamma.apply(img, p, _, s)
  vol.aug.gamma(img, p.gamma, {invert = s.invert or false, retain_stats = s.retain_stats ~= false})
end

T.brightness = {keys = {"range", "p"}}
function T.brightness.draw(s, rng)
  local r = range_opt(s, "range", {0.75, 1.25}, 1)
  return {factor = rng:uniform(r[1], r[2])}
end
function T.brightness.apply(img, p) vol.aug.brightness(img, p.factor) end

T.contrast = {keys = {"range", "preserve_range", "p"}}
function T.contrast.draw(s, rng)
  local r = range_opt(s, "range", {0.75, 1.25}, 1)
  return {factor = rng:uniform(r[1], r[2])}
end
function T.contrast.apply(img, p, _, s)
  vol.aug.contrast(img, p.factor, {preserve_range = s.preserve_range ~= false})
end

T.lowres = {keys = {"zoom", "p"}}
function T.lowres.draw(s, rng)
  local r = range_opt(s, "zoom", {0.5, 1})
  if r[1] <= 0 or r[2] > 1 then fail("augment: lowres.zoom must lie in (0, 1]") end
  return {zoom = rng:uniform(r[1], r[2])}
end
function T.lowres.apply(img, p)
  -- nnU-Net's simulated low resolution: nearest down, cubic back up
  local shape, small = img.shape, {}
  for a = 1, #shape do small[a] = math.max(1, math.floor(shape[a] * p.zoom + 0.5)) end
  local down = img:resample{shape = small, interpolation = "nearest"}
  local up = down:resample{shape = shape, interpolation = "cubic", mode = "nearest"}
  img:fill(0):add(up)
end

T.bias = {keys = {"order", "magnitude", "p"}}
function T.bias.draw(s, rng, ctx)
  local order = s.order or 3
  local m = s.magnitude or 0.5
  if math.type(order) ~= "integer" or order < 0 or order > 8 then fail("augment: bias.order must be 0..8") end
  local c = {}
  for i = 1, vol.aug.bias_terms(order, ctx.ndim) do c[i] = rng:uniform(-m, m) end
  return {order = order, coefficients = c}
end
function T.bias.apply(img, p) vol.aug.bias(img, p.order, p.coefficients) end

-- ---- the pipeline ----------------------------------------------------------

local Aug = {}
Aug.__index = Aug

local function check_spec(spec, i)
  if type(spec) ~= "table" or type(spec[1]) ~= "string" then
    error(("bad argument #1 to 'augment' (entry %d must be {\"name\", options...})"):format(i), 3)
  end
  local t = T[spec[1]]
  if not t then
    local names = {}
    for k in pairs(T) do names[#names + 1] = k end
    table.sort(names)
    error(("bad argument #1 to 'augment' (unknown transform '%s'; expected one of %s)")
      :format(spec[1], table.concat(names, ", ")), 3)
  end
  local valid = {[1] = true}
  for _, k in ipairs(t.keys) do valid[k] = true end
  for k in pairs(spec) do
    if not valid[k] then
      error(("bad argument #1 to 'augment' (%s: unknown option '%s'; expected %s)")
        :format(spec[1], tostring(k), table.concat(t.keys, ", ")), 3)
    end
  end
end

local function augment(list)
  if type(list) ~= "table" then error("bad argument #1 to 'augment' (a list of transforms expected)", 2) end
  for i, spec in ipairs(list) do check_spec(spec, i) end
  return setmetatable({list = list}, Aug)
end

local function key_part(opts, k)
  local x = opts[k] or 0
  if math.type(x) ~= "integer" or x < 0 then
    error(("bad argument #3 to 'apply' (%s must be an integer >= 0)"):format(k), 3)
  end
  return x
end

-- Draws (or replays) every transform's parameters. Validation errors in
-- the options surface here, naming the transform.
function Aug:draw(v, opts)
  opts = opts or {}
  local ctx = {seed = key_part(opts, "seed"), case = key_part(opts, "case"), epoch = key_part(opts, "epoch"),
               ndim = v.shape[3] and 3 or 2}
  ctx.spatial_axes = ctx.ndim == 2 and {1, 2} or {1, 2, 3}
  local replay = opts.replay and opts.replay.transforms
  if replay then -- the noise streams hang on the original key
    ctx.seed, ctx.case, ctx.epoch = opts.replay.seed or 0, opts.replay.case or 0, opts.replay.epoch or 0
  end
  local drawn = {}
  for i, spec in ipairs(self.list) do
    local t = T[spec[1]]
    local p
    if replay then
      p = replay[i]
      if not p or p.name ~= spec[1] then
        error(("bad argument #3 to 'apply' (replay: transform %d is not '%s')"):format(i, spec[1]), 3)
      end
    else
      local rng = vol.rng(ctx.seed, ctx.case, ctx.epoch, i)
      local applied = rng:uniform() < prob_opt(spec)
      p = applied and t.draw(spec, rng, ctx) or {}
      p.name, p.applied = spec[1], applied
    end
    drawn[i] = p
  end
  return {seed = ctx.seed, case = ctx.case, epoch = ctx.epoch, transforms = drawn}, ctx
end

-- The patch: its size and the 0-based input index of its first voxel and
-- of its centre (about which rotations and scalings turn). With center=
-- (1-based, fractions allowed) the patch starts at center - floor(P/2), as
-- MONAI's SpatialCrop does; by default it is centred, starting at
-- floor((n - P) / 2) (CenterSpatialCrop).
local function patch_frame(v, opts)
  local shape, n = v.shape, v.shape[3] and 3 or 2
  local size = opts.patch or shape
  if type(size) == "number" then size = {size, size, size} end
  local P = {size[1], size[2], n == 3 and size[3] or 1}
  for a = 1, 3 do
    if math.type(P[a]) ~= "integer" or P[a] < 1 then error("bad argument #3 to 'apply' (patch sizes must be integers >= 1)", 3) end
  end
  local centre = opts.center
  if opts.center_mm then
    local m = opts.center_mm
    centre = {v:world_to_index(m[1], m[2], m[3] or 0)}
  end
  local start = {0, 0, 0}
  for a = 1, n do
    if centre then
      if type(centre[a]) ~= "number" then error("bad argument #3 to 'apply' (center needs one number per axis)", 3) end
      start[a] = centre[a] - 1 - P[a] // 2
    else
      start[a] = (shape[a] - P[a]) // 2
    end
  end
  local c0 = {}
  for a = 1, 3 do c0[a] = start[a] + (P[a] - 1) / 2 end
  return P, c0, n, start
end

-- The warp options for the composed mapping (index space), or nil when
-- nothing spatial was drawn and the patch is the whole volume.
local function compose(self, v, params, P, c0, n)
  local total = {A = mat_identity(), t = {0, 0, 0}}
  local elastic
  for i, spec in ipairs(self.list) do
    local t, p = T[spec[1]], params.transforms[i]
    if t.spatial and p.applied then
      if t.affine then total = affine_compose(total, t.affine(p)) else elastic = p end
    end
  end
  local sp = v.spacing
  local S = {sp[1], sp[2], n == 3 and sp[3] or 1}
  -- M = S^-1 A S; b = c0 - M (P - 1)/2 + S^-1 t
  local M = {}
  for r = 0, 2 do
    for c = 0, 2 do M[r * 3 + c + 1] = total.A[r * 3 + c + 1] * S[c + 1] / S[r + 1] end
  end
  if n == 2 then M[3], M[6], M[7], M[8], M[9] = 0, 0, 0, 0, 1 end
  local half = {(P[1] - 1) / 2, (P[2] - 1) / 2, (P[3] - 1) / 2}
  local Mh = mat_vec(M, half)
  local b = {}
  for a = 1, 3 do b[a] = c0[a] - Mh[a] + total.t[a] / S[a] end
  if n == 2 then b[3] = 0 end
  local w = {matrix = M, offset = b, shape = n == 3 and P or {P[1], P[2]}}
  if elastic then
    local K, d = elastic.lattice, elastic.displacement_mm
    local nk, disp = K[1] * K[2] * K[3], {}
    for c = 1, 3 do
      for i = 1, nk do disp[(c - 1) * nk + i] = d[(c - 1) * nk + i] / S[c] end
    end
    w.lattice, w.displacement = K, disp
  end
  return w
end

local function as_list(labels)
  if labels == nil then return {}, false end
  if type(labels) == "userdata" then return {labels}, true end
  if type(labels) ~= "table" then error("bad argument #2 to 'apply' (a Volume or a list of Volumes expected)", 3) end
  return labels, false
end

function Aug:apply(img, labels, opts)
  if not (type(img) == "userdata") then error("bad argument #1 to 'apply' (Volume expected)", 2) end
  opts = opts or {}
  local params, ctx = self:draw(img, opts)
  local P, c0, n, start = patch_frame(img, opts)
  local w = compose(self, img, params, P, c0, n)
  local lab_list, single = as_list(labels)
  for i, l in ipairs(lab_list) do
    local ls, is = l.shape, img.shape
    for a = 1, #is do
      if ls[a] ~= is[a] then
        error(("bad argument #2 to 'apply' (label %d is %s, the image %s)")
          :format(i, table.concat(ls, "x"), table.concat(is, "x")), 2)
      end
    end
  end
  local fill = opts.fill
  if fill == nil then fill = img:stats().min end
  -- image and labels in one pass: coordinates are computed once
  local out, outs = img:warp{matrix = w.matrix, offset = w.offset, shape = w.shape, lattice = w.lattice,
                             displacement = w.displacement, mode = "constant", fill = fill,
                             interpolation = opts.interpolation or "linear", dtype = "float32",
                             labels = #lab_list > 0 and lab_list or nil,
                             label_interpolation = opts.label_interpolation or "nearest"}
  outs = outs or {}
  -- the patch's place on the input grid, before augmentation
  local x, y, z = img:index_to_world(start[1] + 1, start[2] + 1, start[3] + 1)
  out:set_origin({x, y, z})
  for _, o in ipairs(outs) do o:set_origin({x, y, z}) end
  for i, spec in ipairs(self.list) do
    local t, p = T[spec[1]], params.transforms[i]
    if not t.spatial and p.applied then
      ctx.index = i
      t.apply(out, p, ctx, spec)
    end
  end
  params.matrix, params.offset = w.matrix, w.offset
  if single then return out, outs[1], params end
  return out, outs, params
end

doc(augment, [[
vol.augment{ {name, options...}, ... } -> Augmenter
A seeded augmentation pipeline, read at a glance:
  local aug = vol.augment{
    {"rotate", degrees={-15, 15}},          -- about x, y and z (2-D: z)
    {"scale", range={0.85, 1.25}},
    {"elastic", control_points=7, magnitude_mm=5},
    {"gamma", range={0.7, 1.5}},
    {"noise", std={0, 0.05}},
  }
  local img2, lab2, params = aug:apply(img, lab, {seed=1, case=i, epoch=e, patch={128,128,128}})
Spatial transforms (flip, rot90, rotate, scale, translate, shear, elastic)
compose into one mapping and the image and its labels are resampled once;
intensity transforms (noise, blur, gamma, brightness, contrast, lowres,
bias) then run in order on the float32 image. Every transform takes p=
(probability, 1). Each transform draws from its own stream keyed by
(seed, case, epoch, position), so the same key gives the same output on
any thread count, worker or order of cases. docs/api/augment.md lists the
options of each transform.]])

doc(Aug.apply, [[
aug:apply(img [, labels, {seed=0, case=0, epoch=0, patch=, center=, center_mm=,
          interpolation="linear", label_interpolation="nearest", fill=, replay=}])
  -> image, labels, params
Draws the pipeline's parameters for the key (seed, case, epoch) and applies
them: the image comes back float32, each label volume (one Volume or a list)
with its own dtype, all of size patch (default: img's shape) centred at
center (1-based index) or center_mm (world mm), default the volume's centre.
interpolation: linear, cubic or nearest; label_interpolation: nearest or
label (per-label voting). fill: the value outside the input (default: the
image's minimum; labels 0). params lists what each transform drew (and
whether it was applied); pass it back as replay= to redo a case exactly.
Example:
  local x, y, p = aug:apply(ct, mask, {seed=7, case=3, epoch=0, patch=96})]])

doc(Aug.draw, [[
aug:draw(img [, {seed=0, case=0, epoch=0, replay=}]) -> params
Only draws the parameters aug:apply would use for this key (no voxels
touched): for logging or for checking distributions.
Example:
  print(aug:draw(ct, {seed=1, case=2}).transforms[1].degrees[3])]])

-- Writes a training batch: images as float32 and labels as integers, each
-- list stacked into one .npy in the framework's layout.
local function save_batch(path, images, labels, opts)
  if type(path) ~= "string" then error("bad argument #1 to 'save_batch' (a path prefix expected)", 2) end
  if type(images) ~= "table" or #images == 0 then
    error("bad argument #2 to 'save_batch' (a non-empty list of image Volumes expected)", 2)
  end
  opts = opts or {}
  local layout = opts.layout or "NCDHW"
  if labels ~= nil and (type(labels) ~= "table" or #labels ~= #images) then
    error(("bad argument #3 to 'save_batch' (%d images need %d labels)"):format(#images, #images), 2)
  end
  local imgs, labs = {}, {}
  for i, v in ipairs(images) do imgs[i] = v.dtype == "float32" and v or v:astype("float32") end
  local ldtype = opts.label_dtype
  for i, v in ipairs(labels or {}) do
    if v.dtype == "float32" or v.dtype == "float64" then
      error(("bad argument #3 to 'save_batch' (label %d is %s; labels must be integers)"):format(i, v.dtype), 2)
    end
    ldtype = ldtype or v.dtype -- the first label's own integer type
    labs[i] = v.dtype == ldtype and v or v:astype(ldtype)
  end
  local ipath, lpath = path .. "_images.npy", path .. "_labels.npy"
  vol.save_npy_stack(ipath, imgs, {layout = layout})
  if labels then vol.save_npy_stack(lpath, labs, {layout = layout}) end
  return ipath, labels and lpath or nil
end

doc(save_batch, [[
vol.save_batch(prefix, images [, labels, {layout="NCDHW", label_dtype=}]) -> images_path, labels_path
Writes a training batch: PREFIX_images.npy holds the images as float32 and
PREFIX_labels.npy the labels as integers (the first label's integer dtype, or
label_dtype= such as "int32"), each list stacked in the framework's layout: "NCDHW"
(N, 1, z, y, x) for PyTorch, "NDHWC" (N, z, y, x, 1) for Keras; 2-D patches
take "NCHW" / "NHWC" (vol.save_npy_stack's layouts).
Example:
  local xs, ys = {}, {}
  for i = 1, 8 do xs[i], ys[i] = aug:apply(img, lab, {seed=1, case=i, patch=96}) end
  vol.save_batch("batch0", xs, ys, {layout="NCDHW"})]])

return function(vol_module)
  vol = vol_module
  vol_module.augment = augment
  vol_module.save_batch = save_batch
  vol_module.Augmenter = Aug
end
