-- A small DICOM writer for test fixtures (string.pack): single slices and
-- whole series with chosen geometry, rescale, padding and transfer syntax,
-- plus DICOM SEG objects. It writes what the specs need, not every VR.
--   local fx = require "helpers.dicom_fixture"
--   fx.write_slice(path, {rows=4, cols=3, pixels={...}, ipp={0,0,5}, ...})
--   fx.write_series(dir, {n=5, rows=8, cols=8, ...})
local fx = {}

local TS = {
  explicit = "1.2.840.10008.1.2.1",
  implicit = "1.2.840.10008.1.2",
  bigendian = "1.2.840.10008.1.2.2",
}
local LONG = {OB = true, OW = true, SQ = true, UN = true, UT = true, OF = true, OD = true, OL = true}

local function pad_even(s, fill)
  if #s % 2 == 1 then s = s .. (fill or " ") end
  return s
end

-- Value bytes of one element in the given byte order ("<" or ">").
local function value_bytes(vr, v, bo)
  if type(v) == "string" then
    return pad_even(v, (vr == "UI" or vr == "OB") and "\0" or " ")
  end
  if type(v) == "number" then v = {v} end
  local fmt = ({US = "I2", SS = "i2", UL = "I4", SL = "i4", FL = "f", FD = "d"})[vr]
  if fmt then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = string.pack(bo .. fmt, math.tointeger(x) or x) end
    return table.concat(parts)
  end
  local parts = {} -- DS / IS lists
  for i, x in ipairs(v) do parts[i] = (math.type(x) == "integer") and tostring(x) or string.format("%.10g", x) end
  return pad_even(table.concat(parts, "\\"))
end

local encode

