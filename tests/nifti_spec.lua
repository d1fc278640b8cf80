-- NIfTI-1/2 (.nii, .nii.gz): round trips of every dtype, nibabel reading
-- what medula writes and the reverse, hand-made headers (byte order,
-- NIfTI-2, extensions, qform/sform/pixdim affines, units, scaling), the real
-- sample files against expected.json and a live nibabel reference, and
-- damaged files. The reference is tests/ref/nifti_ref.py (nibabel).
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"
local json = require "dkjson"

local DTYPES = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"}

-- ---------------------------------------------------------------- helpers

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function spit(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local function listdir(dir)
  local p = io.popen("ls -A " .. data.shell_quote(dir))
  local names = {}
  for line in p:lines() do names[#names + 1] = line end
  p:close()
  return names
end

local function gzip(s)
  local tmpin = os.tmpname()
  spit(tmpin, s)
  local p = io.popen("gzip -c -n " .. data.shell_quote(tmpin))
  local z = p:read("a")
  p:close()
  os.remove(tmpin)
  return z
end

local function rel_close(a, b, tol)
  return math.abs(a - b) <= tol * math.max(1, math.abs(a), math.abs(b))
end

local function assert_close(expected, got, tol, what)
  assert(rel_close(expected, got, tol),
    ("%s: expected %.17g, got %.17g (tolerance %g)"):format(what, expected, got, tol))
end

local function assert_affine(expected, got, tol, what)
  for r = 1, 4 do
    for c = 1, 4 do
      assert(math.abs(expected[r][c] - got[r][c]) <= tol,
        ("%s: affine[%d][%d] expected %.10g, got %.10g"):format(what, r, c, expected[r][c], got[r][c]))
    end
  end
end

-- Calls fn(i, j, k, t, n) for every voxel, 1-based, x fastest; n counts from 0.
local function each_voxel(shape, fn)
  local nx, ny, nz, nt = shape[1], shape[2], shape[3] or 1, shape[4] or 1
  local n = 0
  for t = 1, nt do for k = 1, nz do for j = 1, ny do for i = 1, nx do
    fn(i, j, k, t, n)
    n = n + 1
  end end end end
end

-- v:get / v:set with as many indices as v has axes.
local function idx(v, i, j, k, t)
  if v.ndim == 2 then return i, j end
  if v.ndim == 3 then return i, j, k end
  return i, j, k, t
end

-- A value for voxel n that reaches both ends of the dtype's range.
local function test_value(dtype, n)
  if dtype == "uint8" then return (n * 37) % 256 end
  if dtype == "int8" then return (n * 37) % 256 - 128 end
  if dtype == "uint16" then return (n * 7919) % 65536 end
  if dtype == "int16" then return (n * 7919) % 65536 - 32768 end
  if dtype == "uint32" then return (n * 2654435761) % 4294967296 end
  if dtype == "int32" then return (n * 2654435761) % 4294967296 - 2147483648 end
  if dtype == "float32" then return (n - 50) * 0.37 end
  return (n - 50) * 0.1 + n * 1e-13
end

local function make_volume(dtype, shape, geom)
  geom = geom or {}
  local v = vol.new{shape = shape, dtype = dtype, spacing = geom.spacing, origin = geom.origin,
                    direction = geom.direction}
  each_voxel(shape, function(i, j, k, t, n)
    local args = {idx(v, i, j, k, t)}
    args[#args + 1] = test_value(dtype, n)
    v:set(table.unpack(args))
  end)
  return v
end

local function assert_same_voxels(a, b, what)
  assert.same(a.shape, b.shape)
  each_voxel(a.shape, function(i, j, k, t)
    local x, y = a:get(idx(a, i, j, k, t)), b:get(idx(b, i, j, k, t))
    if x ~= y and not (x ~= x and y ~= y) then
      error(("%s: voxel (%d,%d,%d,%d) expected %s, got %s"):format(what, i, j, k, t, x, y))
    end
  end)
end

local function assert_same_geometry(a, b, what)
  for c = 1, 3 do
    assert_close(a.spacing[c], b.spacing[c], 1e-6, what .. " spacing")
    assert(math.abs(a.origin[c] - b.origin[c]) <= 1e-4, what .. " origin")
    for r = 1, 3 do
      assert(math.abs(a.direction[r][c] - b.direction[r][c]) <= 1e-6, what .. " direction")
    end
  end
end

-- 0-based indices spread over a volume (corners, centre, a few others).
local function sample_indices(shape)
  local out = {}
  local nd = #shape
  for s = 0, 6 do
    local ix = {}
    for a = 1, nd do
      local n = shape[a]
      ix[a] = ({0, n - 1, n // 2, (n * 3) // 7, (n * 5) // 11, 1 % n, (n * 2) // 3})[s + 1]
    end
    out[#out + 1] = ix
  end
  return out
end

local function get0(v, ix)
  local one = {}
  for a = 1, #ix do one[a] = ix[a] + 1 end
  return v:get(table.unpack(one))
end

-- Compares a medula volume with what nifti_ref.py printed for the same file.
local function assert_matches_nibabel(v, r, indices, what)
  assert.same(r.shape, v.shape)
  assert_affine(r.affine, v:affine{ras = true}, 1e-5, what)
  local s = v:stats()
  assert.equal(r.stats.count, s.count)
  assert_close(r.stats.min, s.min, 1e-12, what .. " min")
  assert_close(r.stats.max, s.max, 1e-12, what .. " max")
  assert_close(r.stats.sum, s.sum, 1e-9, what .. " sum")
  assert_close(r.stats.mean, s.mean, 1e-9, what .. " mean")
  assert_close(r.stats.std, s.std, 1e-6, what .. " std")
  for n, ix in ipairs(indices) do
    local got = get0(v, ix)
    assert(got == r.values[n], ("%s: voxel %s nibabel %.17g, medula %.17g"):format(
      what, table.concat(ix, ","), r.values[n], got))
  end
end

-- A NIfTI-1 header (348 bytes + 4-byte extension flag) from fields; endian
-- "<" or ">". Unset fields get plain defaults (int16, 1 mm, sform code 0).
local function nifti1_header(h, endian)
  endian = endian or "<"
  local dim = h.dim or {3, 4, 3, 2, 1, 1, 1, 1}
  local pix = h.pixdim or {1, 1, 1, 1, 1, 1, 1, 1}
  local srow = h.srow or {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}
  local q = h.quatern or {0, 0, 0}
  local qo = h.qoffset or {0, 0, 0}
  local parts = {
    string.pack(endian .. "i4", h.sizeof_hdr or 348), ("\0"):rep(35),
    string.pack(endian .. "B", 0),                                   -- dim_info
    string.pack(endian .. "i2i2i2i2i2i2i2i2", table.unpack(dim)),
    string.pack(endian .. "fff", 0, 0, 0),                           -- intent_p1..3
    string.pack(endian .. "i2i2i2i2", h.intent_code or 0, h.datatype or 4, h.bitpix or 16, 0),
    string.pack(endian .. "ffffffff", table.unpack(pix)),
    string.pack(endian .. "fff", h.vox_offset or 352, h.scl_slope or 0, h.scl_inter or 0),
    string.pack(endian .. "i2BB", 0, 0, h.xyzt_units or 2),
    string.pack(endian .. "ffff", 0, 0, 0, 0),                       -- cal_max .. toffset
    string.pack(endian .. "i4i4", 0, 0),                             -- glmax, glmin
    ("\0"):rep(80 + 24),                                             -- descrip, aux_file
    string.pack(endian .. "i2i2", h.qform_code or 0, h.sform_code or 0),
    string.pack(endian .. "ffffff", q[1], q[2], q[3], qo[1], qo[2], qo[3]),
    string.pack(endian .. "ffffffffffff", table.unpack(srow)),
    ("\0"):rep(16),                                                  -- intent_name
    h.magic or "n+1\0",
    "\0\0\0\0",
  }
  local s = table.concat(parts)
  assert(#s == 352, #s)
  return s
end

-- The same volume as a NIfTI-2 header (540 bytes + 4).
local function nifti2_header(h, endian)
  endian = endian or "<"
  local dim = h.dim or {3, 4, 3, 2, 1, 1, 1, 1}
  local pix = h.pixdim or {1, 1, 1, 1, 1, 1, 1, 1}
  local srow = h.srow or {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}
  local parts = {
    string.pack(endian .. "i4", 540), h.magic or "n+2\0\r\n\26\n",
    string.pack(endian .. "i2i2", h.datatype or 4, h.bitpix or 16),
    string.pack(endian .. "i8i8i8i8i8i8i8i8", table.unpack(dim)),
    string.pack(endian .. "ddd", 0, 0, 0),
    string.pack(endian .. "dddddddd", table.unpack(pix)),
    string.pack(endian .. "i8", h.vox_offset or 544),
    string.pack(endian .. "dddddd", h.scl_slope or 0, h.scl_inter or 0, 0, 0, 0, 0),
    string.pack(endian .. "i8i8", 0, 0),
    ("\0"):rep(80 + 24),
    string.pack(endian .. "i4i4", h.qform_code or 0, h.sform_code or 0),
    string.pack(endian .. "dddddd", 0, 0, 0, 0, 0, 0),
    string.pack(endian .. "dddddddddddd", table.unpack(srow)),
    string.pack(endian .. "i4i4i4", 0, h.xyzt_units or 2, 0),
    ("\0"):rep(16 + 1 + 15),
    "\0\0\0\0",
  }
  local s = table.concat(parts)
  assert(#s == 544, #s)
  return s
end

-- Voxel bytes for a packed format letter, values n*3-7 (x fastest).
local function voxel_bytes(fmt, count, endian)
  local t = {}
  for n = 0, count - 1 do t[#t + 1] = string.pack((endian or "<") .. fmt, n * 3 - 7) end
  return table.concat(t)
end

local tmpdir
local function tmp(name) return tmpdir .. "/" .. name end

setup(function() tmpdir = data.tmpdir() end)

-- ------------------------------------------------------------ round trips

describe("v:write then vol.read", function()
  local shapes = {{7, 5}, {7, 5, 4}, {4, 3, 3, 2}}
  for _, suffix in ipairs{".nii", ".nii.gz"} do
    for _, dtype in ipairs(DTYPES) do
      it("keeps " .. dtype .. " voxels and geometry exactly (" .. suffix .. ", 2D/3D/4D)", function()
        for _, shape in ipairs(shapes) do
          local v = make_volume(dtype, shape, {spacing = {0.5, 0.75, 2.5}, origin = {-10.5, 20.25, 3}})
          local p = tmp(dtype .. #shape .. suffix)
          v:write(p)
          local w = vol.read(p)
          assert.equal(dtype, w.dtype)
          assert.same(shape, w.shape)
          assert_same_voxels(v, w, p)
          assert_same_geometry(v, w, p)
          assert.equal("NIfTI-1", w.meta.format)
          assert.equal(dtype, w.meta.datatype)
        end
      end)
    end
  end

  it("keeps an oblique direction and flipped axes (improper rotations)", function()
    local c, s = math.cos(0.4), math.sin(0.4)
    local dirs = {
      {{c, -s, 0}, {s, c, 0}, {0, 0, 1}},
      {{-1, 0, 0}, {0, 1, 0}, {0, 0, 1}},            -- x flipped: determinant -1
      {{c, 0, s}, {0, -1, 0}, {-s, 0, c}},           -- rotation with y flipped
      {{0, 0, -1}, {1, 0, 0}, {0, -1, 0}},           -- permuted axes
    }
    for n, d in ipairs(dirs) do
      for _, suffix in ipairs{".nii", ".nii.gz"} do
        local v = make_volume("int16", {6, 5, 4}, {spacing = {0.9, 1.1, 3}, origin = {5, -7, 11}, direction = d})
        local p = tmp("oblique" .. n .. suffix)
        v:write(p)
        local w = vol.read(p)
        assert_same_geometry(v, w, p)
        assert_affine(v:affine(), w:affine(), 1e-5, p)
        assert_same_voxels(v, w, p)
        assert.equal("1", w.meta.qform_code)
        assert.equal("1", w.meta.sform_code)
      end
    end
  end)

  it("writes a sheared direction as sform only (qform_code 0)", function()
    local d = {{1, 0, 0.6}, {0, 1, 0}, {0, 0, 0.8}}
    local v = make_volume("uint8", {4, 4, 4}, {spacing = {2, 2, 5}, direction = d})
    v:write(tmp("sheared.nii"))
    local w = vol.read(tmp("sheared.nii"))
    assert.equal("0", w.meta.qform_code)
    assert.equal("1", w.meta.sform_code)
    assert_affine(v:affine(), w:affine(), 1e-5, "sheared")
  end)

  it("writes NIfTI-2 on request, keeping double-precision geometry", function()
    for _, suffix in ipairs{".nii", ".nii.gz"} do
      local v = make_volume("float64", {5, 4, 3, 2}, {spacing = {0.1, 0.2, 0.3}, origin = {0.1, -123.456789012345, 1e-3}})
      local p = tmp("two" .. suffix)
      v:write(p, {nifti2 = true})
      local w = vol.read(p)
      assert.equal("NIfTI-2", w.meta.format)
      assert_same_voxels(v, w, p)
      assert_affine(v:affine(), w:affine(), 1e-12, p)
      if suffix == ".nii" then
        assert.equal(540, string.unpack("<i4", slurp(p)))
        assert.equal("n+2\0", slurp(p):sub(5, 8))
      end
    end
  end)

  it("switches to NIfTI-2 when a size exceeds NIfTI-1's 32767", function()
    local v = vol.new{shape = {40000, 2}, dtype = "uint8"}
    v:set(40000, 2, 9)
    v:write(tmp("wide.nii.gz"))
    local w = vol.read(tmp("wide.nii.gz"))
    assert.equal("NIfTI-2", w.meta.format)
    assert.same({40000, 2}, w.shape)
    assert.equal(9, w:get(40000, 2))
  end)

  it("accepts compression levels 0 to 12 and rejects others without leaving a file", function()
    local v = make_volume("int16", {16, 16, 8})
    for level = 0, 12 do
      local p = tmp("level" .. level .. ".nii.gz")
      v:write(p, {level = level})
      assert_same_voxels(v, vol.read(p), p)
    end
    local dir = data.tmpdir()
    assert.error_matches(function() v:write(dir .. "/bad.nii.gz", {level = 13}) end,
      "bad.nii.gz: compression level must be 0 to 12 %(got 13%)")
    assert.same({}, listdir(dir))
  end)

  it("writes the same .nii.gz bytes with 1 and 2 threads, and reads it either way", function()
    local v = vol.new{shape = {128, 128, 48}, dtype = "int16"}
    for k = 1, 48, 3 do for j = 1, 128, 2 do for i = 1, 128, 5 do v:set(i, j, k, (i * j + k * 31) % 3000 - 1000) end end end
    local before = vol.threads()
    vol.set_threads(1)
    v:write(tmp("t1.nii.gz"))
    local w1 = vol.read(tmp("t1.nii.gz"))
    vol.set_threads(2)
    v:write(tmp("t2.nii.gz"))
    local w2 = vol.read(tmp("t2.nii.gz"))
    vol.set_threads(before)
    assert.equal(slurp(tmp("t1.nii.gz")), slurp(tmp("t2.nii.gz")))
    assert_same_voxels(v, w1, "1 thread")
    assert_same_voxels(v, w2, "2 threads")
  end)

  it("leaves nothing behind when the folder does not exist", function()
    local v = make_volume("uint8", {3, 3, 3})
    local dir = data.tmpdir()
    assert.error_matches(function() v:write(dir .. "/missing/x.nii.gz") end,
      "missing/x.nii.gz: cannot create a file in the target folder")
    assert.same({}, listdir(dir))
  end)

  it("leaves nothing behind when the finished file cannot replace the target", function()
    -- The whole file is written to a temporary, then renaming it over a
    -- non-empty folder fails.
    local v = vol.new{shape = {200, 150, 40}, dtype = "int16", fill = 5}
    local dir = data.tmpdir()
    for _, name in ipairs{"busy.nii", "busy.nii.gz"} do
      assert(os.execute("mkdir " .. data.shell_quote(dir .. "/" .. name) .. " && touch " ..
        data.shell_quote(dir .. "/" .. name .. "/f")))
      local ok, err = pcall(v.write, v, dir .. "/" .. name)
      assert.is_false(ok)
      assert.truthy(err:find(dir .. "/" .. name .. ": cannot rename into place", 1, true), err)
    end
    assert.same({"busy.nii", "busy.nii.gz"}, listdir(dir))
  end)

  it("leaves nothing behind when a write fails midway", function()
    -- A 1 MB file size limit (SIGXFSZ ignored, so writes fail with EFBIG)
    -- stops the 2.4 MB output part way through.
    local dir = data.tmpdir()
    for _, name in ipairs{"big.nii", "big.nii.gz"} do
      local p = dir .. "/" .. name
      local chunk = ("vol.new{shape = {200, 150, 40}, dtype = 'int16', fill = 5}:write(%q, {level = 0})"):format(p)
      local cmd = ("sh -c 'trap \"\" XFSZ; ulimit -f 2048; exec \"$0\" -e \"$1\"' %s %s 2>&1")
        :format(data.shell_quote(data.medula()), data.shell_quote(chunk))
      local proc = io.popen(cmd)
      local out = proc:read("a")
      local ok = proc:close()
      assert.falsy(ok, out)
      assert.truthy(out:find(p .. ": write failed (File too large)", 1, true), out)
    end
    assert.same({}, listdir(dir))
  end)
end)

-- ------------------------------------------------------ nibabel cross-check

describe("nibabel reads what medula writes", function()
  local c, s = math.cos(0.3), math.sin(0.3)
  local cases = {
    {"int16", {9, 7, 5}, {spacing = {0.7, 0.8, 2.5}, origin = {10, -20, 30}, direction = {{c, -s, 0}, {s, c, 0}, {0, 0, -1}}}},
    {"float32", {6, 5, 4, 3}, {spacing = {2, 2, 3}, origin = {-90, 126, -72}}},
    {"uint8", {8, 6, 4}, {spacing = {1, 1, 1}, direction = {{0, 0, 1}, {-1, 0, 0}, {0, -1, 0}}}},
    {"float64", {5, 6, 3}, {spacing = {1, 2, 3}, direction = {{1, 0, 0.6}, {0, 1, 0}, {0, 0, 0.8}}}},
    {"uint32", {7, 6}, {spacing = {0.5, 0.25, 1}}},
    {"int8", {4, 4, 4}, {}},
  }
  for n, case in ipairs(cases) do
    local dtype, shape, geom = case[1], case[2], case[3]
    for _, suffix in ipairs{".nii", ".nii.gz"} do
      it(("with the same shape, affine and values (%s %dD%s)"):format(dtype, #shape, suffix), function()
        local v = make_volume(dtype, shape, geom)
        local p = tmp("tonib" .. n .. suffix)
        v:write(p)
        local indices = sample_indices(shape)
        local r = ref.run("nifti_ref.py", "read", p, json.encode(indices))
        assert.equal(dtype, r.dtype)
        assert.equal("NIfTI-1", r.format)
        assert_matches_nibabel(v, r, indices, p)
      end)
    end
  end

  it("reads medula's NIfTI-2 written as multi-block gzip", function()
    local v = vol.new{shape = {200, 150, 40}, dtype = "int16"}  -- 2.4 MB: three 1 MB blocks
    for k = 1, 40, 7 do for j = 1, 150, 3 do for i = 1, 200, 4 do v:set(i, j, k, i - j + k) end end end
    local p = tmp("multi.nii.gz")
    v:write(p, {nifti2 = true})
    local indices = sample_indices(v.shape)
    local r = ref.run("nifti_ref.py", "read", p, json.encode(indices))
    assert.equal("NIfTI-2", r.format)
    assert_matches_nibabel(v, r, indices, p)
  end)
end)

describe("medula reads what nibabel writes", function()
  local aff = {{-0.9, 0.1, 0, 91}, {0.1, 0.95, 0.05, -126}, {0, -0.05, 2.5, -72}, {0, 0, 0, 1}}
  local types = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64",
                 "int64", "uint64"}
  for _, dtype in ipairs(types) do
    for _, suffix in ipairs{".nii", ".nii.gz"} do
      it(dtype .. suffix, function()
        local p = tmp("fromnib_" .. dtype .. suffix)
        local shape = {7, 6, 5}
        ref.run("nifti_ref.py", "make", p, dtype, json.encode(shape), json.encode(aff))
        local v = vol.read(p)
        local indices = sample_indices(shape)
        local r = ref.run("nifti_ref.py", "read", p, json.encode(indices))
        assert_matches_nibabel(v, r, indices, p)
        local wide = dtype == "int64" or dtype == "uint64"
        assert.equal(wide and "float64" or dtype, v.dtype)
        assert.equal(dtype, v.meta.datatype)
      end)
    end
  end

  it("applies scl_slope/scl_inter as get_fdata does (float64 values)", function()
    local p = tmp("scaled.nii.gz")
    ref.run("nifti_ref.py", "make", p, "int16", "[6,5,4]", json.encode(aff), 0.123456789, -1024.5)
    local v = vol.read(p)
    assert.equal("float64", v.dtype)
    local indices = sample_indices({6, 5, 4})
    assert_matches_nibabel(v, ref.run("nifti_ref.py", "read", p, json.encode(indices)), indices, p)
  end)

  it("gives float32 when that holds the scaled values exactly, float64 otherwise", function()
    local p = tmp("scaled_int.nii")
    ref.run("nifti_ref.py", "make", p, "int16", "[6,5,4]", json.encode(aff), 1, -1024)
    local v = vol.read(p)
    assert.equal("float32", v.dtype)
    local indices = sample_indices({6, 5, 4})
    assert_matches_nibabel(v, ref.run("nifti_ref.py", "read", p, json.encode(indices)), indices, p)
    ref.run("nifti_ref.py", "make", p, "int32", "[6,5,4]", json.encode(aff), 1, -1024)
    assert.equal("float64", vol.read(p).dtype)
    ref.run("nifti_ref.py", "make", p, "uint16", "[6,5,4]", json.encode(aff), 512, 1)
    assert.equal("float64", vol.read(p).dtype) -- 65535 * 512 is past 2^24
  end)

  it("keeps stored values with raw=true and records the scaling in meta", function()
    local p = tmp("scaled_raw.nii")
    ref.run("nifti_ref.py", "make", p, "int16", "[6,5,4]", json.encode(aff), 2.5, -10)
    local raw = vol.read(p, {raw = true})
    local scaled = vol.read(p)
    assert.equal("int16", raw.dtype)
    assert.equal("2.5", raw.meta.scl_slope)
    assert.equal("-10", raw.meta.scl_inter)
    assert.equal("no (raw)", raw.meta.scaled)
    assert.equal("yes", scaled.meta.scaled)
    each_voxel(raw.shape, function(i, j, k)
      assert.equal(raw:get(i, j, k) * 2.5 - 10, scaled:get(i, j, k))
    end)
  end)
end)

-- ------------------------------------------------------ hand-made headers

describe("vol.read of hand-made headers", function()
  local function write_file(name, header, body, gz)
    local p = tmp(name)
    spit(p, gz and gzip(header .. body) or header .. body)
    return p
  end

  it("reads big-endian files like little-endian ones, NIfTI-1 and NIfTI-2", function()
    local fields = {dim = {3, 4, 3, 2, 1, 1, 1, 1}, datatype = 16, bitpix = 32, sform_code = 1,
                    srow = {2, 0, 0, -3, 0, 2, 0, 4, 0, 0, 2, 5}}
    for _, hdr in ipairs{nifti1_header, nifti2_header} do
      local le = vol.read(write_file("le.nii", hdr(fields, "<"), voxel_bytes("f", 24, "<")))
      local be = vol.read(write_file("be.nii", hdr(fields, ">"), voxel_bytes("f", 24, ">")))
      assert.equal("swapped", be.meta.byte_order)
      assert_same_voxels(le, be, "byte order")
      assert_affine(le:affine(), be:affine(), 0, "byte order")
      assert.equal(-7.0, be:get(1, 1, 1))
      assert.equal(62.0, be:get(4, 3, 2))
    end
  end)

  it("honours vox_offset (header extensions are skipped)", function()
    local ext = "\1\0\0\0" .. string.pack("<i4i4", 48, 4) .. ("x"):rep(40)
    local h = nifti1_header{vox_offset = 400}:sub(1, 348) .. ext
    local v = vol.read(write_file("ext.nii.gz", h, voxel_bytes("i2", 24), true))
    assert.equal(-7, v:get(1, 1, 1))
    assert.equal(62, v:get(4, 3, 2))
    assert.equal("400", v.meta.vox_offset)
  end)

  it("reads int64 and uint64 as float64", function()
    local v = vol.read(write_file("i64.nii", nifti1_header{datatype = 1024, bitpix = 64}, voxel_bytes("i8", 24)))
    assert.equal("float64", v.dtype)
    assert.equal(-7.0, v:get(1, 1, 1))
    local u = vol.read(write_file("u64.nii", nifti1_header{datatype = 1280, bitpix = 64},
      voxel_bytes("I8", 24):gsub("^........", string.pack("<I8", 1 << 62))))
    assert.equal(2.0 ^ 62, u:get(1, 1, 1))
  end)

  it("chooses sform, then qform, then the pixdim fallback exactly as nibabel", function()
    local q = {0.1, -0.2, 0.3}
    local headers = {
      sform = {sform_code = 2, qform_code = 1, srow = {1, 0.1, 0, 4, 0, 2, 0, 5, 0, 0.3, 3, 6}, quatern = q},
      qform = {qform_code = 1, quatern = q, qoffset = {-5, 6, 7}, pixdim = {1, 1.5, 2, 2.5, 1, 1, 1, 1}},
      qfac = {qform_code = 1, quatern = q, qoffset = {-5, 6, 7}, pixdim = {-1, 1.5, 2, 2.5, 1, 1, 1, 1}},
      negpix = {qform_code = 2, quatern = q, pixdim = {0, -1.5, 2, 0, 1, 1, 1, 1}},
      pixdim = {pixdim = {1, 1.5, 2, 2.5, 1, 1, 1, 1}},
      pixdim2d = {dim = {2, 4, 6, 1, 1, 1, 1, 1}, pixdim = {1, 1.5, 2, 2.5, 1, 1, 1, 1}},
      badcode = {sform_code = 9, qform_code = 1, quatern = q},
    }
    for name, h in pairs(headers) do
      local dim, n = h.dim or {3, 4, 3, 2}, 1
      for a = 2, dim[1] + 1 do n = n * dim[a] end
      local p = write_file("aff_" .. name .. ".nii", nifti1_header(h), voxel_bytes("i2", n))
      local v = vol.read(p)
      local r = ref.run("nifti_ref.py", "read", p)
      assert.same(r.shape, v.shape)
      assert_affine(r.affine, v:affine{ras = true}, 1e-6, name)
    end
  end)

  it("converts meters and microns to mm", function()
    local srow = {0.001, 0, 0, 0.5, 0, 0.002, 0, -0.25, 0, 0, 0.003, 0.125}
    local m = vol.read(write_file("m.nii", nifti1_header{sform_code = 1, srow = srow, xyzt_units = 1},
      voxel_bytes("i2", 24)))
    assert_close(1, m.spacing[1], 1e-6, "x spacing")
    assert_close(3, m.spacing[3], 1e-6, "z spacing")
    assert_close(-500, m.origin[1], 1e-6, "origin (LPS)")
    assert.equal("m (converted to mm)", m.meta.spatial_unit)
    local um = vol.read(write_file("um.nii", nifti1_header{sform_code = 1, xyzt_units = 3 + 8},
      voxel_bytes("i2", 24)))
    assert_close(0.001, um.spacing[2], 1e-6, "micron spacing")
    assert.equal("s", um.meta.time_unit)
  end)

  it("keeps dims 5 to 7 of size 1", function()
    local v = vol.read(write_file("5d.nii", nifti1_header{dim = {5, 4, 3, 2, 1, 1, 1, 1}}, voxel_bytes("i2", 24)))
    assert.same({4, 3, 2, 1}, v.shape)
  end)
end)

-- ------------------------------------------------------- the sample files

describe("the sample NIfTI files", function()
  local files = {
    "nifti/KmeansTest_T1RawSkullStrip.nii.gz", "nifti/KmeansTest_T1UCharRaw.nii.gz",
    "nifti/S0_10slices.nii.gz", "nifti/anatomical.nii", "nifti/aniso_vox.nii.gz",
    "nifti/ch2.nii.gz", "nifti/ch2bet.nii.gz", "nifti/ch2better.nii.gz", "nifti/example4d.nii.gz",
    "nifti/example_nifti2.nii.gz", "nifti/functional.nii", "nifti/reoriented_anat_moved.nii",
    "nifti/small_64D.nii", "nifti/standard.nii.gz", "labels/aal.nii.gz", "ct/cranium_ct.nii.gz",
  }
  for _, rel in ipairs(files) do
    it(rel .. " matches expected.json and nibabel", function()
      local p = data.path(rel)
      local v = vol.read(p)
      local s = v:stats()
      local all = data.expected()
      local e = all and all.files[rel]
      if e then
        assert.same(e.shape, v.shape)
        local tol = (e.header.sform_code == 0 and e.header.qform_code ~= 0) and 1e-4 or 1e-5
        assert_affine(e.best_affine_nibabel, v:affine{ras = true}, tol, rel)
        local es = e.stats
        assert.equal(es.count, s.count)
        assert_close(es.min, s.min, 1e-9, rel .. " min")
        assert_close(es.max, s.max, 1e-9, rel .. " max")
        assert_close(es.sum, s.sum, 1e-9, rel .. " sum")
        assert_close(es.mean, s.mean, 1e-6, rel .. " mean")
        assert_close(es.std, s.std, 1e-6, rel .. " std")
        for _, smp in ipairs(es.samples) do
          assert.equal(smp.value, get0(v, smp.index), rel .. " sample " .. table.concat(smp.index, ","))
        end
        assert.equal(e.format == "nifti2" and "NIfTI-2" or "NIfTI-1", v.meta.format)
      end
      local indices = sample_indices(v.shape)
      assert_matches_nibabel(v, ref.run("nifti_ref.py", "read", p, json.encode(indices)), indices, rel)
    end)
  end

  it("S0_10slices.nii.gz keeps its sheared sform through a round trip", function()
    local v = vol.read(data.path("nifti/S0_10slices.nii.gz"))
    local A = v:affine{ras = true}
    assert.equal(30, A[1][3])  -- the third column is (30, 30, 32): not orthogonal
    for _, suffix in ipairs{".nii", ".nii.gz"} do
      local p = tmp("s0" .. suffix)
      v:write(p)
      local w = vol.read(p)
      assert_affine(A, w:affine{ras = true}, 0, p)
      assert_same_voxels(v, w, p)
      assert.equal("0", w.meta.qform_code)
      local r = ref.run("nifti_ref.py", "read", p)
      assert_affine(A, r.affine, 1e-9, p .. " (nibabel)")
    end
  end)

  it("functional.nii is scaled, raw=true is not", function()
    local p = data.path("nifti/functional.nii")
    local v, raw = vol.read(p), vol.read(p, {raw = true})
    assert.equal("float64", v.dtype)
    assert.equal("int16", raw.dtype)
    local slope, inter = tonumber(raw.meta.scl_slope), tonumber(raw.meta.scl_inter)
    assert.equal(raw:get(3, 4, 2, 5) * slope + inter, v:get(3, 4, 2, 5))
  end)
end)

-- --------------------------------------------------------- which file, and damage

describe("vol.read picks exactly the file named", function()
  it("reads x.nii.gz and x.nii side by side, each with its own content", function()
    local a, b = make_volume("int16", {3, 3, 3}), make_volume("int16", {4, 3, 2})
    a:write(tmp("pair.nii"))
    b:write(tmp("pair.nii.gz"))
    assert.same({3, 3, 3}, vol.read(tmp("pair.nii")).shape)
    assert.same({4, 3, 2}, vol.read(tmp("pair.nii.gz")).shape)
    os.remove(tmp("pair.nii.gz"))
    assert.error_matches(function() vol.read(tmp("pair.nii.gz")) end, "pair.nii.gz: cannot open")
  end)

  it("trusts the content, not the suffix", function()
    local v = make_volume("int16", {5, 4, 3})
    v:write(tmp("plain.nii"))
    spit(tmp("plain_named.nii.gz"), slurp(tmp("plain.nii")))
    assert_same_voxels(v, vol.read(tmp("plain_named.nii.gz")), "uncompressed .nii.gz")
    spit(tmp("gz_named.nii"), gzip(slurp(tmp("plain.nii"))))
    assert_same_voxels(v, vol.read(tmp("gz_named.nii")), "gzip .nii")
  end)

  it("reads gzip made of several members, and ignores trailing zeros", function()
    local v = make_volume("int16", {5, 4, 3})
    v:write(tmp("m.nii"))
    local raw = slurp(tmp("m.nii"))
    spit(tmp("m2.nii.gz"), gzip(raw:sub(1, 100)) .. gzip(raw:sub(101, 400)) .. gzip(raw:sub(401)) .. ("\0"):rep(16))
    assert_same_voxels(v, vol.read(tmp("m2.nii.gz")), "multi-member")
  end)
end)

describe("vol.read of damaged files", function()
  local function read_error(name, bytes)
    local p = tmp(name)
    spit(p, bytes)
    local ok, err = pcall(vol.read, p)
    assert.is_false(ok, name .. " should not read")
    assert.truthy(err:find(p, 1, true), "error does not name the file: " .. err)
    return err
  end

  local function expect(name, bytes, pattern)
    local err = read_error(name, bytes)
    assert.truthy(err:find(pattern, 1, true), ("%s: expected %q in: %s"):format(name, pattern, err))
  end

  it("reports truncated headers and data with the sizes involved", function()
    local good = slurp(data.path("nifti/anatomical.nii"))
    expect("cut_header.nii", good:sub(1, 200), "header is truncated: a NIfTI-1 header needs 348 bytes, found 200")
    expect("cut_data.nii", good:sub(1, 4096),
      "data needs 67650 bytes after offset 352, file has 4096")
    expect("tiny.nii", "abc", "too short for a NIfTI header")
  end)

  it("reports truncated and corrupt gzip", function()
    local good = slurp(data.path("nifti/ch2.nii.gz"))
    expect("cut.nii.gz", good:sub(1, #good // 2), "gzip data ends early (file truncated?)")
    expect("cut_trailer.nii.gz", good:sub(1, #good - 3), "gzip data ends early")
    local mid = #good // 2
    local bad = good:sub(1, mid) .. string.char((good:byte(mid + 1) + 77) % 256) .. ("\255"):rep(64) .. good:sub(mid + 66)
    expect("corrupt.nii.gz", bad, "corrupt gzip data")
    expect("header_only.nii.gz", gzip(slurp(data.path("nifti/anatomical.nii")):sub(1, 1000)),
      "data needs 67650 bytes after offset 352, the decompressed file has 1000")
  end)

  it("rejects absurd dims before allocating anything", function()
    local body = voxel_bytes("i2", 24)
    expect("negdim.nii", nifti1_header{dim = {3, 4, -3, 2, 1, 1, 1, 1}} .. body, "dim[2] must be >= 1 (got -3)")
    expect("zerodim.nii", nifti1_header{dim = {3, 4, 0, 2, 1, 1, 1, 1}} .. body, "dim[2] must be >= 1 (got 0)")
    expect("dim0.nii", nifti1_header{dim = {9, 4, 3, 2, 1, 1, 1, 1}} .. body, "dim[0] must be 1 to 7 (got 9)")
    expect("vector.nii", nifti1_header{dim = {5, 4, 3, 2, 1, 3, 1, 1}} .. body, "dim[5] = 3")
    expect("huge.nii", nifti1_header{dim = {3, 30000, 30000, 30000, 1, 1, 1, 1}} .. body,
      "data needs 54000000000000 bytes after offset 352, file has 400")
    expect("huge.nii.gz", gzip(nifti1_header{dim = {3, 30000, 30000, 30000, 1, 1, 1, 1}}),
      "data needs 54000000000000 bytes after offset 352, more than")
    expect("overflow.nii", nifti2_header{dim = {3, 1 << 40, 1 << 40, 1 << 20, 1, 1, 1, 1}},
      "overflow")
  end)

  it("rejects wrong magic, pairs, unknown sizes and unsupported datatypes by name", function()
    local body = voxel_bytes("i2", 24)
    expect("magic.nii", nifti1_header{magic = "abc\0"} .. body, 'bad NIfTI-1 magic: expected "n+1", found "abc."')
    expect("pair.nii", nifti1_header{magic = "ni1\0"} .. body, "separate .img file")
    expect("sizeof.nii", nifti1_header{sizeof_hdr = 349} .. body, "not a NIfTI file")
    expect("rgb.nii", nifti1_header{datatype = 128, bitpix = 24} .. body, "datatype 128 (RGB24) is not supported")
    expect("complex.nii", nifti1_header{datatype = 32, bitpix = 64} .. body, "complex64")
    expect("unknown.nii", nifti1_header{datatype = 99} .. body, "unknown datatype code 99")
    expect("badoffset.nii", nifti1_header{vox_offset = 100} .. body, "vox_offset must be at least 348")
    expect("nan_inter.nii", nifti1_header{scl_slope = 2, scl_inter = 0 / 0} .. body, "scl_inter")
  end)
end)
