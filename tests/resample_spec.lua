-- Resampling: v:zoom against scipy.ndimage.zoom, v:transform against
-- scipy.ndimage.affine_transform, v:resample{shape} against
-- skimage.transform.resize, {affine, shape} against nilearn's resample_img
-- rule, v:resample_dsb against the DSB2017 tutorial (all in
-- tests/ref/resample_ref.py, one python run for the whole file). Parity
-- tolerance: max |medula - reference| <= 1e-4 * max |reference| (float64).
-- Invariants: world positions (a linear ramp of world coordinates survives
-- any linear resampling, oblique grids included), label sets, threads.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"
local json = require "dkjson"

local TOL = 1e-4
local ALL_MODES = {"constant", "grid-constant", "nearest", "mirror", "reflect", "grid-mirror", "grid-wrap", "wrap"}
local GRID_MODES = {"constant", "grid-constant", "nearest", "mirror", "wrap"}
local ORDERS = {0, 1, 3}
local INTERP = {[0] = "nearest", "linear", nil, "cubic"}
local F_MIX, F_OTHER, F_CT = {1.7, 0.6, 1.3}, {0.45, 2.2, 0.8}, {0.7, 0.7, 1.25}
local F2 = {{0.6, 1.9}, {1.35, 0.45}}
local F_U8 = {2.3, 0.5, 1.1}
local M_OBLIQUE = {{0.9, 0.2, 0.05}, {-0.15, 1.1, 0.1}, {0.03, -0.1, 0.8}}
local NFBS_AFFINE = {{2, 0, 0, -96}, {0, 2, 0, -128}, {0, 0, 2, -160}, {0, 0, 0, 1}}

