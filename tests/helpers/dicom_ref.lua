-- Reference values for the real DICOM samples, from two sources:
-- ../shared/data/expected.json when the shared folder is there, and
-- pydicom / nibabel run now on the same files (tests/ref/dicom_ref.py),
-- always. A user with only the `make samples` cache gets the second.
--   local dref = require "helpers.dicom_ref"   (after the package.path line of helpers/data.lua)
--   for _, r in ipairs(dref.references("file", rel)) do check(r.value, r.from) end
local data = require "helpers.data"
local ref = require "helpers.ref"

local dref = {}

-- The single DICOM files of the data folder: expected.json has an entry
-- for each (the dicom spec checks that the lists agree). The mosaic
-- (dicom/siemens/mosaic_epi/axasc35.dcm) is left out: it is checked as
-- the 64x64x35 volume it holds ("mosaic" below).
dref.FILES = {
  "dicom/derived/CT_small_bigendian.dcm", "dicom/derived/CT_small_deflated.dcm",
  "dicom/derived/CT_small_implicit.dcm", "dicom/derived/CT_small_jpeg_lossless_sv1.dcm",
  "dicom/derived/CT_small_jpegls_lossless.dcm", "dicom/derived/CT_small_rle.dcm",
  "dicom/siemens/decimal_rescale.dcm", "dicom/siemens/fieldmap_phase_3mm.dcm",
  "dicom/siemens/slicethickness_empty_string.dcm",
  "dicom/single/693_J2KI.dcm", "dicom/single/CT-MONO2-16-ankle.dcm", "dicom/single/CT_small.dcm",
  "dicom/single/ExplVR_BigEnd.dcm", "dicom/single/J2K_pixelrep_mismatch.dcm", "dicom/single/JPEG-lossy.dcm",
  "dicom/single/JPEG2000.dcm", "dicom/single/JPGExtended.dcm", "dicom/single/MR_small.dcm",
  "dicom/single/MR_small_RLE.dcm", "dicom/single/MR_small_bigendian.dcm", "dicom/single/MR_small_expb.dcm",
  "dicom/single/MR_small_implicit.dcm", "dicom/single/MR_small_jp2klossless.dcm",
  "dicom/single/MR_small_jpeg_ls_lossless.dcm", "dicom/single/MR_small_padded.dcm",
  "dicom/single/MR_truncated.dcm", "dicom/single/US-PAL-8-10x-echo.dcm", "dicom/single/liver_1frame.dcm",
  "dicom/single/rtdose.dcm", "dicom/single/rtdose_expb.dcm", "dicom/single/rtdose_rle.dcm",
  "dicom/single/zipMR.gz",
}

-- Lossless re-encodings and the uncompressed file holding the same pixels
-- (README of the data folder; expected.json gives them the same sha256).
-- Debian's pydicom decodes JPEG lossless and JPEG-LS only with GDCM,
-- pylibjpeg or CharLS; without them the live reference takes the values
-- of the original.
dref.SAME_PIXELS = {
  ["dicom/derived/CT_small_jpeg_lossless_sv1.dcm"] = "dicom/single/CT_small.dcm",
  ["dicom/derived/CT_small_jpegls_lossless.dcm"] = "dicom/single/CT_small.dcm",
  ["dicom/single/MR_small_jpeg_ls_lossless.dcm"] = "dicom/single/MR_small.dcm",
}

-- The folders of the series samples (expected.json's series{} but the mosaic).
dref.SERIES = {}
for _, name in ipairs{"77654033/CR1", "77654033/CR2", "77654033/CR3", "77654033/CT2", "98892001/CT2N",
    "98892001/CT5N", "98892003/MR1", "98892003/MR2", "98892003/MR700"} do
  dref.SERIES[#dref.SERIES + 1] = "dicom/series/dicomdirtests/" .. name
end

-- A group of files stacked by pydicom, the same whichever the source:
-- uid, iop, n_slices, stackable, uniform_spacing and, when stackable,
-- sum, min, affine (LPS, (col,row,slice) -> mm) and samples {index =
-- {slice,row,col} 0-based, value} (every voxel from the live source).
local function expected_group(g)
  local st = g.stats
  return {uid = g.series_instance_uid, iop = g.iop, n_slices = g.n_slices, stackable = st ~= nil,
    uniform_spacing = g.uniform_spacing, sum = st and st.sum, min = st and st.min,
    affine = g.geometry_lps and g.geometry_lps.affine, samples = st and st.samples}
end

local function live_group(g)
  local samples
  if g.values then
    samples = {}
    local rows, cols = g.shape[2], g.shape[3]
    for i, x in ipairs(g.values) do
      samples[i] = {index = {(i - 1) // (rows * cols), (i - 1) // cols % rows, (i - 1) % cols}, value = x}
    end
  end
  return {uid = g.uid, iop = g.iop, n_slices = g.n_slices, stackable = g.stackable ~= false,
    uniform_spacing = g.uniform_spacing, sum = g.sum, min = g.min, affine = g.affine_lps, samples = samples}
end

local function map(t, f)
  local out = {}
  for i, x in ipairs(t) do out[i] = f(x) end
  return out
end

-- kind -> how to find the value in expected.json, and how to compute it now.
local KINDS = {
  -- one file: expected.json's files[rel] block (tags, transfer_syntax,
  -- stored_stats, rescaled_stats, dose_gy_stats, expect_error,
  -- gzip_wrapped); live it may say `undecodable` instead of giving values.
  file = {
    expected = function(exp, rel) return exp.files[rel] end,
    live = function(rel)
      local same = dref.SAME_PIXELS[rel]
      local args = {"file", data.path(rel), same and data.path(same) or nil}
      return ref.run("dicom_ref.py", table.unpack(args))
    end,
  },
  -- a Siemens mosaic file: {stack_stats, nibabel = {affine_lps}}
  mosaic = {
    expected = function(exp, rel)
      for _, m in ipairs(exp.series[rel:match("^(.*)/")].siemens_mosaic.volumes) do
        if m.file == rel then return m end
      end
    end,
    live = function(rel) return ref.run("dicom_ref.py", "mosaic", data.path(rel)) end,
  },
  -- a series folder: the list of groups (see expected_group)
  groups = {
    expected = function(exp, rel) return exp.series[rel] and map(exp.series[rel].pydicom_series, expected_group) end,
    live = function(rel) return map(ref.run("dicom_ref.py", "stack", data.path(rel)).series, live_group) end,
  },
}

-- The references of kind ("file", "mosaic" or "groups") for rel, a path
-- relative to the data folder: a list of {from = "expected.json" |
-- "pydicom now", value = ...}, expected.json first when it is there.
function dref.references(kind, rel)
  local k = assert(KINDS[kind], "dicom_ref.references: unknown kind " .. tostring(kind))
  local list = {}
  local exp = data.expected()
  if exp then
    list[1] = {from = "expected.json", value = assert(k.expected(exp, rel), "expected.json has no entry for " .. rel)}
  end
  list[#list + 1] = {from = "pydicom now", value = k.live(rel)}
  return list
end

return dref
