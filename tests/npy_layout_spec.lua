-- Batches for deep-learning frameworks: vol.save_npy_stack's layouts
-- (NDHWC for Keras, NCDHW for PyTorch, and the 2-D NHWC / NCHW) read back by
-- numpy, and v:reshape (a new shape over the same voxel order, e.g. a
-- length-1 channel axis) checked against numpy's reshape.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"
local json = require "dkjson"

-- A volume whose voxel at (i, j, k, c) holds a value unique to (seed, i, j, k, c).
local function numbered(shape, seed)
  local v = vol.new{shape = shape, dtype = "int32"}
  local nx, ny, nz, nc = shape[1], shape[2], shape[3] or 1, shape[4] or 1
  for c = 1, nc do for k = 1, nz do for j = 1, ny do for i = 1, nx do
    local x = seed * 10000 + c * 1000 + k * 100 + j * 10 + i
    if #shape == 2 then v:set(i, j, x) elseif #shape == 3 then v:set(i, j, k, x) else v:set(i, j, k, c, x) end
  end end end end
  return v
end

local function get(v, i, j, k, c)
  if v.ndim == 2 then return v:get(i, j) elseif v.ndim == 3 then return v:get(i, j, k) end
  return v:get(i, j, k, c)
end

-- numpy's shape and the values at the given numpy indices (0-based).
local function numpy_values(path, idx)
  return ref.run("npy_ref.py", "stats", path, json.encode(idx))
end

