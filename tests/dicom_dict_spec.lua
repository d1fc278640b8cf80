-- The DICOM keyword dictionary: generated from the one data file
-- src/io/dicom_dict.tsv (PS3.6), current, complete, and naming every
-- attribute of real files as pydicom does.
package.path = "tests/?.lua;tools/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"
local gen = require "gen_dicom_dict"
local slurp = require("helpers.files").slurp

local TSV = "src/io/dicom_dict.tsv"

describe("DICOM dictionary", function()
  local rows
  setup(function() rows = gen.read(TSV) end)

  it("is generated from the data file (run `make dicom-dict`)", function()
    assert.equal(gen.generate(rows), slurp("src/io/dicom_dict_table.h"))
  end)

  it("covers the whole PS3.6 dictionary", function()
    assert.truthy(#rows > 4800, #rows)
    for _, kw in ipairs{"SpecificCharacterSet", "ReferringPhysicianName", "StationName", "PatientWeight",
                        "ContrastBolusAgent", "PixelData", "NumberOfImagesInMosaic"} do
      assert.truthy(vol.dicom_keyword(kw), kw)
    end
    assert.equal("0008,0005", vol.dicom_keyword("SpecificCharacterSet"))
    assert.equal("ReferringPhysicianName", vol.dicom_keyword("0008,0090"))
  end)

  it("maps every keyword to its tag and back", function()
    local bad = {}
    for _, r in ipairs(rows) do
      if not r.tag:find("x") and r.tag ~= "00000000" then -- tag 0 means "none" to dicom_keyword
        local tag = r.tag:sub(1, 4) .. "," .. r.tag:sub(5)
        if vol.dicom_keyword(r.keyword) ~= tag or vol.dicom_keyword(tag) ~= r.keyword then
          bad[#bad + 1] = r.keyword
        end
      end
    end
    assert.same({}, bad)
  end)

  it("names repeating groups (overlays, curves) whatever the group", function()
    assert.equal("OverlayData", vol.dicom_keyword("6000,3000"))
    assert.equal("OverlayData", vol.dicom_keyword("601E,3000"))
    assert.equal("OverlayRows", vol.dicom_keyword("6002,0010"))
    assert.is_nil(vol.dicom_keyword("6001,3000"), "odd groups are private")
    assert.is_nil(vol.dicom_keyword("0009,0010"))
  end)

  it("names the attributes of real files as pydicom does", function()
    for _, rel in ipairs{"dicom/single/CT_small.dcm", "dicom/single/MR_small.dcm", "dicom/single/rtdose.dcm"} do
      local path = data.path(rel)
      local want = ref.run("dicom_keywords_ref.py", path)
      local header = vol.dicom_header(path)
      local missing = {}
      for kw, tag in pairs(want) do
        -- the header stops before the pixel data (and what trails it)
        local in_header = tag < "7FE0,0010"
        if vol.dicom_keyword(tag) ~= kw or (in_header and header[kw] == nil) then
          missing[#missing + 1] = kw .. " " .. tag
        end
      end
      table.sort(missing)
      assert.same({}, missing, rel)
    end
  end)
end)
