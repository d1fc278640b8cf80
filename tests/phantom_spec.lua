-- vol.phantom: the synthetic chest CT (values at known anatomy, determinism
-- across seeds and thread counts, argument errors) and the sphere/box shapes.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"

-- Default grid: 256x256x120 at 1.4x1.4x2.5 mm, voxel (129,129,61) at world 0;
-- index = 129 + x/1.4, 129 + y/1.4, 61 + z/2.5 (LPS mm).
local ct
local function chest()
  ct = ct or vol.phantom.chest()
  return ct
end

describe("vol.phantom.chest", function()
  it("has the default grid and LPS geometry centred on the middle voxel", function()
    local c = chest()
    assert.same({256, 256, 120}, c.shape)
    assert.equal("int16", c.dtype)
    assert.same({1.4, 1.4, 2.5}, c.spacing)
    assert.same({{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, c.direction)
    local o = c.origin
    assert.near(-179.2, o[1], 1e-9); assert.near(-179.2, o[2], 1e-9); assert.near(-150, o[3], 1e-9)
  end)

  it("has exact values at known points", function()
    local c = chest()
    local cases = {
      {-2000, 1, 1, 1, "corner, outside the scanner circle"},
      {-2000, 256, 256, 120, "opposite corner"},
      {-2000, 1, 256, 60, "lower corner (below the table)"},
      {-1000, 129, 22, 61, "air in front of the chest"},
      {-1000, 129, 243, 61, "air under the table"},
      {150, 1, 225, 61, "table base at the right image edge"},
      {150, 256, 225, 61, "table base at the left image edge"},
      {150, 129, 196, 61, "curved table top"},
      {-1000, 129, 208, 61, "air enclosed inside the table"},
      {-850, 59, 111, 69, "right lung"},
      {700, 129, 154, 67, "vertebral body"},
      {80, 129, 154, 61, "intervertebral disc"},
      {25, 71, 110, 79, "centre of nodule 1 (right upper lung)"},
      {25, 199, 150, 49, "centre of nodule 2 (left lower lung)"},
      {-1000, 129, 125, 93, "trachea"},
    }
    for _, t in ipairs(cases) do
      assert.equal(t[1], c:get(t[2], t[3], t[4]), t[5])
    end
  end)

  it("puts bounded noise on soft tissue, fat and heart only", function()
    local c = chest()
    local function within(lo, hi, i, j, k)
      local x = c:get(i, j, k)
      assert.is_true(x >= lo and x <= hi, ("%d at (%d,%d,%d) not in [%d,%d]"):format(x, i, j, k, lo, hi))
    end
    within(30, 50, 129, 129, 30)   -- abdomen below the lungs
    within(-110, -90, 129, 32, 61) -- subcutaneous fat, front
    within(35, 55, 140, 93, 45)    -- heart
  end)

  it("has two nodules of the documented size", function()
    local n = chest():eq(25):stats().sum
    local voxel = 1.4 * 1.4 * 2.5
    local expected = 4 / 3 * math.pi * (8 ^ 3 + 5 ^ 3) / voxel -- radii 8 and 5 mm
    assert.is_true(math.abs(n - expected) < 0.1 * expected, ("%d nodule voxels, expected ~%.0f"):format(n, expected))
  end)

  it("keeps the classes at other grid sizes (the anatomy scales to the field of view)", function()
    local c = vol.phantom.chest{shape={64, 48, 30}, spacing={3, 4, 5}}
    assert.same({64, 48, 30}, c.shape)
    for _, v in ipairs{-2000, -1000, -850, 150, 700} do
      assert.is_true(c:eq(v):stats().sum > 0, "no voxel of value " .. v)
    end
    assert.equal(-2000, c:get(1, 1, 1))
  end)

  it("depends on the seed only through the noise", function()
    local a = vol.phantom.chest{shape={64, 64, 24}, seed=1}
    local b = vol.phantom.chest{shape={64, 64, 24}, seed=2}
    local a2 = vol.phantom.chest{shape={64, 64, 24}, seed=1}
    assert.equal(0, (a - a2):abs():max())
    local d = (a - b):abs()
    assert.is_true(d:max() > 0 and d:max() <= 20)
    for _, v in ipairs{-2000, -1000, -850, 150, 700, 25} do
      assert.equal(a:eq(v):stats().sum, b:eq(v):stats().sum)
    end
  end)

  it("is identical with 1 and 2 threads", function()
    local dir = data.tmpdir()
    local files = {}
    for _, n in ipairs{1, 2} do
      files[n] = dir .. "/t" .. n .. ".nii"
      data.run_medula("OMP_NUM_THREADS=" .. n,
        {"-e", ("vol.phantom.chest{shape={160, 128, 40}, seed=9}:write(%q)"):format(files[n])})
    end
    local function slurp(p) local f = assert(io.open(p, "rb")); local s = f:read("a"); f:close(); return s end
    local s1, s2 = slurp(files[1]), slurp(files[2])
    assert.equal(352 + 160 * 128 * 40 * 2, #s1)
    assert.is_true(s1 == s2, "1-thread and 2-thread phantoms differ")
  end)

  it("rejects bad arguments", function()
    assert.error_matches(function() vol.phantom.chest{shape={0, 2, 2}} end, "shape%[1%] must be a positive integer")
    assert.error_matches(function() vol.phantom.chest{shape={8, 8}} end, "shape must have 3 sizes %(got 2%)")
    assert.error_matches(function() vol.phantom.chest{spacing={1, -1, 1}} end, "spacing must be > 0")
    assert.error_matches(function() vol.phantom.chest{spacing={1, 1}} end, "spacing must have 3 numbers")
    assert.error_matches(function() vol.phantom.chest{sead=3} end, "unknown option 'sead' %(valid: shape, spacing, seed, table, joined_lungs, open_dome, truth%)")
    assert.error_matches(function() vol.phantom.chest{seed=1.5} end, "'seed' must be an integer")
    assert.error_matches(function() vol.phantom.chest(5) end, "table expected")
  end)
end)

describe("vol.phantom.sphere", function()
  it("marks the voxels within radius_mm of the centre", function()
    local s = vol.phantom.sphere{shape={21, 21, 21}, radius_mm=5}
    assert.equal("uint8", s.dtype)
    assert.equal(515, s:stats().sum) -- lattice points with i^2 + j^2 + k^2 <= 25
    assert.equal(1, s:get(11, 11, 11)); assert.equal(1, s:get(16, 11, 11)); assert.equal(0, s:get(17, 11, 11))
  end)

  it("measures distances through the spacing, in 2-D too", function()
    local s = vol.phantom.sphere{shape={21, 21, 21}, spacing={2, 1, 1}, center={11, 11, 11}, radius_mm=5}
    assert.equal(1, s:get(13, 11, 11)); assert.equal(0, s:get(14, 11, 11))
    assert.equal(13, vol.phantom.sphere{shape={9, 9}, radius_mm=2}:stats().sum)
  end)

  it("takes dtype, value and background", function()
    local s = vol.phantom.sphere{shape={5, 5, 5}, radius_mm=1, dtype="int16", value=-5, background=7}
    assert.equal("int16", s.dtype)
    assert.equal(-5, s:get(3, 3, 3)); assert.equal(7, s:get(1, 1, 1))
  end)

  it("rejects bad arguments", function()
    assert.error_matches(function() vol.phantom.sphere{radius_mm=2} end, "'shape'")
    assert.error_matches(function() vol.phantom.sphere{shape={4, 4, 4}} end, "'radius_mm' is required")
    assert.error_matches(function() vol.phantom.sphere{shape={4, 4, 4}, radius_mm=-1} end, "radius must be >= 0")
    assert.error_matches(function() vol.phantom.sphere{shape={4, 4, 4}, radius=1} end, "unknown option 'radius'")
  end)
end)

describe("vol.phantom.box", function()
  it("fills lo..hi inclusive", function()
    local b = vol.phantom.box{shape={10, 10, 10}, lo={3, 3, 3}, hi={5, 6, 7}}
    assert.equal(60, b:stats().sum)
    assert.equal(1, b:get(3, 3, 3)); assert.equal(1, b:get(5, 6, 7))
    assert.equal(0, b:get(2, 3, 3)); assert.equal(0, b:get(6, 6, 7))
  end)

  it("clips to the volume and defaults to all of it", function()
    assert.equal(16, vol.phantom.box{shape={4, 4}, lo={-5, -5}, hi={50, 50}}:stats().sum)
    assert.equal(27, vol.phantom.box{shape={3, 3, 3}, dtype="float32"}:stats().sum)
  end)

  it("rejects bad arguments", function()
    assert.error_matches(function() vol.phantom.box{shape={4, 4, 4}, lo={1, 1}} end, "lo must have 3 numbers")
    assert.error_matches(function() vol.phantom.box{shape={4, 4, 4, 4}} end, "shape must have 2 to 3 sizes")
  end)
end)

describe("vol.phantom.chest variants", function()
  it("draws the table across, inside or not at all, and returns the lung truth", function()
    local base = {shape = {96, 96, 40}, spacing = {3, 3, 6}}
    local function with(k, v) local t = {} for a, b in pairs(base) do t[a] = b end t[k] = v return t end
    local sides = vol.phantom.chest(with("table", "sides"))
    assert.equal(0, (sides - vol.phantom.chest(base)):abs():stats().max) -- the default
    local none = vol.phantom.chest(with("table", "none"))
    local narrow = vol.phantom.chest(with("table", "narrow"))
    assert.equal(0, none:eq(150):stats().sum)
    -- the base crosses the first column only when it reaches the sides
    assert.is_true(sides:crop{hi = {1, 96, 40}}:eq(150):stats().sum > 0)
    assert.equal(0, narrow:crop{hi = {1, 96, 40}}:eq(150):stats().sum)
    local o = with("truth", true)
    local ct, truth = vol.phantom.chest(o)
    assert.equal("uint8", truth.dtype)
    assert.same(ct.origin, truth.origin)
    -- the truth is lung tissue with its vessels and nodules, nothing else
    local classes = ct:eq(-850):bor(ct:eq(60)):bor(ct:eq(25))
    assert.equal(0, truth:band(classes:bnot()):stats().sum)
    local _, n_apart = truth:label()
    assert.equal(2, n_apart)
    o.joined_lungs = true
    local _, joined = vol.phantom.chest(o)
    local _, n_joined = joined:label()
    assert.equal(1, n_joined)
    assert.has_error(function() vol.phantom.chest(with("table", "wide")) end)
  end)
end)
