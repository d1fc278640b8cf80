-- DICOM files: every real sample against its references (expected.json of
-- ../shared/data when it is there, and pydicom run now, always: values bit
-- for bit through sha256, geometry, tags), each transfer syntax, and
-- damaged input.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local dref = require "helpers.dicom_ref"
local fx = require "helpers.dicom_fixture"

-- sha256 of the values as float64 little endian, x fastest (= expected's
-- C order of [frame,]row,col).
local function sha_f64(v)
  local dir = data.tmpdir()
  v:astype("float64"):write(dir .. "/v.mhd")
  local p = io.popen("sha256sum " .. data.shell_quote(dir .. "/v.raw"))
  local h = p:read("a"):match("^(%x+)")
  p:close()
  return h
end

local function close(a, b, rel)
  return math.abs(a - b) <= (rel or 1e-9) * math.max(1, math.abs(b))
end

-- Checks a volume against a reference statistics block (see helpers/dicom_ref.lua).
-- float32 volumes (doses, non-integral slopes) are compared at float32 precision.
local function check_stats(v, st, what)
  local s = v:stats()
  local rel = v.dtype == "float32" and 1e-6 or 1e-9
  assert.is_true(close(s.sum, st.sum, rel), what .. ": sum " .. s.sum .. " expected " .. st.sum)
  assert.is_true(close(s.min, st.min, rel), what .. ": min " .. s.min .. " expected " .. st.min)
  assert.is_true(close(s.max, st.max, rel), what .. ": max " .. s.max .. " expected " .. st.max)
  assert.is_true(close(s.mean, st.mean, 1e-6), what .. ": mean")
  local rgb = st.array_axes[#st.array_axes] == "sample"
  for _, smp in ipairs(st.samples) do
    local ix = smp.index
    local got
    if rgb then -- (row, col, sample) -> (x, y, 1, channel)
      got = v:get(ix[2] + 1, ix[1] + 1, 1, ix[3] + 1)
    else
      got = v:get(ix[#ix] + 1, ix[#ix - 1] + 1, (#ix == 3 and ix[1] or 0) + 1)
    end
    assert.is_true(close(got, smp.value, rel), what .. ": sample at " .. table.concat(ix, ","))
  end
end

-- Files whose transfer syntax medula refuses by design (see docs/choices.md):
-- 12-bit lossy JPEG (Extended, process 4; the samples here are 12-bit).
-- 8-bit Baseline (4.50) and Extended JPEG decode ("read_dicom on 8-bit JPEG").
local REFUSED = {["1.2.840.10008.1.2.4.51"] = "JPEG Extended"}

-- Checks what medula reads from the sample file rel against e, a reference
-- block of helpers/dicom_ref.lua (from names its source in messages).
local function check_file(rel, e, from)
  local path = data.path(rel)
  local what = rel .. " (" .. from .. ")"
  if e.expect_error or REFUSED[e.transfer_syntax] then
    local ok, err = pcall(vol.read_dicom, path)
    assert.is_false(ok, what .. ": read a file it must refuse")
    assert.truthy(err:find(path, 1, true), err)
    if REFUSED[e.transfer_syntax] then assert.truthy(err:find(REFUSED[e.transfer_syntax], 1, true), err) end
    if e.expect_error then assert.truthy(err:find("Pixel Data", 1, true), err) end
    return
  end
  assert.is_table(e.stored_stats, what .. ": no reference values; pydicom says: " .. tostring(e.undecodable))
  local raw = vol.read_dicom(path, {raw = true})
  check_stats(raw, e.stored_stats, what .. " stored")
  local t = e.tags
  local nsamples = t.SamplesPerPixel or 1
  if nsamples == 1 then
    assert.are.equal(e.stored_stats.sha256_f64le_C, sha_f64(raw), what .. ": stored values")
    local v = vol.read_dicom(path, {keep_padding = true})
    if t.Modality == "RTDOSE" then
      check_stats(v, e.dose_gy_stats, what .. " dose")
    else
      check_stats(v, e.rescaled_stats, what .. " rescaled")
      assert.are.equal(e.rescaled_stats.sha256_f64le_C, sha_f64(v), what .. ": rescaled values")
    end
  else
    assert.are.same({t.Columns, t.Rows, 1, 3}, raw.shape)
  end
  if t.PixelSpacing and nsamples == 1 then
    assert.is_true(close(raw.spacing[1], t.PixelSpacing[2]) and close(raw.spacing[2], t.PixelSpacing[1]), what)
  end
  if t.ImagePositionPatient and not t.NumberOfFrames then
    for i = 1, 3 do assert.is_true(close(raw.origin[i], t.ImagePositionPatient[i], 1e-12), what) end
  end
  for _, key in ipairs{"Modality", "SeriesInstanceUID", "StudyInstanceUID", "Manufacturer"} do
    if type(t[key]) == "string" then assert.are.equal(t[key], raw.meta[key], what .. ": " .. key) end
  end
end

describe("read_dicom on the real sample files", function()
  local exp = data.expected()
  if exp then
    it("lists the DICOM files and series folders expected.json has", function()
      local files, folders = {}, {}
      for rel, e in pairs(exp.files) do
        if e.format == "dicom" and not rel:find("/mosaic_epi/", 1, true) then files[#files + 1] = rel end
      end
      for rel in pairs(exp.series) do
        if not rel:find("/mosaic_epi", 1, true) then folders[#folders + 1] = rel end
      end
      table.sort(files)
      table.sort(folders)
      assert.are.same(files, dref.FILES)
      assert.are.same(folders, dref.SERIES)
    end)
  else
    pending("the file list against expected.json (absent: each file is checked against live references)")
  end
  for _, rel in ipairs(dref.FILES) do
    it(rel, function()
      for _, r in ipairs(dref.references("file", rel)) do check_file(rel, r.value, r.from) end
    end)
  end
end)

describe("read_dicom transfer syntaxes", function()
  it("give CT_small's values in all seven", function()
    local ref = sha_f64(vol.read_dicom(data.path("dicom/single/CT_small.dcm")))
    for _, name in ipairs{"bigendian", "deflated", "implicit", "jpeg_lossless_sv1", "jpegls_lossless", "rle"} do
      local v = vol.read_dicom(data.path("dicom/derived/CT_small_" .. name .. ".dcm"))
      assert.are.equal("int16", v.dtype)
      assert.are.equal(ref, sha_f64(v), name)
    end
  end)
  it("give MR_small's values in all of its", function()
    local ref = sha_f64(vol.read_dicom(data.path("dicom/single/MR_small.dcm")))
    for _, name in ipairs{"implicit", "bigendian", "expb", "RLE", "jp2klossless", "jpeg_ls_lossless", "padded"} do
      assert.are.equal(ref, sha_f64(vol.read_dicom(data.path("dicom/single/MR_small_" .. name .. ".dcm"))), name)
    end
  end)
  it("CT in Hounsfield units as int16 through vol.read too", function()
    local v = vol.read(data.path("dicom/single/CT_small.dcm"))
    assert.are.equal("int16", v.dtype)
    assert.are.equal(-896, v:stats().min)
    assert.are.equal("CT", v.meta.Modality)
    assert.are.equal(5, tonumber(v.meta["0018,0050"]))
  end)
end)

describe("read_dicom Siemens files", function()
  it("reads a rescaled phase map (slope 2, intercept -4096)", function()
    local v = vol.read_dicom(data.path("dicom/siemens/fieldmap_phase_3mm.dcm"))
    assert.are.equal("int16", v.dtype)
    assert.are.equal(-4052, v:stats().min)
  end)
  it("unpacks a mosaic into 35 slices at nibabel's geometry", function()
    local rel = "dicom/siemens/mosaic_epi/axasc35.dcm"
    local v = vol.read_dicom(data.path(rel))
    assert.are.same({64, 64, 35}, v.shape)
    local o = {v:index_to_world(1, 1, 1)}
    local w = {v:index_to_world(1, 2, 1)}  -- one step along our axis 2
    for _, r in ipairs(dref.references("mosaic", rel)) do
      local what = "mosaic (" .. r.from .. ")"
      check_stats(v, r.value.stack_stats, what)
      -- nibabel's array is target[i,j,k] = stack[k, i, j]: its axis 0 is our axis 2
      local A = r.value.nibabel.affine_lps
      for i = 1, 3 do assert.is_true(math.abs(o[i] - A[i][4]) < 1e-4, what .. ": origin " .. i) end
      for i = 1, 3 do assert.is_true(math.abs(w[i] - o[i] - A[i][1]) < 1e-4, what .. ": row axis " .. i) end
    end
  end)
end)

describe("read_dicom on 8-bit JPEG", function()
  local ref = require "helpers.ref"
  local slurp = require("helpers.files").slurp

  for _, mode in ipairs{"L", "RGB"} do
    it("decodes " .. mode .. " frames as Pillow does, split or not into fragments", function()
      local dir = data.tmpdir()
      local r = ref.run("dicom_ref.py", "jpeg", dir .. "/f.jpg", mode)
      local jpg = slurp(dir .. "/f.jpg")
      local half = #jpg // 2
      local samples = mode == "L" and 1 or 3
      local frames = {{jpg:sub(1, half), jpg:sub(half + 1)}, {jpg}}
      local ds = fx.slice_dataset{rows = r.rows, cols = r.cols, bits = 8, signed = false, frames = 2,
        pixel_data = false, modality = "US"}
      for _, el in ipairs(ds) do
        if el[1] == 0x28 and el[2] == 0x02 then el[4] = samples end
        if el[1] == 0x28 and el[2] == 0x04 then el[4] = mode == "L" and "MONOCHROME2" or "YBR_FULL" end
      end
      ds[#ds + 1] = {0x7FE0, 0x0010, "OB", fx.encapsulate(frames, true), undefined = true}
      local p = dir .. "/jpeg.dcm"
      fx.write_bytes(p, fx.file_bytes(ds, {syntax = "1.2.840.10008.1.2.4.50"}))
      local v = vol.read_dicom(p, {raw = true})
      for f = 1, 2 do
        for i, x in ipairs(r.values) do
          local c = (i - 1) // (r.rows * r.cols)
          local rest = (i - 1) % (r.rows * r.cols)
          local got = samples == 1 and v:get(rest % r.cols + 1, rest // r.cols + 1, f)
            or v:get(rest % r.cols + 1, rest // r.cols + 1, f, c + 1)
          assert.are.equal(x, got)
        end
      end
    end)
  end
end)

describe("dicom_header", function()
  it("lists tags by keyword and by number without reading pixels", function()
    local h = vol.dicom_header(data.path("dicom/single/CT_small.dcm"))
    assert.are.equal("GE MEDICAL SYSTEMS", h.Manufacturer)
    assert.are.equal(h.Manufacturer, h["0008,0070"])
    assert.are.equal("128", h.Rows)
    assert.is_nil(h.PixelData)
  end)
end)

describe("read_dicom on damaged input", function()
  local dir = data.tmpdir()
  local good = fx.file_bytes(fx.slice_dataset{rows = 8, cols = 8, pixels = (function()
    local t = {} for i = 1, 64 do t[i] = i - 30 end return t end)(), ipp = {0, 0, 0},
    iop = {1, 0, 0, 0, 1, 0}, spacing = {1, 1}})

  local function fails(bytes, pattern)
    local p = dir .. "/bad.dcm"
    fx.write_bytes(p, bytes)
    local ok, err = pcall(vol.read_dicom, p)
    assert.is_false(ok, "read a damaged file")
    assert.truthy(err:find(p, 1, true), "error does not name the file: " .. err)
    if pattern then assert.truthy(err:find(pattern, 1, true), err) end
  end

  it("reads the undamaged fixture", function()
    fx.write_bytes(dir .. "/good.dcm", good)
    assert.are.equal(-29, vol.read_dicom(dir .. "/good.dcm"):stats().min)
  end)
  it("fails cleanly when truncated anywhere", function()
    for cut = 0, #good - 1, 7 do
      local p = dir .. "/cut.dcm"
      fx.write_bytes(p, good:sub(1, cut))
      local ok, err = pcall(vol.read_dicom, p)
      assert.is_false(ok, "read a file cut at " .. cut)
      assert.truthy(err:find(p, 1, true), err)
    end
  end)
  it("refuses an element whose length runs past the end", function()
    local ds = fx.slice_dataset{rows = 2, cols = 2, pixels = {1, 2, 3, 4}}
    local bytes = fx.file_bytes(ds)
    local at = bytes:find("fixture", 1, true) -- SeriesDescription value; its length is 2 bytes before
    local bad = bytes:sub(1, at - 3) .. string.pack("<I2", 60000) .. bytes:sub(at)
    fails(bad, "remain in the file")
  end)
  it("refuses absurd dimensions before allocating", function()
    fails(fx.file_bytes(fx.slice_dataset{rows = 65535, cols = 65535, frames = 100000, pixels = {1, 2}}), "Pixel Data has")
  end)
  it("refuses pixel data shorter than rows x columns x frames", function()
    fails(fx.file_bytes(fx.slice_dataset{rows = 4, cols = 4, frames = 3, pixels = {1, 2, 3, 4, 5, 6, 7, 8}}),
      "Pixel Data has 16 bytes")
  end)
  it("refuses deeply nested sequences", function()
    local item = {}
    local top = item
    for _ = 1, 40 do
      local inner = {}
      item[1] = {0x0008, 0x1115, "SQ", {inner}}
      item = inner
    end
    local ds = fx.slice_dataset{rows = 2, cols = 2, pixels = {1, 2, 3, 4}}
    ds[#ds + 1] = top[1]
    fails(fx.file_bytes(ds), "nested deeper")
  end)
  it("never crashes on changed bytes", function()
    local p = dir .. "/flip.dcm"
    local seed = 12345
    for _ = 1, 300 do
      seed = (seed * 1103515245 + 12345) % 2147483648
      local at = 133 + seed % (#good - 133)
      local b = good:sub(1, at - 1) .. string.char((good:byte(at) + 1 + seed % 255) % 256) .. good:sub(at + 1)
      fx.write_bytes(p, b)
      local ok, err = pcall(vol.read_dicom, p)
      if not ok then assert.truthy(err:find(p, 1, true), err) end
    end
  end)
end)

describe("read_dicom file structure", function()
  local dir = data.tmpdir()
  local px = {}
  for i = 1, 12 do px[i] = i * 3 - 20 end
  local base = {rows = 3, cols = 4, pixels = px, ipp = {1, 2, 3}, iop = {1, 0, 0, 0, 1, 0}, spacing = {0.5, 0.25}}

  local function read(name, bytes, opts)
    fx.write_bytes(dir .. "/" .. name, bytes)
    return vol.read_dicom(dir .. "/" .. name, opts)
  end

  it("reads preamble-less files in every uncompressed syntax", function()
    for _, syntax in ipairs{"explicit", "implicit", "bigendian"} do
      local o = setmetatable({syntax = syntax}, {__index = base})
      local v = read("np_" .. syntax, fx.file_bytes(fx.slice_dataset(o), {syntax = syntax, preamble = false}))
      assert.are.equal(px[7], v:get(3, 2, 1), syntax)
      assert.are.same({0.25, 0.5}, {v.spacing[1], v.spacing[2]})
    end
    assert.is_true(vol.read(dir .. "/np_implicit") ~= nil) -- vol.read sniffs it too
  end)

  it("walks undefined-length sequences and items, and steps over private data", function()
    local ds = fx.slice_dataset(base)
    ds[#ds + 1] = {0x0008, 0x1115, "SQ", {{{0x0020, 0x000E, "UI", "1.2.3"}}, {{0x0008, 0x1150, "UI", "1.2"}}}}
    -- a private value that starts like an item but is not a sequence
    ds[#ds + 1] = {0x0029, 0x1010, "UN", string.pack("<I2I2I4", 0xFFFE, 0xE000, 0xFFFF) .. "garbage!"}
    for _, syntax in ipairs{"explicit", "implicit"} do
      local v = read("sq_" .. syntax, fx.file_bytes(ds, {syntax = syntax, undefined_sq = true}))
      assert.are.equal(px[12], v:get(4, 3, 1), syntax)
      assert.are.equal("<SQ, 2 items>", v.meta.ReferencedSeriesSequence)
    end
  end)

  it("sign-extends from BitsStored and masks bits above HighBit", function()
    -- 12-bit signed values stored with garbage in the top 4 bits
    local raw = {0xF000 | 0x0FFF, 0x1000 | 0x0800, 0x0000 | 0x07FF, 0xA000 | 0x0001}
    local o = {rows = 2, cols = 2, pixels = raw, signed = false, bits_stored = 12, modality = "MR"}
    local ds = fx.slice_dataset(o)
    for _, el in ipairs(ds) do if el[1] == 0x28 and el[2] == 0x103 then el[4] = 1 end end
    local v = read("bits12", fx.file_bytes(ds))
    assert.are.same({-1, -2048, 2047, 1}, {v:get(1, 1, 1), v:get(2, 1, 1), v:get(1, 2, 1), v:get(2, 2, 1)})
  end)

  it("keeps live voxel bytes flat over many reads", function()
    local p = data.path("dicom/single/CT_small.dcm")
    vol.read_dicom(p)
    collectgarbage()
    local before = vol.live_bytes()
    for _ = 1, 50 do vol.read_dicom(p) end
    for _ = 1, 20 do pcall(vol.read_dicom, data.path("dicom/single/MR_truncated.dcm")) end
    collectgarbage()
    collectgarbage()
    assert.are.equal(before, vol.live_bytes())
  end)

  it("reads fractional SEG frames as fractions", function()
    local seg = dir .. "/frac.dcm"
    fx.write_seg(seg, {rows = 2, cols = 2, iop = {1, 0, 0, 0, 1, 0}, spacing = {1, 1}, fractional = true,
      segments = {{number = 3, label = "tumour"}},
      frames = {{ipp = {0, 0, 0}, segment = 3, mask = {0, 255, 128, 100}}}})
    local m, info = vol.read_dicom_seg(seg, nil, {masks = true})
    assert.is_true(info.fractional)
    assert.are.equal("float32", m.dtype)
    assert.is_true(math.abs(m:get(1, 2, 1, 1) - 128 / 255) < 1e-6)
    local lab = vol.read_dicom_seg(seg)
    assert.are.same({0, 3, 3, 0}, {lab:get(1, 1, 1), lab:get(2, 1, 1), lab:get(1, 2, 1), lab:get(2, 2, 1)})
  end)
end)

describe("read_dicom on multi-frame files", function()
  it("orders enhanced frames by their per-frame positions and rescales each", function()
    local dir = data.tmpdir()
    local zs = {4, 0, 8, 2, 6} -- frame k sits at z = zs[k]
    local px, per = {}, {}
    for k, z in ipairs(zs) do
      for i = 1, 6 do px[#px + 1] = z * 10 + i end
      per[k] = {
        {0x0020, 0x9113, "SQ", {{{0x0020, 0x0032, "DS", {5, 6, z}}}}},
        {0x0028, 0x9145, "SQ", {{{0x0028, 0x1052, "DS", {-k}}, {0x0028, 0x1053, "DS", {1}}}}},
      }
    end
    local ds = fx.slice_dataset{rows = 2, cols = 3, frames = #zs, pixels = px, modality = "MR",
      sop_class = "1.2.840.10008.5.1.4.1.1.4.1", extra = {
        {0x5200, 0x9229, "SQ", {{
          {0x0020, 0x9116, "SQ", {{{0x0020, 0x0037, "DS", {1, 0, 0, 0, 1, 0}}}}},
          {0x0028, 0x9110, "SQ", {{{0x0028, 0x0030, "DS", {0.5, 0.5}}}}},
        }}},
        {0x5200, 0x9230, "SQ", per},
      }}
    local p = dir .. "/enhanced.dcm"
    fx.write_bytes(p, fx.file_bytes(ds))
    local v = vol.read_dicom(p)
    assert.are.same({3, 2, 5}, v.shape)
    for k = 1, 5 do -- slice k is at z = 2(k-1); it was frame f with zs[f] = 2(k-1)
      local f
      for j, z in ipairs(zs) do if z == 2 * (k - 1) then f = j end end
      assert.are.equal(2 * (k - 1) * 10 + 1 - f, v:get(1, 1, k))
    end
    assert.are.same({5, 6, 0}, v.origin)
    assert.are.equal(2, v.spacing[3])
  end)
end)

describe("read_dicom on Siemens mosaics", function()
  -- a CSA image header (SV10) with the given entries {name, {values}}
  local function csa(entries)
    local parts = {"SV10", "\4\3\2\1", string.pack("<I4I4", #entries, 77)}
    for _, e in ipairs(entries) do
      parts[#parts + 1] = e[1] .. string.rep("\0", 64 - #e[1])
      parts[#parts + 1] = string.pack("<i4c4i4i4i4", #e[2], "FD  ", 0, #e[2], 77)
      for _, x in ipairs(e[2]) do
        local s = string.format("%.8f", x) .. "\0"
        parts[#parts + 1] = string.pack("<i4i4i4i4", #s, #s, 77, #s) .. s .. string.rep("\0", (4 - #s % 4) % 4)
      end
    end
    return table.concat(parts)
  end

  local function mosaic(dir, normal)
    local px = {}
    for y = 0, 3 do
      for x = 0, 3 do px[#px + 1] = 10 * ((y // 2) * 2 + x // 2) + (y % 2) * 2 + x % 2 end
    end
    local extra = {
      {0x0008, 0x0008, "CS", "ORIGINAL\\PRIMARY\\M\\MOSAIC"},
      {0x0018, 0x0088, "DS", {3}},
      {0x0019, 0x0010, "LO", "SIEMENS MR HEADER"},
      {0x0019, 0x100A, "US", 4},
    }
    if normal then
      extra[#extra + 1] = {0x0029, 0x0010, "LO", "SIEMENS CSA HEADER"}
      extra[#extra + 1] = {0x0029, 0x1010, "OB", csa{{"EchoTime", {30}}, {"SliceNormalVector", normal}}}
    end
    local ds = fx.slice_dataset{rows = 4, cols = 4, pixels = px, ipp = {0, 0, 0}, iop = {1, 0, 0, 0, 1, 0},
      spacing = {1, 1}, modality = "MR", extra = extra}
    for i = #ds, 1, -1 do if ds[i][1] == 8 and ds[i][2] == 8 and ds[i][4]:find("AXIAL") then table.remove(ds, i) end end
    local p = dir .. "/mosaic.dcm"
    fx.write_bytes(p, fx.file_bytes(ds))
    return vol.read_dicom(p)
  end

  it("unpacks the tiles in acquisition order when ascending", function()
    local v = mosaic(data.tmpdir(), {0, 0, 1})
    assert.are.same({2, 2, 4}, v.shape)
    assert.are.same({0, 1, 2, 3}, {v:get(1, 1, 1), v:get(2, 1, 1), v:get(1, 2, 1), v:get(2, 2, 1)})
    assert.are.equal(30, v:get(1, 1, 4))
    assert.are.same({1, 1, 0}, v.origin)
  end)

  it("reverses a descending acquisition (CSA SliceNormalVector) to ascend along the normal", function()
    local v = mosaic(data.tmpdir(), {0, 0, -1})
    assert.are.equal(30, v:get(1, 1, 1))
    assert.are.equal(0, v:get(1, 1, 4))
    assert.are.same({1, 1, -9}, v.origin)
    assert.are.equal(3, v.spacing[3])
  end)
end)
