-- The spec helpers: where sample files are found (shared data folder or the
-- `make samples` cache), the error for a missing one, temporary folders, and
-- the python3 reference runner.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"

-- One file from each Debian package the samples come from, plus derived ones.
local one_per_source = {
  "nifti/ch2.nii.gz", "labels/aal.nii.txt",                   -- mricron-data
  "metaimage/CorpusCallosumMeanShape.mha", "png/FatMRISlice.png", -- insighttoolkit5-examples
  "nifti/anatomical.nii", "dicom/siemens/decimal_rescale.dcm", -- python3-nibabel
  "npy/t1_coronal_slice.npy",                                  -- python3-dipy
  "dicom/single/CT_small.dcm", "dicom/series/dicomdirtests/DICOMDIR", -- python3-pydicom
  "dicom/single/US-PAL-8-10x-echo.dcm",                        -- octave-dicom
  "dicom/siemens/mosaic_epi/axasc35.dcm",                      -- heudiconv
  "ct/cranium_ct.nii.gz", "npy/cranium_ct_crop_int16_F_be.npy", -- invesalius-examples
  "dicom/derived/CT_small_jpeg_lossless_sv1.dcm",              -- DCMTK conversion
}

describe("helpers.data", function()
  it("finds the repository root and an absolute data folder", function()
    assert.truthy(io.open(data.root() .. "/Makefile"))
    assert.equal("/", data.dir():sub(1, 1))
  end)

  it("prefers the shared folder, then MEDULA_SAMPLES, then build/samples", function()
    local tmp = data.tmpdir()
    assert.equal(tmp, data.choose(tmp, "/elsewhere", "/repo"))
    assert.equal("/elsewhere", data.choose(tmp .. "/missing", "/elsewhere", "/repo"))
    assert.equal("/repo/build/samples", data.choose(tmp .. "/missing", nil, "/repo"))
    assert.equal("/repo/build/samples", data.choose(tmp .. "/missing", "", "/repo"))
  end)

  it("resolves a sample file to an absolute path that exists", function()
    local p = data.path("nifti/standard.nii.gz")
    assert.equal(data.dir() .. "/nifti/standard.nii.gz", p)
    assert.truthy(io.open(p, "rb"))
  end)

  it("has one file from every source package", function()
    for _, rel in ipairs(one_per_source) do
      assert.truthy(io.open(data.path(rel), "rb"), rel)
    end
  end)

  it("raises an error naming a missing file and the fix", function()
    local ok, err = pcall(function() local p = data.path("nifti/no_such_file.nii.gz"); return p end)
    assert.is_false(ok)
    assert.truthy(err:find("nifti/no_such_file.nii.gz", 1, true), err)
    assert.truthy(err:find("make samples", 1, true), err)
    assert.truthy(err:find("samples_spec.lua", 1, true), "error should point at the caller: " .. err)
    assert.error_matches(function() data.path(nil) end, "expected a path")
  end)

  it("decodes expected.json when the shared data folder is used", function()
    local e = data.expected()
    if data.dir():match("/shared/data$") then
      assert.same({4, 5, 7}, e.files["nifti/standard.nii.gz"].shape)
    else
      assert.is_nil(e)
    end
  end)

  it("makes fresh empty temporary folders", function()
    local a, b = data.tmpdir(), data.tmpdir()
    assert.are_not.equal(a, b)
    local f = assert(io.open(a .. "/x.txt", "w"))
    f:write("x")
    f:close()
    assert.equal(1, data.size(a .. "/x.txt"))
    assert.is_nil(data.size(b .. "/x.txt"))
  end)
end)

describe("helpers.ref", function()
  it("runs a python3 reference and decodes its JSON", function()
    local r = ref.run("volume_ref.py", data.path("nifti/standard.nii.gz"), "1,1,1", "4,5,7")
    assert.same({4, 5, 7}, r.shape)
    assert.equal("uint8", r.dtype)
    assert.same({0, 255}, r.at)
    assert.equal(7650, r.stats.sum)
    local e = data.expected()
    if e then
      local s = e.files["nifti/standard.nii.gz"].stats
      assert.equal(s.sum, r.stats.sum)
      assert.near(s.std, r.stats.std, 1e-6 * s.std)
    end
  end)

  it("raises with the script's error output when it fails", function()
    local ok, err = pcall(ref.run, "volume_ref.py", "/nonexistent/file.nii")
    assert.is_false(ok)
    assert.truthy(err:find("volume_ref.py failed", 1, true), err)
    assert.truthy(err:find("No such file", 1, true), err)
  end)
end)
