-- MetaImage (.mhd/.raw/.zraw, .mha): round trips of every dtype, the real ITK
-- files against expected.json and against an independent numpy reading
-- (tests/ref/metaimage_ref.py), hand-made headers for each key and synonym,
-- damaged files, and writes that fail without leaving anything behind.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"
local json = require "dkjson"

local q = data.shell_quote

local files = require "helpers.files"
local listdir, slurp, spit, at = files.listdir, files.slurp, files.spit, files.at

-- Calls f(n, i, j, k, t) for every voxel, x fastest (n = 0-based linear index).
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

local function near(want, got, tol, what)
  assert(math.abs(want - got) <= tol * math.max(1, math.abs(want)),
         string.format("%s: expected %.17g, got %.17g", what or "value", want, got))
end

local DTYPES = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"}
local RANGE = {uint8 = {0, 255}, int8 = {-128, 127}, uint16 = {0, 65535},
               int16 = {-32768, 32767}, uint32 = {0, 4294967295},
               int32 = {-2147483648, 2147483647}, float32 = {-3e38, 3e38},
               float64 = {-1.5e308, 1.5e308}}

local function rotation(ax, ay)
  local ca, sa, cb, sb = math.cos(ax), math.sin(ax), math.cos(ay), math.sin(ay)
  -- R = Rz(ax) * Rx(ay); columns are the axis directions
  return {{ca, -sa * cb, sa * sb}, {sa, ca * cb, -ca * sb}, {0, sb, cb}}
end

-- A volume whose voxels cover the dtype's extremes and distinct values.
local function sample(shape, dtype)
  local geo = {shape = shape, dtype = dtype, spacing = {0.5, 0.75, 2.5},
               origin = {10.25, -20.5, 30.125}, direction = rotation(math.rad(30), math.rad(20))}
  if #shape == 2 then
    geo.spacing, geo.origin = {0.5, 0.75, 1}, {3, 4, 0}
    local c, s = math.cos(math.rad(30)), math.sin(math.rad(30))
    geo.direction = {{c, -s, 0}, {s, c, 0}, {0, 0, 1}}
  end
  local v = vol.new(geo)
  local lo, hi = RANGE[dtype][1], RANGE[dtype][2]
  local float = dtype:sub(1, 5) == "float"
  each(v, function(n, i, j, k, t)
    local x
    if n == 0 then x = lo elseif n == 1 then x = hi
    elseif float then x = (n - 20) * 0.37
    else x = lo + (n * 7919) % (hi - lo) end
    if v.ndim == 2 then v:set(i, j, x) elseif v.ndim == 3 then v:set(i, j, k, x)
    else v:set(i, j, k, t, x) end
  end)
  return v
end

local function assert_same_volume(a, b)
  assert.same(a.shape, b.shape)
  assert.equal(a.dtype, b.dtype)
  assert.equal(a.ndim, b.ndim)
  assert.same(a.spacing, b.spacing)
  assert.same(a.origin, b.origin)
  assert.same(a.direction, b.direction)
  each(a, function(n, i, j, k, t)
    local x, y = at(a, i, j, k, t), at(b, i, j, k, t)
    if x ~= y then error(string.format("voxel %d: %s vs %s", n, x, y)) end
  end)
end