-- One element: header + value; sequences hold lists of item datasets.
local function element(el, syntax, undefined_sq)
  local g, e, vr, v = el[1], el[2], el[3], el[4]
  local bo = syntax == "bigendian" and ">" or "<"
  local explicit = syntax ~= "implicit"
  local value, len
  if vr == "SQ" then
    local items = {}
    for i, item in ipairs(v) do
      local body = encode(item, syntax, undefined_sq)
      items[i] = undefined_sq and (string.pack(bo .. "I2I2I4", 0xFFFE, 0xE000, 0xFFFFFFFF) .. body
          .. string.pack(bo .. "I2I2I4", 0xFFFE, 0xE00D, 0))
        or (string.pack(bo .. "I2I2I4", 0xFFFE, 0xE000, #body) .. body)
    end
    value = table.concat(items)
    if undefined_sq then
      value = value .. string.pack(bo .. "I2I2I4", 0xFFFE, 0xE0DD, 0)
      len = 0xFFFFFFFF
    end
  else
    value = value_bytes(vr, v, bo)
  end
  len = len or (el.undefined and 0xFFFFFFFF) or #value
  local head
  if not explicit then
    head = string.pack("<I2I2I4", g, e, len)
  elseif LONG[vr] then
    head = string.pack(bo .. "I2I2c2I2I4", g, e, vr, 0, len)
  else
    head = string.pack(bo .. "I2I2c2I2", g, e, vr, len)
  end
  return head .. value
end

function encode(ds, syntax, undefined_sq)
  table.sort(ds, function(a, b) return a[1] * 65536 + a[2] < b[1] * 65536 + b[2] end)
  local out = {}
  for i, el in ipairs(ds) do out[i] = element(el, syntax, undefined_sq) end
  return table.concat(out)
end
fx.encode = encode

-- Part 10 file bytes: preamble, meta group, dataset (a list of
-- {group, element, VR, value}). opts.syntax: explicit|implicit|bigendian
-- (or a transfer syntax UID with opts.pixel_bytes pre-encapsulated),
-- opts.preamble=false omits preamble and meta group.
function fx.file_bytes(ds, opts)
  opts = opts or {}
  local syntax = opts.syntax or "explicit"
  local uid = TS[syntax] or syntax
  local body = encode(ds, TS[syntax] and syntax or "explicit", opts.undefined_sq)
  if opts.preamble == false then return body end
  local sop_class, sop_inst = "1.2.840.10008.5.1.4.1.1.2", "1.2.3.4"
  for _, el in ipairs(ds) do
    if el[1] == 8 and el[2] == 0x16 then sop_class = el[4] end
    if el[1] == 8 and el[2] == 0x18 then sop_inst = el[4] end
  end
  local meta = encode({
    {2, 1, "OB", "\0\1"}, {2, 2, "UI", sop_class}, {2, 3, "UI", sop_inst}, {2, 0x10, "UI", uid},
  }, "explicit")
  meta = encode({{2, 0, "UL", #meta}}, "explicit") .. meta
  return string.rep("\0", 128) .. "DICM" .. meta .. body
end

function fx.write_bytes(path, bytes)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
end

local uid_counter = 0
function fx.uid(prefix)
  uid_counter = uid_counter + 1
  return (prefix or "1.2.826.0.1.3680043.10.1") .. "." .. os.time() .. "." .. uid_counter
end

-- Encapsulated pixel data: a basic offset table (empty unless bot) and
-- the fragments; frames is a list of lists of fragment byte strings.
-- Use as {0x7FE0, 0x0010, "OB", fx.encapsulate(frames), undefined = true}.
function fx.encapsulate(frames, bot)
  local items, offsets, pos = {}, {}, 0
  local function item(b) return string.pack("<I2I2I4", 0xFFFE, 0xE000, #b) .. b end
  for i, frags in ipairs(frames) do
    offsets[i] = string.pack("<I4", pos)
    for _, f in ipairs(frags) do
      if #f % 2 == 1 then f = f .. "\0" end
      items[#items + 1] = item(f)
      pos = pos + 8 + #f
    end
  end
  return item(bot and table.concat(offsets) or "") .. table.concat(items)
    .. string.pack("<I2I2I4", 0xFFFE, 0xE0DD, 0)
end

-- Pixel bytes of a list of values (16-bit unless bits=8/32), in byte order bo.
function fx.pixel_bytes(values, bits, signed, bo)
  local fmt = ({[8] = "I1", [16] = "I2", [32] = "I4"})[bits or 16]
  if signed then fmt = fmt:lower() end
  local parts = {}
  for i, x in ipairs(values) do parts[i] = string.pack((bo or "<") .. fmt, x) end
  return table.concat(parts)
end

-- The dataset of one CT-like slice. o: rows, cols, pixels (list, row-major,
-- stored values), ipp, iop, spacing {row, col}, slope, intercept,
-- thickness (nil: omitted), instance, series_uid, study_uid, modality,
-- bits (16), signed (true), padding (PixelPaddingValue), extra (elements).
function fx.slice_dataset(o)
  local bits = o.bits or 16
  local signed = o.signed ~= false
  local ds = {
    {0x0008, 0x0008, "CS", "ORIGINAL\\PRIMARY\\AXIAL"},
    {0x0008, 0x0016, "UI", o.sop_class or "1.2.840.10008.5.1.4.1.1.2"},
    {0x0008, 0x0018, "UI", o.sop_uid or fx.uid()},
    {0x0008, 0x0060, "CS", o.modality or "CT"},
    {0x0008, 0x103E, "LO", o.description or "fixture"},
    {0x0010, 0x0020, "LO", o.patient_id or "FIXTURE01"},
    {0x0020, 0x000D, "UI", o.study_uid or "1.2.826.0.1.3680043.10.1.7"},
    {0x0020, 0x000E, "UI", o.series_uid or "1.2.826.0.1.3680043.10.1.8"},
    {0x0020, 0x0013, "IS", {o.instance or 1}},
    {0x0028, 0x0002, "US", 1},
    {0x0028, 0x0004, "CS", "MONOCHROME2"},
    {0x0028, 0x0010, "US", o.rows},
    {0x0028, 0x0011, "US", o.cols},
    {0x0028, 0x0100, "US", bits},
    {0x0028, 0x0101, "US", o.bits_stored or bits},
    {0x0028, 0x0102, "US", (o.bits_stored or bits) - 1},
    {0x0028, 0x0103, "US", signed and 1 or 0},
  }
  local function add(el) ds[#ds + 1] = el end
  if o.ipp then add({0x0020, 0x0032, "DS", o.ipp}) end
  if o.iop then add({0x0020, 0x0037, "DS", o.iop}) end
  if o.spacing then add({0x0028, 0x0030, "DS", o.spacing}) end
  if o.thickness then add({0x0018, 0x0050, "DS", {o.thickness}}) end
  if o.slope then add({0x0028, 0x1053, "DS", {o.slope}}) end
  if o.intercept then add({0x0028, 0x1052, "DS", {o.intercept}}) end
  if o.padding then add({0x0028, 0x0120, signed and "SS" or "US", o.padding}) end
  if o.frames then add({0x0028, 0x0008, "IS", {o.frames}}) end
  for _, el in ipairs(o.extra or {}) do add(el) end
  if o.pixel_data ~= false then
    local bo = o.syntax == "bigendian" and ">" or "<"
    add({0x7FE0, 0x0010, bits == 8 and "OB" or "OW", o.pixel_bytes or fx.pixel_bytes(o.pixels, bits, signed, bo)})
  end
  return ds
end

function fx.write_slice(path, o)
  fx.write_bytes(path, fx.file_bytes(fx.slice_dataset(o), {syntax = o.syntax, preamble = o.preamble}))
end

-- A series of n slices along the normal of iop (default axial), spacing dz,
-- first slice at origin. Stored value of voxel (x, y, k) (0-based) is
-- o.value(x, y, k) (default 100*k + 10*y + x). o.names(k) gives the file
-- name of slice k (default shuffled), o.per_slice(k, t) may change the
-- slice's options table t. Returns the list of paths in slice order.
function fx.write_series(dir, o)
  local n, rows, cols = o.n or 5, o.rows or 6, o.cols or 4
  local iop = o.iop or {1, 0, 0, 0, 1, 0}
  local nrm = {iop[2] * iop[6] - iop[3] * iop[5], iop[3] * iop[4] - iop[1] * iop[6],
               iop[1] * iop[5] - iop[2] * iop[4]}
  local origin, dz = o.origin or {-10, -20, 30}, o.dz or 2.5
  local value = o.value or function(x, y, k) return 100 * k + 10 * y + x end
  local series_uid = o.series_uid or fx.uid()
  local paths = {}
  for k = 0, n - 1 do
    local px = {}
    for y = 0, rows - 1 do
      for x = 0, cols - 1 do px[#px + 1] = value(x, y, k) end
    end
    local z = o.positions and o.positions[k + 1] or k * dz
    local t = {
      rows = rows, cols = cols, pixels = px, iop = iop, spacing = o.spacing or {0.7, 0.9},
      ipp = {origin[1] + z * nrm[1], origin[2] + z * nrm[2], origin[3] + z * nrm[3]},
      thickness = o.thickness, slope = o.slope, intercept = o.intercept, padding = o.padding,
      series_uid = series_uid, instance = o.instance and o.instance(k) or (n - k) * 7 % 11,
      syntax = o.syntax, modality = o.modality, description = o.description,
    }
    if o.per_slice then o.per_slice(k, t) end
    local name = o.names and o.names(k) or string.format("IM%04d", (k * 37 + 11) % 1000)
    paths[k + 1] = dir .. "/" .. name
    fx.write_slice(paths[k + 1], t)
  end
  return paths, series_uid
end

-- A DICOM SEG: o.rows, o.cols, o.iop, o.spacing {row, col}, o.segments
-- {{number, label}...}, o.frames {{ipp, segment, mask (row-major list of 0/1,
-- or 0..255 fractions when o.fractional)}...}. Binary frames are packed one
-- bit per pixel, LSB first, running on across frame boundaries.
function fx.write_seg(path, o)
  local segs, per = {}, {}
  for i, s in ipairs(o.segments) do
    segs[i] = {{0x0062, 0x0004, "US", s.number}, {0x0062, 0x0005, "LO", s.label},
               {0x0062, 0x0008, "CS", "MANUAL"}}
  end
  local bits, bytes, acc, nbits = {}, {}, 0, 0
  for i, f in ipairs(o.frames) do
    per[i] = {
      {0x0020, 0x9113, "SQ", {{{0x0020, 0x0032, "DS", f.ipp}}}},
      {0x0062, 0x000A, "SQ", {{{0x0062, 0x000B, "US", f.segment}}}},
    }
    for _, m in ipairs(f.mask) do
      if o.fractional then
        bytes[#bytes + 1] = string.char(m)
      else
        if m ~= 0 then acc = acc | (1 << nbits) end
        nbits = nbits + 1
        if nbits == 8 then bits[#bits + 1] = string.char(acc); acc, nbits = 0, 0 end
      end
    end
  end
  if nbits > 0 then bits[#bits + 1] = string.char(acc) end
  local pixels = o.fractional and table.concat(bytes) or table.concat(bits)
  local ds = {
    {0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.66.4"},
    {0x0008, 0x0018, "UI", fx.uid()},
    {0x0008, 0x0060, "CS", "SEG"},
    {0x0020, 0x000E, "UI", fx.uid()},
    {0x0028, 0x0002, "US", 1},
    {0x0028, 0x0004, "CS", "MONOCHROME2"},
    {0x0028, 0x0008, "IS", {#o.frames}},
    {0x0028, 0x0010, "US", o.rows},
    {0x0028, 0x0011, "US", o.cols},
    {0x0028, 0x0100, "US", o.fractional and 8 or 1},
    {0x0028, 0x0101, "US", o.fractional and 8 or 1},
    {0x0028, 0x0102, "US", o.fractional and 7 or 0},
    {0x0028, 0x0103, "US", 0},
    {0x0062, 0x0001, "CS", o.fractional and "FRACTIONAL" or "BINARY"},
    {0x0062, 0x0002, "SQ", segs},
    {0x5200, 0x9229, "SQ", {{
      {0x0020, 0x9116, "SQ", {{{0x0020, 0x0037, "DS", o.iop}}}},
      {0x0028, 0x9110, "SQ", {{{0x0028, 0x0030, "DS", o.spacing}, {0x0018, 0x0050, "DS", {o.dz or 1}},
                               {0x0018, 0x0088, "DS", {o.dz or 1}}}}},
    }}},
    {0x5200, 0x9230, "SQ", per},
    {0x7FE0, 0x0010, o.fractional and "OB" or "OB", pixels},
  }
  if o.fractional then ds[#ds + 1] = {0x0062, 0x000E, "US", 255} end
  if o.ref_series then ds[#ds + 1] = {0x0008, 0x1115, "SQ", {{{0x0020, 0x000E, "UI", o.ref_series}}}} end
  fx.write_bytes(path, fx.file_bytes(ds, {undefined_sq = o.undefined_sq}))
end

return fx
