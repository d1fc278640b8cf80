-- read_dicom's dtype="auto" rule, as its docstring and docs/formats/dicom.md
-- state it: int16 when every slope and intercept is a whole number and the
-- values fit int16, float32 otherwise, even when a fractional slope gives
-- whole values. Files are copies of CT_small.dcm rewritten by pydicom with
-- another rescale pair; the values are compared with pydicom's.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"

local function rescaled(slope, inter, even)
  local out = data.tmpdir() .. "/ct.dcm"
  local r = ref.run("dicom_rescale_ref.py", data.path("dicom/single/CT_small.dcm"), out, slope, inter, even and 1 or 0)
  return vol.read_dicom(out, {keep_padding = true}), r
end

describe("vol.read_dicom dtype='auto'", function()
  it("gives int16 for a whole slope and intercept", function()
    local v, r = rescaled("2", "-1024", false)
    assert.equal("int16", v.dtype)
    local s = v:stats()
    assert.equal(r.min, s.min)
    assert.equal(r.max, s.max)
    assert.equal(r.sum, s.sum)
  end)

  it("gives float32 for slope 0.5 even when every value is whole", function()
    local v, r = rescaled("0.5", "0", true)
    assert.is_true(r.whole)
    assert.equal("float32", v.dtype)
    local s = v:stats()
    assert.equal(r.min, s.min)
    assert.equal(r.max, s.max)
    assert.equal(r.sum, s.sum)
  end)

  it("gives float32 when a whole rescale leaves int16's range", function()
    local v, r = rescaled("100", "0", false)
    assert.truthy(r.max > 32767)
    assert.equal("float32", v.dtype)
    assert.equal(r.max, v:stats().max)
  end)

  it("rounds when int16 is forced on a fractional slope, and says so", function()
    local out = data.tmpdir() .. "/ct.dcm"
    ref.run("dicom_rescale_ref.py", data.path("dicom/single/CT_small.dcm"), out, "0.3", "0", 0)
    local v = vol.read_dicom(out, {dtype = "int16"})
    assert.equal("int16", v.dtype)
    assert.equal("true", v.meta.rescale_rounded)
  end)
end)
