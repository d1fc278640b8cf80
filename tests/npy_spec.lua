-- NumPy .npy: round trips of every dtype, the axis convention
-- (arr[k-1, j-1, i-1] == v:get(i, j, k)), real files against expected.json
-- and numpy (tests/ref/npy_ref.py), files numpy writes (C and Fortran order,
-- big-endian, versions 2.0 and 3.0) read by medula, files medula writes read
-- by numpy, stacks, damaged files and failed writes.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"
local json = require "dkjson"

local q = data.shell_quote

local files = require "helpers.files"
local listdir, slurp, spit, at = files.listdir, files.slurp, files.spit, files.at

local function set(v, i, j, k, t, x)
  if v.ndim == 2 then v:set(i, j, x) elseif v.ndim == 3 then v:set(i, j, k, x)
  else v:set(i, j, k, t, x) end
end

-- Calls f(n, i, j, k, t) for every voxel, x fastest (n = 0-based linear
-- index, which is also the C-order index of the numpy array).
local function each(v, f)
  local s = v.shape
  local n = 0
  for t = 1, s[4] or 1 do
    for k = 1, s[3] or 1 do
      for j = 1, s[2] do
        for i = 1, s[1] do f(n, i, j, k, t); n = n + 1 end
      end
    end
  end
end

local function reversed(t)
  local r = {}
  for i = #t, 1, -1 do r[#r + 1] = t[i] end
  return r
end

local function near(want, got, tol, what)
  assert(math.abs(want - got) <= tol * math.max(1, math.abs(want)),
         string.format("%s: expected %.17g, got %.17g", what or "value", want, got))
end

local DTYPES = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"}
local RANGE = {uint8 = {0, 255}, int8 = {-128, 127}, uint16 = {0, 65535},
               int16 = {-32768, 32767}, uint32 = {0, 4294967295},
               int32 = {-2147483648, 2147483647}, float32 = {-3e38, 3e38},
               float64 = {-1.5e308, 1.5e308}}

local function sample(shape, dtype, seed)
  local v = vol.new{shape = shape, dtype = dtype}
  local lo, hi = RANGE[dtype][1], RANGE[dtype][2]
  local float = dtype:sub(1, 5) == "float"
  seed = seed or 0
  each(v, function(n, i, j, k, t)
    local x
    if n == 0 then x = lo elseif n == 1 then x = hi
    elseif float then x = (n - 20 + seed) * 0.37
    else x = lo + ((n + seed) * 7919) % (hi - lo) end
    set(v, i, j, k, t, x)
  end)
  return v
end

local function assert_same_voxels(a, b)
  assert.same(a.shape, b.shape)
  assert.equal(a.dtype, b.dtype)
  each(a, function(n, i, j, k, t)
    local x, y = at(a, i, j, k, t), at(b, i, j, k, t)
    if x ~= y then error(string.format("voxel %d: %s vs %s", n, x, y)) end
  end)
end

