-- DICOM folders: the real series against pydicom-built stacks
-- (expected.json of ../shared/data when it is there, and pydicom run now,
-- always) and against dcm2niix run here on the same folders; series the
-- spec writes itself (shuffled names, misleading InstanceNumber, missing
-- SliceThickness, two series in one folder, slopes, padding, implicit VR,
-- tilt, gaps); SEG.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"
local dref = require "helpers.dicom_ref"
local fx = require "helpers.dicom_fixture"

local SERIES = "dicom/series/dicomdirtests/"

local function near(a, b, tol)
  return math.abs(a - b) <= (tol or 1e-5)
end

local function check_affine(v, A, tol, what)
  local B = v:affine()
  for r = 1, 3 do
    for c = 1, 4 do
      assert.is_true(near(B[r][c], A[r][c], tol), ("%s: affine[%d][%d] %.9g expected %.9g"):format(what, r, c, B[r][c], A[r][c]))
    end
  end
end

-- Converts folder with vol.dicom_convert (NIfTI: dcm2niix's array layout by
-- default), runs dcm2niix on it and pairs the files: raw arrays and affines
-- as stored, no reorientation. Returns the list of pairs and dcm2niix's outputs.
local function convert_vs_dcm2niix(folder, opts)
  local out = data.tmpdir()
  opts = opts or {}
  opts.format, opts.progress, opts.recursive = "nii", false, false
  local files = {}
  for _, r in ipairs(vol.dicom_convert(folder, out, opts)) do
    assert.is_nil(r.error, r.error)
    files[#files + 1] = r.path
  end
  local r = ref.run("dicom_ref.py", "dcm2niix", folder, table.unpack(files))
  assert.is_nil(r.error, r.error)
  for _, m in ipairs(r.matches) do assert.is_nil(m.error, m.error) end
  return r.matches, r.outputs
end

-- The one pair of a folder holding one series.
local function against_dcm2niix(folder, opts)
  local m = convert_vs_dcm2niix(folder, opts)
  assert.are.equal(1, #m)
  return m[1]
end

-- plastimatch (Debian; ITK 5.2 and its MetaImage writer) reads the same
-- folder: its origin, spacing and direction are ITK's, in float32 precision.
local function against_plastimatch(v, folder)
  local mha = data.tmpdir() .. "/pm.mha"
  local ok = os.execute(("plastimatch convert --input %s --output-img %s >/dev/null 2>&1"):format(
    data.shell_quote(folder), data.shell_quote(mha)))
  assert.is_true(ok, "plastimatch (Debian package plastimatch) failed or is missing")
  local p = vol.read(mha)
  assert.are.same(v.shape, p.shape)
  for i = 1, 3 do
    assert.is_true(near(v.origin[i], p.origin[i], 1e-4), "origin " .. i)
    assert.is_true(near(v.spacing[i], p.spacing[i], 1e-4), "spacing " .. i)
    for j = 1, 3 do assert.is_true(near(v.direction[i][j], p.direction[i][j], 1e-6), "direction") end
  end
  assert.are.equal(0, (v:astype("float32") - p):abs():stats().max)
end

describe("read_dicom on the real series folders", function()
  it("reads the chest CT slices in position order, as pydicom sorts them", function()
    local rel = SERIES .. "98892001/CT5N"
    local v = vol.read(data.path(rel))
    assert.are.same({16, 16, 5}, v.shape)
    assert.are.equal("int16", v.dtype)
    local s = v:stats()
    for _, r in ipairs(dref.references("groups", rel)) do
      local e, what = r.value[1], rel .. " (" .. r.from .. ")"
      assert.are.equal(e.sum, s.sum, what)
      assert.are.equal(e.min, s.min, what)
      for _, smp in ipairs(e.samples) do
        local i = smp.index
        assert.are.equal(smp.value, v:get(i[3] + 1, i[2] + 1, i[1] + 1), what .. ": " .. table.concat(i, ","))
      end
      check_affine(v, e.affine, 1e-5, what)
    end
    assert.are.equal("5", v.meta.dicom_files)
    against_plastimatch(v, data.path(rel))
  end)

  -- Every series folder of the shared data. CT2N is the one left out: its two
  -- scouts have different orientations; dcm2niix stacks them into one
  -- 16x16x2 volume (reporting a 45 degree "gantry tilt") that no affine can
  -- describe, medula keeps them as two groups (checked below).
  local FOLDERS = {"98892001/CT5N", "77654033/CT2", "77654033/CR1", "77654033/CR2", "77654033/CR3",
                   "98892003/MR1", "98892003/MR2", "98892003/MR700"}

  it("writes dcm2niix's NIfTI of every series folder: raw arrays equal, affines within 1e-4 mm", function()
    for _, name in ipairs(FOLDERS) do
      local folder = data.path(SERIES .. name)
      local matches, outputs = convert_vs_dcm2niix(folder, {allow_nonuniform = true})
      assert.are.equal(#outputs, #matches, name .. ": one file per dcm2niix output")
      assert.are.equal(#vol.dicom_series(folder), #matches, name)
      for _, m in ipairs(matches) do
        local what = ("%s: %s vs %s"):format(name, m.medula, m.output)
        assert.are.equal(m.axcodes_dcm2niix, m.axcodes_medula, what)
        if name:find("CR") then
          -- radiographs have no ImagePositionPatient/ImageOrientationPatient
          -- nor PixelSpacing: no position to compare (dcm2niix centres them)
          -- and medula takes ImagerPixelSpacing (0.1 mm) where dcm2niix
          -- writes 1 mm; the array and its axis directions (axcodes) agree
          assert.is_true(m.value_max_diff < 1e-3, what .. ": values differ by " .. m.value_max_diff)
        else
          assert.are.equal(0, m.value_max_diff, what)
          assert.is_true(m.affine_max_diff < 1e-4, what .. ": affine differs by " .. m.affine_max_diff)
        end
      end
    end
  end)

  it("cannot match dcm2niix on CT2N, where it stacks two orientations", function()
    local folder = data.path(SERIES .. "98892001/CT2N")
    local r = ref.run("dicom_ref.py", "dcm2niix", folder)
    assert.are.same({{16, 16, 2}}, (function() local t = {} for i, o in ipairs(r.outputs) do t[i] = o[2] end return t end)())
    assert.are.equal(2, #vol.dicom_series(folder))
  end)

  it("keeps medula's LPS array with layout=\"lps\": rows flipped against dcm2niix, same world", function()
    local folder = data.path(SERIES .. "98892001/CT5N")
    local out = data.tmpdir()
    local r = vol.dicom_convert(folder, out, {format = "nii", layout = "lps", progress = false})[1]
    local v, w = vol.read(folder), vol.read(r.path)
    assert.are.equal(0, (v - w):abs():stats().max)
    local d = vol.read(vol.dicom_convert(folder, data.tmpdir(), {format = "nii", progress = false})[1].path)
    assert.are.equal(0, (v:flip(2) - d):abs():stats().max)
    local x1, y1, z1 = v:index_to_world(3, 1, 2)
    local x2, y2, z2 = d:index_to_world(3, 16, 2)
    assert.is_true(near(x1, x2, 1e-4) and near(y1, y2, 1e-4) and near(z1, z2, 1e-4))
    local ok, err = pcall(vol.dicom_convert, folder, out, {layout = "ras"})
    assert.is_false(ok)
    assert.truthy(err:find("layout must be", 1, true), err)
    -- MetaImage keeps ITK's layout unless asked
    local m = vol.read(vol.dicom_convert(folder, data.tmpdir(), {format = "mha", progress = false})[1].path)
    assert.are.equal(0, (v - m):abs():stats().max)
  end)

  it("writes dcm2niix's NIfTI of the oblique Siemens field map (slope 2) and qT1 header", function()
    for _, name in ipairs{"fieldmap_phase_3mm.dcm", "decimal_rescale.dcm"} do
      local dir = data.tmpdir()
      assert.is_true(os.execute(("cp %s %s"):format(data.shell_quote(data.path("dicom/siemens/" .. name)),
        data.shell_quote(dir))))
      local m = against_dcm2niix(dir)
      assert.are.equal(0, m.value_max_diff, name)
      assert.is_true(m.affine_max_diff < 1e-4, name .. ": affine differs by " .. m.affine_max_diff)
    end
  end)

  it("unpacks the Siemens mosaic as dcm2niix does", function()
    local folder = data.path("dicom/siemens/mosaic_epi")
    local s = vol.dicom_series(folder)[1]
    assert.are.same({64, 64, 35}, s.dims)
    local r = against_dcm2niix(folder)
    assert.is_true(r.affine_max_diff < 1e-4, "affine differs by " .. r.affine_max_diff)
    assert.are.equal(0, r.value_max_diff)
  end)

  it("refuses non-uniform spacing, or stacks it as dcm2niix does when allowed", function()
    local folder = data.path(SERIES .. "77654033/CT2")
    local ok, err = pcall(vol.read, folder)
    assert.is_false(ok)
    assert.truthy(err:find("not uniform", 1, true), err)
    assert.truthy(err:find("202.5", 1, true), err)
    local v = vol.read_dicom(folder, {allow_nonuniform = true})
    assert.is_true(near(v.spacing[3], 202.5))
    assert.truthy(v.meta.warning:find("not uniform", 1, true))
    local r = against_dcm2niix(folder, {allow_nonuniform = true})
    assert.is_true(r.affine_max_diff < 1e-4, "affine differs by " .. r.affine_max_diff)
    assert.are.equal(0, r.value_max_diff)
  end)

  it("keeps two orientations of one series apart", function()
    local folder = data.path(SERIES .. "98892001/CT2N")
    local list = vol.dicom_series(folder)
    assert.are.equal(2, #list)
    assert.are.equal(list[1].uid, list[2].uid)
    assert.are.equal(list[1].uid .. "#2", list[2].id)
    assert.are_not.equal(list[1].orientation, list[2].orientation)
    local ok, err = pcall(vol.read, folder)
    assert.is_false(ok)
    assert.truthy(err:find("different orientations", 1, true), err)
    for _, s in ipairs(list) do
      assert.are.same({16, 16, 1}, vol.read_dicom(folder, {series = s.id}).shape)
    end
  end)

  it("matches every stackable group pydicom finds", function()
    for _, rel in ipairs(dref.SERIES) do
      local folder = data.path(rel)
      local list = vol.dicom_series(folder)
      for _, r in ipairs(dref.references("groups", rel)) do
        local what = rel .. " (" .. r.from .. ")"
        for _, e in ipairs(r.value) do
          if e.stackable and e.uniform_spacing then
            local match
            for _, s in ipairs(list) do
              if s.uid == e.uid and s.nfiles == e.n_slices then
                local same = true
                for i = 1, 6 do same = same and near(s.iop[i], e.iop[i], 1e-3) end
                if same then match = s end
              end
            end
            assert.is_table(match, what .. ": no group for " .. e.uid)
            local v = vol.read_dicom(folder, {series = match.id, keep_padding = true})
            assert.are.equal(e.sum, v:stats().sum, what)
            -- expected.json built these affines from cosines rounded to 4 decimals
            -- (MR700 writes -1.33901e-03, the affine used -0.0013): 1e-4
            check_affine(v, e.affine, 1e-4, what)
          end
        end
      end
    end
  end)

  it("lists a study tree recursively and skips DICOMDIR files", function()
    local list = vol.dicom_series(data.path(SERIES), {recursive = true})
    local n = 0
    for _, s in ipairs(list) do n = n + s.nfiles end
    assert.are.equal(31, n)
    assert.is_true(list.skipped >= 7)
    -- DICOMDIR-nooffset cannot be parsed, but it is an index, not a damaged image
    assert.are.same({}, list.damaged)
    local dd = 0
    for _, p in ipairs(list.skipped_files) do dd = dd + (p:find("/DICOMDIR", 1, true) and 1 or 0) end
    assert.are.equal(7, dd)
    local ct5n
    for _, s in ipairs(list) do if s.files[1]:find("CT5N", 1, true) then ct5n = s end end
    assert.are.same({16, 16, 5}, vol.read(data.path(SERIES), {recursive = true, series = ct5n.id}).shape)
    local s = list[1]
    for _, k in ipairs{"id", "uid", "description", "modality", "nfiles", "dims", "orientation", "files"} do
      assert.is_not_nil(s[k], k)
    end
  end)
end)

describe("read_dicom on series written by the spec", function()
  local function value(x, y, k) return 100 * k + 10 * y + x - 1000 end

  it("orders shuffled files by position, not name or InstanceNumber, without SliceThickness", function()
    local dir = data.tmpdir()
    -- positions descend with k: slice k=0 is the highest, so it becomes the last slice
    local paths = fx.write_series(dir, {n = 6, rows = 5, cols = 4, dz = -1.5, value = value, intercept = -1024,
      slope = 1, instance = function(k) return k + 1 end})
    assert.are.equal(6, #paths)
    local v = vol.read(dir)
    assert.are.same({4, 5, 6}, v.shape)
    assert.are.equal("int16", v.dtype)
    for k = 1, 6 do -- our slice k is file index 6-k (ascending along the normal)
      assert.are.equal(value(2, 3, 6 - k) - 1024, v:get(3, 4, k))
    end
    assert.is_true(near(v.spacing[3], 1.5))
    assert.is_true(near(v.spacing[1], 0.9) and near(v.spacing[2], 0.7)) -- PixelSpacing is (row, column)
    local z = select(3, v:index_to_world(1, 1, 1))
    assert.is_true(near(z, 30 - 5 * 1.5))
    local r = ref.run("dicom_ref.py", "stack", dir).series[1]
    assert.are.equal(r.sum, v:stats().sum)
    check_affine(v, r.affine_lps, 1e-9, "pydicom")
    for i, x in ipairs(r.values) do
      local xi, rest = (i - 1) % 4, (i - 1) // 4
      assert.are.equal(x, v:get(xi + 1, rest % 5 + 1, rest // 5 + 1))
    end
    local d = against_dcm2niix(dir)
    assert.is_true(d.affine_max_diff < 1e-4)
    assert.are.equal(0, d.value_max_diff)
  end)

  it("reads oblique implicit-VR slices in ITK's geometry", function()
    local dir = data.tmpdir()
    local c, s = math.cos(0.3), math.sin(0.3)
    fx.write_series(dir, {n = 4, iop = {c, s, 0, 0, 0, -1}, syntax = "implicit", dz = 3, value = value})
    local v = vol.read(dir)
    local r = ref.run("dicom_ref.py", "stack", dir).series[1]
    check_affine(v, r.affine_lps, 1e-6, "oblique")
    assert.are.equal(r.sum, v:stats().sum)
    local d = against_dcm2niix(dir)
    assert.is_true(d.affine_max_diff < 1e-4, "affine differs by " .. d.affine_max_diff)
    assert.are.equal(0, d.value_max_diff)
    against_plastimatch(v, dir)
  end)

  it("separates two series mixed in one folder", function()
    local dir = data.tmpdir()
    local _, a = fx.write_series(dir, {n = 3, names = function(k) return "a" .. k end, description = "first"})
    local _, b = fx.write_series(dir, {n = 4, names = function(k) return "b" .. k end, description = "second",
      origin = {0, 0, 100}})
    local list = vol.dicom_series(dir)
    assert.are.equal(2, #list)
    local ok, err = pcall(vol.read, dir)
    assert.is_false(ok)
    assert.truthy(err:find("2 series", 1, true) and err:find(a, 1, true) and err:find(b, 1, true), err)
    assert.are.equal(3, vol.read_dicom(dir, {series = a}).shape[3])
    local vb = vol.read_dicom(dir, {series = b})
    assert.are.equal(4, vb.shape[3])
    assert.are.equal("second", vb.meta.SeriesDescription)
  end)

  it("rescales per slice: int16 when exact, float32 otherwise, or as forced", function()
    local dir = data.tmpdir()
    fx.write_series(dir, {n = 3, value = value, slope = 2, intercept = -3000})
    local v = vol.read(dir)
    assert.are.equal("int16", v.dtype)
    assert.are.equal(2 * value(0, 0, 0) - 3000, v:get(1, 1, 1))
    assert.are.equal("float32", vol.read_dicom(dir, {dtype = "float32"}).dtype)
    local dir2 = data.tmpdir()
    fx.write_series(dir2, {n = 3, value = value, intercept = 0.5,
      per_slice = function(k, t) t.slope = 1 + k * 0.25 end})
    local w = vol.read(dir2)
    assert.are.equal("float32", w.dtype)
    assert.are.equal("true", w.meta.rescale_varies)
    assert.is_true(near(w:get(2, 1, 3), value(1, 0, 2) * 1.5 + 0.5, 1e-3))
    local forced = vol.read_dicom(dir2, {dtype = "int16"}) -- rounded half away from zero
    assert.are.equal("int16", forced.dtype)
    assert.are.equal("true", forced.meta.rescale_rounded)
    assert.are.equal(math.floor(value(1, 0, 2) * 1.5 + 0.5 + 0.5), forced:get(2, 1, 3))
  end)

  it("gives the same values whether a slice is converted early (exact) or late (float)", function()
    local dir = data.tmpdir()
    fx.write_series(dir, {n = 3, intercept = -1024, per_slice = function(k, t) t.slope = k == 0 and 1 or 1.5 end,
      value = function(x, y, k) return x == 0 and -2000 or 1000 + 10 * k + x end})
    local v = vol.read(dir)
    assert.are.equal("float32", v.dtype)
    assert.are.equal(-1024, v:get(1, 1, 1))          -- padding in the early slice
    assert.are.equal(1002 - 1024, v:get(3, 1, 1))     -- stored 1002, slope 1
    assert.are.equal(-1024, v:get(1, 1, 2))          -- padding in a late slice
    assert.are.equal(1012 * 1.5 - 1024, v:get(3, 1, 2))
    local raw = vol.read_dicom(dir, {raw = true})
    assert.are.equal(1002, raw:get(3, 1, 1))
  end)

  it("sets -2000 and PixelPaddingValue voxels to air unless asked to keep them", function()
    local dir = data.tmpdir()
    fx.write_series(dir, {n = 3, intercept = -1024, padding = -3000,
      value = function(x, y, k) return x == 0 and -2000 or (y == 0 and -3000 or 1024 + k) end})
    local v = vol.read(dir)
    assert.are.equal(-1024, v:get(1, 2, 1))
    assert.are.equal(-1024, v:get(2, 1, 2))
    assert.are.equal(2, v:get(2, 2, 3))
    local keep = vol.read_dicom(dir, {keep_padding = true})
    assert.are.equal(-2000 - 1024, keep:get(1, 2, 1))
    assert.are.equal(-3000 - 1024, keep:get(2, 1, 2))
    assert.are.equal(-2000, vol.read_dicom(dir, {raw = true}):get(1, 2, 1))
  end)

  it("makes stored -2000 the slice's intercept with padding=\"intercept\" (the DSB2017 get_pixels_hu)", function()
    -- the tutorial: image[image == -2000] = 0, then slope * image + intercept per
    -- slice; PixelPaddingValue (-3000 here) is not special to it
    local dir = data.tmpdir()
    local inter = {[0] = -1024, -1000, 0}
    fx.write_series(dir, {n = 3, padding = -3000, per_slice = function(k, t) t.intercept = inter[k] end,
      value = function(x, y, k) return x == 0 and -2000 or (y == 0 and -3000 or 1024 + k) end})
    local v = vol.read(dir, {padding = "intercept"})
    assert.are.equal("int16", v.dtype)
    for k = 0, 2 do
      assert.are.equal(inter[k], v:get(1, 2, k + 1))               -- stored -2000
      assert.are.equal(-3000 + inter[k], v:get(2, 1, k + 1))       -- PixelPaddingValue rescaled
      assert.are.equal(1024 + k + inter[k], v:get(2, 2, k + 1))
    end
    -- the float path (a fractional slope on one slice) replaces it the same way
    local dir2 = data.tmpdir()
    fx.write_series(dir2, {n = 2, per_slice = function(k, t) t.slope = k == 0 and 1 or 1.5; t.intercept = -1000 end,
      value = function(x) return x == 0 and -2000 or 100 end})
    local f = vol.read(dir2, {padding = "intercept"})
    assert.are.equal("float32", f.dtype)
    assert.are.equal(-1000, f:get(1, 1, 1))
    assert.are.equal(-1000, f:get(1, 1, 2))
    assert.are.equal(100 * 1.5 - 1000, f:get(2, 1, 2))
    assert.are.equal(-1024, vol.read(dir2, {padding = "air"}):get(1, 1, 2))
    assert.are.equal(-2000 * 1.5 - 1000, vol.read(dir2, {padding = "keep"}):get(1, 1, 2))
    assert.has_error(function() vol.read(dir2, {padding = "zero"}) end,
      "bad argument #2 to 'read' (padding must be \"air\", \"keep\" or \"intercept\" (got \"zero\"))")
    assert.has_error(function() vol.read_dicom(dir2, {padding = "air", keep_padding = true}) end)
  end)

  it("reports a missing slice, and duplicates by file name", function()
    local dir = data.tmpdir()
    fx.write_series(dir, {n = 5, positions = {0, 2, 4, 8, 10}})
    local ok, err = pcall(vol.read, dir)
    assert.is_false(ok)
    assert.truthy(err:find("not uniform", 1, true) and err:find("missing slices", 1, true), err)
    local dup = data.tmpdir()
    local paths = fx.write_series(dup, {n = 3, positions = {0, 2, 2}})
    ok, err = pcall(vol.read, dup)
    assert.is_false(ok)
    assert.truthy(err:find(paths[2], 1, true) and err:find(paths[3], 1, true), err)
  end)

  it("keeps a gantry-tilted stack exact and reports the tilt", function()
    local dir = data.tmpdir()
    local t = math.rad(15)
    local paths = fx.write_series(dir, {n = 4, dz = 2, per_slice = function(k, o)
      o.ipp = {0, k * 2 * math.tan(t), k * 2} end})
    local v = vol.read(dir)
    assert.is_true(near(tonumber(v.meta.gantry_tilt_deg), 15, 1e-3))
    assert.is_true(vol.dicom_series(dir)[1].tilt_deg > 14.9)
    for k = 1, 4 do -- every slice origin is where its file says
      local x, y, z = v:index_to_world(1, 1, k)
      assert.is_true(near(y, (k - 1) * 2 * math.tan(t), 1e-6) and near(z, (k - 1) * 2, 1e-6), paths[k])
    end
  end)

  it("gives the same volume with 1 and 2 threads", function()
    local dir = data.tmpdir()
    fx.write_series(dir, {n = 12, rows = 16, cols = 16, value = value})
    local saved = vol.threads()
    vol.set_threads(1)
    local a = vol.read(dir)
    vol.set_threads(2)
    local b = vol.read(dir)
    vol.set_threads(saved)
    assert.are.equal(0, (a - b):abs():stats().max)
  end)
end)

describe("damaged and other files in a scanned folder", function()
  local function cut(path, nbytes) -- keeps the first nbytes: a truncated header
    local f = assert(io.open(path, "rb"))
    local b = f:read("a")
    f:close()
    fx.write_bytes(path, b:sub(1, nbytes))
  end

  for _, case in ipairs{{"first", 1}, {"middle", 3}, {"last", 5}} do
    it("names a truncated " .. case[1] .. " slice instead of dropping it", function()
      local dir = data.tmpdir()
      local paths = fx.write_series(dir, {n = 5, dz = 2})
      cut(paths[case[2]], 300) -- inside the dataset, before Pixel Data
      local ok, err = pcall(vol.read, dir)
      assert.is_false(ok)
      assert.truthy(err:find(paths[case[2]] .. " is damaged", 1, true), err)
      assert.truthy(err:find("skip_damaged=true", 1, true), err)
      assert.is_nil(err:find("not uniform", 1, true), err)
      local list = vol.dicom_series(dir)
      assert.are.equal(1, #list.damaged)
      assert.are.equal(paths[case[2]], list.damaged[1].path)
      assert.are.equal(4, list[1].nfiles)
      if case[2] ~= 3 then -- an end slice: the other four are a uniform stack
        local v = vol.read(dir, {skip_damaged = true})
        assert.are.equal(4, v.shape[3])
        assert.truthy(v.meta.dicom_damaged_files:find(paths[case[2]] .. ": ", 1, true))
      else
        ok, err = pcall(vol.read, dir, {skip_damaged = true}) -- the gap it leaves is reported
        assert.is_false(ok)
        assert.truthy(err:find("not uniform", 1, true), err)
      end
    end)
  end

  it("names a slice cut at an element boundary before Pixel Data, and one cut inside it", function()
    local dir = data.tmpdir()
    local paths = fx.write_series(dir, {n = 3})
    local f = assert(io.open(paths[2], "rb"))
    local b = f:read("a")
    f:close()
    local pix = b:find("\xE0\x7F\x10\x00", 1, true) -- the Pixel Data element
    fx.write_bytes(paths[2], b:sub(1, pix - 1))
    local ok, err = pcall(vol.read, dir)
    assert.is_false(ok)
    assert.truthy(err:find(paths[2] .. " is damaged: an image", 1, true) and err:find("without Pixel Data", 1, true), err)
    fx.write_bytes(paths[2], b:sub(1, #b - 10))
    ok, err = pcall(vol.read, dir)
    assert.is_false(ok)
    assert.truthy(err:find(paths[2] .. " is damaged: Pixel Data is truncated", 1, true), err)
  end)

  it("skips files that are not DICOM and lists them", function()
    local dir = data.tmpdir()
    fx.write_series(dir, {n = 3})
    fx.write_bytes(dir .. "/README", "exported by a PACS\n")
    fx.write_bytes(dir .. "/empty", "")
    fx.write_bytes(dir .. "/.DS_Store", "\0\0\0\1Bud1")
    local v = vol.read(dir)
    assert.are.equal(3, v.shape[3])
    local listed = {}
    for line in v.meta.dicom_skipped_files:gmatch("[^\n]+") do listed[#listed + 1] = line end
    assert.are.same({dir .. "/.DS_Store", dir .. "/README", dir .. "/empty"}, listed)
    local list = vol.dicom_series(dir)
    assert.are.equal(3, list.skipped)
    assert.are.same(listed, list.skipped_files)
    assert.are.same({}, list.damaged)
  end)

  it("checks absurd dimensions against Pixel Data before allocating", function()
    local dir = data.tmpdir()
    local paths = fx.write_series(dir, {n = 3, per_slice = function(k, t) t.rows, t.cols = 60000, 60000 end})
    local ok, err = pcall(vol.read, dir)
    assert.is_false(ok)
    assert.truthy(err:find(paths[1], 1, true), err)
    assert.truthy(err:find("needs 7200000000", 1, true), err)
    assert.is_nil(err:find("memory", 1, true), err)
    local one = data.tmpdir() .. "/big.dcm"
    fx.write_slice(one, {rows = 60000, cols = 60000, pixels = {1, 2, 3, 4}})
    ok, err = pcall(vol.read, one)
    assert.is_false(ok)
    assert.truthy(err:find(one, 1, true) and err:find("needs 7200000000", 1, true), err)
    local mixed = data.tmpdir() -- one absurd slice among good ones
    paths = fx.write_series(mixed, {n = 4, per_slice = function(k, t) if k == 2 then t.rows = 60000 end end})
    ok, err = pcall(vol.read, mixed)
    assert.is_false(ok)
    assert.truthy(err:find(paths[3] .. " is damaged: Pixel Data has", 1, true), err)
  end)

  it("says what it could not allocate, naming the folder", function()
    local dir = data.tmpdir()
    fx.write_series(dir, {n = 3, rows = 512, cols = 512, value = function() return 0 end})
    collectgarbage()
    vol.set_memory_budget(vol.live_bytes() / 1048576 + 1) -- room for 1 MiB: the stack needs 1.5
    local ok, err = pcall(vol.read, dir)
    vol.set_memory_budget(0)
    assert.is_false(ok)
    assert.truthy(err:find(dir, 1, true), err)
    assert.truthy(err:find("cannot hold 3 slices of 512x512 int16", 1, true) and err:find("budget", 1, true), err)
    assert.is_nil(err:find("metadata", 1, true), err)
  end)

  it("enters a folder once when a symbolic link loops back to it", function()
    local root = data.tmpdir()
    os.execute("mkdir -p " .. data.shell_quote(root .. "/a/b"))
    fx.write_series(root .. "/a/b", {n = 4})
    assert.is_true(os.execute(("ln -s .. %s && ln -s %s %s"):format(data.shell_quote(root .. "/a/b/up"),
      data.shell_quote(root), data.shell_quote(root .. "/a/root"))))
    local list = vol.dicom_series(root, {recursive = true})
    assert.are.equal(1, #list)
    assert.are.equal(4, list[1].nfiles)
    assert.are.equal(4, vol.read(root, {recursive = true}).shape[3])
    os.execute("mkdir -p " .. data.shell_quote(root .. "/.snapshot")) -- hidden folders are not entered
    fx.write_series(root .. "/.snapshot", {n = 4})
    assert.are.equal(1, #vol.dicom_series(root, {recursive = true}))
  end)

  it("reports header-scan and decoding progress and stops on an error in the callback", function()
    local dir = data.tmpdir()
    fx.write_series(dir, {n = 5})
    fx.write_bytes(dir .. "/README", "x")
    local calls = {}
    vol.dicom_series(dir, {progress = function(done, total) calls[#calls + 1] = {done, total} end})
    assert.are.same({6, 6}, calls[#calls])
    local ok, err = pcall(vol.dicom_series, dir, {progress = function() error("stop here") end})
    assert.is_false(ok)
    assert.truthy(err:find("stop here", 1, true), err)
    calls = {}
    local v = vol.read_dicom(dir, {progress = function(done, total) calls[#calls + 1] = {done, total} end})
    assert.are.same({5, 5}, calls[#calls])
    local big = data.tmpdir() -- slices are decoded in batches, reported between them
    fx.write_series(big, {n = 40, rows = 4, cols = 4})
    calls = {}
    vol.read(big, {progress = function(done, total) calls[#calls + 1] = done .. "/" .. total end})
    assert.are.same({"16/40", "32/40", "40/40"}, calls)
    ok, err = pcall(vol.read, big, {progress = function() error("enough") end})
    assert.is_false(ok)
    assert.truthy(err:find("enough", 1, true), err)
    assert.are.same({4, 6, 5}, v.shape)
    ok, err = pcall(vol.dicom_series, dir, {progress = 3})
    assert.is_false(ok)
    assert.truthy(err:find("progress must be a function", 1, true), err)
  end)
end)

describe("vol.read on DICOM folders and files", function()
  it("accepts read_dicom's options", function()
    local root = data.tmpdir()
    os.execute("mkdir -p " .. data.shell_quote(root .. "/sub"))
    local _, uid = fx.write_series(root .. "/sub", {n = 3, value = function() return -2000 end, intercept = -1024})
    local ok, err = pcall(vol.read, root)
    assert.is_false(ok)
    assert.truthy(err:find("recursive=true", 1, true), err)
    local v = vol.read(root, {recursive = true, series = uid, keep_padding = true, dtype = "float32"})
    assert.are.same({4, 6, 3}, v.shape)
    assert.are.equal("float32", v.dtype)
    assert.are.equal(-3024, v:get(1, 1, 1))
    ok, err = pcall(vol.read, root, {recursiv = true})
    assert.is_false(ok)
    assert.truthy(err:find("unknown option 'recursiv'", 1, true) and err:find("skip_damaged", 1, true), err)
    ok, err = pcall(vol.read, data.path("ct/cranium_ct.nii.gz"), {recursive = true})
    assert.is_false(ok)
    assert.truthy(err:find("valid: raw", 1, true), err)
  end)
end)

describe("US/SS attributes of implicit VR files", function()
  it("reads PixelPaddingValue with the sign of the pixels", function()
    for _, rel in ipairs{"dicom/derived/CT_small_implicit.dcm", "dicom/single/CT_small.dcm"} do
      local v = vol.read(data.path(rel), {raw = true})
      assert.are.equal("-2000", v.meta.PixelPaddingValue, rel)
      assert.are.equal("-2000", v.meta["0028,0120"], rel)
    end
    local dir = data.tmpdir()
    fx.write_slice(dir .. "/s.dcm", {rows = 2, cols = 2, pixels = {-3000, 0, 5, 7}, padding = -3000, syntax = "implicit",
      intercept = -1024, ipp = {0, 0, 0}, iop = {1, 0, 0, 0, 1, 0}, spacing = {1, 1},
      extra = {{0x0028, 0x0106, "SS", -3000}, {0x0028, 0x0107, "SS", 7}}})
    local v = vol.read(dir .. "/s.dcm")
    assert.are.equal("-3000", v.meta.PixelPaddingValue)
    assert.are.equal("-3000", v.meta.SmallestImagePixelValue)
    assert.are.equal("7", v.meta.LargestImagePixelValue)
    assert.are.equal(-1024, v:get(1, 1, 1)) -- padding became air
    local u = data.tmpdir() .. "/u.dcm" -- unsigned pixels: the same bytes read as US
    fx.write_slice(u, {rows = 2, cols = 2, pixels = {65000, 0, 5, 7}, signed = false, padding = 65000,
      syntax = "implicit", extra = {{0x0028, 0x0107, "US", 65000}}})
    local w = vol.read(u)
    assert.are.equal("65000", w.meta.PixelPaddingValue)
    assert.are.equal("65000", w.meta.LargestImagePixelValue)
  end)
end)

describe("read_dicom_seg", function()
  local function ct(dir)
    fx.write_series(dir, {n = 6, rows = 4, cols = 5, dz = 2, origin = {0, 0, 0}, spacing = {1, 1}})
    return vol.read(dir)
  end

  local function mask(f) local t = {} for i = 0, 19 do t[i + 1] = f(i % 5, i // 5) end return t end

  it("places frames by position on the reference grid and fills left-out frames", function()
    local dir = data.tmpdir()
    local v = ct(dir)
    local seg = dir .. "/seg.dcm"
    fx.write_seg(seg, {rows = 4, cols = 5, iop = {1, 0, 0, 0, 1, 0}, spacing = {1, 1}, dz = 2,
      segments = {{number = 1, label = "bone"}, {number = 2, label = "marrow"}},
      frames = {
        {ipp = {0, 0, 8}, segment = 1, mask = mask(function(x) return x < 3 and 1 or 0 end)},
        {ipp = {0, 0, 2}, segment = 1, mask = mask(function() return 1 end)},
        {ipp = {0, 0, 8}, segment = 2, mask = mask(function(x, y) return (x == 2 and y == 1) and 1 or 0 end)},
      }})
    local lab, info = vol.read_dicom_seg(seg, v)
    assert.are.same(v.shape, lab.shape)
    assert.are.equal("int32", lab.dtype)
    assert.are.equal(0, lab:get(1, 1, 1))             -- z=0: left out, empty
    assert.are.equal(20 + 11, lab:eq(1):stats().sum) -- z=2 full, z=8 x<3 but the overlap voxel
    assert.are.equal(2, lab:get(3, 2, 5))             -- overlap keeps the higher number
    assert.are.equal(1, info.overlap_voxels)
    assert.are.same({number = 2, label = "marrow"}, info.segments[2])
    local m = vol.read_dicom_seg(seg, v, {masks = true})
    assert.are.same({5, 4, 6, 2}, m.shape)
    assert.are.equal(1, m:get(3, 2, 5, 1))
    assert.are.equal(1, m:get(3, 2, 5, 2))
    local own = vol.read_dicom_seg(seg) -- no reference: the grid the frames span (z 2..8, 4 slices)
    assert.are.same({5, 4, 4}, own.shape)
    assert.are.equal(0, own:get(1, 1, 2))
  end)

  it("reads the referenced CT series from a folder holding several", function()
    local dir = data.tmpdir()
    local _, uid = fx.write_series(dir, {n = 6, rows = 4, cols = 5, dz = 2, origin = {0, 0, 0}, spacing = {1, 1},
      names = function(k) return "ct" .. k end})
    fx.write_series(dir, {n = 3, rows = 4, cols = 5, names = function(k) return "other" .. k end})
    local seg = data.tmpdir() .. "/seg.dcm"
    fx.write_seg(seg, {rows = 4, cols = 5, iop = {1, 0, 0, 0, 1, 0}, spacing = {1, 1}, ref_series = uid,
      segments = {{number = 1, label = "bone"}}, frames = {{ipp = {0, 0, 4}, segment = 1, mask = mask(function() return 1 end)}}})
    local lab, info, ct = vol.read_dicom_seg(seg, dir)
    assert.are.equal(uid, ct.meta.SeriesInstanceUID)
    assert.are.same(ct.shape, lab.shape)
    assert.are.equal(20, lab:stats().sum)
    assert.are.equal(1, lab:get(1, 1, 3))
    assert.are.equal(1, info.frames_placed)
  end)

  it("refuses frames that fall between slices", function()
    local dir = data.tmpdir()
    local v = ct(dir)
    fx.write_seg(dir .. "/s.dcm", {rows = 4, cols = 5, iop = {1, 0, 0, 0, 1, 0}, spacing = {1, 1},
      segments = {{number = 1, label = "x"}}, frames = {{ipp = {0, 0, 3}, segment = 1, mask = mask(function() return 1 end)}}})
    local ok, err = pcall(vol.read_dicom_seg, dir .. "/s.dcm", v)
    assert.is_false(ok)
    assert.truthy(err:find("not on one of its voxels", 1, true), err)
  end)

  it("reads the real single-frame liver SEG", function()
    local rel = "dicom/single/liver_1frame.dcm"
    local lab, info = vol.read_dicom_seg(data.path(rel))
    for _, r in ipairs(dref.references("file", rel)) do -- pydicom unpacks the 1-bit frames
      assert.are.equal(r.value.stored_stats.sum, lab:stats().sum, r.from)
    end
    assert.are.equal(1, #info.segments)
  end)
end)

describe("dicom_convert and the DICOM scripts", function()
  local function tree()
    local root = data.tmpdir()
    os.execute("mkdir -p " .. data.shell_quote(root .. "/p1/ct") .. " " .. data.shell_quote(root .. "/p2"))
    fx.write_series(root .. "/p1/ct", {n = 4, description = "chest", value = function(x, y, k) return x + y + k end})
    fx.write_series(root .. "/p2", {n = 3, description = "head", names = function(k) return "h" .. k end})
    fx.write_bytes(root .. "/p2/notes.txt", "not dicom")
    return root
  end

  it("converts a folder tree, one file per series", function()
    local root, out = tree(), data.tmpdir()
    local res = vol.dicom_convert(root, out, {progress = false})
    assert.are.equal(2, #res)
    assert.are.equal(1, res.skipped)
    for _, r in ipairs(res) do
      assert.is_nil(r.error)
      local v = vol.read(r.path)
      assert.are.same(r.shape, v.shape)
      assert.are.same(vol.read_dicom(vol.dicom_series(root, {recursive = true})[_].files).shape, v.shape)
    end
    local ok, err = pcall(vol.dicom_convert, root, out, {formt = "nii"})
    assert.is_false(ok)
    assert.truthy(err:find("unknown option 'formt'", 1, true), err)
  end)

  it("reads a series from a list of files", function()
    local root = tree()
    local s = vol.dicom_series(root .. "/p1/ct")[1]
    local v = vol.read_dicom(s.files)
    assert.are.equal(4, v.shape[3])
    assert.are.equal("chest", v.meta.SeriesDescription)
  end)

  it("dicom_info prints the series table and the tags", function()
    local root = tree()
    fx.write_bytes(root .. "/p2/cut.dcm", string.rep("\0", 128) .. "DICM\2\0")
    local out = data.run_medula(nil, {"-s", "dicom_info", root})
    assert.truthy(out:find("2 series, 1 other files, 1 damaged files", 1, true), out)
    assert.truthy(out:find("! damaged " .. root .. "/p2/cut.dcm: ", 1, true), out)
    assert.truthy(out:find("chest", 1, true))
    assert.truthy(out:find("(0010,0020) PatientID", 1, true), out)
  end)

  it("stops on a damaged file unless told to skip it, and lists it", function()
    local root = tree()
    local bad = root .. "/p2/h1"
    local f = assert(io.open(bad, "rb"))
    local b = f:read("a")
    f:close()
    fx.write_bytes(bad, b:sub(1, 300))
    local out = data.tmpdir()
    local ok, err = pcall(vol.dicom_convert, root, out, {progress = false})
    assert.is_false(ok)
    assert.truthy(err:find(bad .. " is damaged", 1, true) and err:find("skip_damaged=true", 1, true), err)
    local res = vol.dicom_convert(root, out, {progress = false, skip_damaged = true})
    assert.are.equal(2, #res)
    assert.are.equal(bad, res.damaged[1].path)
    assert.are.same({root .. "/p2/notes.txt"}, res.skipped_files)
  end)

  it("dicom_convert script passes allow_nonuniform, skip_damaged and recursive through", function()
    local root = data.tmpdir()
    os.execute("mkdir -p " .. data.shell_quote(root .. "/sub"))
    fx.write_series(root .. "/sub", {n = 4, positions = {0, 2, 4, 8}})
    local ok, err = pcall(data.run_medula, nil, {"-s", "dicom_convert", root, data.tmpdir(), "nii"})
    assert.is_false(ok)
    assert.truthy(err:find("not uniform", 1, true) and err:find("0 series converted", 1, true), err)
    local out = data.run_medula(nil, {"-s", "dicom_convert", "--allow-nonuniform", root, data.tmpdir(), "nii"})
    assert.truthy(out:find("1 series converted", 1, true), out)
    ok, err = pcall(data.run_medula, nil, {"-s", "dicom_convert", "--no-recursive", "--allow-nonuniform", root, data.tmpdir()})
    assert.is_false(ok)
    assert.truthy(err:find("no DICOM image found", 1, true), err)
    ok, err = pcall(data.run_medula, nil, {"-s", "dicom_convert", "--alow-nonuniform", root, data.tmpdir()})
    assert.is_false(ok)
    assert.truthy(err:find("unknown option --alow-nonuniform", 1, true), err)
  end)

  it("dicom_convert script writes the files and says so", function()
    local out_dir = data.tmpdir()
    local out = data.run_medula(nil, {"-s", "dicom_convert", tree(), out_dir, "mha"})
    assert.truthy(out:find("2 series converted", 1, true), out)
    assert.truthy(out:find("%.mha"), out)
  end)
end)
