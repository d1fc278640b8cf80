-- Patch grids: crop, merge, map, sampling. Exact round trips on odd sizes,
-- the classic numpy recipe (tests/ref/patch_ref.py) reproduced voxel for
-- voxel in 'drop' mode, MONAI's Gaussian importance map, streaming merges.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"

-- A volume of pseudo-random values (deterministic), float32 or integer.
local function random_volume(shape, dtype, seed)
  local v = vol.new{shape=shape, dtype=dtype or "float32"}
  local rnd, n = seed or 1, 1
  for _, s in ipairs(shape) do n = n * s end
  local idx = {}
  for k = 1, (shape[3] or 1) do
    for j = 1, shape[2] do
      for i = 1, shape[1] do
        rnd = (rnd * 1103515245 + 12345) % 2147483648
        local x = (rnd / 2147483648) * 2000 - 1000
        if dtype and dtype ~= "float32" and dtype ~= "float64" then x = math.floor(x) end
        if #shape == 3 then v:set(i, j, k, x) else v:set(i, j, x) end
      end
    end
  end
  return v
end

-- Equal shapes and values, compared exactly (a difference would saturate
-- to 0 in unsigned dtypes).
local function same(a, b)
  assert.same(a.shape, b.shape)
  assert.equal(0, a:ne(b):stats().sum)
end

describe("vol.patch_grid", function()
  it("places patches in the three modes (odd size 150, patch 96, overlap 32)", function()
    local cover = vol.patch_grid{shape={150, 150, 150}, patch=96, overlap=32}
    local pad = vol.patch_grid{shape={150, 150, 150}, patch=96, overlap=32, mode="pad"}
    local drop = vol.patch_grid{shape={150, 150, 150}, patch=96, overlap=32, mode="drop"}
    assert.equal(8, cover:count())
    assert.same({lo={55, 55, 55}, hi={150, 150, 150}}, cover:box(8))   -- flush with the edge
    assert.equal(8, pad:count())
    assert.same({lo={65, 65, 65}, hi={160, 160, 160}}, pad:box(8))     -- padded to 160
    assert.equal(1, drop:count())
    assert.equal(150^3 - 96^3, drop:uncovered())
    assert.equal(0, cover:uncovered())
    assert.equal(0, pad:uncovered())
  end)

  it("numbers patches x fastest and reports its fields", function()
    local g = vol.patch_grid{shape={10, 8}, patch={4, 4}, stride={3, 4}}
    assert.same({3, 2}, g.counts)
    assert.same({1, 1}, g:box(1).lo)
    assert.same({4, 1}, g:box(2).lo)
    assert.same({7, 1}, g:box(3).lo)      -- 10 - 4 + 1: flush
    assert.same({1, 5}, g:box(4).lo)
    assert.same({10, 8}, g.shape)
    assert.same({1, 0}, g.overlap)
    assert.equal("cover", g.mode)
    local n = 0
    for i, box in g:boxes() do
      n = n + 1
      assert.equal(n, i)
      assert.same(g:box(i), box)
    end
    assert.equal(6, n)
  end)

  it("handles a patch larger than the volume in cover and pad modes, refuses it in drop", function()
    local g = vol.patch_grid{shape={5, 40}, patch={8, 16}, overlap={2, 4}}
    assert.same({lo={1, 25}, hi={8, 40}}, g:box(g:count()))
    assert.equal(0, g:uncovered())
    local ok, err = pcall(vol.patch_grid, {shape={5, 40}, patch={8, 16}, mode="drop"})
    assert.is_false(ok)
    assert.matches("patch 8 is larger than the volume %(5%) on axis 1: 'drop' mode has no patch", err)
  end)

  it("crops and merges back exactly when the patch is larger than the volume", function()
    for _, case in ipairs{{shape={5, 40}, patch={8, 16}, overlap={2, 4}},
                          {shape={3, 10, 4}, patch={5, 4, 6}, overlap={1, 2, 3}},
                          {shape={6, 5, 4}, patch={9, 9, 9}, overlap=0}} do
      local v = random_volume(case.shape, "int16", 31)
      for _, mode in ipairs{"cover", "pad"} do
        local g = vol.patch_grid{shape=case.shape, patch=case.patch, overlap=case.overlap,
                                 mode=mode, pad_value=-5000}
        local s = g:extract(v)
        assert.equal(-5000, s:min())              -- the padded part is really there
        same(v, g:merge(s))
        same(v, g:merge(s, {dtype="int16", weight="gaussian"}))
        same(v, g:map(v, function(p) return p end, {dtype="int16"}))
      end
    end
  end)

  it("rejects bad arguments with clear messages", function()
    local function fails(opts, msg)
      local ok, err = pcall(vol.patch_grid, opts)
      assert.is_false(ok)
      assert.matches(msg, err, 1, true)
    end
    fails({shape={10, 10}, patch=4, overlap=4}, "overlap 4 must be smaller than the patch 4")
    fails({shape={10, 10}, patch=4, stride=5}, "would leave voxels between patches")
    fails({shape={10, 10}, patch=4, overlap=1, stride=3}, "not both")
    fails({shape={10, 10}, patch=4, strid=3}, "unknown option 'strid'")
    fails({shape={10, 10}, patch=4, mode="crop"}, "invalid option 'crop'")
    fails({shape={10, 10, 10, 2}, patch=4}, "shape must have 2 or 3 sizes")
    fails({shape={10, 10}}, "'patch' is required")
    assert.is_true(pcall(vol.patch_grid, {shape={10, 10}, patch=4, stride=5, mode="drop"}))
  end)
end)

