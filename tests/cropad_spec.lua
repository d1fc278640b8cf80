-- Geometry that moves voxels without resampling: crop, pad, centre
-- crop-or-pad, crop to non-zero, slices and stacks, flips, permutations,
-- reorientation. Exact values on small hand-made volumes, numpy.pad and
-- nibabel.as_closest_canonical as references (tests/ref/resample_ref.py),
-- and the invariant of the area: every voxel keeps its world position,
-- oblique direction cosines included.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"
local json = require "dkjson"

-- Voxel (i, j, k) holds i + 100 j + 10000 k (distinct, easy to read back).
local function coded(shape, dtype, geom)
  geom = geom or {}
  local v = vol.new{shape=shape, dtype=dtype or "int32", spacing=geom.spacing, origin=geom.origin,
                    direction=geom.direction}
  for k = 1, shape[3] or 1 do
    for j = 1, shape[2] do
      for i = 1, shape[1] do
        if #shape == 3 then v:set(i, j, k, i + 100 * j + 10000 * k) else v:set(i, j, i + 100 * j) end
      end
    end
  end
  return v
end

local rotation = data.rotation

local OBLIQUE = {spacing={0.8, 1.1, 2.5}, origin={-12.5, 30.25, 7},
                 direction=rotation({0.48, 0.6, 0.64}, 0.7)}

-- Every voxel of out sits, in world mm, on the input voxel holding the
-- same value: index_to_world of out, then world_to_index of v.
local function assert_world_kept(v, out)
  local s = out.shape
  local n = 0
  for k = 1, s[3] or 1 do
    for j = 1, s[2] do
      for i = 1, s[1] do
        local x, y, z = out:index_to_world(i, j, k)
        local a, b, c = v:world_to_index(x, y, z)
        local ia, ib, ic = math.floor(a + 0.5), math.floor(b + 0.5), math.floor(c + 0.5)
        assert.near(ia, a, 1e-9)
        assert.near(ib, b, 1e-9)
        assert.near(ic, c, 1e-9)
        if ia >= 1 and ib >= 1 and ic >= 1 and ia <= v.shape[1] and ib <= v.shape[2]
          and ic <= (v.shape[3] or 1) then
          local got = #s == 3 and out:get(i, j, k) or out:get(i, j)
          local want = v.ndim == 3 and v:get(ia, ib, ic) or v:get(ia, ib)
          assert.equal(want, got)
          n = n + 1
        end
      end
    end
  end
  return n
end

describe("v:crop", function()
  it("copies the box and moves the origin to voxel lo", function()
    local v = coded({6, 5, 4}, "int32", OBLIQUE)
    local c = v:crop{lo={2, 3, 2}, hi={5, 5, 3}}
    assert.same({4, 3, 2}, c.shape)
    assert.equal(v:get(2, 3, 2), c:get(1, 1, 1))
    assert.equal(v:get(5, 5, 3), c:get(4, 3, 2))
    local x, y, z = v:index_to_world(2, 3, 2)
    assert.near(x, c.origin[1], 1e-12)
    assert.near(y, c.origin[2], 1e-12)
    assert.near(z, c.origin[3], 1e-12)
    assert.equal(4 * 3 * 2, assert_world_kept(v, c))
  end)

  it("defaults to the whole axis and crops 2-D volumes", function()
    local v = coded({6, 5})
    local c = v:crop{lo={3, 2}}
    assert.same({4, 4}, c.shape)
    assert.equal(v:get(3, 2), c:get(1, 1))
  end)

  it("rejects boxes outside the volume", function()
    local v = coded({6, 5, 4})
    assert.has_error(function() v:crop{lo={0, 1, 1}} end)
    local ok, err = pcall(v.crop, v, {lo={1, 1, 3}, hi={6, 5, 2}})
    assert.is_false(ok)
    assert.matches("on axis 3 must lie within 1..4", err)
    ok, err = pcall(v.crop, v, {lo={1, 1, 1}, size=3})
    assert.matches("unknown option 'size'", err)
    ok, err = pcall(v.crop, v, {lo={1, 1}})
    assert.matches("lo must have 3 integers", err)
    assert.error_matches(function() v:crop{lo={1, 1}} end,
      "bad argument #1 to 'crop' (lo must have 3 integers (got 2))", 1, true)
    assert.error_matches(function() v:pad{width={1, 1.5, 1}} end,
      "bad argument #1 to 'pad' (width[2] must be an integer (got 1.5))", 1, true)
    assert.error_matches(function() v:permute{1, 2} end,
      "bad argument #1 to 'permute' (order must have 3 integers (got 2))", 1, true)
  end)
end)

