-- Augmentation: v:warp against scipy.ndimage.map_coordinates on the same
-- mapping (tests/ref/augment_ref.py; tolerance 1e-6 of the data's range for
-- linear and cubic, exact for nearest), the drawn pipeline against spheres
-- transformed analytically (Dice >= 0.98, image and label centroids within
-- half a voxel), the generator's determinism (threads, processes, keys) and
-- distributions, the intensity transforms on hand-made values, and errors.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"
local json = require "dkjson"

local function random_volume(shape, seed, dtype)
  local r = vol.rng(seed)
  local v = vol.new{shape = shape, dtype = dtype or "float64"}
  local nx, ny, nz = shape[1], shape[2], shape[3] or 1
  for k = 1, nz do
    for j = 1, ny do
      for i = 1, nx do
        if shape[3] then v:set(i, j, k, r:uniform(-100, 100)) else v:set(i, j, r:uniform(-100, 100)) end
      end
    end
  end
  return v
end

local function max_abs_diff(a, b)
  return (a:astype("float64") - b:astype("float64")):abs():stats().max
end

local function dice(a, b)
  local inter = a:band(b):stats().sum
  return 2 * inter / (a:stats().sum + b:stats().sum)
end

-- Centroid (1-based index) weighted by the voxel values.
local function centroid(v)
  local s, cx, cy, cz = 0, 0, 0, 0
  local nx, ny, nz = v.shape[1], v.shape[2], v.shape[3]
  for k = 1, nz do
    for j = 1, ny do
      for i = 1, nx do
        local w = v:get(i, j, k)
        s, cx, cy, cz = s + w, cx + w * i, cy + w * j, cz + w * k
      end
    end
  end
  return {cx / s, cy / s, cz / s}
end