-- The numbers of "Key = ..." in a header text.
local function header_numbers(text, key)
  local line = text:match("\n" .. key .. " = ([^\n]*)") or text:match("^" .. key .. " = ([^\n]*)")
  local t = {}
  for x in (line or ""):gmatch("%S+") do t[#t + 1] = tonumber(x) end
  return t
end

describe("v:write and vol.read (MetaImage round trips)", function()
  local dir
  setup(function() dir = data.tmpdir() end)

  local shapes = {{7, 5}, {6, 5, 4}, {4, 3, 2, 3}}
  for _, dtype in ipairs(DTYPES) do
    for _, shape in ipairs(shapes) do
      it(string.format("keeps %s %dD voxels and geometry through .mhd, .zraw and .mha", dtype,
                       #shape), function()
        local v = sample(shape, dtype)
        for _, case in ipairs{{".mhd"}, {".mhd", true}, {".mha"}, {".mha", true}} do
          local path = string.format("%s/%s_%d%s", dir, dtype, #shape, case[1])
          v:write(path, {compress = case[2]})
          local w = vol.read(path)
          assert_same_volume(v, w)
          assert.equal("MetaImage", w.meta.format)
          assert.equal(case[2] and "True" or "False", w.meta.CompressedData)
          assert.equal(tostring(#shape), w.meta.NDims)
        end
      end)
    end
  end

  it("writes the data file beside the header, .raw or .zraw", function()
    local v = sample({6, 5, 4}, "int16")
    v:write(dir .. "/pair.mhd")
    v:write(dir .. "/zpair.mhd", {compress = true, level = 1})
    local h = slurp(dir .. "/pair.mhd")
    assert.truthy(h:find("\nElementDataFile = pair.raw\n", 1, true))
    assert.equal(6 * 5 * 4 * 2, #slurp(dir .. "/pair.raw"))
    assert.truthy(slurp(dir .. "/zpair.mhd"):find("\nElementDataFile = zpair.zraw\n", 1, true))
    assert.truthy(slurp(dir .. "/zpair.mhd"):find("\nCompressedDataSize = %d+\n"))
    assert.truthy(io.open(dir .. "/zpair.zraw", "rb"))
    assert.is_nil(io.open(dir .. "/zpair.raw", "rb"))
  end)

  it("writes the header keys ITK writes, TransformMatrix one axis per group", function()
    local v = sample({6, 5, 4}, "int16")
    v:write(dir .. "/keys.mha")
    local text = slurp(dir .. "/keys.mha")
    local keys = {}
    for k in text:gmatch("([%w]+) = [^\n]*\n") do
      keys[#keys + 1] = k
      if k == "ElementDataFile" then break end
    end
    assert.same({"ObjectType", "NDims", "BinaryData", "BinaryDataByteOrderMSB", "CompressedData",
                 "TransformMatrix", "Offset", "CenterOfRotation", "AnatomicalOrientation",
                 "ElementSpacing", "DimSize", "ElementType", "ElementDataFile"}, keys)
    local tm = header_numbers(text, "TransformMatrix")
    for c = 1, 3 do
      for r = 1, 3 do assert.equal(v.direction[r][c], tm[(c - 1) * 3 + r]) end
    end
    assert.same({6, 5, 4}, header_numbers(text, "DimSize"))
    assert.same({0.5, 0.75, 2.5}, header_numbers(text, "ElementSpacing"))
    assert.truthy(text:find("\nElementType = MET_SHORT\n", 1, true))
    assert.truthy(text:find("\nElementDataFile = LOCAL\n", 1, true))
  end)

  it("writes AnatomicalOrientation with ITK's letters (RAI for the identity)", function()
    local v = vol.new{shape = {2, 2, 2}, dtype = "uint8"}
    v:write(dir .. "/ident.mhd")
    assert.truthy(slurp(dir .. "/ident.mhd"):find("\nAnatomicalOrientation = RAI\n", 1, true))
    local w = vol.new{shape = {2, 2, 2}, dtype = "uint8",
                      direction = {{-1, 0, 0}, {0, -1, 0}, {0, 0, 1}}}
    w:write(dir .. "/flip.mhd")
    assert.truthy(slurp(dir .. "/flip.mhd"):find("\nAnatomicalOrientation = LPI\n", 1, true))
  end)

  it("writes files an independent numpy reading agrees with", function()
    local v = sample({6, 5, 4}, "int16")
    for _, case in ipairs{{"x.mhd"}, {"xz.mhd", true}, {"x.mha"}, {"xz.mha", true}} do
      local path = dir .. "/" .. case[1]
      v:write(path, {compress = case[2]})
      local r = ref.run("metaimage_ref.py", path, "[[0,0,0],[5,4,3],[2,3,1],[1,0,0]]")
      assert.same({6, 5, 4}, r.shape)
      assert.equal("int16", r.dtype)
      for rr = 1, 3 do
        for c = 1, 3 do near(v.direction[rr][c], r.direction[rr][c], 1e-15, "direction") end
      end
      assert.same({v:get(1, 1, 1), v:get(6, 5, 4), v:get(3, 4, 2), v:get(2, 1, 1)}, r.values)
      assert.equal(v:stats().sum, r.sum)
    end
  end)
end)

describe("vol.read (real MetaImage files)", function()
  local expected = data.expected()
  -- The real MetaImage files of the data notes (expected.json, when the
  -- shared data folder is there, adds the peers' values to the live ones).
  local names = {}
  for _, name in ipairs{"BayesianClassifierInitializerMemberships.mhd", "BrainProtonDensity3Slices.mha",
      "BrainProtonDensitySliceBorder20.mhd", "BrainProtonDensitySliceBorder20DirectionMinus30.mhd",
      "BrainProtonDensitySliceBorder20DirectionPlus30.mhd", "BrainProtonDensitySliceShifted13x17y.mhd",
      "BrainT1SliceBorder20DirectionPlus30.mhd", "CorpusCallosumMeanShape.mha", "RatLungSlice1.mha",
      "RatLungSlice2.mha", "ResampleImageFilterInput2x3.mha", "ResampleImageFilterInput2x3b.mha",
      "itkBrainSliceComplex.mha", "itkBrainSliceComplexMagnitude.mha"} do
    names[#names + 1] = "metaimage/" .. name
  end
  names[#names + 1] = "ct/cranium_ct.mha"

  local DT = {MET_UCHAR = "uint8", MET_CHAR = "int8", MET_USHORT = "uint16", MET_SHORT = "int16",
              MET_UINT = "uint32", MET_INT = "int32", MET_FLOAT = "float32", MET_DOUBLE = "float64"}

  -- Index in the data notes' array axes ([c,]x,y[,z], 0-based) -> v:get args.
  local function get_at(v, idx, channels)
    local c = 1
    if channels > 1 then c = idx[1] + 1; idx = {table.unpack(idx, 2)} end
    local i, j, k = idx[1] + 1, idx[2] + 1, (idx[3] or 0) + 1
    if v.ndim == 4 then return v:get(i, j, k, c) end
    return at(v, i, j, k)
  end

  local function check_stats(v, want, integer)
    local s = v:stats()
    assert.equal(want.count, s.count)
    local tol = integer and 0 or 1e-9
    near(want.min, s.min, tol, "min"); near(want.max, s.max, tol, "max")
    near(want.sum, s.sum, tol, "sum")
    near(want.mean, s.mean, 1e-6, "mean"); near(want.std, s.std, 1e-6, "std")
  end

  for _, name in ipairs(names) do
    it(name .. " matches expected.json and numpy", function()
      local e = expected and expected.files[name]
      local path = data.path(name)
      local v = vol.read(path)
      -- live reference first: numpy.fromfile / zlib on the same file
      local r0 = ref.run("metaimage_ref.py", path)
      local channels = r0.header.ElementNumberOfChannels and tonumber(r0.header.ElementNumberOfChannels) or 1
      local dims = channels > 1 and {table.unpack(r0.shape, 2)} or r0.shape
      local shape = {table.unpack(dims)}
      if channels > 1 then shape = {dims[1], dims[2], dims[3] or 1, channels} end
      assert.same(shape, v.shape)
      assert.equal(DT[r0.header.ElementType], v.dtype)
      local n = #dims
      for c = 1, n do
        near(r0.spacing[c], v.spacing[c], 1e-5, "spacing")
        near(r0.origin[c], v.origin[c], 1e-5, "origin")
        for rr = 1, n do near(r0.direction[rr][c], v.direction[rr][c], 1e-5, "direction") end
      end
      if n == 2 then assert.equal(1, v.direction[3][3]); assert.equal(0, v.direction[1][3]) end
      local integer = not v.dtype:match("float")
      check_stats(v, r0, integer)
      assert.equal("MetaImage", v.meta.format)
      for k, val in pairs(r0.header) do assert.equal(val, v.meta[k]) end
      -- sampled voxels: the peers' samples when known, else corners and a middle voxel
      local idx = {}
      if e then
        assert.same(dims, e.dims)
        assert.equal(channels, e.channels)
        for c = 1, n do
          near(e.spacing[c], v.spacing[c], 1e-5, "spacing")
          near(e.origin[c], v.origin[c], 1e-5, "origin")
          for rr = 1, n do near(e.direction_matrix[rr][c], v.direction[rr][c], 1e-5, "direction") end
        end
        check_stats(v, e.stats, integer)
        for _, smp in ipairs(e.stats.samples) do
          near(smp.value, get_at(v, smp.index, channels), 0, "sample")
          idx[#idx + 1] = smp.index
        end
        for k, val in pairs(e.header) do assert.equal(val, v.meta[k]) end
      else
        local lo, hi, mid = {}, {}, {}
        if channels > 1 then lo[1], hi[1], mid[1] = 0, channels - 1, channels // 2 end
        for a = 1, n do
          lo[#lo + 1], hi[#hi + 1], mid[#mid + 1] = 0, dims[a] - 1, dims[a] // 2
        end
        idx = {lo, hi, mid}
      end
      local r = ref.run("metaimage_ref.py", path, json.encode(idx))
      for m, ix in ipairs(idx) do near(r.values[m], get_at(v, ix, channels), 0, "numpy") end
    end)
  end

  it("reads TransformMatrix as ITK does: the +30 file's axis 0 points at (0.866, 0.5)", function()
    local p = vol.read(data.path("metaimage/BrainProtonDensitySliceBorder20DirectionPlus30.mhd"))
    near(0.8660254, p.direction[1][1], 1e-7); near(0.5, p.direction[2][1], 1e-7)
    near(-0.5, p.direction[1][2], 1e-7); near(0.8660254, p.direction[2][2], 1e-7)
    local m = vol.read(data.path("metaimage/BrainProtonDensitySliceBorder20DirectionMinus30.mhd"))
    near(-0.5, m.direction[2][1], 1e-7)
    -- same pixels as the uncompressed file
    local plain = vol.read(data.path("metaimage/BrainProtonDensitySliceBorder20.mhd"))
    assert.equal(plain:eq(p):stats().min, 1)
  end)

  it("reads the key synonyms of the ITK examples", function()
    local b = vol.read(data.path("metaimage/ResampleImageFilterInput2x3b.mha"))
    assert.same({60, 70, 0}, b.origin) -- Position
    assert.same({0.5, 0.75, 1}, b.spacing)
    assert.equal("1 0 0 1", vol.read(data.path("metaimage/ResampleImageFilterInput2x3.mha")).meta.Color)
    assert.equal("uint8", vol.read(data.path("metaimage/BrainProtonDensity3Slices.mha")).dtype)
  end)

  it("puts channels on the 4th axis: a 2-D vector image becomes x,y,1,c", function()
    local v = vol.read(data.path("metaimage/BayesianClassifierInitializerMemberships.mhd"))
    assert.same({181, 217, 1, 4}, v.shape)
    -- interleaved on disk: element (c, x, y) at c + 4*(x + 181*y)
    local raw = slurp(data.path("metaimage/BayesianClassifierInitializerMemberships.raw"))
    for _, p in ipairs{{0, 0, 0}, {3, 180, 216}, {2, 90, 108}, {1, 17, 33}} do
      local off = (p[1] + 4 * (p[2] + 181 * p[3])) * 4
      assert.equal(string.unpack("<f", raw, off + 1), v:get(p[2] + 1, p[3] + 1, 1, p[1] + 1))
    end
  end)
end)

describe("vol.read (hand-made MetaImage headers)", function()
  local dir
  setup(function() dir = data.tmpdir() end)

  local function pack(fmt, values)
    local t = {}
    for i, x in ipairs(values) do t[i] = string.pack(fmt, x) end
    return table.concat(t)
  end

  local VALUES = {-300, 200, 7, -1, 32767, -32768, 0, 1, 2, 3, 4, 5}

  it("tolerates spaces around '=', reads big-endian data and the synonyms", function()
    spit(dir .. "/be.dat", pack(">i2", VALUES))
    spit(dir .. "/be.mhd", table.concat({
      "NDims=3", "DimSize   =   3 2 2", "ElementType= MET_SHORT", "ElementByteOrderMSB =True",
      "Origin = 1 2 3", "Orientation = 0 1 0 -1 0 0 0 0 1", "ElementSize = 2 2 4",
      "ElementDataFile = be.dat", ""}, "\n"))
    local v = vol.read(dir .. "/be.mhd")
    assert.same({3, 2, 2}, v.shape)
    assert.same({1, 2, 3}, v.origin)
    assert.same({2, 2, 4}, v.spacing) -- ElementSize when there is no ElementSpacing
    assert.same({{0, -1, 0}, {1, 0, 0}, {0, 0, 1}}, v.direction)
    each(v, function(n, i, j, k) assert.equal(VALUES[n + 1], v:get(i, j, k)) end)
  end)

  it("reads Position, Rotation, ElementSpacing over ElementSize, CRLF lines, LOCAL data", function()
    spit(dir .. "/crlf.mha", table.concat({
      "ObjectType = Image", "NDims = 2", "DimSize = 4 3", "ElementType = MET_SHORT",
      "BinaryDataByteOrderMSB = False", "Position = -5 6", "Rotation = 0 -1 1 0",
      "ElementSize = 9 9", "ElementSpacing = 0.25 0.5", "ElementDataFile = LOCAL", ""}, "\r\n")
      .. pack("<i2", VALUES))
    local v = vol.read(dir .. "/crlf.mha")
    assert.same({4, 3}, v.shape)
    assert.same({-5, 6, 0}, v.origin)
    assert.same({0.25, 0.5, 1}, v.spacing)
    assert.same({{0, 1, 0}, {-1, 0, 0}, {0, 0, 1}}, v.direction)
    each(v, function(n, i, j) assert.equal(VALUES[n + 1], v:get(i, j)) end)
  end)

  it("skips HeaderSize bytes, or takes the data from the end with HeaderSize = -1", function()
    spit(dir .. "/hs.raw", string.rep("J", 16) .. pack("<i2", VALUES))
    spit(dir .. "/hs.mhd", "NDims = 2\nDimSize = 4 3\nElementType = MET_SHORT\n"
      .. "HeaderSize = 16\nElementDataFile = hs.raw\n")
    spit(dir .. "/end.raw", string.rep("J", 37) .. pack("<i2", VALUES))
    spit(dir .. "/end.mhd", "NDims = 2\nDimSize = 4 3\nElementType = MET_SHORT\n"
      .. "HeaderSize = -1\nElementDataFile = end.raw\n")
    for _, name in ipairs{"hs.mhd", "end.mhd"} do
      local v = vol.read(dir .. "/" .. name)
      each(v, function(n, i, j) assert.equal(VALUES[n + 1], v:get(i, j)) end)
    end
  end)

  it("reads 64-bit integers as float64 and MET_LONG/MET_ULONG as 32-bit", function()
    local big = {-2 ^ 53, 2 ^ 53, -1, 0, 123456789012, 5}
    spit(dir .. "/ll.mha", "NDims = 2\nDimSize = 3 2\nElementType = MET_LONG_LONG\n"
      .. "BinaryDataByteOrderMSB = True\nElementDataFile = LOCAL\n" .. pack(">i8", big))
    local v = vol.read(dir .. "/ll.mha")
    assert.equal("float64", v.dtype)
    each(v, function(n, i, j) assert.equal(big[n + 1], v:get(i, j)) end)
    spit(dir .. "/ull.mha", "NDims = 2\nDimSize = 2 1\nElementType = MET_ULONG_LONG\n"
      .. "ElementDataFile = LOCAL\n" .. pack("<I8", {0, 1 << 40}))
    assert.equal(2.0 ^ 40, vol.read(dir .. "/ull.mha"):get(2, 1))
    spit(dir .. "/l.mha", "NDims = 2\nDimSize = 2 1\nElementType = MET_LONG\n"
      .. "ElementDataFile = LOCAL\n" .. pack("<i4", {-7, 2147483647}))
    local l = vol.read(dir .. "/l.mha")
    assert.equal("int32", l.dtype); assert.equal(-7, l:get(1, 1))
    spit(dir .. "/ul.mha", "NDims = 2\nDimSize = 2 1\nElementType = MET_ULONG\n"
      .. "ElementDataFile = LOCAL\n" .. pack("<I4", {4294967295, 1}))
    assert.equal("uint32", vol.read(dir .. "/ul.mha").dtype)
    assert.equal(4294967295, vol.read(dir .. "/ul.mha"):get(1, 1))
  end)

  it("reads a 3-D image with channels as x,y,z,c", function()
    -- 2x2x2 voxels, 3 channels, interleaved: value = 100*c + voxel index
    local t = {}
    for vox = 0, 7 do for c = 0, 2 do t[#t + 1] = 100 * c + vox end end
    spit(dir .. "/rgb.mha", "NDims = 3\nDimSize = 2 2 2\nElementNumberOfChannels = 3\n"
      .. "ElementType = MET_USHORT\nElementDataFile = LOCAL\n" .. pack("<I2", t))
    local v = vol.read(dir .. "/rgb.mha")
    assert.same({2, 2, 2, 3}, v.shape)
    each(v, function(n, i, j, k, c)
      assert.equal(100 * (c - 1) + (n % 8), v:get(i, j, k, c))
    end)
  end)

  it("reads NDims = 4 with the 4th spacing as tstep, and NDims = 1 as one row", function()
    spit(dir .. "/t.mha", "NDims = 4\nDimSize = 2 1 1 3\nElementSpacing = 1 1 1 2.5\n"
      .. "ElementType = MET_UCHAR\nElementDataFile = LOCAL\n" .. "\1\2\3\4\5\6")
    local v = vol.read(dir .. "/t.mha")
    assert.same({2, 1, 1, 3}, v.shape)
    assert.equal(2.5, v.tstep)
    assert.equal(6, v:get(2, 1, 1, 3))
    spit(dir .. "/row.mha", "NDims = 1\nDimSize = 3\nElementSpacing = 0.5\n"
      .. "ElementType = MET_UCHAR\nElementDataFile = LOCAL\n" .. "\7\8\9")
    local r = vol.read(dir .. "/row.mha")
    assert.same({3, 1}, r.shape)
    assert.equal(0.5, r.spacing[1])
    assert.equal(9, r:get(3, 1))
  end)

  it("reads compressed LOCAL data without CompressedDataSize", function()
    local v = sample({6, 5, 4}, "float32")
    v:write(dir .. "/c.mha", {compress = true})
    local text = slurp(dir .. "/c.mha"):gsub("CompressedDataSize = %d+\n", "")
    spit(dir .. "/c2.mha", text)
    assert_same_volume(v, vol.read(dir .. "/c2.mha"))
  end)
end)

describe("vol.read (damaged MetaImage)", function()
  local dir
  setup(function() dir = data.tmpdir() end)

  -- Writes a header with the given lines (and optional data file) and
  -- checks the read fails with a message naming the header and saying msg.
  local function fails(name, header, msg, datafile, bytes)
    local path = dir .. "/" .. name
    if datafile then spit(dir .. "/" .. datafile, bytes) end
    spit(path, header)
    local ok, err = pcall(vol.read, path)
    assert.is_false(ok, "read of " .. name .. " should fail")
    assert.equal(1, err:find(path, 1, true), "message does not start with the file: " .. err)
    assert.truthy(err:find(msg, 1, true), "expected '" .. msg .. "' in: " .. err)
    local _, count = err:gsub(path:gsub("%p", "%%%0"), "")
    assert.equal(1, count, "file named more than once: " .. err)
  end

  local H = "NDims = 3\nDimSize = 4 4 4\nElementType = MET_SHORT\n"

  it("refuses a data file shorter than the header says", function()
    fails("short.mhd", H .. "ElementDataFile = short.raw\n",
          "data file short.raw has 100 bytes, header needs 128", "short.raw", string.rep("x", 100))
    fails("short.mha", H .. "ElementDataFile = LOCAL\n" .. string.rep("x", 127),
          "has 127 bytes after the header, header needs 128")
  end)

  it("refuses a missing data file", function()
    fails("nodata.mhd", H .. "ElementDataFile = nothere.raw\n", "data file nothere.raw: cannot open")
  end)

  it("refuses absurd DimSize before allocating", function()
    fails("neg.mhd", "NDims = 3\nDimSize = 4 -4 4\nElementType = MET_SHORT\nElementDataFile = LOCAL\n",
          "DimSize must be integers >= 1")
    fails("zero.mhd", "NDims = 2\nDimSize = 0 4\nElementType = MET_SHORT\nElementDataFile = LOCAL\n",
          "DimSize must be integers >= 1")
    fails("huge.mha", "NDims = 3\nDimSize = 100000 100000 100000\nElementType = MET_SHORT\n"
          .. "ElementDataFile = LOCAL\n" .. string.rep("x", 64),
          "has 64 bytes after the header, header needs 2000000000000000")
    fails("overflow.mha", "NDims = 3\nDimSize = 4000000000 4000000000 4000000000\n"
          .. "ElementType = MET_SHORT\nElementDataFile = LOCAL\n", "too large")
    fails("count.mha", "NDims = 3\nDimSize = 4 4\nElementType = MET_SHORT\nElementDataFile = LOCAL\n",
          "DimSize has 2 numbers, NDims = 3 needs 3")
    fails("huge.mhd", "NDims = 2\nDimSize = 100000 100000\nElementType = MET_FLOAT\n"
          .. "CompressedData = True\nElementDataFile = huge.zraw\n",
          "cannot expand to the 40000000000 bytes", "huge.zraw", string.rep("x", 1000))
  end)

  it("refuses corrupt or truncated compressed data", function()
    fails("bad.mhd", H .. "CompressedData = True\nElementDataFile = bad.zraw\n",
          "data file bad.zraw: corrupt or truncated zlib data", "bad.zraw", string.rep("\0\1\2\3", 40))
    local v = sample({6, 5, 4}, "int16")
    v:write(dir .. "/cut.mhd", {compress = true})
    local z = slurp(dir .. "/cut.zraw")
    spit(dir .. "/cut.zraw", z:sub(1, #z // 2))
    local ok, err = pcall(vol.read, dir .. "/cut.mhd")
    assert.is_false(ok)
    assert.truthy(err:find("CompressedDataSize", 1, true) or err:find("zlib", 1, true), err)
  end)

  it("refuses what it does not support, saying so", function()
    fails("etype.mha", "NDims = 2\nDimSize = 2 2\nElementType = MET_FOO\nElementDataFile = LOCAL\n",
          "ElementType MET_FOO is not supported")
    fails("list.mhd", H .. "ElementDataFile = LIST\nslice1.raw\n", "file lists and patterns")
    fails("pattern.mhd", H .. "ElementDataFile = slice%03d.raw 1 4 1\n", "file lists and patterns")
    fails("ascii.mha", H .. "BinaryData = False\nElementDataFile = LOCAL\n1 2 3\n", "ASCII")
    fails("ndims.mha", "NDims = 5\nDimSize = 2 2 2 2 2\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n",
          "NDims = 5 (expected 1 to 4)")
  end)

  it("refuses headers that are not MetaImage", function()
    fails("nodf.mha", H .. "ElementSpacing = 1 1 1\n", "no ElementDataFile line")
    fails("binary.mha", "\0\1\2\3garbage\n\255\254", "no ElementDataFile line")
    fails("nokey.mha", "this is not a header\n", "is not 'Key = Value'")
    fails("nondims.mha", "DimSize = 2 2\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n",
          "NDims is missing")
    fails("spacing.mha", H .. "ElementSpacing = 1 0 1\nElementDataFile = LOCAL\n",
          "ElementSpacing must be > 0 (got 0 on axis 2)")
    fails("nan.mha", H .. "Offset = 1 x 2\nElementDataFile = LOCAL\n", "Offset must be a list of numbers")
    fails("hsize.mhd", H .. "HeaderSize = 5000\nElementDataFile = hs.raw\n",
          "HeaderSize = 5000 is past its end", "hs.raw", string.rep("x", 200))
  end)
end)

describe("v:write (MetaImage failures)", function()
  local dir
  before_each(function() dir = data.tmpdir() end)

  it("names the file and leaves nothing when the folder does not exist", function()
    local v = sample({3, 3, 3}, "uint8")
    for _, name in ipairs{"/missing/x.mhd", "/missing/x.mha"} do
      local ok, err = pcall(v.write, v, dir .. name)
      assert.is_false(ok)
      assert.truthy(err:find(dir .. name, 1, true), err)
    end
    assert.same({}, listdir(dir))
  end)

  it("removes the data file and every temporary when the header cannot be placed", function()
    local v = sample({3, 3, 3}, "uint8")
    -- a non-empty folder where the header should go: the rename fails last
    for _, name in ipairs{"busy.mhd", "busy.mha"} do
      assert(os.execute("mkdir " .. q(dir .. "/" .. name) .. " && touch " .. q(dir .. "/" .. name .. "/f")))
      local ok, err = pcall(v.write, v, dir .. "/" .. name, {compress = name == "busy.mha"})
      assert.is_false(ok)
      assert.truthy(err:find(dir .. "/" .. name, 1, true), err)
    end
    assert.same({"busy.mha", "busy.mhd"}, listdir(dir))
  end)
end)