describe("v:pad", function()
  local dir, results
  local modes = {"constant", "edge", "reflect", "symmetric", "wrap"}
  -- numpy 1.24's wrap repeats an edge sample when a width exceeds the axis
  -- (np.pad(np.arange(4), (1, 9), "wrap")); medula stays periodic, so wrap
  -- is compared with widths up to the axis length
  local big, small = {{7, 1, 0}, {2, 9, 4}}, {{3, 1, 0}, {5, 4, 3}}
  local widths = {constant=big, edge=big, reflect=big, symmetric=big, wrap=small}
  setup(function()
    dir = data.tmpdir()
    coded({5, 4, 3}, "int16"):write(dir .. "/in.npy")
    local jobs = {}
    for _, m in ipairs(modes) do
      jobs[#jobs + 1] = {op="pad", ["in"]=dir .. "/in.npy", out=dir .. "/pad_" .. m .. ".npy",
                         before=widths[m][1], after=widths[m][2], mode=m, value=-7}
    end
    local f = assert(io.open(dir .. "/jobs.json", "w"))
    f:write(json.encode(jobs))
    f:close()
    results = ref.run("resample_ref.py", dir .. "/jobs.json").results
  end)

  for _, m in ipairs(modes) do
    it("matches numpy.pad mode " .. m, function()
      local v = vol.read(dir .. "/in.npy")
      local p = v:pad{before=widths[m][1], after=widths[m][2], mode=m, value=-7}
      local want = vol.read(dir .. "/pad_" .. m .. ".npy")
      assert.same(want.shape, p.shape)
      assert.equal(0, (p - want):abs():max())
      assert.equal(5 * 4 * 3, assert_world_kept(v, p))
    end)
  end

  it("takes width for both sides and moves the origin back", function()
    local v = coded({4, 4, 4}, "int16", OBLIQUE)
    local p = v:pad{width=2, value=1}
    assert.same({8, 8, 8}, p.shape)
    local x, y, z = v:index_to_world(-1, -1, -1)
    assert.near(x, p.origin[1], 1e-12)
    assert.near(y, p.origin[2], 1e-12)
    assert.near(z, p.origin[3], 1e-12)
    assert.equal(1, p:get(1, 1, 1))
    assert.equal(v:get(1, 1, 1), p:get(3, 3, 3))
    assert.equal(64, assert_world_kept(v, p))
  end)

  it("saturates the value to the dtype and rejects bad modes and widths", function()
    local v = coded({3, 3, 3}, "uint8")
    assert.equal(255, v:pad{width=1, value=1000}:get(1, 1, 1))
    local ok, err = pcall(v.pad, v, {width=1, mode="mirror"})
    assert.matches("mode must be constant, edge, reflect, symmetric or wrap", err)
    ok, err = pcall(v.pad, v, {before={-1, 0, 0}})
    assert.matches("pad widths must be >= 0", err)
    -- a whole-valued float is a width, as in the table form; a fraction is not
    assert.same({7, 7, 7}, v:pad{width=4 / 2}.shape)
    assert.same(v:pad{width=2}.shape, v:pad{width={2.0, 2, 2}}.shape)
    ok, err = pcall(v.pad, v, {width=2.5})
    assert.matches("bad argument #%d to '.-' %(width must be an integer %(got 2.5%)%)", err)
    ok, err = pcall(v.pad, v, {width=-1})
    assert.matches("pad widths must be >= 0 %(got %-1 and %-1 on axis 1%)", err)
  end)
end)

describe("v:center_crop_or_pad", function()
  it("crops larger axes and pads smaller ones about the centre", function()
    local v = coded({7, 4, 5})
    local c = v:center_crop_or_pad({4, 7, 5}, {value=-1})
    assert.same({4, 7, 5}, c.shape)
    -- x: 7 -> 4 starts at 1 + floor(3 / 2) = 2; y: 4 -> 7 pads 1 before, 2 after
    assert.equal(v:get(2, 1, 1), c:get(1, 2, 1))
    assert.equal(-1, c:get(1, 1, 1))
    assert.equal(v:get(5, 4, 5), c:get(4, 5, 5))
    assert.equal(-1, c:get(4, 6, 5))
    assert_world_kept(v, c)
  end)
end)