describe("v:warp", function()
  local dir, res
  local jobs = {}
  local M_OBL = {0.9, 0.2, 0.05, -0.15, 1.1, 0.1, 0.03, -0.1, 0.8}
  local B_OBL = {1.5, -2.0, 3.25}
  local K = {4, 5, 4}
  local disp = {}

  setup(function()
    dir = data.tmpdir()
    local r = vol.rng(99)
    for i = 1, 3 * K[1] * K[2] * K[3] do disp[i] = r:uniform(-2, 2) end
    random_volume({20, 17, 13}, 1):write(dir .. "/in3.npy")
    random_volume({19, 23}, 2):write(dir .. "/in2.npy")
    for _, order in ipairs({0, 1, 3}) do
      for _, mode in ipairs({"constant", "nearest", "reflect"}) do
        local base = {kind = "warp", ["in"] = dir .. "/in3.npy", matrix = M_OBL, offset = B_OBL,
                      shape = {16, 18, 12}, order = order, mode = mode, cval = 7}
        base.out = ("%s/aff_%d_%s.npy"):format(dir, order, mode)
        jobs[#jobs + 1] = base
        local el = {}
        for k2, x in pairs(base) do el[k2] = x end
        el.lattice, el.displacement = K, disp
        el.out = ("%s/el_%d_%s.npy"):format(dir, order, mode)
        jobs[#jobs + 1] = el
      end
    end
    jobs[#jobs + 1] = {kind = "warp", ["in"] = dir .. "/in2.npy", matrix = {0.8, 0.3, 0, -0.2, 1.2, 0, 0, 0, 1},
                       offset = {2, -1, 0}, shape = {21, 20, 1}, order = 1, mode = "constant", cval = 0,
                       out = dir .. "/two_d.npy"}
    local f = assert(io.open(dir .. "/jobs.json", "w"))
    f:write(json.encode(jobs))
    f:close()
    res = ref.run("augment_ref.py", dir .. "/jobs.json")
  end)

  local INTERP = {[0] = "nearest", "linear", nil, "cubic"}
  for _, order in ipairs({0, 1, 3}) do
    for _, mode in ipairs({"constant", "nearest", "reflect"}) do
      it(("equals map_coordinates, order %d, mode %s, affine and elastic"):format(order, mode), function()
        local v = vol.read(dir .. "/in3.npy")
        local opts = {matrix = M_OBL, offset = B_OBL, shape = {16, 18, 12}, interpolation = INTERP[order],
                      mode = mode, fill = 7, dtype = "float64"}
        local want = vol.read(("%s/aff_%d_%s.npy"):format(dir, order, mode))
        local tol = order == 0 and 0 or 1e-6 * 200
        assert.is_true(max_abs_diff(v:warp(opts), want) <= tol)
        opts.lattice, opts.displacement = K, disp
        want = vol.read(("%s/el_%d_%s.npy"):format(dir, order, mode))
        assert.is_true(max_abs_diff(v:warp(opts), want) <= tol)
      end)
    end
  end

  it("warps 2-D volumes", function()
    assert.is_table(res)
    local v = vol.read(dir .. "/in2.npy")
    local got = v:warp{matrix = {0.8, 0.3, 0, -0.2, 1.2, 0, 0, 0, 1}, offset = {2, -1, 0}, shape = {21, 20},
                       dtype = "float64"}
    assert.is_true(max_abs_diff(got, vol.read(dir .. "/two_d.npy")) <= 1e-4)
  end)

  it("flips exactly, keeps the dtype and the geometry", function()
    local v = vol.new{shape = {3, 2, 1}, dtype = "int16"}
    local k = 0
    for j = 1, 2 do for i = 1, 3 do k = k + 1; v:set(i, j, 1, k) end end
    local f = v:warp{matrix = {-1, 0, 0, 0, 1, 0, 0, 0, 1}, offset = {2, 0, 0}, interpolation = "nearest"}
    assert.equal("int16", f.dtype)
    assert.same({3, 2, 1, 6, 5, 4}, {f:get(1, 1, 1), f:get(2, 1, 1), f:get(3, 1, 1), f:get(1, 2, 1), f:get(2, 2, 1), f:get(3, 2, 1)})
    assert.same(v.spacing, f.spacing)
  end)

  it("votes labels: the larger indicator wins, ties go to the smaller label", function()
    local v = vol.new{shape = {4, 1, 1}, dtype = "uint8"}
    v:set(1, 1, 1, 2); v:set(2, 1, 1, 2); v:set(3, 1, 1, 5); v:set(4, 1, 1, 5)
    -- x reads 0.5 + 0.9 o: o=0 -> 0.5 (2 and 2), o=1 -> 1.4 (2: 0.6, 5: 0.4), o=2 -> 2.3 (5)
    local w = v:warp{matrix = {0.9, 0, 0, 0, 1, 0, 0, 0, 1}, offset = {0.5, 0, 0}, shape = {3, 1, 1},
                     interpolation = "label"}
    assert.same({2, 2, 5}, {w:get(1, 1, 1), w:get(2, 1, 1), w:get(3, 1, 1)})
    local t = v:warp{offset = {1.5, 0, 0}, shape = {1, 1, 1}, interpolation = "label"} -- 2 and 5 half each
    assert.equal(2, t:get(1, 1, 1))
  end)

  it("warps labels in the same pass as the image, each as alone", function()
    local v = vol.read(dir .. "/in3.npy")
    local l1 = v:gt(0)
    local l2 = (v * 0.05):astype("int16")
    local opts = {matrix = M_OBL, offset = B_OBL, shape = {16, 18, 12}, lattice = K, displacement = disp, fill = -5}
    local img, labs = v:warp{matrix = M_OBL, offset = B_OBL, shape = {16, 18, 12}, lattice = K, displacement = disp,
                             fill = -5, labels = {l1, l2}, label_interpolation = "label"}
    assert.equal(0, max_abs_diff(img, v:warp(opts)))
    opts.fill, opts.interpolation = 0, "label"
    assert.equal("uint8", labs[1].dtype)
    assert.equal("int16", labs[2].dtype)
    assert.equal(0, max_abs_diff(labs[1], l1:warp(opts)))
    assert.equal(0, max_abs_diff(labs[2], l2:warp(opts)))
    assert.has_error(function() v:warp{labels = {vol.new{shape = {2, 2, 2}}}} end,
      "bad argument #1 to 'warp' (labels[1] is not on the volume's grid)")
  end)

  it("gives the same bits on 1 and 2 threads", function()
    local v = vol.read(dir .. "/in3.npy"):astype("float32")
    local opts = {matrix = M_OBL, offset = B_OBL, lattice = K, displacement = disp, interpolation = "cubic"}
    vol.set_threads(1)
    local a = v:warp(opts)
    vol.set_threads(2)
    local b = v:warp(opts)
    assert.equal(0, max_abs_diff(a, b))
  end)

  it("rejects bad options", function()
    local v = vol.new{shape = {4, 4, 4}}
    assert.has_error(function() v:warp{interpolation = "quadratic"} end,
      "bad argument #1 to 'warp' (interpolation must be nearest, linear, cubic or label (got 'quadratic'))")
    assert.has_error(function() v:warp{lattice = {3, 4, 4}, displacement = {}} end)
    local ok, err = pcall(v.warp, v, {lattice = {4, 4, 4}, displacement = {1, 2}})
    assert.is_false(ok)
    assert.truthy(err:find("'displacement' must list 3 x 64 numbers", 1, true))
    ok, err = pcall(v.warp, v, {matrix = {1, 0, 0}})
    assert.truthy(err:find("'matrix' must be a list of 9 numbers", 1, true))
    ok, err = pcall(v.warp, v, {speed = 1})
    assert.truthy(err:find("speed", 1, true))
  end)
end)

describe("vol.rng", function()
  it("is a pure function of the key and the position", function()
    local a, b = vol.rng(5, 1, 2), vol.rng(5, 1, 2)
    for _ = 1, 10 do assert.equal(a:uniform(), b:uniform()) end
    assert.not_equal(vol.rng(5, 1, 2):uniform(), vol.rng(5, 1, 3):uniform())
    assert.not_equal(vol.rng(5):uniform(), vol.rng(6):uniform())
    -- a derived stream does not depend on how far its parent went
    local p = vol.rng(9)
    local d1 = p:derive(4):uniform()
    p:uniform(); p:uniform()
    assert.equal(d1, p:derive(4):uniform())
  end)

  it("draws uniform, normal and integer numbers with the right moments", function()
    local r = vol.rng(2024)
    local n, s, s2, g, g2 = 20000, 0, 0, 0, 0
    local lo, hi, counts = math.huge, -math.huge, {}
    for _ = 1, n do
      local u = r:uniform(-1, 3)
      s, s2 = s + u, s2 + u * u
      lo, hi = math.min(lo, u), math.max(hi, u)
      local z = r:normal(2, 0.5)
      g, g2 = g + z, g2 + z * z
      local k = r:integer(1, 6)
      counts[k] = (counts[k] or 0) + 1
    end
    assert.is_true(lo >= -1 and hi < 3)
    assert.near(1, s / n, 0.03)
    assert.near(16 / 12, s2 / n - (s / n) ^ 2, 0.03)
    assert.near(2, g / n, 0.01)
    assert.near(0.25, g2 / n - (g / n) ^ 2, 0.01)
    for k = 1, 6 do assert.near(n / 6, counts[k], n / 6 * 0.06) end
    assert.is_nil(counts[0])
    assert.is_nil(counts[7])
  end)

  it("rejects bad keys and ranges", function()
    assert.has_error(function() vol.rng(-1) end, "bad argument #1 to 'rng' (seed must be an integer >= 0)")
    assert.has_error(function() vol.rng(1.5) end)
    assert.has_error(function() vol.rng(1):uniform(2, 1) end)
    assert.has_error(function() vol.rng(1):integer(5, 1) end)
  end)
end)

describe("vol.augment", function()
  local SP = {1.2, 1.0, 1.5}
  local SHAPE = {60, 64, 46}
  -- an off-centre ball of radius 16 mm
  local C_IDX = {34, 28, 22}
  local R_MM = 16
  local img, lab

  setup(function()
    lab = vol.phantom.sphere{shape = SHAPE, spacing = SP, center = C_IDX, radius_mm = R_MM}
    img = lab:astype("float32") * 100
  end)

  -- The truth: the ball seen through the composed mapping, recomputed here
  -- from the drawn angle and scale (rotation about z, isotropic scale).
  local function truth_rot_scale(deg, f)
    local centre = {(SHAPE[1] + 1) / 2, (SHAPE[2] + 1) / 2, (SHAPE[3] + 1) / 2}
    local p = {}
    for a = 1, 3 do p[a] = (C_IDX[a] - centre[a]) * SP[a] end
    local t = math.rad(deg)
    -- forward: rotate by t about z, then magnify by f
    local q = {f * (math.cos(t) * p[1] - math.sin(t) * p[2]), f * (math.sin(t) * p[1] + math.cos(t) * p[2]), f * p[3]}
    local c = {}
    for a = 1, 3 do c[a] = centre[a] + q[a] / SP[a] end
    return vol.phantom.sphere{shape = SHAPE, spacing = SP, center = c, radius_mm = R_MM * f}
  end

  it("rotates and scales the label as the analytic ball, image and label aligned", function()
    local aug = vol.augment{{"rotate", degrees = {-30, 30}, axes = "z"}, {"scale", range = {0.8, 1.2}}}
    for case = 1, 3 do
      local x, y, p = aug:apply(img, lab, {seed = 11, case = case, label_interpolation = "label"})
      local deg, f = p.transforms[1].degrees[3], p.transforms[2].factors[1]
      assert.is_true(deg >= -30 and deg <= 30 and f >= 0.8 and f <= 1.2)
      local want = truth_rot_scale(deg, f)
      assert.is_true(dice(y, want) >= 0.98, ("case %d: dice %.4f"):format(case, dice(y, want)))
      local ci, cl = centroid(x), centroid(y)
      for a = 1, 3 do assert.is_true(math.abs(ci[a] - cl[a]) <= 0.5) end
    end
  end)

  it("deforms the label as the lattice says (elastic, recomputed point by point)", function()
    local aug = vol.augment{{"elastic", control_points = 5, magnitude_mm = 4, locked_borders = 1}}
    local x, y, p = aug:apply(img, lab, {seed = 3, case = 1, label_interpolation = "label"})
    local K, d = p.transforms[1].lattice, p.transforms[1].displacement_mm
    assert.same({5, 5, 5}, K)
    local nk = K[1] * K[2] * K[3]
    local function weights(o, n, k)
      local u = o * (k - 3) / (n - 1)
      local j = math.min(math.max(math.floor(u), 0), k - 4)
      local t, s = u - j, 1 - (u - j)
      return j, {s ^ 3 / 6, (3 * t ^ 3 - 6 * t ^ 2 + 4) / 6, (-3 * t ^ 3 + 3 * t ^ 2 + 3 * t + 1) / 6, t ^ 3 / 6}
    end
    local want = vol.new{shape = SHAPE, dtype = "uint8"}
    want:set_spacing(SP)
    local centre = {(SHAPE[1] + 1) / 2, (SHAPE[2] + 1) / 2, (SHAPE[3] + 1) / 2}
    for k = 1, SHAPE[3] do
      local jz, wz = weights(k - 1, SHAPE[3], K[3])
      for j = 1, SHAPE[2] do
        local jy, wy = weights(j - 1, SHAPE[2], K[2])
        for i = 1, SHAPE[1] do
          local jx, wx = weights(i - 1, SHAPE[1], K[1])
          local r2 = 0
          local o = {i, j, k}
          for a = 1, 3 do
            local disp = 0
            for c = 0, 3 do for b = 0, 3 do for e = 0, 3 do
              disp = disp + wz[c + 1] * wy[b + 1] * wx[e + 1] * d[(a - 1) * nk + ((jz + c) * K[2] + jy + b) * K[1] + jx + e + 1]
            end end end
            local mm = (o[a] - centre[a]) * SP[a] + disp -- the input point, relative to the centre
            r2 = r2 + (mm - (C_IDX[a] - centre[a]) * SP[a]) ^ 2
          end
          if r2 <= R_MM * R_MM then want:set(i, j, k, 1) end
        end
      end
    end
    assert.is_true(dice(y, want) >= 0.98, ("dice %.4f"):format(dice(y, want)))
    assert.is_true(dice(y, lab) < 1) -- it did move
    local ci, cl = centroid(x), centroid(y)
    for a = 1, 3 do assert.is_true(math.abs(ci[a] - cl[a]) <= 0.5) end
  end)

  it("computes only the patch asked for, placed on the input grid", function()
    local aug = vol.augment{{"translate", mm = 0}}
    local x, y = aug:apply(img, lab, {patch = {16, 12, 10}, center = C_IDX})
    assert.same({16, 12, 10}, x.shape)
    -- no spatial change: the patch is the crop around the centre
    -- MONAI's rule: the patch starts at center - floor(size / 2)
    local want = lab:crop{lo = {C_IDX[1] - 8, C_IDX[2] - 6, C_IDX[3] - 5}, hi = {C_IDX[1] + 7, C_IDX[2] + 5, C_IDX[3] + 4}}
    assert.equal(0, max_abs_diff(y, want))
    assert.same(want.origin, y.origin)
  end)

  it("gives the same output for the same key on 1 and 2 threads and in another process", function()
    local aug = vol.augment{{"rotate", degrees = 20}, {"elastic", magnitude_mm = 3}, {"gamma"}, {"noise", std = {1, 5}},
                            {"blur", sigma_mm = {0.5, 1}}, {"bias", magnitude = 0.2}, {"contrast"}, {"brightness"},
                            {"lowres", zoom = {0.6, 0.9}}, {"flip"}, {"rot90"}, {"shear"}, {"scale", isotropic = false}}
    vol.set_threads(1)
    local a, la = aug:apply(img, lab, {seed = 5, case = 7, epoch = 2})
    vol.set_threads(2)
    local b, lb = aug:apply(img, lab, {seed = 5, case = 7, epoch = 2})
    assert.equal(0, max_abs_diff(a, b))
    assert.equal(0, max_abs_diff(la, lb))
    local c = aug:apply(img, lab, {seed = 5, case = 8, epoch = 2})
    assert.is_true(max_abs_diff(a, c) > 0)
    -- another process, drawing other cases first
    local dir = data.tmpdir()
    local script = dir .. "/other.lua"
    local f = assert(io.open(script, "w"))
    f:write(([[
      local lab = vol.phantom.sphere{shape = {60, 64, 46}, spacing = {1.2, 1.0, 1.5}, center = {34, 28, 22}, radius_mm = 16}
      local img = lab:astype("float32") * 100
      local aug = vol.augment{{"rotate", degrees = 20}, {"elastic", magnitude_mm = 3}, {"gamma"}, {"noise", std = {1, 5}},
                              {"blur", sigma_mm = {0.5, 1}}, {"bias", magnitude = 0.2}, {"contrast"}, {"brightness"},
                              {"lowres", zoom = {0.6, 0.9}}, {"flip"}, {"rot90"}, {"shear"}, {"scale", isotropic = false}}
      aug:apply(img, lab, {seed = 5, case = 1, epoch = 2})
      local x = aug:apply(img, lab, {seed = 5, case = 7, epoch = 2})
      x:write(%q)
    ]]):format(dir .. "/x.npy"))
    f:close()
    local ok = os.execute(data.shell_quote(data.medula()) .. " " .. data.shell_quote(script))
    assert.is_true(ok)
    assert.equal(0, max_abs_diff(a, vol.read(dir .. "/x.npy")))
  end)

  it("returns what it drew, and replays it exactly", function()
    local aug = vol.augment{{"rotate", degrees = 10}, {"noise", std = 2}, {"gamma", range = {0.8, 1.2}}}
    local x, _, p = aug:apply(img, nil, {seed = 1, case = 2})
    assert.equal("rotate", p.transforms[1].name)
    assert.is_true(p.transforms[1].applied)
    local y = aug:apply(img, nil, {replay = p})
    assert.equal(0, max_abs_diff(x, y))
  end)

  it("draws within the ranges, with the asked probability", function()
    local aug = vol.augment{{"rotate", degrees = {-15, 15}, p = 0.3}, {"gamma", range = {0.7, 1.5}},
                            {"translate", mm = {-4, 4}}}
    local applied, n, below = 0, 2000, 0
    for case = 1, n do
      local p = aug:draw(img, {seed = 4, case = case})
      local r = p.transforms[1]
      if r.applied then
        applied = applied + 1
        for a = 1, 3 do assert.is_true(r.degrees[a] >= -15 and r.degrees[a] <= 15) end
      end
      local g = p.transforms[2].gamma
      assert.is_true(g >= 0.7 and g <= 1.5)
      if g < 1 then below = below + 1 end
      for a = 1, 3 do assert.is_true(math.abs(p.transforms[3].mm[a]) <= 4) end
    end
    assert.near(0.3, applied / n, 0.04)
    assert.near(0.5, below / n, 0.04)
  end)

  it("applies the same draw to several label volumes", function()
    local aug = vol.augment{{"rotate", degrees = 25}}
    local lab2 = lab:astype("int32") * 3
    local _, labs = aug:apply(img, {lab, lab2}, {seed = 2, label_interpolation = "label"})
    assert.equal(2, #labs)
    assert.equal("int32", labs[2].dtype)
    assert.equal(0, max_abs_diff(labs[1]:astype("int32") * 3, labs[2]))
  end)

  it("augments 2-D images: rotation in the plane, every transform", function()
    local i2 = vol.phantom.sphere{shape = {40, 30}, spacing = {1, 1.5}, center = {25, 14}, radius_mm = 8}
    local img2 = i2:astype("float32") * 100
    local aug = vol.augment{{"rotate", degrees = {30, 30}}, {"scale", range = {1.2, 1.2}}, {"elastic", magnitude_mm = 2},
                            {"gamma"}, {"blur"}, {"bias"}, {"flip", p_axis = 0}, {"lowres"}, {"noise", std = 1}}
    local x, y, p = aug:apply(img2, i2, {seed = 3, patch = {24, 20}})
    assert.same({24, 20}, x.shape)
    assert.same({24, 20}, y.shape)
    assert.same({0, 0, 30}, p.transforms[1].degrees)
    assert.is_true(y:stats().sum > 0)
    local x2 = aug:apply(img2, i2, {seed = 3, patch = {24, 20}})
    assert.equal(0, max_abs_diff(x, x2))
  end)

  it("writes training batches in PyTorch's and Keras' layouts", function()
    local aug = vol.augment{{"rotate", degrees = 10}}
    local xs, ys = {}, {}
    for i = 1, 3 do xs[i], ys[i] = aug:apply(img, lab, {seed = 1, case = i, patch = {16, 12, 8}}) end
    local dir = data.tmpdir()
    local function header(path)
      local f = assert(io.open(path, "rb"))
      local h = f:read(200)
      f:close()
      return h
    end
    local ip, lp = vol.save_batch(dir .. "/b", xs, ys, {layout = "NCDHW"})
    assert.truthy(header(ip):find("'descr': '<f4'", 1, true))
    assert.truthy(header(ip):find("'shape': (3, 1, 8, 12, 16)", 1, true))
    assert.truthy(header(lp):find("'descr': '|u1'", 1, true))
    ip, lp = vol.save_batch(dir .. "/k", xs, ys, {layout = "NDHWC", label_dtype = "int32"})
    assert.truthy(header(ip):find("'shape': (3, 8, 12, 16, 1)", 1, true))
    assert.truthy(header(lp):find("'descr': '<i4'", 1, true))
    assert.has_error(function() vol.save_batch(dir .. "/z", xs, {xs[1]}) end)
    assert.has_error(function() vol.save_batch(dir .. "/z", xs, xs) end)
  end)

  it("rejects bad pipelines and options", function()
    assert.has_error(function() vol.augment{{"spin"}} end)
    local ok, err = pcall(vol.augment, {{"rotate", degree = 3}})
    assert.truthy(err:find("rotate: unknown option 'degree'", 1, true))
    local aug = vol.augment{{"rotate", degrees = {15, -15}}}
    ok, err = pcall(aug.apply, aug, img, lab, {seed = 1})
    assert.is_false(ok)
    assert.truthy(err:find("rotate.degrees must be a number or a range", 1, true))
    aug = vol.augment{{"gamma", range = {-1, 2}}}
    ok, err = pcall(aug.apply, aug, img, nil, {})
    assert.truthy(err:find("gamma.range must be > 0", 1, true))
    aug = vol.augment{{"rotate"}}
    ok, err = pcall(aug.apply, aug, img, lab, {seed = -2})
    assert.truthy(err:find("seed must be an integer >= 0", 1, true))
    ok, err = pcall(aug.apply, aug, img, vol.new{shape = {2, 2, 2}}, {})
    assert.truthy(err:find("label 1 is 2x2x2, the image 60x64x46", 1, true))
  end)
end)

describe("vol.aug", function()
  local function vec(values)
    local v = vol.new{shape = {#values, 1, 1}, dtype = "float32"}
    for i, x in ipairs(values) do v:set(i, 1, 1, x) end
    return v
  end
  local function list(v)
    local out = {}
    for i = 1, v.shape[1] do out[i] = v:get(i, 1, 1) end
    return out
  end
  local function near_list(want, got, tol)
    for i = 1, #want do assert.near(want[i], got[i], tol) end
  end

  it("gamma: nnU-Net's formula, inverted and with the statistics kept", function()
    local v = vol.aug.gamma(vec{0, 1, 2, 4}, 2)
    near_list({0, 4 * (1 / (4 + 1e-7)) ^ 2, 4 * (2 / (4 + 1e-7)) ^ 2, 4 * (4 / (4 + 1e-7)) ^ 2}, list(v), 1e-5)
    -- invert: on -x, then negated back: x -> -(((-x) - (-4)) / 4)^g * 4 - (-4))
    local w = vol.aug.gamma(vec{0, 1, 2, 4}, 2, {invert = true})
    near_list({0, 4 - 4 * (3 / 4) ^ 2, 4 - 4 * (2 / 4) ^ 2, 4}, list(w), 1e-5)
    local k = vol.aug.gamma(vec{0, 1, 2, 4}, 3, {retain_stats = true})
    local s0, s1 = vol.aug.stats(vec{0, 1, 2, 4}), vol.aug.stats(k)
    assert.near(s0.mean, s1.mean, 1e-5)
    assert.near(s0.std, s1.std, 1e-5)
  end)

  it("contrast, brightness and bias on known values", function()
    near_list({-1.5, 0.5, 2.5, 4.5}, list(vol.aug.contrast(vec{0, 1, 2, 3}, 2, {preserve_range = false})), 1e-6)
    near_list({0, 0.5, 2.5, 3}, list(vol.aug.contrast(vec{0, 1, 2, 3}, 2)), 1e-6)
    near_list({0, 1.5, 3}, list(vol.aug.brightness(vec{0, 1, 2}, 1.5)), 1e-6)
    -- order 0: one coefficient, the field is exp(c) everywhere
    near_list({math.exp(0.3), 2 * math.exp(0.3)}, list(vol.aug.bias(vec{1, 2}, 0, {0.3})), 1e-5)
    -- order 1 in 3-D: terms 1, w, v, u (i outer: u^0 v^0 w^0, u^0 v^0 w^1, u^0 v^1, u^1)
    assert.equal(4, vol.aug.bias_terms(1))
    assert.equal(20, vol.aug.bias_terms(3))
    assert.equal(10, vol.aug.bias_terms(3, 2))
    local b = vol.aug.bias(vec{1, 1, 1}, 1, {0, 0, 0, 0.5}) -- exp(0.5 u), u = -1, 0, 1
    near_list({math.exp(-0.5), 1, math.exp(0.5)}, list(b), 1e-5)
  end)

  it("noise: the asked standard deviation, the same bits for the same stream", function()
    local z = vol.new{shape = {64, 64, 16}, dtype = "float32"}
    vol.aug.noise(z, 3, vol.rng(1, 2))
    local s = vol.aug.stats(z)
    assert.near(0, s.mean, 0.03)
    assert.near(3, s.std, 0.03)
    local z2 = vol.new{shape = {64, 64, 16}, dtype = "float32"}
    vol.set_threads(1)
    vol.aug.noise(z2, 3, vol.rng(1, 2))
    vol.set_threads(2)
    assert.equal(0, max_abs_diff(z, z2))
  end)

  -- The generator's definition (docs/api/augment.md), rebuilt here from
  -- splitmix64 and the ziggurat's recurrence: word m of the stream serves
  -- voxels 2m (low half) and 2m + 1 (high half); a half h gives layer
  -- h & 127 and u = ((h as int32 >> 7) + 0.5) / 2^24; |u| < X[i+1]/X[i]
  -- gives u X[i].
  it("noise: voxel i is the ziggurat's normal number i of the stream", function()
    local G = 0x9E3779B97F4A7C15
    local function mix(x)
      x = (x ~ (x >> 30)) * 0xBF58476D1CE4E5B9
      x = (x ~ (x >> 27)) * 0x94D049BB133111EB
      return x ~ (x >> 31)
    end
    local function derive(key, x) return mix(key ~ mix(x + G)) end
    local key = derive(mix(5 + 0x632BE59BD9B4E019), 9) -- vol.rng(5, 9)
    local r, V = 3.442619855896652, 0.009912563035336461
    local function f(x) return math.exp(-x * x / 2) end
    local X = {[0] = V / f(r), r}
    for i = 1, 126 do X[i + 1] = math.sqrt(-2 * math.log(f(X[i]) + V / X[i])) end
    X[128] = 0
    local n, fast = 200, 0
    local z = vol.new{shape = {n, 1, 1}, dtype = "float32"}
    vol.aug.noise(z, 1, vol.rng(5, 9))
    for v = 0, n - 1 do
      local w = mix(key + (v // 2 + 1) * G)
      local h = v % 2 == 0 and (w & 0xFFFFFFFF) or (w >> 32)
      local i, s = h & 127, h >> 7
      if s >= 1 << 24 then s = s - (1 << 25) end -- the int32's sign
      local u = (s + 0.5) / 2 ^ 24
      if math.abs(u) < X[i + 1] / X[i] then
        fast = fast + 1
        assert.near(u * X[i], z:get(v + 1, 1, 1), 1e-6 * math.max(1, math.abs(u * X[i])))
      end
    end
    assert.is_true(fast >= 185) -- about 97.2% take the table's path
  end)

  it("noise: normal against scipy.stats (KS, chi-square, moments, tails)", function()
    local dir = data.tmpdir()
    local z = vol.new{shape = {128, 128, 64}, dtype = "float32"}
    vol.aug.noise(z, 3, vol.rng(11, 4))
    z:write(dir .. "/z.npy")
    local f = assert(io.open(dir .. "/jobs.json", "w"))
    f:write(json.encode({{kind = "normality", ["in"] = dir .. "/z.npy", sd = 3}}))
    f:close()
    local r = ref.run("augment_ref.py", dir .. "/jobs.json").results[1]
    local se = 1 / math.sqrt(r.n)
    assert.is_true(math.abs(r.mean) < 4 * se, "mean " .. r.mean)
    assert.is_true(math.abs(r.std - 1) < 4 * se, "std " .. r.std)
    assert.is_true(math.abs(r.skew) < 4 * math.sqrt(6) * se, "skew " .. r.skew)
    assert.is_true(math.abs(r.excess_kurtosis) < 4 * math.sqrt(24) * se, "kurtosis " .. r.excess_kurtosis)
    assert.is_true(r.ks_p > 1e-3, "KS p " .. r.ks_p)
    assert.is_true(r.chi2_p > 1e-3, "chi-square p " .. r.chi2_p)
    -- beyond the ziggurat's base r and beyond 4: Poisson counts within 4 sd
    assert.is_true(math.abs(r.tail_r - r.tail_r_expected) < 4 * math.sqrt(r.tail_r_expected),
      ("%d beyond r, %.1f expected"):format(r.tail_r, r.tail_r_expected))
    assert.is_true(math.abs(r.tail_4 - r.tail_4_expected) < 4 * math.sqrt(r.tail_4_expected) + 1,
      ("%d beyond 4, %.1f expected"):format(r.tail_4, r.tail_4_expected))
    assert.is_true(r.max_abs > 4.5)
  end)

  it("gamma equals nnU-Net's formula in numpy (float64), plain and inverted", function()
    local dir = data.tmpdir()
    local v = random_volume({37, 29, 23}, 6, "float32")
    v:set(1, 1, 1, -100) -- the minimum itself: base 0
    v:write(dir .. "/g.npy")
    local jobs = {}
    for k, g in ipairs({0.7, 1.5, 3.2}) do
      for _, inv in ipairs({false, true}) do
        jobs[#jobs + 1] = {kind = "gamma", ["in"] = dir .. "/g.npy", out = ("%s/g%d%s.npy"):format(dir, k, inv and "i" or ""),
                           gamma = g, invert = inv}
      end
    end
    local f = assert(io.open(dir .. "/jobs.json", "w"))
    f:write(json.encode(jobs))
    f:close()
    ref.run("augment_ref.py", dir .. "/jobs.json")
    for _, job in ipairs(jobs) do
      local got = vol.aug.gamma(v:copy(), job.gamma, {invert = job.invert})
      -- float32 output: within one float32 step of values up to 100
      assert.is_true(max_abs_diff(got, vol.read(job.out)) <= 100 * 2 ^ -23, job.out)
    end
  end)

  it("blur equals scipy.ndimage.gaussian_filter (mode nearest)", function()
    local dir = data.tmpdir()
    local v = random_volume({18, 15, 11}, 8, "float32")
    v:write(dir .. "/b.npy")
    local f = assert(io.open(dir .. "/jobs.json", "w"))
    f:write(json.encode({{kind = "gaussian", ["in"] = dir .. "/b.npy", out = dir .. "/g.npy", sigma = {1.5, 0.8, 2}}}))
    f:close()
    ref.run("augment_ref.py", dir .. "/jobs.json")
    vol.aug.blur(v, {1.5, 0.8, 2})
    assert.is_true(max_abs_diff(v, vol.read(dir .. "/g.npy")) <= 1e-4)
  end)

  it("rejects what it cannot work on", function()
    assert.has_error(function() vol.aug.gamma(vol.new{shape = {2, 2}, dtype = "int16"}, 1) end)
    assert.has_error(function() vol.aug.gamma(vec{1, 2}, 0) end)
    assert.has_error(function() vol.aug.noise(vec{1}, -1, vol.rng(1)) end)
    assert.has_error(function() vol.aug.bias(vec{1}, 1, {1, 2}) end)
    assert.has_error(function() vol.aug.blur(vec{1}, -1) end)
  end)
end)
