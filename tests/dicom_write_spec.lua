-- v:write_dicom: a CT series that medula, pydicom (tests/ref/dicom_ref.py
-- stack: sorted by position along the normal, rescaled) and dcm2niix read
-- back to the same voxels and geometry; per-slice rescale, shuffled
-- InstanceNumbers, random names, determinism and errors.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function list_dir(dir)
  local p = io.popen("ls " .. data.shell_quote(dir))
  local out = {}
  for name in p:lines() do out[#out + 1] = name end
  p:close()
  return out
end

-- A small oblique, anisotropic int16 volume with distinct values.
local function sample_volume()
  local v = vol.new{shape = {7, 5, 4}, dtype = "int16"}
  local k = 0
  for z = 1, 4 do for y = 1, 5 do for x = 1, 7 do
    k = k + 1
    v:set(x, y, z, (k * 37) % 2000 - 1000)
  end end end
  v:set_spacing{0.8, 0.6, 2.5}
  v:set_origin{-12.5, 30.25, 101.5}
  local c, s = math.cos(0.3), math.sin(0.3)
  v:set_direction{{c, s, 0}, {-s, c, 0}, {0, 0, 1}}
  return v
end

describe("v:write_dicom", function()
  it("reads back in medula as the same voxels and geometry", function()
    local v = sample_volume()
    local dir = data.tmpdir() .. "/s"
    assert.equal(4, v:write_dicom(dir))
    assert.same({"IM00001.dcm", "IM00002.dcm", "IM00003.dcm", "IM00004.dcm"}, list_dir(dir))
    local w = vol.read(dir)
    assert.equal("int16", w.dtype)
    assert.equal(0, (w:astype("int32") - v:astype("int32")):abs():stats().max)
    for a = 1, 3 do
      assert.near(v.spacing[a], w.spacing[a], 1e-9)
      assert.near(v.origin[a], w.origin[a], 1e-6)
    end
    local d, e = v.direction, w.direction
    for i = 1, 3 do for j = 1, 3 do assert.near(d[i][j], e[i][j], 1e-6) end end
  end)

  it("reads back in pydicom: values and the LPS affine", function()
    local v = sample_volume()
    local dir = data.tmpdir() .. "/p"
    v:write_dicom(dir, {intercept = {-1024, -1000, 0, 12}, slope = {1, 1, 0.5, 1}, shuffle_instances = true,
                        random_names = true, seed = 4})
    local r = ref.run("dicom_ref.py", "stack", dir)
    assert.equal(1, #r.series)
    local s = r.series[1]
    assert.same({4, 5, 7}, s.shape)
    local i = 0
    for z = 1, 4 do for y = 1, 5 do for x = 1, 7 do
      i = i + 1
      assert.equal(v:get(x, y, z), s.values[i])
    end end end
    local d = v.direction
    for row = 1, 3 do
      for col = 1, 3 do assert.near(d[row][col] * v.spacing[col], s.affine_lps[row][col], 1e-6) end
      assert.near(v.origin[row], s.affine_lps[row][4], 1e-6)
    end
  end)

  it("reads back in dcm2niix: the same array and affine as medula's conversion", function()
    local v = vol.phantom.chest{shape = {48, 40, 12}, spacing = {0.75, 0.75, 2}}
    local dir = data.tmpdir() .. "/d"
    v:write_dicom(dir, {shuffle_instances = true, random_names = true, seed = 9})
    local out = data.tmpdir()
    local files = {}
    for _, res in ipairs(vol.dicom_convert(dir, out, {format = "nii", progress = false})) do
      assert.is_nil(res.error)
      files[#files + 1] = res.path
    end
    local r = ref.run("dicom_ref.py", "dcm2niix", dir, table.unpack(files))
    assert.equal(1, #r.matches)
    assert.equal(0, r.matches[1].value_max_diff)
    assert.is_true(r.matches[1].affine_max_diff < 1e-4)
    -- and medula's own reading of the folder is the volume written
    assert.equal(0, (vol.read(dir):astype("int32") - v:astype("int32")):abs():stats().max)
  end)

  it("writes the same bytes for the same seed, other UIDs for another", function()
    local v = sample_volume()
    local a, b, c = data.tmpdir() .. "/a", data.tmpdir() .. "/b", data.tmpdir() .. "/c"
    v:write_dicom(a, {seed = 1, random_names = true})
    v:write_dicom(b, {seed = 1, random_names = true})
    v:write_dicom(c, {seed = 2, random_names = true})
    local na, nb, nc = list_dir(a), list_dir(b), list_dir(c)
    assert.same(na, nb)
    assert.not_same(na, nc)
    for i, name in ipairs(na) do assert.equal(slurp(a .. "/" .. name), slurp(b .. "/" .. name)) end
    assert.equal(vol.dicom_series(a)[1].uid, vol.dicom_series(b)[1].uid)
    assert.not_equal(vol.dicom_series(a)[1].uid, vol.dicom_series(c)[1].uid)
    assert.truthy(vol.dicom_series(a)[1].uid:match("^2%.25%.%d+$"))
  end)

  it("refuses values that do not store exactly, and bad options", function()
    local v = sample_volume()
    local dir = data.tmpdir()
    local ok, err = pcall(v.write_dicom, v, dir .. "/x", {slope = 2})
    assert.is_false(ok)
    assert.truthy(err:find("does not store as int16 with slope 2", 1, true))
    ok, err = pcall(v.write_dicom, v, dir .. "/y", {intercept = {1, 2}})
    assert.truthy(err:find("intercept must be a number or a list of 4 numbers", 1, true))
    ok, err = pcall(v.write_dicom, v, dir .. "/z", {slope = 0})
    assert.truthy(err:find("slope must be finite and non-zero", 1, true))
    ok, err = pcall(v.write_dicom, v, dir .. "/w", {colour = 1})
    assert.truthy(err:find("colour", 1, true))
    local big = vol.new{shape = {2, 2, 1}, dtype = "int32"}
    big:set(1, 1, 1, 100000)
    ok, err = pcall(big.write_dicom, big, dir .. "/b")
    assert.truthy(err:find("slice 1: value 100000", 1, true))
    ok, err = pcall(v.write_dicom, v, dir .. "/no/such/parent")
    assert.truthy(err:find("cannot create the folder", 1, true))
  end)
end)