describe("grid:extract and grid:merge", function()
  it("reproduce the volume exactly in cover and pad modes (odd sizes, 3-D)", function()
    local v = random_volume({13, 11, 9}, "float32", 7)
    for _, mode in ipairs{"cover", "pad"} do
      for _, o in ipairs{{patch={4, 5, 3}, overlap=0}, {patch={4, 5, 3}, overlap={3, 4, 2}},
                         {patch={13, 11, 9}, overlap=0}, {patch={5, 4, 6}, overlap={2, 1, 3}}} do
        local g = vol.patch_grid{shape=v.shape, patch=o.patch, overlap=o.overlap, mode=mode}
        same(v, g:merge(g:extract(v)))
        same(v, g:merge(g:extract(v), {weight="gaussian"}))
        same(v, g:merge(g:extract(v), {weight="constant"}))
      end
    end
  end)

  it("reproduce the volume exactly in 2-D, integer dtypes included", function()
    local v = random_volume({17, 9}, "int16", 3)
    for _, mode in ipairs{"cover", "pad"} do
      for _, o in ipairs{{patch=4, overlap=0}, {patch=4, overlap=3}, {patch={17, 9}, overlap=0}} do
        local g = vol.patch_grid{shape=v.shape, patch=o.patch, overlap=o.overlap, mode=mode}
        local s = g:extract(v)
        assert.equal("int16", s.dtype)
        assert.equal(3, s.ndim)
        same(v, g:merge(s))
        local back = g:merge(s, {dtype="int16"})
        assert.equal("int16", back.dtype)
        same(v, back)
      end
    end
  end)

  -- Values a float32 accumulator cannot hold (2^24 + 1, int32 extremes)
  -- beside each dtype's limits.
  local limits = {
    uint8 = {0, 255}, int8 = {-128, 127}, uint16 = {0, 65535}, int16 = {-32768, 32767},
    uint32 = {0, 4294967295}, int32 = {-2147483648, 2147483647},
    float32 = {-3.4028234663852886e38, 3.4028234663852886e38},
    float64 = {-1.7976931348623157e308, 1.7976931348623157e308},
  }
  local function extreme_volume(shape, dtype)
    local lo, hi = limits[dtype][1], limits[dtype][2]
    local values = {lo, hi, 16777217, -2147483647, 2147483646, 4294967294, lo + 1, hi - 1, 0,
                    -16777217, 0.1, 123456789.25}
    local v = random_volume(shape, dtype, 41)
    local k = 0
    for z = 1, shape[3] or 1 do for y = 1, shape[2] do for x = 1, shape[1] do
      k = k + 1
      if k % 3 ~= 0 then
        local x_ = math.max(lo, math.min(hi, values[(k // 3 + k) % #values + 1]))
        if #shape == 3 then v:set(x, y, z, x_) else v:set(x, y, x_) end
      end
    end end end
    return v
  end

  it("reproduce every dtype exactly, int32 and uint32 extremes included", function()
    for dtype in pairs(limits) do
      for _, case in ipairs{{shape={9, 7}, patch=4, overlap=2}, {shape={7, 6, 5}, patch=3, overlap=1},
                            {shape={9, 7}, patch={9, 7}, overlap=0}} do
        local v = extreme_volume(case.shape, dtype)
        for _, mode in ipairs{"cover", "pad"} do
          local g = vol.patch_grid{shape=case.shape, patch=case.patch, overlap=case.overlap, mode=mode}
          local s = g:extract(v)
          local what = dtype .. " " .. mode .. " " .. table.concat(case.shape, "x")
          for _, weight in ipairs{"mean", "gaussian"} do
            local back = g:merge(s, {dtype=dtype, weight=weight})
            assert.equal(dtype, back.dtype, what)
            assert.equal(0, back:ne(v):stats().sum, what .. " " .. weight)
          end
          -- without dtype=: float64 where float32 cannot hold the values
          local wide = dtype == "float64" or dtype == "int32" or dtype == "uint32"
          local back = g:merge(s)
          assert.equal(wide and "float64" or "float32", back.dtype, what)
          assert.equal(0, back:ne(v):stats().sum, what)
          local m = g:merger{dtype=dtype}
          for n, p in g:patches(v) do m:add(n, p) end
          same(v, m:result())
          same(v, g:map(v, function(p) return p end, {dtype=dtype, weight="gaussian"}))
          local out = vol.new{shape=case.shape, dtype=dtype}
          g:map(v, function(p) return p end, {out=out})
          same(v, out)
        end
      end
    end
  end)

  it("keep float64 stacks in float64 and size int32 accumulators as float64", function()
    local v = vol.new{shape={9, 7}, dtype="float64", fill=0.1}
    local g = vol.patch_grid{shape=v.shape, patch=4, overlap=2}
    local back = g:merge(g:extract(v))
    assert.equal("float64", back.dtype)
    assert.equal(0.1, back:get(5, 4))
    assert.equal("float32", g:merge(g:extract(v), {dtype="float32"}).dtype)
    assert.equal((8 + 1) * 9 * 7, g:merge_memory{dtype="int32"})
    assert.equal((8 + 1) * 9 * 7, g:merge_memory{dtype="uint32"})
    assert.equal((4 + 1) * 9 * 7, g:merge_memory{dtype="int16"})
    local m = g:merger{dtype="int32"}
    m:add(1, vol.new{shape={4, 4}, dtype="int32", fill=16777217})
    assert.equal((8 + 1) * 9 * 7, m.bytes)
    assert.equal(16777217, m:result():get(1, 1))
  end)

  it("stacks patches on the last axis with the first patch's origin", function()
    local v = random_volume({9, 8, 7}, "float32", 2)
    v:set_spacing{0.5, 2, 3}:set_origin{10, 20, 30}
    local g = vol.patch_grid{shape=v.shape, patch=4, overlap=1}
    local s = g:extract(v)
    assert.same({4, 4, 4, g:count()}, s.shape)
    assert.same({10, 20, 30}, s.origin)
    local b = g:box(5)
    assert.equal(v:get(b.lo[1], b.lo[2], b.lo[3]), s:get(1, 1, 1, 5))
    assert.equal(v:get(b.hi[1], b.hi[2], b.hi[3]), s:get(4, 4, 4, 5))
    local part = g:extract(v, {first=5, count=2})
    assert.same({4, 4, 4, 2}, part.shape)
    assert.equal(s:get(2, 3, 4, 6), part:get(2, 3, 4, 2))
  end)

  it("pads outside the volume with pad_value and crops it back when merging", function()
    local v = random_volume({5, 6}, "float32", 4)
    local g = vol.patch_grid{shape=v.shape, patch=4, overlap=1, mode="pad", pad_value=-7}
    local s = g:extract(v)
    assert.equal(-7, s:get(4, 4, g:count()))   -- box hi = (7, 7): beyond the volume
    same(v, g:merge(s))
  end)
end)

describe("drop mode", function()
  local function against_numpy(v, patch, overlap)
    local dir = data.tmpdir()
    v:write(dir .. "/in.npy")
    local np_patch, np_overlap = {}, {}
    for a = #v.shape, 1, -1 do
      np_patch[#np_patch + 1] = type(patch) == "table" and patch[a] or patch
      np_overlap[#np_overlap + 1] = type(overlap) == "table" and overlap[a] or overlap
    end
    local r = ref.run("patch_ref.py", "classic", dir .. "/in.npy", dir,
      table.concat(np_patch, ","), table.concat(np_overlap, ","))
    local g = vol.patch_grid{shape=v.shape, patch=patch, overlap=overlap, mode="drop"}
    assert.equal(r.count, g:count())
    assert.equal(r.lost, g:uncovered())
    same(vol.read(dir .. "/patches.npy"), g:extract(v))
    local m = g:merger()
    for n, p in g:patches(v) do m:add(n, p) end
    same(vol.read(dir .. "/merged.npy"), m:result())
    local covered = vol.read(dir .. "/covered.npy")
    same(covered, m:coverage())
    same(covered, g:coverage())
    return r
  end

  it("reproduces the classic numpy recipe in 3-D, lost voxels included", function()
    local r = against_numpy(random_volume({23, 19, 14}, "float32", 5), {8, 6, 5}, {3, 2, 1})
    assert.is_true(r.lost > 0)
  end)

  it("reproduces the classic numpy recipe in 2-D", function()
    local r = against_numpy(random_volume({31, 26}, "int16", 6), 9, 4)
    assert.is_true(r.lost > 0)
  end)

  -- Patch n multiplied by n (a network that changes its input) against the
  -- numpy float64 sum / count. Tolerance: the running mean in float32 is
  -- within a few float32 ulps of the exact mean (2^-21 ~ 4.8e-7 of the
  -- largest |value|, measured 1.1e-7); in float64 within 1e-12 (measured 8e-17).
  it("matches the numpy float64 sum / count on modified patches", function()
    for _, case in ipairs{{shape={23, 19, 14}, patch={8, 6, 5}, overlap={3, 2, 1}},
                          {shape={31, 26}, patch={9, 7}, overlap={4, 5}}} do
      local v = random_volume(case.shape, "float32", 25)
      local dir = data.tmpdir()
      v:write(dir .. "/in.npy")
      local np_patch, np_overlap = {}, {}
      for a = #case.shape, 1, -1 do
        np_patch[#np_patch + 1] = case.patch[a]
        np_overlap[#np_overlap + 1] = case.overlap[a]
      end
      local r = ref.run("patch_ref.py", "scaled", dir .. "/in.npy", dir,
        table.concat(np_patch, ","), table.concat(np_overlap, ","))
      local want = vol.read(dir .. "/merged.npy")
      local g = vol.patch_grid{shape=case.shape, patch=case.patch, overlap=case.overlap, mode="drop"}
      assert.equal(r.count, g:count())
      local scale = want:abs():max()
      for _, c in ipairs{{dtype="float32", tol=2 ^ -21}, {dtype="float64", tol=1e-12}} do
        for _, weight in ipairs{"mean", "constant"} do
          local got = g:map(v, function(p, n) return p:astype("float64") * n end,
                           {dtype=c.dtype, weight=weight})
          assert.same(want.shape, got.shape)
          local err = (got - want):abs():max() / scale
          assert.is_true(err <= c.tol, ("%s %s: %g > %g"):format(c.dtype, weight, err, c.tol))
        end
      end
      same(vol.read(dir .. "/covered.npy"), g:coverage())
    end
  end)

  it("fills uncovered voxels with fill", function()
    local v = random_volume({11, 11}, "float32", 8)
    local g = vol.patch_grid{shape=v.shape, patch=4, overlap=1, mode="drop"}
    local m = g:merge(g:extract(v), {fill=-1})
    assert.equal(21, g:uncovered())
    assert.equal(-1, m:get(11, 5))
    assert.equal(v:get(1, 1), m:get(1, 1))
  end)
end)

describe("merger weights", function()
  -- Tolerance 1e-6 relative: a few float32 ulps, as numpy's, torch's and
  -- glibc's float32 exp differ in the last bits.
  it("gaussian equals MONAI's importance map (float32, within 1e-6 relative)", function()
    for _, case in ipairs{{patch={7, 10, 12}, sigma=0.125}, {patch={16, 9}, sigma=0.25},
                          {patch={96, 96, 96}, sigma=0.125}} do
      local g = vol.patch_grid{shape=case.patch, patch=case.patch}
      local w = g:weights{weight="gaussian", sigma_scale=case.sigma}
      local dir = data.tmpdir()
      ref.run("patch_ref.py", "gaussian", dir .. "/w.npy", table.concat(case.patch, ","), case.sigma)
      local m = vol.read(dir .. "/w.npy")
      assert.same(w.shape, m.shape)
      assert.is_true(((w - m):abs() / m):max() <= 1e-6)
    end
  end)

  it("gaussian has the hand-computed values of tiny patches", function()
    local function f32(x) return vol.new{shape={1, 1}, fill=x}:get(1, 1) end
    local function near(want, got, what)
      assert.is_true(math.abs(got - want) <= 1e-6 * want, ("%s: %.9g, want %.9g"):format(what, got, want))
    end
    -- 3x3, sigma = 0.125 * 3 = 0.375, 2 sigma^2 = 0.28125: an edge weighs
    -- exp(-1 / 0.28125) = exp(-32/9); a corner exp(-64/9) = 8.2e-4 < 1e-3
    -- is clamped to 1e-3 (the minimum is below the floor); the centre is 1
    local w = vol.patch_grid{shape={3, 3}, patch=3}:weights{weight="gaussian"}
    assert.same({3, 3}, w.shape)
    assert.equal(1, w:get(2, 2))
    for _, c in ipairs{{1, 1}, {3, 1}, {1, 3}, {3, 3}} do assert.equal(f32(1e-3), w:get(c[1], c[2])) end
    for _, e in ipairs{{2, 1}, {1, 2}, {3, 2}, {2, 3}} do near(math.exp(-32 / 9), w:get(e[1], e[2]), "edge") end
    -- 4x1, sigma_x = 0.5 (2 sigma^2 = 0.5), x = -1.5, -0.5, 0.5, 1.5; the
    -- single y voxel weighs exp(0) = 1; the minimum exp(-4.5) > 1e-3: no clamp
    w = vol.patch_grid{shape={4, 1}, patch={4, 1}}:weights{weight="gaussian"}
    assert.same({4, 1}, w.shape)
    near(math.exp(-4.5), w:get(1, 1), "x=1")
    near(math.exp(-0.5), w:get(2, 1), "x=2")
    assert.equal(w:get(1, 1), w:get(4, 1))
    assert.equal(w:get(2, 1), w:get(3, 1))
    -- sigma_scale per axis: 3x3 with sigma_scale {1, 0.125}: x edges
    -- exp(-1/18), y edges exp(-32/9), corners their float32 product
    w = vol.patch_grid{shape={3, 3}, patch=3}:weights{weight="gaussian", sigma_scale={1, 0.125}}
    near(math.exp(-1 / 18), w:get(1, 2), "x edge")
    near(math.exp(-32 / 9), w:get(2, 1), "y edge")
    near(math.exp(-1 / 18 - 32 / 9), w:get(1, 1), "corner")
  end)

  it("merging patches that are all c gives c on every covered voxel", function()
    for _, mode in ipairs{"cover", "pad", "drop"} do
      local g = vol.patch_grid{shape={23, 17, 11}, patch={8, 7, 5}, overlap={5, 3, 2}, mode=mode}
      for _, weight in ipairs{"mean", "constant", "gaussian"} do
        local m = g:merger{weight=weight}
        local p = vol.new{shape={8, 7, 5}, fill=0.1 + 1 / 3}
        local c = p:get(1, 1, 1) -- the float32 value
        for n = 1, g:count() do m:add(n, p) end
        local r = m:result()
        local cov = g:coverage()
        assert.equal(0, ((r - c):abs() * cov):max())
        assert.equal(cov:stats().sum, (r:eq(vol.new{shape=r.shape, fill=c})):stats().sum)
      end
    end
  end)

  it("accepts a custom weight map and rejects non-positive weights", function()
    local g = vol.patch_grid{shape={9, 9}, patch=5, overlap=2}
    local w = vol.new{shape={5, 5}, fill=2}
    local v = random_volume({9, 9}, "float32", 9)
    same(v, g:merge(g:extract(v), {weight=w}))
    local ok, err = pcall(g.merger, g, {weight=vol.new{shape={5, 5}}})
    assert.is_false(ok)
    assert.matches("weights must be > 0", err)
  end)

  it("counts patches in uint8, uint16 or float32 as the overlap requires", function()
    local v = random_volume({40, 40}, "float32", 21)
    local g = vol.patch_grid{shape=v.shape, patch=20, stride=1}    -- up to 400 patches a voxel
    assert.equal((4 + 2) * 40 * 40, g:merge_memory())
    same(v, g:merge(g:extract(v)))
    assert.equal((4 + 1) * 40 * 30, vol.patch_grid{shape={40, 30}, patch=20, overlap=10}:merge_memory())
    local dense = vol.patch_grid{shape={90, 90, 90}, patch=45, stride=1} -- 45^3 > 65535
    assert.equal((4 + 4) * 90 ^ 3, dense:merge_memory())
  end)

  it("gives the same bits on 1 and 2 threads", function()
    local v = random_volume({21, 18, 16}, "float32", 10)
    local g = vol.patch_grid{shape=v.shape, patch=8, overlap=5}
    local s = g:extract(v)
    local n0 = vol.threads and vol.threads() or nil
    vol.set_threads(1)
    local a = g:merge(s * 1.37, {weight="gaussian"})
    vol.set_threads(2)
    local b = g:merge(s * 1.37, {weight="gaussian"})
    if n0 then vol.set_threads(n0) end
    same(a, b)
  end)
end)

describe("grid:patches and grid:map", function()
  it("iterate patches whose origin is their first voxel's world position", function()
    local v = random_volume({12, 10, 8}, "int16", 11)
    v:set_spacing{0.7, 0.8, 2.5}:set_origin{-30, 12, 100}
    v:set_direction{{0, 1, 0}, {-1, 0, 0}, {0, 0, 1}}
    local g = vol.patch_grid{shape=v.shape, patch=5, overlap=2}
    local count = 0
    for n, p, box in g:patches(v) do
      count = count + 1
      local x, y, z = v:index_to_world(box.lo[1], box.lo[2], box.lo[3])
      assert.is_true(math.abs(p.origin[1] - x) + math.abs(p.origin[2] - y) + math.abs(p.origin[3] - z) < 1e-9)
      assert.same(v.spacing, p.spacing)
      assert.equal(v:get(box.hi[1], box.hi[2], box.hi[3]), p:get(5, 5, 5))
      assert.equal(n, count)
    end
    assert.equal(g:count(), count)
  end)

  it("map with the identity gives the input back, with its geometry", function()
    local v = random_volume({15, 12, 7}, "float32", 12)
    v:set_origin{1, 2, 3}
    for _, mode in ipairs{"cover", "pad"} do
      local g = vol.patch_grid{shape=v.shape, patch={6, 5, 4}, overlap={2, 2, 1}, mode=mode}
      local r = g:map(v, function(p) return p end, {weight="gaussian"})
      same(v, r)
      assert.same(v.origin, r.origin)
    end
  end)

  it("map merges outputs of another dtype and channel count", function()
    local v = random_volume({11, 9}, "int16", 13)
    local g = vol.patch_grid{shape=v.shape, patch=4, overlap=1}
    local r = g:map(v, function(p)
      local out = vol.new{shape={4, 4, 1, 2}, dtype="float64"}
      for j = 1, 4 do for i = 1, 4 do
        out:set(i, j, 1, 1, p:get(i, j))
        out:set(i, j, 1, 2, -2 * p:get(i, j))
      end end
      return out
    end, {dtype="float64"})
    assert.same({11, 9, 1, 2}, r.shape)
    assert.equal("float64", r.dtype)
    assert.equal(v:get(5, 6), r:get(5, 6, 1, 1))
    assert.equal(-2 * v:get(11, 9), r:get(11, 9, 1, 2))
  end)

  it("propagates an error in the function and leaves no output file", function()
    local dir = data.tmpdir()
    local v = random_volume({8, 8, 8}, "float32", 14)
    local g = vol.patch_grid{shape=v.shape, patch=4, overlap=0}
    local ok, err = pcall(g.map, g, v, function(p, n)
      if n == 5 then error("model failed on patch 5") end
      return p
    end, {out=dir .. "/out.npy"})
    assert.is_false(ok)
    assert.matches("model failed on patch 5", err)
    local p = io.popen("ls -A " .. dir)
    assert.equal("", p:read("a"))
    p:close()
    local ok2, err2 = pcall(g.map, g, v, function() return 1 end)
    assert.is_false(ok2)
    assert.matches("returned number for patch 1", err2)
  end)

  it("reports a misspelled option against 'map', at the caller's line", function()
    local v = random_volume({8, 8}, "float32", 26)
    local g = vol.patch_grid{shape=v.shape, patch=4}
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(function() local r = g:map(v, function(p) return p end, {wieght="gaussian"}); return r end)
    assert.is_false(ok)
    assert.matches("bad argument #3 to 'map' (unknown option 'wieght' (valid: ", err, 1, true)
    assert.matches("patch_spec.lua:" .. line .. ":", err, 1, true)
    local ok2, err2 = pcall(g.map, g, v, function(p) return p end, {dtype="int64"})
    assert.is_false(ok2)
    assert.matches("bad argument #3 to 'map' (option 'dtype': unknown dtype 'int64'", err2, 1, true)
  end)
end)

describe("streaming merges", function()
  local v = random_volume({14, 12, 17}, "float32", 15)
  local g = vol.patch_grid{shape=v.shape, patch={6, 5, 6}, overlap={2, 1, 2}}

  it("write finished slabs into a Volume, a function or a .npy file", function()
    local whole = g:merge(g:extract(v), {weight="gaussian"})
    local out = vol.new{shape=v.shape}
    g:map(v, function(p) return p end, {weight="gaussian", out=out})
    same(whole, out)
    local seen, next_plane = 0, 1
    g:map(v, function(p) return p end, {out=function(slab, first, last)
      assert.equal(next_plane, first)
      assert.equal(last - first + 1, slab.shape[3])
      for k = first, last do
        assert.equal(v:get(3, 4, k), slab:get(3, 4, k - first + 1))
      end
      next_plane = last + 1
      seen = seen + 1
    end})
    assert.equal(18, next_plane)
    assert.is_true(seen > 1)
    local dir = data.tmpdir()
    local path = g:map(v, function(p) return p end, {out=dir .. "/m.npy"})
    assert.equal(dir .. "/m.npy", path)
    same(v, vol.read(path))
  end)

  it("holds only patch-depth planes and writes channels to .npy in (C, z, y, x) order", function()
    local m = g:merger{out=data.tmpdir() .. "/c.npy"}
    assert.is_true(m.streaming)
    local two = vol.new{shape={6, 5, 6, 2}, fill=3}
    m:add(1, two)
    -- 2 float32 channels and a uint8 patch count per voxel, over 6 planes
    assert.equal((2 * 4 + 1) * 14 * 12 * 6, m.bytes)
    assert.equal((2 * 4 + 1) * 14 * 12 * 6, g:merge_memory{channels=2, streaming=true})
    assert.equal((2 * 4 + 1) * 14 * 12 * 17, g:merge_memory{channels=2})
    assert.equal((2 * 4 + 4) * 14 * 12 * 17, g:merge_memory{channels=2, weight="gaussian"})
    assert.equal((2 * 8 + 1) * 14 * 12 * 17, g:merge_memory{channels=2, dtype="float64"})
    for n = 2, g:count() do m:add(n, two) end
    local r = vol.read(m:result())
    assert.same({14, 12, 17, 2}, r.shape)
    assert.equal(3, r:min())
  end)

  it("streams rows of a 2-D image", function()
    local img = random_volume({23, 19}, "float32", 23)
    local g2 = vol.patch_grid{shape=img.shape, patch={6, 5}, overlap={2, 2}}
    local rows = 0
    g2:map(img, function(p) return p end, {out=function(slab, first, last)
      assert.same({23, last - first + 1}, slab.shape)
      assert.equal(img:get(7, first), slab:get(7, 1))
      rows = rows + slab.shape[2]
    end})
    assert.equal(19, rows)
    local out = vol.new{shape={23, 19}, dtype="float64"}
    g2:map(img, function(p) return p end, {out=out})
    same(img, out)
  end)

  it("refuses patches of a slab already written", function()
    local m = g:merger{out=vol.new{shape=v.shape}}
    local p = vol.new{shape={6, 5, 6}}
    m:add(g:count(), p)
    local ok, err = pcall(m.add, m, 1, p)
    assert.is_false(ok)
    assert.matches("already written out", err)
  end)
end)

describe("merger errors", function()
  it("name the patch and what is wrong", function()
    local g = vol.patch_grid{shape={8, 8, 8}, patch=4}
    local m = g:merger()
    local function fails(msg, ...)
      local ok, err = pcall(m.add, m, ...)
      assert.is_false(ok)
      assert.matches(msg, err, 1, true)
    end
    fails("patch 9 out of range 1..8", 9, vol.new{shape={4, 4, 4}})
    fails("patch 2 must be 4x4x4", 2, vol.new{shape={4, 4, 5}})
    m:add(1, vol.new{shape={4, 4, 4, 3}})
    fails("has 1 channels, earlier patches had 3", 2, vol.new{shape={4, 4, 4}})
    local ok, err = pcall(g.merger, g, {weight="box"})
    assert.is_false(ok)
    assert.matches("weight must be 'mean', 'constant' or 'gaussian'", err)
    local empty = g:merger()
    local ok2, err2 = pcall(empty.result, empty)
    assert.is_false(ok2)
    assert.matches("no patches", err2)
  end)

  it("name the option holding an unknown dtype", function()
    local g = vol.patch_grid{shape={8, 8}, patch=4}
    local s = g:extract(vol.new{shape={8, 8}})
    local function fails(msg, fn, ...)
      local ok, err = pcall(fn, ...)
      assert.is_false(ok)
      assert.matches(msg, err, 1, true)
    end
    -- called as methods, so that the messages name them
    fails("bad argument #1 to 'merger' (option 'dtype': unknown dtype 'float16'; expected one of uint8",
          function() local m = g:merger{dtype="float16"}; return m end)
    fails("bad argument #2 to 'merge' (option 'dtype': unknown dtype 'f32'",
          function() local r = g:merge(s, {dtype="f32"}); return r end)
    fails("bad argument #1 to 'merge_memory' (option 'dtype': unknown dtype 'x'",
          function() local n = g:merge_memory{dtype="x"}; return n end)
    fails("bad argument #1 to 'merger' (option 'dtype' must be a string (got number))",
          function() local m = g:merger{dtype=4}; return m end)
  end)

  it("refuse a patch added twice, naming it", function()
    local g = vol.patch_grid{shape={8, 8, 8}, patch=4}
    local p = vol.new{shape={4, 4, 4}, fill=1}
    local m = g:merger()
    m:add(3, p)
    m:add(1, p)
    local ok, err = pcall(m.add, m, 3, p)
    assert.is_false(ok)
    assert.matches("patch 3 was already added", err, 1, true)
    assert.equal(2, m.added)
    local sm = g:merger{out=vol.new{shape={8, 8, 8}}}
    sm:add(1, p)
    local ok2, err2 = pcall(sm.add, sm, 1, p)
    assert.is_false(ok2)
    assert.matches("patch 1 was already added", err2, 1, true)
  end)
end)

describe("grid:save_patches", function()
  it("writes one .npy stack or one file per patch with its origin", function()
    local dir = data.tmpdir()
    local v = random_volume({9, 7, 5}, "int16", 16)
    v:set_origin{5, 6, 7}
    local g = vol.patch_grid{shape=v.shape, patch={5, 4, 3}, overlap=1}
    assert.equal(g:count(), g:save_patches(v, dir .. "/all.npy"))
    same(g:extract(v), vol.read(dir .. "/all.npy"))
    g:save_patches(v, dir .. "/p%02d.nii.gz")
    local p = vol.read(dir .. ("/p%02d.nii.gz"):format(g:count()))
    local b = g:box(g:count())
    local x, y, z = v:index_to_world(b.lo[1], b.lo[2], b.lo[3])
    assert.is_true(math.abs(p.origin[1] - x) + math.abs(p.origin[2] - y) + math.abs(p.origin[3] - z) < 1e-4)
    assert.equal(v:get(b.lo[1], b.lo[2], b.lo[3]), p:get(1, 1, 1))
  end)
end)

describe("vol.sample_patches", function()
  local img = random_volume({30, 25, 20}, "int16", 17)
  local lab = vol.new{shape={30, 25, 20}, dtype="uint8"}
  for k = 5, 7 do for j = 20, 22 do for i = 3, 4 do lab:set(i, j, k, 2) end end end
  lab:set(28, 2, 18, 5)

  it("is reproducible by seed and oversamples foreground", function()
    local a = vol.sample_patches{image=img, label=lab, patch={8, 8, 6}, n=9, seed=42}
    local b = vol.sample_patches{image=img, label=lab, patch={8, 8, 6}, n=9, seed=42}
    local c = vol.sample_patches{image=img, label=lab, patch={8, 8, 6}, n=9, seed=43}
    assert.same(a.boxes, b.boxes)
    assert.are_not.same(a.boxes, c.boxes)
    same(a.image, b.image)
    assert.same({8, 8, 6, 9}, a.image.shape)
    -- 9 - round(9 * 0.67) = 3 forced foreground samples, the last three
    assert.same({false, false, false, false, false, false, true, true, true}, a.foreground)
    for n = 7, 9 do
      local sub = 0
      for k = 1, 6 do for j = 1, 8 do for i = 1, 8 do
        if a.label:get(i, j, k, n) > 0 then sub = sub + 1 end
      end end end
      assert.is_true(sub > 0)
    end
    for n = 1, 9 do
      local box = a.boxes[n]
      assert.equal(img:get(box.lo[1], box.lo[2], box.lo[3]), a.image:get(1, 1, 1, n))
    end
  end)

  it("forces as many samples as nnU-Net, whose round() takes halves to even", function()
    -- n = 5, fraction 0.5: round(2.5) = 2 in Python, so 3 forced (not 2)
    local s = vol.sample_patches{image=img, label=lab, patch=4, n=5, seed=2, foreground_fraction=0.5}
    assert.same({false, false, true, true, true}, s.foreground)
    for _, c in ipairs{{1, 0.5}, {2, 0.25}, {3, 0.5}, {5, 0.5}, {6, 0.75}, {7, 0.5}, {9, 0.33},
                       {10, 0.05}, {10, 0.15}, {12, 0.875}, {4, 0.375}, {1, 0}, {3, 1}} do
      local want = ref.run("patch_ref.py", "oversample", c[1], c[2]).forced
      local got = vol.sample_patches{image=img, label=lab, patch=4, n=c[1], seed=3,
                                     foreground_fraction=c[2]}.foreground
      assert.same(want, got, ("n=%d fraction=%g"):format(c[1], c[2]))
    end
  end)

  it("picks only the classes asked for and pads patches larger than the image", function()
    local s = vol.sample_patches{image=img, label=lab, patch={8, 8, 6}, n=4, seed=1,
                                 foreground_fraction=1, classes={5}}
    -- the single voxel (28, 2, 18), boxes centred on it then clamped to the image
    for n = 1, 4 do assert.equal(5, s.label:get(6, 2, 4, n)) end
    local big = vol.sample_patches{image=img, patch={34, 25, 20}, n=2, seed=3, pad_value=-99}
    assert.same({-1, 1, 1}, big.boxes[1].lo)
    assert.equal(-99, big.image:get(1, 1, 1, 1))
    assert.is_nil(big.label)
  end)
end)

describe("vol.crop_merge_compare and the crop_merge scripts", function()
  it("count what the classic recipe loses and give the input back in cover and pad", function()
    local dir = data.tmpdir()
    local img = random_volume({150, 130}, "uint8", 18)
    local r = vol.crop_merge_compare(img, {patch=64, overlap=16, outdir=dir})
    local drop = vol.patch_grid{shape={150, 130}, patch=64, overlap=16, mode="drop"}
    assert.equal(drop:uncovered(), r.classic.lost)
    assert.equal(150 * 130 - 112 * 112, r.classic.lost)
    assert.same({0, 0, 0}, {r.classic.wrong, r.cover.wrong, r.pad.wrong})
    assert.equal(0, r.cover.lost)
    local pic = vol.read(r.files[1])
    assert.same({3 * 150 + 2 * 8, 130}, pic.shape)
  end)

  it("count merged voxels below the input as different (uint8 does not saturate the check)", function()
    local img = random_volume({70, 50}, "uint8", 27)
    img:set(1, 1, 200)
    local positive = img:gt(0)
    -- every patch lowered by 1: the merge is img - 1 (saturated at 0)
    local r = vol.crop_merge_compare(img, {patch=32, overlap=8, fn=function(p) return p - 1 end})
    local drop = vol.patch_grid{shape={70, 50}, patch=32, overlap=8, mode="drop"}
    assert.equal(positive:stats().sum, r.cover.wrong)
    assert.equal(positive:stats().sum, r.pad.wrong)
    assert.equal(positive:band(drop:coverage()):stats().sum, r.classic.wrong)
    assert.is_true(r.cover.wrong > 0)
    assert.truthy(table.concat(r.summary, "\n"):find("merged == input: NO, " .. r.cover.wrong .. " differ", 1, true))
    local ok, err = pcall(vol.crop_merge_compare, img, {fn=3})
    assert.is_false(ok)
    assert.matches("fn must be a function", err, 1, true)
  end)

  it("work on an RGB picture (channels on axis 4)", function()
    local rgb = vol.read(data.path("png/VisibleWomanHeadSlice.png"))   -- 142x167x1x3
    local r = vol.crop_merge_compare(rgb, {patch=64, overlap=16})
    assert.equal(142 * 167 - 112 * 160, r.classic.lost)
    assert.same({0, 0, 0}, {r.classic.wrong, r.cover.wrong, r.pad.wrong})
  end)

  it("run as scripts on a PNG and on a NIfTI volume", function()
    local dir = data.tmpdir()
    random_volume({70, 50}, "uint8", 19):write(dir .. "/in.png")
    local out = data.run_medula(nil, {data.root() .. "/scripts/crop_merge_2d.lua", dir .. "/in.png",
                                      "--out", dir .. "/o2", "--patch", "32", "--overlap", "8"})
    assert.truthy(out:find("classic recipe ('drop'): 2 patches, 1708 of 3500 pixels lost", 1, true), out)
    assert.truthy(out:find("merged == input: yes", 1, true), out)
    assert.same({3 * 70 + 2 * 8, 50}, vol.read(dir .. "/o2/in/crop_merge_2d_original_classic_full.png").shape)
    random_volume({40, 30, 20}, "int16", 20):write(dir .. "/in.nii.gz")
    out = data.run_medula(nil, {data.root() .. "/scripts/crop_merge_3d.lua", dir .. "/in.nii.gz",
                                "--out", dir .. "/o3", "--patch", "16", "--overlap", "4"})
    assert.truthy(out:find("voxels lost", 1, true), out)
    assert.same({40, 30, 20}, vol.read(dir .. "/o3/in/crop_merge_3d_lost.nii.gz").shape)
  end)
end)

describe("patch memory", function()
  it("returns to the same live bytes after merges, maps, a failing map and an abandoned merger", function()
    local v = random_volume({20, 18, 16}, "float32", 22)
    local g = vol.patch_grid{shape=v.shape, patch=8, overlap=3}
    local function run()
      g:merge(g:extract(v))
      g:map(v, function(p) return p end, {weight="gaussian"})
      pcall(g.map, g, v, function(p, n)
        if n == 3 then error("failing model") end
        return p
      end)
      g:merger():add(1, vol.new{shape={8, 8, 8}})
    end
    run()
    collectgarbage()
    collectgarbage()
    local base = vol.live_bytes()
    for _ = 1, 5 do run() end
    collectgarbage()
    collectgarbage()
    assert.equal(base, vol.live_bytes())
  end)
end)