local dir, res, jobs, index = nil, nil, {}, {}
local function job(name, j)
  j.out = dir .. "/" .. name .. ".npy"
  jobs[#jobs + 1] = j
  index[name] = #jobs
end
local function path(name) return dir .. "/" .. name .. ".npy" end
local function result(name) return res[index[name]] end

local function relerr(got, want)
  assert.same(want.shape, got.shape)
  return (got - want):abs():max() / want:abs():max()
end

local rotation = data.rotation

-- f(world) = an affine function of LPS mm, and a volume sampling it.
local function ramp(x, y, z) return 3 + 0.5 * x - 0.25 * y + 0.75 * z end
local function ramp_volume(shape, geom)
  local v = vol.new{shape=shape, dtype="float64", spacing=geom.spacing, origin=geom.origin,
                    direction=geom.direction}
  for k = 1, shape[3] do
    for j = 1, shape[2] do
      for i = 1, shape[1] do v:set(i, j, k, ramp(v:index_to_world(i, j, k))) end
    end
  end
  return v
end

-- Every voxel of out that is not fill holds the ramp at its own world
-- position (linear interpolation of an affine function is exact).
local function assert_ramp(out, fill)
  local s, inside = out.shape, 0
  for k = 1, s[3] do
    for j = 1, s[2] do
      for i = 1, s[1] do
        local x = out:get(i, j, k)
        if x ~= fill then
          assert.near(ramp(out:index_to_world(i, j, k)), x, 1e-9)
          inside = inside + 1
        end
      end
    end
  end
  return inside
end

-- The oblique grids of the affine parity: the input's own geometry and two
-- targets, one as a reference volume, one as a 4x4 (LPS, 0-based indices).
local IN_GEOM = {spacing={1.1, 0.9, 1.6}, origin={-4, 3, 10}, direction=rotation({0.48, 0.6, 0.64}, 0.5)}
local function ref_target()
  return vol.new{shape={9, 11, 7}, spacing={1.2, 0.8, 1.5}, origin={-3.5, 2, 9.5},
                 direction=rotation({0.8, 0, 0.6}, -0.35)}
end
local A_TARGET = {{0.9, 0.25, -0.1, -2.5}, {-0.2, 1.0, 0.15, 4}, {0.05, -0.3, 1.3, 11}, {0, 0, 0, 1}}
local A_SHAPE = {10, 8, 9}
local function with_geom(v, g)
  return v:set_spacing(g.spacing):set_origin(g.origin):set_direction(g.direction)
end

setup(function()
  dir = data.tmpdir()
  local ct = vol.read(data.path("npy/cranium_ct_crop_int16.npy"))
  ct:write(path("ct16"))
  ct:astype("float64"):write(path("ct"))
  jobs = {}
  job("r1", {op="random", shape={23, 17, 11}, seed=1})
  job("r2", {op="random", shape={8, 9, 10}, seed=2, kind="smooth"})
  -- tiny axes (2 and 1 samples: the boundary rules at their limits), a 2-D
  -- image, uint8 noise (integer rounding at exact halves)
  job("tiny", {op="random", shape={6, 2, 9}, seed=3})
  job("flat", {op="random", shape={19, 14}, seed=4})
  job("u8", {op="random", shape={21, 26, 9}, seed=5, kind="uint8"})
  job("i16", {op="random", shape={12, 9, 10}, seed=6, kind="int16"})
  -- every mode at every order: 3-D and 2-D, factors above and below 1
  for _, o in ipairs(ORDERS) do
    for _, m in ipairs(ALL_MODES) do
      for f, fac in ipairs{F_MIX, F_OTHER} do
        job(("z_r1_%d_%s_%d"):format(o, m, f), {op="zoom", ["in"]=path("r1"), factors=fac, order=o, mode=m, cval=-3.5})
        job(("z_flat_%d_%s_%d"):format(o, m, f), {op="zoom", ["in"]=path("flat"), factors=F2[f], order=o, mode=m,
                                                  cval=1.5})
      end
      job(("z_tiny_%d_%s"):format(o, m), {op="zoom", ["in"]=path("tiny"), factors={1.4, 2.5, 0.5}, order=o, mode=m,
                                          cval=1.5})
      job(("a_r2_%d_%s"):format(o, m), {op="affine", ["in"]=path("r2"), matrix=M_OBLIQUE, offset={1.5, -2, 0.7},
                                        shape={8, 9, 10}, order=o, mode=m, cval=2})
      if o < 3 then
        job(("z_u8_%d_%s"):format(o, m), {op="zoom", ["in"]=path("u8"), factors=F_U8, order=o, mode=m, cval=7,
                                          halves=true})
        job(("z_i16_%d_%s"):format(o, m), {op="zoom", ["in"]=path("i16"), factors=F_OTHER, order=o, mode=m,
                                           cval=-9, halves=true})
      end
    end
    -- onto oblique grids given by a reference volume and by a 4x4 affine
    local r2 = with_geom(vol.new{shape={8, 9, 10}}, IN_GEOM)
    for _, m in ipairs(GRID_MODES) do
      job(("g_ref_%d_%s"):format(o, m), {op="grid", ["in"]=path("r2"), in_affine=r2:affine(),
        target_affine=ref_target():affine(), shape=ref_target().shape, order=o, mode=m, cval=-7})
      job(("g_aff_%d_%s"):format(o, m), {op="grid", ["in"]=path("r2"), in_affine=r2:affine(),
        target_affine=A_TARGET, shape=A_SHAPE, order=o, mode=m, cval=-7})
    end
    for _, m in ipairs{"constant", "nearest"} do
      job(("z_ct_%d_%s"):format(o, m), {op="zoom", ["in"]=path("ct"), factors=F_CT, order=o, mode=m})
    end
    job(("z_ct16_%d"):format(o), {op="zoom", ["in"]=path("ct16"), factors=F_CT, order=o, mode="nearest"})
  end
  job("rs_1aa", {op="resize", ["in"]=path("r1"), shape={10, 30, 5}, order=1, mode="edge", antialias=true})
  job("rs_3", {op="resize", ["in"]=path("r1"), shape={10, 30, 5}, order=3, mode="edge", antialias=false})
  job("rs_ct_aa", {op="resize", ["in"]=path("ct"), shape={40, 21, 32}, order=1, mode="symmetric", antialias=true})
  job("nfbs", {op="nilearn", ["in"]=data.path("nifti/ch2.nii.gz"), target_affine=NFBS_AFFINE,
               target_shape={96, 128, 160}, interpolation="linear"})
  job("dsb", {op="dsb", ["in"]=path("r1"), spacing={0.7, 0.9, 2.5}, new_spacing={1, 1, 1}})
  job("dsb_ct", {op="dsb", ["in"]=path("ct"), spacing={0.957, 0.957, 1.5}, new_spacing={1.2, 1.2, 1.2}})
  local f = assert(io.open(dir .. "/jobs.json", "w"))
  f:write(json.encode(jobs))
  f:close()
  res = ref.run("resample_ref.py", dir .. "/jobs.json").results
end)

describe("v:zoom", function()
  it("matches scipy.ndimage.zoom: orders 0, 1, 3 x every mode, 3-D and 2-D, factors above and below 1", function()
    local v, flat, tiny = vol.read(path("r1")), vol.read(path("flat")), vol.read(path("tiny"))
    assert.equal(2, flat.ndim)
    local worst, n = {[0] = 0, 0, 0, 0}, 0
    local function check(o, got, name, what)
      local e = relerr(got, vol.read(path(name)))
      assert.is_true(e <= TOL, ("%s: %g"):format(what, e))
      worst[o] = math.max(worst[o], e)
      n = n + 1
    end
    for _, o in ipairs(ORDERS) do
      for _, m in ipairs(ALL_MODES) do
        for f, fac in ipairs{F_MIX, F_OTHER} do
          local what = ("order %d mode %s factors %d"):format(o, m, f)
          check(o, v:zoom(fac, {order=o, mode=m, fill=-3.5}), ("z_r1_%d_%s_%d"):format(o, m, f), what)
          check(o, flat:zoom(F2[f], {order=o, mode=m, fill=1.5}), ("z_flat_%d_%s_%d"):format(o, m, f), "2-D " .. what)
        end
        -- axes of 2 and 1 samples: the boundary rules at their limits
        check(o, tiny:zoom({1.4, 2.5, 0.5}, {order=o, mode=m, fill=1.5}), ("z_tiny_%d_%s"):format(o, m),
          ("tiny, order %d mode %s"):format(o, m))
      end
    end
    assert.equal(3 * 8 * 5, n)
    assert.equal(0, worst[0])        -- nearest copies values
    assert.equal(0, worst[1])        -- linear: scipy's sum, term by term
    assert.is_true(worst[3] < 1e-12) -- cubic runs in double for float64
  end)

  it("rounds integer outputs exactly as scipy at orders 0 and 1, halves included", function()
    local halves = 0
    for _, c in ipairs{{"u8", F_U8, 7, "uint8"}, {"i16", F_OTHER, -9, "int16"}} do
      local v = vol.read(path(c[1]))
      for _, o in ipairs{0, 1} do
        for _, m in ipairs(ALL_MODES) do
          local name = ("z_%s_%d_%s"):format(c[1], o, m)
          local got, want = v:zoom(c[2], {order=o, mode=m, fill=c[3]}), vol.read(path(name))
          assert.equal(c[4], got.dtype)
          assert.same(want.shape, got.shape)
          assert.equal(0, (got:astype("int32") - want:astype("int32")):abs():max(), name)
          halves = halves + result(name).halves
        end
      end
    end
    -- the inputs do put results on exact halves (uint8 172.5 -> 173), so
    -- this checks the rounding rule and the order of the sums
    assert.is_true(halves > 20, "halves " .. halves)
  end)

  it("matches scipy on a real CT crop (float64 and int16)", function()
    local ct, ct16 = vol.read(path("ct")), vol.read(path("ct16"))
    for _, o in ipairs(ORDERS) do
      for _, m in ipairs{"constant", "nearest"} do
        local e = relerr(ct:zoom(F_CT, {order=o, mode=m}), vol.read(path(("z_ct_%d_%s"):format(o, m))))
        assert.is_true(e <= TOL, ("order %d mode %s: %g"):format(o, m, e))
      end
      -- int16 in, int16 out, rounded to nearest as scipy does: equal at
      -- orders 0 and 1; cubic (its z pass reads a float32 block) may differ
      -- by one only where scipy's float64 value is within 2e-7 * max|x| of
      -- a half
      local got, want = ct16:zoom(F_CT, {order=o, mode="nearest"}), vol.read(path(("z_ct16_%d"):format(o)))
      assert.equal("int16", got.dtype)
      local d = (got:astype("int32") - want:astype("int32")):abs()
      if o < 3 then
        assert.equal(0, d:max())
      else
        assert.is_true(d:max() <= 1)
        local f64 = vol.read(path("z_ct_3_nearest"))
        local mid = (got:astype("float64") + want:astype("float64")) * 0.5
        local off = ((f64 - mid):abs() * d:astype("float64")):max()
        assert.is_true(off <= 2e-7 * ct:abs():max(), "off a half by " .. off)
      end
    end
  end)

  it("resamples the frames of a 4-D volume one by one", function()
    local a, b = vol.read(path("r1")), vol.read(path("r1")) * -2
    local both = vol.stack{a, b}:zoom({1.5, 0.5, 2}, {order=1})
    assert.same({34, 8, 22, 2}, both.shape)
    assert.equal(0, (both:slice(4, 2) - b:zoom({1.5, 0.5, 2}, {order=1})):abs():max())
  end)

  it("keeps the end voxels in world and reports the grid's true spacing", function()
    local v = vol.new{shape={11, 9, 6}, spacing={0.7, 0.8, 2.5}, origin={5, -3, 40},
                      direction=rotation({0, 0.6, 0.8}, 0.4)}
    local z = v:zoom({1.5, 0.5, 2})
    assert.same({16, 4, 12}, z.shape) -- round(16.5) = 16: halves to even
    assert.near(0.7 * 10 / 15, z.spacing[1], 1e-12)
    assert.near(0.8 * 8 / 3, z.spacing[2], 1e-12)
    local a = {v:index_to_world(11, 9, 6)}
    local b = {z:index_to_world(16, 4, 12)}
    for i = 1, 3 do
      assert.near(a[i], b[i], 1e-9)
      assert.equal(v.origin[i], z.origin[i])
    end
    local r = ramp_volume({11, 9, 6}, {spacing={0.7, 0.8, 2.5}, origin={5, -3, 40}, direction=v.direction})
    assert.equal(16 * 4 * 12, assert_ramp(r:zoom({1.5, 0.5, 2}, {order=1}), -1e300))
  end)

  it("rejects bad factors and orders", function()
    local v = vol.new{shape={4, 4, 4}}
    local ok, err = pcall(v.zoom, v, {1, 0, 1})
    assert.matches("zoom factor must be > 0 %(got 0 on axis 2%)", err)
    ok, err = pcall(v.zoom, v, 2, {order=2})
    assert.matches("order must be 0, 1 or 3", err)
    ok, err = pcall(v.zoom, v, 2, {mode="edge"})
    assert.matches("mode must be constant, grid%-constant, nearest", err)
    ok, err = pcall(v.zoom, v, 0.1)
    assert.matches("zoom gives 0 voxels on axis 1", err)
  end)
end)

describe("v:transform", function()
  it("matches scipy.ndimage.affine_transform (index space, every mode)", function()
    local v = vol.read(path("r2"))
    for _, o in ipairs(ORDERS) do
      for _, m in ipairs(ALL_MODES) do
        local got = v:transform{matrix=M_OBLIQUE, translation={1.5, -2, 0.7}, center={1, 1, 1}, space="index",
                                interpolation=INTERP[o], mode=m, fill=2}
        local e = relerr(got, vol.read(path(("a_r2_%d_%s"):format(o, m))))
        assert.is_true(e <= TOL, ("order %d mode %s: %g"):format(o, m, e))
      end
    end
  end)

  it("rotates about the grid's centre in world space", function()
    local v = vol.new{shape={5, 5, 3}, dtype="int16", spacing={2, 2, 3}, origin={10, 20, 30}}
    for k = 1, 3 do for j = 1, 5 do for i = 1, 5 do v:set(i, j, k, i + 10 * j + 100 * k) end end end
    -- the output voxel at p reads the input at R p: R turns +x into +y
    local r = v:transform{matrix={{0, -1, 0}, {1, 0, 0}, {0, 0, 1}}, interpolation="nearest"}
    for k = 1, 3 do
      for j = 1, 5 do
        for i = 1, 5 do assert.equal(v:get(6 - j, i, k), r:get(i, j, k)) end
      end
    end
  end)

  it("samples a ramp of world coordinates exactly under a rigid motion", function()
    local geom = {spacing={1.2, 0.9, 2}, origin={-5, 4, 12}, direction=rotation({0.36, 0.48, 0.8}, 0.5)}
    local v = ramp_volume({12, 11, 7}, geom)
    local R = rotation({0.6, 0, 0.8}, 0.2)
    local out = v:transform{matrix=R, translation={1.5, -0.5, 0.25}, fill=-1e300}
    -- out(p) = f(R (p - c) + c + t): an affine function of p again
    local c = {v:index_to_world(6.5, 6, 4)}
    local n = 0
    for k = 1, 7 do
      for j = 1, 11 do
        for i = 1, 12 do
          local x = out:get(i, j, k)
          if x ~= -1e300 then
            local p = {out:index_to_world(i, j, k)}
            local q = {}
            for a = 1, 3 do
              q[a] = c[a] + ({1.5, -0.5, 0.25})[a]
              for b = 1, 3 do q[a] = q[a] + R[a][b] * (p[b] - c[b]) end
            end
            assert.near(ramp(q[1], q[2], q[3]), x, 1e-9)
            n = n + 1
          end
        end
      end
    end
    assert.is_true(n > 400)
  end)
end)

describe("v:resample", function()
  it("shape: matches skimage.transform.resize, anti-aliasing included", function()
    local r1, ct = vol.read(path("r1")), vol.read(path("ct"))
    local e = relerr(r1:resample{shape={10, 30, 5}, interpolation="linear", antialias=true}, vol.read(path("rs_1aa")))
    assert.is_true(e <= TOL, "linear antialias " .. e)
    e = relerr(r1:resample{shape={10, 30, 5}, interpolation="cubic"}, vol.read(path("rs_3")))
    assert.is_true(e <= TOL, "cubic " .. e)
    e = relerr(ct:resample{shape={40, 21, 32}, interpolation="linear", antialias=true, mode="reflect"},
      vol.read(path("rs_ct_aa")))
    assert.is_true(e <= TOL, "ct antialias " .. e)
  end)

  it("spacing: rounds the shape half to even and centres the grid", function()
    local v = vol.new{shape={87, 10, 20}, spacing={1.5, 1, 2.5}, origin={1, 2, 3}}
    local r = v:resample{spacing={1, 1.6, 2}}
    assert.same({130, 6, 25}, r.shape) -- 130.5 -> 130, 6.25 -> 6, 25
    local a, b = {v:index_to_world(44, 5.5, 10.5)}, {r:index_to_world(65.5, 3.5, 13)}
    for i = 1, 3 do assert.near(a[i], b[i], 1e-9) end -- same centre
    local o = v:resample{spacing={1, 1.6, 2}, align="origin"}
    for i = 1, 3 do assert.equal(v.origin[i], o.origin[i]) end
    -- a single slice made coarser stays one slice
    local one = vol.new{shape={8, 8, 1}, spacing={1, 1, 1}}:resample{spacing={2, 2, 5}}
    assert.same({4, 4, 1}, one.shape)
  end)

  it("samples world positions on oblique grids (spacing, shape, reference)", function()
    local geom = {spacing={0.9, 1.1, 2.2}, origin={-20, 15, 7}, direction=rotation({0.48, 0.6, 0.64}, 0.7)}
    local v = ramp_volume({14, 12, 8}, geom)
    -- mode constant: the border samples beyond the input's end voxel centres
    -- are fill (mode nearest would give them the edge value, not the ramp)
    -- (separate_z off: the target spacing 0.6 x 1 x 2 is anisotropic enough
    -- for nnU-Net's rule, which would make z nearest)
    local c = {interpolation="linear", mode="constant", fill=-1e300, separate_z=false}
    c.spacing = {0.6, 1, 2}
    assert.equal(19 * 13 * 7, assert_ramp(v:resample(c), -1e300)) -- of 21 x 13 x 9
    c.spacing, c.shape = nil, {9, 20, 5}
    assert.equal(9 * 18 * 5, assert_ramp(v:resample(c), -1e300))  -- of 9 x 20 x 5
    local target = vol.new{shape={15, 13, 11}, spacing={1, 0.8, 1.5}, origin={-18, 18, 5},
                           direction=rotation({0.8, 0, 0.6}, -0.3)}
    local out = v:resample{reference=target, interpolation="linear", fill=-1e300}
    local inside = assert_ramp(out, -1e300)
    assert.is_true(inside > 200 and inside < 15 * 13 * 11) -- partly outside: fill there
  end)

  it("reference and affine grids: match scipy.ndimage.affine_transform on oblique grids", function()
    local v = with_geom(vol.read(path("r2")), IN_GEOM)
    local worst = {[0] = 0, 0, 0, 0}
    for _, o in ipairs(ORDERS) do
      for _, m in ipairs(GRID_MODES) do
        local opts = {interpolation=INTERP[o], mode=m, fill=-7, reference=ref_target()}
        local got = v:resample(opts)
        local e = relerr(got, vol.read(path(("g_ref_%d_%s"):format(o, m))))
        assert.is_true(e <= TOL, ("reference, order %d mode %s: %g"):format(o, m, e))
        worst[o] = math.max(worst[o], e)
        opts.reference, opts.affine, opts.shape = nil, A_TARGET, A_SHAPE
        got = v:resample(opts)
        e = relerr(got, vol.read(path(("g_aff_%d_%s"):format(o, m))))
        assert.is_true(e <= TOL, ("affine, order %d mode %s: %g"):format(o, m, e))
        worst[o] = math.max(worst[o], e)
      end
    end
    assert.equal(0, worst[0])
    assert.is_true(worst[1] < 1e-12)
    assert.is_true(worst[3] < 1e-10) -- float64 input: double coefficients
  end)

  it("reference and affine grids: world points round-trip and keep their values", function()
    local v = ramp_volume({14, 12, 8}, IN_GEOM)
    -- {affine=}: the output's affine is the one given (LPS), or its RAS form
    local a = v:resample{affine=A_TARGET, shape=A_SHAPE, fill=-1e300}
    local ras = v:resample{affine=A_TARGET, ras=true, shape=A_SHAPE, fill=-1e300}
    local got, got_ras = a:affine(), ras:affine{ras=true}
    for r = 1, 4 do
      for c = 1, 4 do
        assert.near(A_TARGET[r][c], got[r][c], 1e-12)
        assert.near(A_TARGET[r][c], got_ras[r][c], 1e-12)
      end
    end
    -- {reference=}: the reference's grid exactly
    local target = ref_target()
    local r = v:resample{reference=target, fill=-1e300}
    assert.same(target.shape, r.shape)
    for i = 1, 3 do
      assert.equal(target.spacing[i], r.spacing[i])
      assert.equal(target.origin[i], r.origin[i])
    end
    assert.same(target.direction, r.direction)
    for _, out in ipairs{a, r} do
      -- a world point -> output index -> the same world point, and the value
      -- there is the ramp at that point (linear interpolation of an affine
      -- function is exact)
      local n = 0
      for _, p in ipairs{{-1.5, 4.25, 13}, {0.3, 6.1, 15.2}, {2, 2, 12}} do
        local i, j, k = out:world_to_index(p[1], p[2], p[3])
        local q = {out:index_to_world(i, j, k)}
        for c = 1, 3 do assert.near(p[c], q[c], 1e-9) end
        local vi, vj, vk = v:world_to_index(p[1], p[2], p[3])
        local w = {v:index_to_world(vi, vj, vk)}
        for c = 1, 3 do assert.near(p[c], w[c], 1e-9) end
      end
      n = assert_ramp(out, -1e300)
      assert.is_true(n > 100, "inside " .. n)
    end
  end)

  it("keeps the label set exactly with nearest", function()
    local lab = vol.new{shape={30, 25, 12}, dtype="int32", spacing={0.8, 0.8, 3}}
    for k = 1, 12 do for j = 1, 25 do for i = 1, 30 do
      lab:set(i, j, k, ((i // 5) + 2 * (j // 6) + 3 * (k // 4)) % 7 * 11 - 5)
    end end end
    local function set(v)
      local s, t = v.shape, {}
      for k = 1, s[3] do for j = 1, s[2] do for i = 1, s[1] do t[v:get(i, j, k)] = true end end end
      return t
    end
    local want = set(lab)
    for _, sp in ipairs{{1, 1, 1}, {0.5, 0.7, 2}, {1.1, 0.9, 2.5}} do
      local r = lab:resample{spacing=sp, interpolation="nearest"}
      assert.equal("int32", r.dtype)
      assert.same(want, set(r))
    end
  end)

  it("label: votes per label, returning only input labels", function()
    local lab = vol.new{shape={4, 1, 1}, dtype="uint8"}
    for i, x in ipairs{3, 3, 7, 7} do lab:set(i, 1, 1, x) end
    local r = lab:resample{shape={8, 1, 1}, interpolation="label"}
    for i, x in ipairs{3, 3, 3, 3, 7, 7, 7, 7} do assert.equal(x, r:get(i, 1, 1)) end
    -- a thin structure survives downsampling by voting where nearest may drop it
    local big = vol.new{shape={20, 20, 3}, dtype="int16"}
    for j = 1, 20 do for i = 9, 12 do big:set(i, j, 2, 5) end end
    local v = big:resample{shape={10, 10, 3}, interpolation="label"}
    local five = 0
    for j = 1, 10 do for i = 1, 10 do if v:get(i, j, 2) == 5 then five = five + 1 end end end
    assert.equal(20, five)
    assert.equal(5, v:max())
    assert.equal(0, v:min())
  end)

  it("affine: the NFBS grid of nilearn's recipe (shape, affine, values)", function()
    local t1 = vol.read(data.path("nifti/ch2.nii.gz"))
    local r = t1:resample_img{target_affine=NFBS_AFFINE, target_shape={96, 128, 160}, interpolation="linear"}
    local want = result("nfbs")
    assert.same(want.shape, r.shape)
    assert.equal(want.dtype, r.dtype)
    local A = r:affine{ras=true}
    for i = 1, 4 do for j = 1, 4 do assert.near(want.affine[i][j], A[i][j], 1e-12) end end
    assert.equal(0, (r - vol.read(path("nfbs"))):abs():max())
    -- continuous (cubic) gives the same grid
    local c = t1:resample_img{target_affine=NFBS_AFFINE, target_shape={96, 128, 160}}
    assert.same({96, 128, 160}, c.shape)
    -- the same grid through v:resample{affine=...}
    local g = t1:resample{affine=NFBS_AFFINE, ras=true, shape={96, 128, 160}, interpolation="nearest"}
    for i = 1, 3 do assert.equal(r.origin[i], g.origin[i]) end
  end)

  it("separate_z (default for spacing): the thick axis is nearest, the plane cubic", function()
    local v = vol.read(path("r1")):set_spacing{0.8, 0.8, 5}
    local r = v:resample{spacing={0.8, 0.8, 1.7}, interpolation="cubic"}
    assert.same({23, 17, 32}, r.shape)
    -- in-plane spacing unchanged: each output slice is one input slice
    for k = 1, 32 do
      local _, _, zi = v:world_to_index(r:index_to_world(1, 1, k))
      local src = math.floor(zi + 0.5)
      assert.is_true((r:slice(3, k) - v:slice(3, src)):abs():max() < 1e-9)
    end
    -- turned off, the z axis is cubic too, so slices mix
    local mixed = v:resample{spacing={0.8, 0.8, 1.7}, interpolation="cubic", separate_z=false}
    assert.is_true((mixed:slice(3, 2) - v:slice(3, 1)):abs():max() > 1)
    -- other grids only when asked
    local shape = {23, 17, 32}
    local plain = v:resample{shape=shape, interpolation="cubic"}
    local sep = v:resample{shape=shape, interpolation="cubic", separate_z=true}
    assert.is_true((plain - sep):abs():max() > 1)
    -- linear across slices with order_z=1
    local lin = v:resample{spacing={0.8, 0.8, 1.7}, interpolation="cubic", order_z=1}
    assert.is_true((lin - r):abs():max() > 1)
  end)

  it("gives the same bits with 1 and 2 threads", function()
    local v = vol.read(path("ct16"))
    local before = vol.threads()
    local runs = {}
    for t = 1, 2 do
      vol.set_threads(t)
      runs[t] = {v:resample{spacing={0.6, 0.8, 1.3}, interpolation="cubic"},
                 v:resample{spacing={1.7, 1.7, 0.9}, interpolation="linear", antialias=true},
                 v:gt(0):resample{spacing={1.3, 0.7, 1}, interpolation="label"},
                 v:transform{matrix=M_OBLIQUE, interpolation="cubic", mode="nearest"},
                 v:resample{shape={120, 110, 40}, interpolation="linear"}} -- > 262144 voxels: parallel
    end
    vol.set_threads(before)
    for i = 1, 5 do assert.equal(0, (runs[1][i] - runs[2][i]):abs():max()) end
  end)

  it("frees what it allocates", function()
    local v = vol.read(path("ct16"))
    collectgarbage()
    local base = vol.live_bytes()
    for _ = 1, 5 do
      local r <close> = v:resample{spacing={0.5, 0.5, 0.5}, interpolation="cubic"}
    end
    collectgarbage()
    assert.equal(base, vol.live_bytes())
  end)

  it("rejects bad options", function()
    local v = vol.new{shape={4, 4, 4}}
    local ok, err = pcall(v.resample, v, {spacing={1, 1, 1}, shape={2, 2, 2}})
    assert.matches("give exactly one of spacing, shape, reference or affine", err)
    ok, err = pcall(v.resample, v, {spacing={1, 1, 1}, interpolation="bicubic"})
    assert.matches("interpolation must be nearest, linear, cubic or label", err)
    ok, err = pcall(v.resample, v, {spacing={1, 1, 1}, order=3})
    assert.matches("unknown option 'order'", err)
    ok, err = pcall(v.resample, v, {spacing={1, 0, 1}})
    assert.matches("spacing must be > 0 %(got 0 on axis 2%)", err)
    ok, err = pcall(v.resample, v, {affine=NFBS_AFFINE})
    assert.matches("affine needs shape too", err)
    ok, err = pcall(v.resample, v, {spacing={1, 1, 1}, align="corner"})
    assert.matches("align must be center or origin", err)
    ok, err = pcall(v.transform, v, {matrix={{1, 0}, {0, 1}}, interpolation="label"})
    assert.matches("matrix must be 3 rows of 3 numbers", err)
    assert.error_matches(function() v:transform{matrix={{1, 0}, {0, 1}}} end,
      "bad argument #1 to 'transform' (matrix must be 3 rows of 3 numbers or 9 numbers (got a list of 2))", 1, true)
    assert.error_matches(function() v:transform{matrix={{1, 0, 0}, {0, 1}, {0, 0, 1}}} end,
      "bad argument #1 to 'transform' (matrix row must have 3 numbers (got 2))", 1, true)
    assert.error_matches(function() v:resample{affine={{1, 0, 0, 0}}, shape={2, 2, 2}} end,
      "bad argument #1 to 'resample' (affine must be 4 rows of 4 numbers)", 1, true)
    assert.error_matches(function() v:zoom({1, "x", 1}) end,
      "bad argument #1 to 'zoom' (zoom factors[2] must be a number (got string))", 1, true)
    ok, err = pcall(v.transform, v, {matrix=M_OBLIQUE, interpolation="label"})
    assert.matches("label voting needs an axis%-aligned target grid", err)
    ok, err = pcall(v.transform, v, {matrix=M_OBLIQUE, antialias=true})
    assert.matches("unknown option 'antialias'", err)
  end)

  it("names the bad reference, threshold and order_z", function()
    local v = vol.new{shape={4, 4, 4}}
    local ok, err = pcall(v.resample, v, {reference=3})
    assert.matches("bad argument #%d to '.-' %(reference must be a Volume %(got number%)%)", err)
    local gone = vol.new{shape={2, 2, 2}}
    gone:release()
    ok, err = pcall(v.resample, v, {reference=gone})
    assert.matches("reference is a released volume", err)
    for _, t in ipairs{0, -1, 0.5, 0 / 0, math.huge} do
      ok, err = pcall(v.resample, v, {spacing={1, 1, 1}, anisotropy_threshold=t})
      assert.matches("anisotropy_threshold must be a finite number >= 1", err)
    end
    -- checked even when separate_z is off: a bad value never passes silently
    ok, err = pcall(v.resample, v, {shape={2, 2, 2}, separate_z=false, anisotropy_threshold=0})
    assert.matches("anisotropy_threshold must be a finite number >= 1 %(got 0", err)
    ok, err = pcall(v.resample, v, {spacing={1, 1, 1}, order_z=3})
    assert.matches("order_z must be 0 or 1", err)
    assert.same({4, 4, 4}, v:resample{spacing={1, 1, 1}, anisotropy_threshold=1}.shape)
  end)

  it("refuses antialias and label voting on oblique grids", function()
    local v = vol.new{shape={6, 6, 6}, dtype="int16"}
    local target = vol.new{shape={5, 5, 5}, direction=rotation({0, 0, 1}, 0.3)}
    local ok, err = pcall(v.resample, v, {reference=target, antialias=true})
    assert.matches("antialias needs an axis%-aligned target grid %(this one is rotated or sheared%)", err)
    ok, err = pcall(v.resample, v, {reference=target, interpolation="label"})
    assert.matches("label voting needs an axis%-aligned target grid", err)
    local A = target:affine()
    ok, err = pcall(v.resample, v, {affine=A, shape={5, 5, 5}, antialias=true})
    assert.matches("antialias needs an axis%-aligned target grid", err)
  end)
end)

describe("v:resample_dsb", function()
  it("matches the DSB2017 tutorial's values and returns the true spacing", function()
    for _, c in ipairs{{"r1", {0.7, 0.9, 2.5}, 1}, {"ct", {0.957, 0.957, 1.5}, 1.2}} do
      local name = c[1] == "r1" and "dsb" or "dsb_ct"
      local v = vol.read(path(c[1])):set_spacing(c[2])
      local out, sp, tut = v:resample_dsb(c[3])
      local want = result(name)
      assert.is_true(relerr(out, vol.read(path(name))) <= TOL)
      for a = 1, 3 do
        assert.near(want.spacing[a], tut[a], 1e-12)
        -- the grid zoom makes: (n - 1) / (n' - 1), which the volume carries
        local n, m = v.shape[a], out.shape[a]
        assert.near(c[2][a] * (n - 1) / (m - 1), sp[a], 1e-12)
        assert.equal(sp[a], out.spacing[a])
      end
    end
  end)

  it("reports bad options as its own", function()
    local v = vol.new{shape={4, 4, 4}}
    local ok, err = pcall(v.resample_dsb, v, 1, {order=2})
    assert.matches("bad argument #3 to 'resample_dsb' %(order must be 0, 1 or 3, got 2%)", err)
    assert.is_nil(err:find("'zoom'", 1, true))
    ok, err = pcall(v.resample_dsb, v, 1, {mode="edge"})
    assert.matches("bad argument #3 to 'resample_dsb' %(mode must be constant, .* got edge%)", err)
    ok, err = pcall(v.resample_dsb, v, 1, {cval=1})
    assert.matches("unknown option 'cval'", err)
  end)

  it("rounds the shape half to even, as numpy", function()
    local v = vol.new{shape={87, 89, 4}, spacing={1.5, 1.5, 1}}
    local out = v:resample_dsb{1, 1, 1}
    assert.same({130, 134, 4}, out.shape) -- 130.5 -> 130, 133.5 -> 134
  end)
end)