describe("v:nonzero_box and v:crop_to_nonzero", function()
  it("finds the box of non-zero voxels and crops with a margin", function()
    local m = vol.new{shape={10, 9, 8}, dtype="uint8"}
    m:set(3, 4, 5, 1)
    m:set(6, 7, 5, 1)
    m:set(4, 5, 2, 1)
    local lo, hi = m:nonzero_box()
    assert.same({3, 4, 2}, lo)
    assert.same({6, 7, 5}, hi)
    local v = coded({10, 9, 8}, "int16", OBLIQUE)
    local c, box = v:crop_to_nonzero{mask=m, margin={1, 0, 5}}
    assert.same({lo={2, 4, 1}, hi={7, 7, 8}}, box)
    assert.same({6, 4, 8}, c.shape)
    assert.equal(v:get(2, 4, 1), c:get(1, 1, 1))
    assert_world_kept(v, c)
    -- the same box crops a companion volume
    assert.same(c.shape, v:crop(box).shape)
  end)

  it("keeps everything when nothing is non-zero", function()
    local v = vol.new{shape={4, 3, 2}}
    assert.is_nil(v:nonzero_box())
    local c, box = v:crop_to_nonzero()
    assert.same({4, 3, 2}, c.shape)
    assert.same({lo={1, 1, 1}, hi={4, 3, 2}}, box)
  end)

  it("checks the mask", function()
    local v = vol.new{shape={4, 3, 2}}
    local ok, err = pcall(v.crop_to_nonzero, v, {mask=vol.new{shape={4, 3, 3}}})
    assert.matches("mask shape differs on axis 3", err)
    ok, err = pcall(v.crop_to_nonzero, v, {pad=1})
    assert.matches("unknown option 'pad'", err)
  end)

  it("rejects negative and fractional margins", function()
    local v = vol.new{shape={4, 3, 2}}
    v:set(2, 2, 1, 1)
    local ok, err = pcall(v.crop_to_nonzero, v, {margin=-1})
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'crop_to_nonzero' %(margin must be a whole number >= 0, got %-1 on axis 1%)", err)
    ok, err = pcall(v.crop_to_nonzero, v, {margin={1, 0.5, 0}})
    assert.matches("margin must be a whole number >= 0, got 0.5 on axis 2", err)
    ok, err = pcall(v.crop_to_nonzero, v, {margin=0 / 0})
    assert.matches("margin must be a whole number >= 0", err)
    -- 1.0 is a whole number
    assert.same({lo={1, 1, 1}, hi={3, 3, 2}}, select(2, v:crop_to_nonzero{margin=1.0}))
  end)
end)