-- A .npy file from a header dict text and payload, version major.0.
local function npy_bytes(dict, payload, major)
  local h = dict .. "\n"
  if (major or 1) == 1 then return "\x93NUMPY\1\0" .. string.pack("<I2", #h) .. h .. payload end
  return "\x93NUMPY" .. string.char(major, 0) .. string.pack("<I4", #h) .. h .. payload
end

describe("v:write and vol.read (.npy round trips)", function()
  local dir
  setup(function() dir = data.tmpdir() end)

  for _, dtype in ipairs(DTYPES) do
    for _, shape in ipairs{{7, 5}, {6, 5, 4}, {4, 3, 2, 3}} do
      it(string.format("keeps %s %dD voxels", dtype, #shape), function()
        local v = sample(shape, dtype)
        local path = string.format("%s/%s_%d.npy", dir, dtype, #shape)
        v:write(path)
        local w = vol.read(path)
        assert_same_voxels(v, w)
        assert.equal(#shape, w.ndim)
        assert.same({1, 1, 1}, w.spacing)
        assert.same({0, 0, 0}, w.origin)
        assert.same({{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, w.direction)
        assert.equal("NumPy", w.meta.format)
        assert.equal("False", w.meta.fortran_order)
        assert.equal("(" .. table.concat(reversed(shape), ", ") .. ")", w.meta.shape)
      end)
    end
  end

  it("writes a 3-D volume with nz = 1 as 3 axes, and geometry is dropped", function()
    local v = vol.new{shape = {4, 3, 1}, dtype = "int16", spacing = {2, 2, 2}, origin = {5, 5, 5}}
    v:write(dir .. "/flat.npy")
    local w = vol.read(dir .. "/flat.npy")
    assert.same({4, 3, 1}, w.shape)
    assert.equal("(1, 3, 4)", w.meta.shape)
    assert.same({1, 1, 1}, w.spacing)
  end)
end)

describe("vol.read (real .npy files)", function()
  local expected = data.expected()
  local names = {"npy/cranium_ct_crop_int16.npy", "npy/cranium_ct_crop_int16_F_be.npy",
                 "npy/t1_coronal_slice.npy"}
  local DT = {["<i2"] = "int16", [">i2"] = "int16", ["<f8"] = "float64"}

  for _, name in ipairs(names) do
    it(name .. " matches expected.json and numpy", function()
      local path = data.path(name)
      local v = vol.read(path)
      -- numpy index order (a0, a1, a2) = (z, y, x): v:get(a2+1, a1+1, a0+1)
      local function get(idx)
        local r = reversed(idx)
        for m = 1, #r do r[m] = r[m] + 1 end
        return at(v, table.unpack(r))
      end
      local r
      local idx = v.ndim == 3 and {{0, 0, 0}, {1, 2, 3}, {31, 63, 63}} or {{0, 0}, {1, 2}, {255, 255}}
      if expected then
        local e = expected.files[name]
        assert.same(reversed(e.shape), v.shape)
        assert.equal(DT[e.dtype], v.dtype)
        local s = v:stats()
        assert.equal(e.stats.count, s.count)
        near(e.stats.min, s.min, 1e-9, "min"); near(e.stats.max, s.max, 1e-9, "max")
        near(e.stats.sum, s.sum, 1e-9, "sum")
        near(e.stats.mean, s.mean, 1e-6, "mean"); near(e.stats.std, s.std, 1e-6, "std")
        idx = {}
        for _, smp in ipairs(e.stats.samples) do
          assert.equal(smp.value, get(smp.index))
          idx[#idx + 1] = smp.index
        end
        assert.equal(e.fortran_order and "True" or "False", v.meta.fortran_order)
        assert.equal(e.dtype, v.meta.descr)
      end
      r = ref.run("npy_ref.py", "stats", path, json.encode(idx))
      assert.same(reversed(r.shape), v.shape)
      local s = v:stats()
      assert.equal(r.count, s.count)
      near(r.sum, s.sum, 1e-9, "sum"); near(r.std, s.std, 1e-6, "std")
      for m, ix in ipairs(idx) do assert.equal(r.values[m], get(ix)) end
    end)
  end

  it("gives the same volume for the C-order and the Fortran big-endian crop", function()
    local c = vol.read(data.path("npy/cranium_ct_crop_int16.npy"))
    local f = vol.read(data.path("npy/cranium_ct_crop_int16_F_be.npy"))
    assert.same({64, 64, 32}, c.shape)
    assert.same(c.shape, f.shape)
    assert.equal(1, c:eq(f):stats().min)
  end)

  it("equals crop [40:72, 96:160, 96:160] of the (z, y, x) CT array in NIfTI", function()
    local c = vol.read(data.path("npy/cranium_ct_crop_int16.npy"))
    local ct = vol.read(data.path("ct/cranium_ct.nii.gz"))
    assert.same({256, 256, 108}, ct.shape)
    local bad = 0
    each(c, function(_, i, j, k)
      if c:get(i, j, k) ~= ct:get(i + 96, j + 96, k + 40) then bad = bad + 1 end
    end)
    assert.equal(0, bad)
  end)
end)

describe("vol.read (files numpy writes)", function()
  local dir, manifest
  setup(function()
    dir = data.tmpdir()
    manifest = ref.run("npy_ref.py", "make", dir).files
  end)
  local DT = {u1 = "uint8", i1 = "int8", u2 = "uint16", i2 = "int16", u4 = "uint32",
              i4 = "int32", f4 = "float32", f8 = "float64", i8 = "float64", u8 = "float64",
              b1 = "uint8"}

  it("reads every file: C and Fortran order, both byte orders, versions 1 to 3", function()
    assert.is_true(#manifest >= 20)
    for _, m in ipairs(manifest) do
      local v = vol.read(dir .. "/" .. m.name)
      local shape = reversed(m.shape)
      if #shape == 1 then shape[2] = 1 end -- a 1-D array is one row
      assert.same(shape, v.shape, m.name)
      assert.equal(DT[m.descr:sub(2)], v.dtype, m.name)
      assert.equal(m.fortran and "True" or "False", v.meta.fortran_order)
      -- C-order index of arr == our x-fastest index: arr[k-1, j-1, i-1] == v:get(i, j, k)
      each(v, function(n, i, j, k, t)
        local want, got = m.values[n + 1], at(v, i, j, k, t)
        if want ~= got then
          error(string.format("%s: voxel %d (%d,%d,%d,%d) numpy %s medula %s", m.name, n, i, j,
                              k, t, want, got))
        end
      end)
    end
  end)

  it("reads the version from the file into meta", function()
    assert.equal("2.0", vol.read(dir .. "/v2_i2.npy").meta.npy_version)
    assert.equal("3.0", vol.read(dir .. "/v3_f4.npy").meta.npy_version)
    assert.equal("1.0", vol.read(dir .. "/c_i2.npy").meta.npy_version)
  end)
end)

describe("v:write (.npy read by numpy)", function()
  local dir
  setup(function() dir = data.tmpdir() end)

  for _, dtype in ipairs(DTYPES) do
    it("writes " .. dtype .. " 2/3/4-D as numpy's (nz, ny, nx) C-order array, as np.save would",
       function()
      for _, shape in ipairs{{5, 3}, {5, 4, 3}, {2, 3, 4, 2}} do
        local v = sample(shape, dtype)
        local path = string.format("%s/%s_%d.npy", dir, dtype, #shape)
        v:write(path)
        local r = ref.run("npy_ref.py", "dump", path)
        assert.same(reversed(shape), r.shape)
        assert.equal(dtype, r.dtype)
        assert.is_false(r.fortran)
        assert.is_true(r.same_as_np_save, "header differs from np.save's")
        each(v, function(n, i, j, k, t)
          assert.equal(at(v, i, j, k, t), r.values[n + 1])
        end)
      end
    end)
  end
end)

describe("vol.save_npy_stack", function()
  local dir
  before_each(function() dir = data.tmpdir() end)

  it("writes N volumes as one (N, nz, ny, nx) array numpy reads", function()
    local vs = {sample({5, 4, 3}, "int16", 0), sample({5, 4, 3}, "int16", 11),
                sample({5, 4, 3}, "int16", 23)}
    local path = dir .. "/stack.npy"
    vol.save_npy_stack(path, vs)
    local r = ref.run("npy_ref.py", "dump", path)
    assert.same({3, 3, 4, 5}, r.shape)
    assert.equal("int16", r.dtype)
    assert.is_true(r.same_as_np_save)
    for m, v in ipairs(vs) do
      each(v, function(n, i, j, k)
        assert.equal(v:get(i, j, k), r.values[(m - 1) * 60 + n + 1])
      end)
    end
    -- and medula reads it back as a 4-D volume, the stack axis slowest
    local w = vol.read(path)
    assert.same({5, 4, 3, 3}, w.shape)
    assert.equal(vs[2]:get(4, 3, 2), w:get(4, 3, 2, 2))
  end)

  it("names the first volume whose shape or dtype differs and writes nothing", function()
    local a = sample({5, 4, 3}, "int16")
    local path = dir .. "/bad.npy"
    local ok, err = pcall(vol.save_npy_stack, path, {a, a, sample({5, 4, 2}, "int16"), a})
    assert.is_false(ok)
    assert.truthy(err:find(path, 1, true), err)
    assert.truthy(err:find("volume 3 has shape 5x4x2 int16, volume 1 has 5x4x3 int16", 1, true), err)
    ok, err = pcall(vol.save_npy_stack, path, {a, sample({5, 4, 3}, "float32")})
    assert.is_false(ok)
    assert.truthy(err:find("volume 2 has shape 5x4x3 float32", 1, true), err)
    assert.same({}, listdir(dir))
  end)
end)

describe("vol.read (damaged .npy)", function()
  local dir
  setup(function() dir = data.tmpdir() end)

  local function fails(name, bytes, msg)
    local path = dir .. "/" .. name
    spit(path, bytes)
    local ok, err = pcall(vol.read, path)
    assert.is_false(ok, name .. " should not read")
    assert.equal(1, err:find(path, 1, true), "message does not start with the file: " .. err)
    assert.truthy(err:find(msg, 1, true), "expected '" .. msg .. "' in: " .. err)
  end

  local I2 = string.rep("\1\0", 6)
  local D = "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }"

  it("reads a well-formed hand-made file (the baseline of the cases below)", function()
    spit(dir .. "/ok.npy", npy_bytes(D, I2))
    assert.same({3, 2}, vol.read(dir .. "/ok.npy").shape)
    spit(dir .. "/ok2.npy", npy_bytes('{"descr":"<i2","shape":(2,3),"fortran_order":False}', I2, 2))
    assert.same({3, 2}, vol.read(dir .. "/ok2.npy").shape)
    spit(dir .. "/py2.npy", npy_bytes("{'descr': '<i2', 'fortran_order': False, 'shape': (2L, 3L), }", I2))
    assert.same({3, 2}, vol.read(dir .. "/py2.npy").shape)
  end)

  it("refuses files that are not .npy or are truncated", function()
    fails("magic.npy", "\x93NUMPX\1\0" .. D, "not a NumPy .npy file")
    fails("short.npy", "\x93NUM", "not a NumPy .npy file")
    fails("header.npy", npy_bytes(D, I2):sub(1, 40), "truncated header")
    fails("data.npy", npy_bytes(D, I2:sub(1, 7)), "file has 7 bytes of data, header needs 12")
    fails("version.npy", npy_bytes(D, I2, 4), "format version 4.0")
  end)

  it("refuses header dicts it cannot parse, saying what it expected", function()
    fails("bool.npy", npy_bytes("{'descr': '<i2', 'fortran_order': Maybe, 'shape': (2, 3), }", I2),
          "bad .npy header: expected True or False")
    fails("list.npy", npy_bytes("['descr', '<i2']", I2), "bad .npy header: expected '{'")
    fails("key.npy", npy_bytes("{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", I2),
          "unexpected key 'x'")
    fails("missing.npy", npy_bytes("{'descr': '<i2', 'shape': (2, 3), }", I2), "no 'fortran_order' key")
    fails("tail.npy", npy_bytes(D .. " junk", I2), "the end of the header")
    fails("shape.npy", npy_bytes("{'descr': '<i2', 'fortran_order': False, 'shape': [2, 3], }", I2),
          "expected a tuple for 'shape'")
  end)

  it("refuses dtypes and shapes it does not support", function()
    fails("c16.npy", npy_bytes("{'descr': '<c16', 'fortran_order': False, 'shape': (2, 3), }", I2),
          "dtype '<c16' is not supported")
    fails("rec.npy", npy_bytes("{'descr': [('a', '<i2')], 'fortran_order': False, 'shape': (2, 3), }", I2),
          "structured dtypes are not supported")
    fails("neg.npy", npy_bytes("{'descr': '<i2', 'fortran_order': False, 'shape': (2, -3), }", I2),
          "negative dimension")
    fails("zero.npy", npy_bytes("{'descr': '<i2', 'fortran_order': False, 'shape': (2, 0), }", I2),
          "empty array")
    fails("scalar.npy", npy_bytes("{'descr': '<i2', 'fortran_order': False, 'shape': (), }", I2),
          "0 dimensions (expected 1 to 4)")
    fails("5d.npy", npy_bytes("{'descr': '<i2', 'fortran_order': False, 'shape': (1, 1, 1, 2, 3), }", I2),
          "5 dimensions (expected 1 to 4)")
    fails("huge.npy", npy_bytes("{'descr': '<i2', 'fortran_order': False, 'shape': (100000, 100000, 100000), }", I2),
          "header needs 2000000000000000")
    fails("overflow.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4000000000, 4000000000, 4000000000), }", I2),
          "too large")
  end)
end)

describe("v:write (.npy failures)", function()
  it("names the file and leaves nothing behind", function()
    local dir = data.tmpdir()
    local v = sample({3, 3, 3}, "uint8")
    local ok, err = pcall(v.write, v, dir .. "/missing/x.npy")
    assert.is_false(ok)
    assert.truthy(err:find(dir .. "/missing/x.npy", 1, true), err)
    assert(os.execute("mkdir " .. q(dir .. "/busy.npy") .. " && touch " .. q(dir .. "/busy.npy/f")))
    ok, err = pcall(v.write, v, dir .. "/busy.npy")
    assert.is_false(ok)
    assert.truthy(err:find(dir .. "/busy.npy", 1, true), err)
    assert.same({"busy.npy"}, listdir(dir))
  end)
end)