local function listdir(dir)
  local p = io.popen("ls -A " .. data.shell_quote(dir))
  local out = {}
  for name in p:lines() do out[#out + 1] = name end
  p:close()
  return out
end

describe("vol.save_npy_stack layouts", function()
  it("names a list item that is not a Volume as a bad argument", function()
    local v = vol.new{shape={2, 2, 2}}
    assert.error_matches(function() vol.save_npy_stack(os.tmpname() .. ".npy", {v, 3}) end,
      "bad argument #2 to 'save_npy_stack' (item 2 is not a Volume (got number))", 1, true)
  end)

  local dir
  before_each(function() dir = data.tmpdir() end)

  -- every voxel of every volume: the numpy index under the layout and the expected value
  local function check(layout, vols, expect_shape, index_of)
    local path = dir .. "/" .. layout .. ".npy"
    vol.save_npy_stack(path, vols, {layout = layout})
    local idx, want = {}, {}
    for n, v in ipairs(vols) do
      local s = v.shape
      for c = 1, s[4] or 1 do for k = 1, s[3] or 1 do for j = 1, s[2] do for i = 1, s[1] do
        idx[#idx + 1] = index_of(n - 1, i - 1, j - 1, k - 1, c - 1)
        want[#want + 1] = get(v, i, j, k, c)
      end end end end
    end
    local r = numpy_values(path, idx)
    assert.same(expect_shape, r.shape)
    assert.equal("int32", r.dtype)
    for m = 1, #want do assert.equal(want[m], r.values[m], "voxel " .. m) end
    assert.is_true(ref.run("npy_ref.py", "dump", path).same_as_np_save)
  end

  it("NDHWC: (N, z, y, x, 1) for 3-D volumes, the channel last", function()
    local vols = {numbered({5, 4, 3}, 1), numbered({5, 4, 3}, 2)}
    check("NDHWC", vols, {2, 3, 4, 5, 1}, function(n, i, j, k) return {n, k, j, i, 0} end)
  end)

  it("NCDHW: (N, 1, z, y, x) for 3-D volumes", function()
    local vols = {numbered({5, 4, 3}, 1), numbered({5, 4, 3}, 2), numbered({5, 4, 3}, 3)}
    check("NCDHW", vols, {3, 1, 3, 4, 5}, function(n, i, j, k) return {n, 0, k, j, i} end)
  end)

  it("takes a volume's 4th axis as its channels, interleaved for NDHWC", function()
    local vols = {numbered({3, 2, 2, 3}, 1), numbered({3, 2, 2, 3}, 2)}
    check("NDHWC", vols, {2, 2, 2, 3, 3}, function(n, i, j, k, c) return {n, k, j, i, c} end)
    check("NCDHW", vols, {2, 3, 2, 2, 3}, function(n, i, j, k, c) return {n, c, k, j, i} end)
  end)

  it("NHWC and NCHW for 2-D images, also (x, y, 1, C) ones", function()
    local vols = {numbered({4, 3}, 1), numbered({4, 3}, 2)}
    check("NHWC", vols, {2, 3, 4, 1}, function(n, i, j) return {n, j, i, 0} end)
    check("NCHW", vols, {2, 1, 3, 4}, function(n, i, j) return {n, 0, j, i} end)
    local rgb = {numbered({4, 3, 1, 3}, 1)}
    check("NHWC", rgb, {1, 3, 4, 3}, function(n, i, j, _, c) return {n, j, i, c} end)
  end)

  it("gives the NFBS recipe's (N, 96, 128, 160, 1)", function()
    local v = vol.new{shape = {160, 128, 96}, dtype = "uint8"}
    local path = dir .. "/nfbs.npy"
    vol.save_npy_stack(path, {v, v}, {layout = "NDHWC"})
    assert.same({2, 96, 128, 160, 1}, numpy_values(path, {}).shape)
  end)

  it("rejects an unknown layout and the wrong rank, writing nothing", function()
    local v3, v2 = numbered({4, 3, 2}, 1), numbered({4, 3}, 1)
    local path = dir .. "/bad.npy"
    local ok, err = pcall(function() vol.save_npy_stack(path, {v3}, {layout = "NHWDC"}) end)
    assert.falsy(ok)
    assert.truthy(err:find("option 'layout': unknown layout 'NHWDC'; expected one of NDHWC, NCDHW, NHWC, NCHW", 1, true), err)
    ok, err = pcall(function() vol.save_npy_stack(path, {v2}, {layout = "NDHWC"}) end)
    assert.truthy(err:find("volume 1 is 4x3: a 3-D layout needs", 1, true), err)
    ok, err = pcall(function() vol.save_npy_stack(path, {v2, v3}, {layout = "NHWC"}) end)
    assert.truthy(err:find("volume 2 is 4x3x2: a 2-D layout needs", 1, true), err)
    ok, err = pcall(function() vol.save_npy_stack(path, {v3, numbered({4, 3, 3}, 1)}, {layout = "NCDHW"}) end)
    assert.truthy(err:find("volume 2 has shape 4x3x3 int32, volume 1 has 4x3x2 int32", 1, true), err)
    ok, err = pcall(function() vol.save_npy_stack(path, {v3}, {layuot = "NDHWC"}) end)
    assert.truthy(err:find("unknown option 'layuot'", 1, true), err)
    assert.same({}, listdir(dir))
  end)
end)

describe("v:reshape", function()
  it("keeps the voxels in memory order with the new shape", function()
    local v = numbered({4, 3, 2}, 1)
    local r = v:reshape{4, 3, 2, 1}
    assert.same({4, 3, 2, 1}, r.shape)
    for k = 1, 2 do for j = 1, 3 do for i = 1, 4 do
      assert.equal(v:get(i, j, k), r:get(i, j, k, 1))
    end end end
    local flat = v:reshape{-1, 2}
    assert.same({12, 2}, flat.shape)
    assert.equal(v:get(2, 3, 2), flat:get(2 + 4 * 2, 2))
    local up = numbered({4, 3}, 1):reshape{4, 3, 1}
    assert.same({4, 3, 1}, up.shape)
    assert.equal(3, up.ndim)
  end)

  it("equals numpy's reshape of the reversed axes", function()
    local dir = data.tmpdir()
    local v = numbered({4, 3, 2}, 1)
    local r = v:reshape{6, 4}
    r:write(dir .. "/r.npy")
    -- numpy: np.load(v).reshape(4, 6); r is (6, 4) in x-fastest order, numpy shape (4, 6)
    local got = ref.run("npy_ref.py", "dump", dir .. "/r.npy")
    assert.same({4, 6}, got.shape)
    local n = 0
    for k = 1, 2 do for j = 1, 3 do for i = 1, 4 do
      n = n + 1
      assert.equal(v:get(i, j, k), got.values[n])
    end end end
  end)

  it("keeps the geometry and metadata", function()
    local v = vol.new{shape = {4, 4, 2}, spacing = {0.5, 0.7, 3}, origin = {1, 2, 3}}
    v:set_meta("modality", "CT")
    local r = v:reshape{4, 4, 2, 1}
    assert.same(v.spacing, r.spacing)
    assert.same(v.origin, r.origin)
    assert.equal("CT", r.meta.modality)
  end)

  it("rejects shapes that do not hold the same voxels", function()
    local v = vol.new{shape = {4, 3, 2}}
    assert.error_matches(function() return v:reshape{5, 5} end, "cannot reshape 4x3x2 %(24 voxels%) to 25 voxels")
    assert.error_matches(function() return v:reshape{-1, -1} end, "size 2 must be a positive integer %(or one %-1%)")
    assert.error_matches(function() return v:reshape{24} end, "the shape must have 2 to 4 sizes %(got 1%)")
    assert.error_matches(function() return v:reshape{-1, 5} end, "cannot reshape 4x3x2")
  end)
end)
