-- DICOM files the other specs do not cover, each standing for a class of
-- real files: encapsulated frames whose offset table is wrong, uncompressed
-- YBR_FULL_422, enhanced objects with geometry in the per-frame groups, an
-- invalid NumberOfFrames, and gzip-wrapped files.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local fx = require "helpers.dicom_fixture"

-- One RLE Lossless frame of 8-bit values (one segment of literal runs).
local function rle_frame(values)
  local seg = {}
  for i = 1, #values, 128 do
    local run = {}
    for k = i, math.min(i + 127, #values) do run[#run + 1] = string.char(values[k]) end
    seg[#seg + 1] = string.char(#run - 1) .. table.concat(run)
  end
  local body = table.concat(seg)
  return string.pack("<I4I4", 1, 64) .. ("\0"):rep(56) .. body
end

-- An 8-bit 2x2 multi-frame RLE file: frame f holds 10*f + 0..3. fragments
-- is a list of fragment lists per frame; bot gives the offset table bytes
-- (string of little-endian uint32) or nil for none.
local function rle_file(path, frame_frags, bot)
  local nframes = #frame_frags
  local ds = fx.slice_dataset{rows = 2, cols = 2, bits = 8, signed = false, frames = nframes,
    pixel_data = false, modality = "OT"}
  local items = {string.pack("<I2I2I4", 0xFFFE, 0xE000, #(bot or "")) .. (bot or "")}
  for _, frags in ipairs(frame_frags) do
    for _, f in ipairs(frags) do
      if #f % 2 == 1 then f = f .. "\0" end
      items[#items + 1] = string.pack("<I2I2I4", 0xFFFE, 0xE000, #f) .. f
    end
  end
  items[#items + 1] = string.pack("<I2I2I4", 0xFFFE, 0xE0DD, 0)
  ds[#ds + 1] = {0x7FE0, 0x0010, "OB", table.concat(items), undefined = true}
  fx.write_bytes(path, fx.file_bytes(ds, {syntax = "1.2.840.10008.1.2.5"}))
end

local function frame_values(f) return {10 * f, 10 * f + 1, 10 * f + 2, 10 * f + 3} end

local function check_frames(v, n)
  assert.are.same({2, 2, n}, v.shape)
  for f = 1, n do
    local want = frame_values(f)
    assert.are.same(want, {v:get(1, 1, f), v:get(2, 1, f), v:get(1, 2, f), v:get(2, 2, f)})
  end
end

describe("encapsulated frames and the Basic Offset Table", function()
  local dir = data.tmpdir()

  it("ignores an offset table whose entries do not land on fragments: one fragment per frame", function()
    local frames = {}
    for f = 1, 3 do frames[f] = {rle_frame(frame_values(f))} end
    local bot = string.pack("<I4I4I4", 0, 10, 20) -- not fragment starts
    local p = dir .. "/badbot.dcm"
    rle_file(p, frames, bot)
    check_frames(vol.read_dicom(p, {raw = true}), 3)
  end)

  it("uses a valid offset table to join frames split over fragments", function()
    local frames, offs, pos = {}, {}, 0
    for f = 1, 3 do
      local b = rle_frame(frame_values(f))
      frames[f] = {b:sub(1, 40), b:sub(41)}
      offs[f] = pos
      for _, x in ipairs(frames[f]) do pos = pos + 8 + #x + #x % 2 end
    end
    local p = dir .. "/goodbot.dcm"
    rle_file(p, frames, string.pack("<I4I4I4", offs[1], offs[2], offs[3]))
    check_frames(vol.read_dicom(p, {raw = true}), 3)
  end)

  it("names the bad table when fragments cannot be assigned otherwise", function()
    local frames = {}
    for f = 1, 3 do
      local b = rle_frame(frame_values(f))
      frames[f] = {b:sub(1, 40), b:sub(41)}
    end
    local p = dir .. "/badbot_split.dcm"
    rle_file(p, frames, string.pack("<I4I4I4", 0, 12, 30))
    local ok, err = pcall(vol.read_dicom, p)
    assert.is_false(ok)
    assert.truthy(err:find("Basic Offset Table entry 2", 1, true), err)
    assert.truthy(err:find("6 fragments for 3 frames", 1, true), err)
    assert.is_nil(err:find("no offset table", 1, true), err)
  end)
end)

describe("uncompressed YBR_FULL_422", function()
  local ref = require "helpers.ref"

  it("expands Y1 Y2 Cb Cr pairs to three planes, as pydicom does", function()
    local dir = data.tmpdir()
    local ds = fx.slice_dataset{rows = 2, cols = 2, bits = 8, signed = false, pixel_data = false,
      modality = "OT"}
    for _, el in ipairs(ds) do
      if el[1] == 0x28 and el[2] == 0x02 then el[4] = 3 end
      if el[1] == 0x28 and el[2] == 0x04 then el[4] = "YBR_FULL_422" end
    end
    ds[#ds + 1] = {0x0028, 0x0006, "US", 0}
    ds[#ds + 1] = {0x7FE0, 0x0010, "OB", string.char(1, 2, 50, 60, 3, 4, 70, 80)}
    local p = dir .. "/ybr422.dcm"
    fx.write_bytes(p, fx.file_bytes(ds))
    local v = vol.read_dicom(p)
    assert.are.same({2, 2, 1, 3}, v.shape)
    assert.are.equal("uint8", v.dtype)
    local got = {}
    for c = 1, 3 do for y = 1, 2 do for x = 1, 2 do got[#got + 1] = v:get(x, y, 1, c) end end end
    assert.are.same({1, 2, 3, 4, 50, 50, 70, 70, 60, 60, 80, 80}, got)
  end)

  local real = "/usr/lib/python3/dist-packages/pydicom/data/test_files/SC_ybr_full_422_uncompressed.dcm"
  it("reads pydicom's SC_ybr_full_422_uncompressed.dcm bit for bit", function()
    assert(io.open(real, "rb"), "missing " .. real .. " (Debian package python3-pydicom)")
    local r = ref.run("dicom_pixels_ref.py", real)
    local v = vol.read_dicom(real)
    local rows, cols = r.shape[1], r.shape[2]
    assert.are.same({cols, rows, 1, 3}, v.shape)
    for i = 0, rows * cols * 3 - 1, 7 do -- every 7th value, [row][col][sample]
      local s, pix = i % 3, i // 3
      assert.are.equal(r.values[i + 1], v:get(pix % cols + 1, pix // cols + 1, 1, s + 1))
    end
  end)
end)

-- An enhanced MR of n 3x2 frames. iops[f], ipps[f] per frame, ps per
-- frame too when per_frame_ps (else in the shared group).
local function enhanced(path, o)
  local n = #o.ipps
  local ds = fx.slice_dataset{rows = 2, cols = 3, frames = n, modality = "MR",
    sop_class = "1.2.840.10008.5.1.4.1.1.4.1", pixel_bytes = fx.pixel_bytes((function()
      local t = {} for i = 1, 6 * n do t[i] = i end return t end)())}
  local pf = {}
  for f = 1, n do
    local item = {
      {0x0020, 0x9113, "SQ", {{{0x0020, 0x0032, "DS", o.ipps[f]}}}},
      {0x0020, 0x9116, "SQ", {{{0x0020, 0x0037, "DS", o.iops[f] or o.iops[1]}}}},
    }
    if o.per_frame_ps then
      item[#item + 1] = {0x0028, 0x9110, "SQ", {{{0x0028, 0x0030, "DS", o.ps}, {0x0018, 0x0050, "DS", {2}}}}}
    end
    pf[f] = item
  end
  ds[#ds + 1] = {0x5200, 0x9230, "SQ", pf}
  if not o.per_frame_ps then
    ds[#ds + 1] = {0x5200, 0x9229, "SQ", {{{0x0028, 0x9110, "SQ", {{{0x0028, 0x0030, "DS", o.ps}}}}}}}
  end
  fx.write_bytes(path, fx.file_bytes(ds))
end

describe("enhanced objects with geometry in the per-frame groups", function()
  local dir = data.tmpdir()
  local sag = {0, 1, 0, 0, 0, -1} -- rows along P, columns along I: a sagittal scan

  it("reads orientation and spacing of every frame (a sagittal scan stays sagittal)", function()
    local p = dir .. "/sag.dcm"
    enhanced(p, {iops = {sag}, ipps = {{10, -5, 7}, {8, -5, 7}, {6, -5, 7}}, ps = {0.5, 0.75},
      per_frame_ps = true})
    local v = vol.read_dicom(p, {raw = true})
    -- the normal (row x column) is -x: slices go from x = 10 down to 6
    assert.are.same({{0, 0, -1}, {1, 0, 0}, {0, -1, 0}}, v.direction)
    assert.are.same({0.75, 0.5, 2}, v.spacing)
    assert.are.same({10, -5, 7}, v.origin)
    assert.is_nil(v.meta.gantry_tilt_deg)
    local via_read = vol.read(p, {raw = true})
    assert.are.same(v.direction, via_read.direction)
    assert.are.same(v.origin, via_read.origin)
  end)

  it("refuses frames that disagree on orientation, naming the frame", function()
    local p = dir .. "/mixed.dcm"
    enhanced(p, {iops = {sag, sag, {1, 0, 0, 0, 1, 0}}, ipps = {{10, -5, 7}, {8, -5, 7}, {6, -5, 7}},
      ps = {0.5, 0.5}})
    local ok, err = pcall(vol.read_dicom, p)
    assert.is_false(ok)
    assert.truthy(err:find("frames disagree on ImageOrientationPatient", 1, true), err)
    assert.truthy(err:find("frame 3", 1, true), err)
  end)

  it("places a single enhanced frame by its per-frame position in vol.read and read_dicom", function()
    local p = dir .. "/one.dcm"
    enhanced(p, {iops = {{1, 0, 0, 0, 1, 0}}, ipps = {{-12.5, 30, 44}}, ps = {0.8, 0.8}})
    for _, read in ipairs{vol.read, vol.read_dicom} do
      local v = read(p)
      assert.are.same({-12.5, 30, 44}, v.origin)
      assert.are.same({0.8, 0.8}, {v.spacing[1], v.spacing[2]})
    end
  end)
end)

describe("NumberOfFrames that is not a number", function()
  it("is an error, never a partial volume", function()
    local dir = data.tmpdir()
    local px = {}
    for i = 1, 4 * 15 do px[i] = i end
    local p = dir .. "/frames1A.dcm"
    fx.write_slice(p, {rows = 2, cols = 2, pixels = px, extra = {{0x0028, 0x0008, "IS", "1A"}}})
    local ok, err = pcall(vol.read_dicom, p)
    assert.is_false(ok)
    assert.truthy(err:find("NumberOfFrames", 1, true) and err:find('"1A"', 1, true), err)
    ok, err = pcall(vol.read, p)
    assert.is_false(ok)
    assert.truthy(err:find("NumberOfFrames", 1, true), err)
  end)
end)

describe("gzip-wrapped DICOM", function()
  it("is read through vol.read and read_dicom, alone and in a folder", function()
    local gz = data.path("dicom/single/zipMR.gz")
    local plain = vol.read(data.path("dicom/single/MR_small.dcm"))
    local dir = data.tmpdir()
    os.execute("cp " .. data.shell_quote(gz) .. " " .. data.shell_quote(dir .. "/a.dcm.gz"))
    for _, v in ipairs{vol.read(gz), vol.read_dicom(gz), vol.read_dicom(dir)} do
      assert.are.same(plain.shape, v.shape)
      assert.are.same(plain.origin, v.origin)
      assert.are.equal(0, (v - plain):abs():stats().max)
    end
  end)

  it("names a gzip file that is neither NIfTI nor DICOM", function()
    local dir = data.tmpdir()
    local p = dir .. "/notes.gz"
    local f = assert(io.open(dir .. "/notes", "wb"))
    f:write(("hello "):rep(100))
    f:close()
    os.execute("gzip " .. data.shell_quote(dir .. "/notes"))
    local ok, err = pcall(vol.read, p)
    assert.is_false(ok)
    assert.truthy(err:find(p, 1, true), err)
  end)
end)