describe("v:slice, vol.stack and v:unstack", function()
  it("slices each axis with its world position", function()
    local v = coded({5, 4, 3}, "int32", OBLIQUE)
    for axis = 1, 3 do
      local s = v:slice(axis, 2)
      assert.equal(2, s.ndim)
      -- the 2-D slice's voxel (a, b) is where the 3-D one was
      local ijk = {1, 1, 1}
      ijk[axis] = 2
      local x, y, z = v:index_to_world(ijk[1], ijk[2], ijk[3])
      assert.near(x, s.origin[1], 1e-12)
      assert.near(y, s.origin[2], 1e-12)
      assert.near(z, s.origin[3], 1e-12)
      local others = {}
      for a = 1, 3 do if a ~= axis then others[#others + 1] = a end end
      local idx = {1, 1, 1}
      idx[axis] = 2
      idx[others[1]], idx[others[2]] = s.shape[1], s.shape[2]
      assert.equal(v:get(idx[1], idx[2], idx[3]), s:get(s.shape[1], s.shape[2]))
    end
  end)

  it("stacks slices back onto the volume's grid", function()
    local v = coded({5, 4, 3}, "int32", OBLIQUE)
    local back = vol.stack(v:unstack())
    assert.same(v.shape, back.shape)
    assert.equal(0, (back - v):abs():max())
    for a = 1, 3 do
      assert.near(v.origin[a], back.origin[a], 1e-12)
      assert.near(v.spacing[a], back.spacing[a], 1e-12)
      for b = 1, 3 do assert.near(v.direction[a][b], back.direction[a][b], 1e-12) end
    end
    assert.equal(40, assert_world_kept(v, vol.stack{v:slice(3, 2), v:slice(3, 3)}))
  end)

  it("stacks 3-D volumes into frames and takes frames apart", function()
    local a, b = coded({3, 2, 2}), coded({3, 2, 2}) * 2
    local f = vol.stack{a, b}
    assert.same({3, 2, 2, 2}, f.shape)
    assert.equal(b:get(3, 2, 2), f:get(3, 2, 2, 2))
    local parts = f:unstack()
    assert.equal(2, #parts)
    assert.equal(0, (parts[2] - b):abs():max())
    assert.equal(0, (f:slice(4, 1) - a):abs():max())
  end)

  it("rejects mixed lists and bad indices", function()
    local v = coded({5, 4, 3})
    local ok, err = pcall(vol.stack, {v, v:crop{hi={4, 4, 3}}})
    assert.matches("volume 2 differs from volume 1", err)
    ok, err = pcall(vol.stack, {v, 3})
    assert.matches("item 2 is not a Volume", err)
    ok, err = pcall(v.slice, v, 3, 4)
    assert.matches("index 4 out of range 1..3 on axis 3", err)
    ok, err = pcall(v.slice, v, 4, 1)
    assert.matches("axis must be 1..3", err)
  end)
end)

describe("v:flip and v:permute", function()
  it("flips values and geometry together", function()
    local v = coded({5, 4, 3}, "int32", OBLIQUE)
    for axis = 1, 3 do
      local f = v:flip(axis)
      local idx = {1, 1, 1}
      idx[axis] = v.shape[axis]
      assert.equal(v:get(idx[1], idx[2], idx[3]), f:get(1, 1, 1))
      assert.equal(60, assert_world_kept(v, f))
    end
    local all = v:flip{1, 2, 3}
    assert.equal(v:get(5, 4, 3), all:get(1, 1, 1))
    assert.equal(60, assert_world_kept(v, all))
    assert.equal(0, (all:flip{3, 2, 1} - v):abs():max())
  end)

  it("permutes axes with their spacing and direction", function()
    local v = coded({5, 4, 3}, "int32", OBLIQUE)
    for _, order in ipairs{{1, 3, 2}, {2, 1, 3}, {3, 1, 2}, {2, 3, 1}, {3, 2, 1}} do
      local p = v:permute(order)
      for k = 1, 3 do
        assert.equal(v.shape[order[k]], p.shape[k])
        assert.equal(v.spacing[order[k]], p.spacing[k])
      end
      assert.equal(60, assert_world_kept(v, p))
    end
    local ok, err = pcall(v.permute, v, {1, 1, 2})
    assert.matches("axis order must be a permutation of 1..3", err)
  end)

  it("permutes the spatial axes of 4-D volumes and both axes of 2-D ones", function()
    local f = vol.stack{coded({3, 2, 4}), coded({3, 2, 4})}
    local p = f:permute{3, 1, 2}
    assert.same({4, 3, 2, 2}, p.shape)
    assert.equal(f:get(3, 2, 4, 2), p:get(4, 3, 2, 2))
    local s = coded({5, 4})
    assert.equal(s:get(5, 1), s:permute{2, 1}:get(1, 5))
  end)
end)

describe("v:reorient", function()
  it("reaches every orientation code and keeps world positions", function()
    local v = coded({5, 4, 3}, "int32", OBLIQUE)
    for _, code in ipairs{"RAS", "LPS", "LAS", "PLI", "SAR", "IRP"} do
      local r = v:reorient(code)
      assert.equal(code, r:orientation())
      assert.equal(60, assert_world_kept(v, r))
    end
    local ok, err = pcall(v.reorient, v, "RAR")
    assert.matches("orientation code must be 3 letters, one of L/R, P/A and S/I each", err)
  end)

  it("matches nibabel's as_closest_canonical on real files", function()
    local dir = data.tmpdir()
    local files = {"nifti/KmeansTest_T1UCharRaw.nii.gz", "nifti/aniso_vox.nii.gz", "nifti/small_64D.nii"}
    local jobs = {}
    for n, rel in ipairs(files) do
      jobs[n] = {op="canonical", ["in"]=data.path(rel), out=("%s/c%d.npy"):format(dir, n)}
    end
    local f = assert(io.open(dir .. "/jobs.json", "w"))
    f:write(json.encode(jobs))
    f:close()
    local res = ref.run("resample_ref.py", dir .. "/jobs.json").results
    for n, rel in ipairs(files) do
      local v = vol.read(data.path(rel))
      local r = v:reorient("RAS")
      assert.equal(res[n].axcodes, r:orientation())
      local want = vol.read(("%s/c%d.npy"):format(dir, n))
      -- nibabel's arrays are (x, y, z[, t]); the reference saved them transposed
      for a = 1, r.ndim do assert.equal(res[n].shape[a], r.shape[a]) end
      assert.equal(0, (r - want):abs():max())
      local A = r:affine{ras=true}
      for i = 1, 3 do
        for j = 1, 4 do assert.near(res[n].affine[i][j], A[i][j], 1e-4) end
      end
    end
  end)
end)
