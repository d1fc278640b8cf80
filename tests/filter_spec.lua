-- Filters: exact small cases, parity with scipy.ndimage / scikit-image
-- (tests/ref/filter_ref.py) on random volumes (2-D and 3-D, odd and even
-- sizes, every border mode) and on the real head CT, threads, errors.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local valref = require "helpers.valref"

local MODES = {"reflect", "constant", "nearest", "mirror", "wrap"}

local function same_volume(a, b)
  if a.dtype ~= b.dtype or #a ~= #b then return false end
  return a:ne(b):stats().sum == 0
end

-- A 2-D float64 volume from rows (row 1 is y = 1).
local function grid(rows, dtype)
  local v = vol.new{shape={#rows[1], #rows}, dtype=dtype or "float64"}
  for j, r in ipairs(rows) do
    for i, x in ipairs(r) do v:set(i, j, x) end
  end
  return v
end

local function values(v)
  local t = {}
  for j = 1, v.shape[2] do
    for i = 1, v.shape[1] do t[#t + 1] = v:get(i, j) end
  end
  return t
end

-- Checks every recorded job: exact ones must match bit for bit, the others
-- within tol relative to the reference's largest magnitude.
local function check_all(S, tol)
  local results, jobs = S:check()
  local worst, where = 0, "none"
  for i, r in ipairs(results) do
    assert.is_true(r.ok, valref.describe(jobs[i], r))
    if jobs[i].exact then
      assert.equal(0, r.mismatch, valref.describe(jobs[i], r))
    elseif r.max_rel > (jobs[i].tol or tol) then
      worst, where = math.huge, valref.describe(jobs[i], r)
    elseif not jobs[i].tol and r.max_rel > worst then
      worst, where = r.max_rel, valref.describe(jobs[i], r)
    end
  end
  assert.is_true(worst <= tol, where)
  return #results
end

describe("filters on small inputs", function()
  it("give hand-computed values", function()
    local v = grid{{1, 2, 3, 4}}
    -- reflect extends 1 2 3 4 as 1 | 1 2 3 4 | 4
    local u = values(v:uniform{radius_vox={1, 0}, dtype="float64"})
    for i, want in ipairs{4 / 3, 2, 3, 11 / 3} do assert.near(want, u[i], 1e-15) end
    assert.same({1, 1, 2, 3}, values(v:minimum_filter{radius_vox={1, 0}}))
    assert.same({2, 3, 4, 4}, values(v:maximum_filter{radius_vox={1, 0}}))
    assert.same({1, 2, 3, 4}, values(v:median{radius_vox={1, 0}}))
    assert.same({1, 0, 1, 0}, values(grid{{0, 1, 0, 1}}:median{radius_vox={1, 0}, mode="wrap"}))
    assert.same({0, 0, 1, 1}, values(grid{{0, 1, 0, 1}}:median{radius_vox={1, 0}}))
    -- constant border: x stencil 0 0 0 -5, y stencil -2x (one row)
    assert.same({-2, -4, -6, -13}, values(v:laplace{mode="constant", dtype="float64"}))
    local d = grid{{0, 0, 1, 0, 0}}:gaussian{sigma_vox=1, truncate=1, dtype="float64"}
    local e = math.exp(-0.5)
    local g = values(d)
    for i, want in ipairs{0, e / (1 + 2 * e), 1 / (1 + 2 * e), e / (1 + 2 * e), 0} do assert.near(want, g[i], 1e-15) end
    -- sobel along x of a ramp: (x+1) - (x-1) = 2 times the [1, 2, 1] sum of 4 (reflect ends give 1)
    local s = values(grid{{0, 1, 2, 3}, {0, 1, 2, 3}}:sobel{axis=1, dtype="float64"})
    assert.same({4, 8, 8, 4, 4, 8, 8, 4}, s)
    local k = vol.new{shape={2, 1}, dtype="float64"}
    k:set(1, 1, 1)
    k:set(2, 1, -1)
    -- correlate: centre at index 2 (x - 1, x); convolve: kernel reversed, centre at 1 (x, x + 1)
    assert.same({0, -1, -1, -1}, values(v:correlate(k, {dtype="float64"})))
    assert.same({1, 1, 1, 0}, values(v:convolve(k, {dtype="float64"})))
  end)
end)

describe("filter parity with scipy.ndimage and scikit-image", function()
  local S = valref.session("filter_ref.py")
  local vols = S:select(function(r) return r.kind ~= "kernel" end)
  local kernels = S:select(function(r) return r.kind == "kernel" end)
  local function add(rec, job, out)
    job["in"] = rec.file
    S:add(job, out)
  end

  it("gaussian: every mode, per-axis sigmas, per slice, float32 and float64", function()
    for n, rec in ipairs(vols) do
      local v = S:load(rec)
      local three = #rec.shape == 3
      local mode = MODES[n % #MODES + 1]
      add(rec, {op="gaussian", sigma=1.5, mode=mode, cval=2.5},
        v:gaussian{sigma_vox=1.5, mode=mode, cval=2.5})
      local sig = three and {0.8, 2.2, 1.1} or {2.5, 0.7}
      add(rec, {op="gaussian", sigma=sig, mode="mirror", dtype="float64"},
        v:gaussian{sigma_vox=sig, mode="mirror", dtype="float64"})
      add(rec, {op="gaussian", sigma=3, truncate=2.5, mode="wrap"}, v:gaussian{sigma_vox=3, truncate=2.5, mode="wrap"})
      if three then
        add(rec, {op="gaussian", sigma={1, 1.7, 0}, per_slice=true, mode="nearest"},
          v:gaussian{sigma_vox={1, 1.7}, per_slice=true, mode="nearest"})
      end
    end
    check_all(S, 1e-5)
  end)

  it("gaussian in mm on an anisotropic grid", function()
    local rec = vols[1]
    local v = S:load(rec):copy():set_spacing{0.7, 0.9, 2.5}
    add(rec, {op="gaussian", sigma={2 / 0.7, 2 / 0.9, 2 / 2.5}}, v:gaussian{sigma_mm=2})
    check_all(S, 1e-5)
  end)

  it("median, minimum and maximum: exact for every mode, 2-D and 3-D, radius 1 to 3", function()
    for n, rec in ipairs(vols) do
      local v = S:load(rec)
      for _, mode in ipairs(MODES) do
        add(rec, {op="median", radius=1, mode=mode, cval=3, exact=true}, v:median{radius_vox=1, mode=mode, cval=3})
      end
      local r = #rec.shape == 3 and {2, 1, 1} or {1, 3}
      add(rec, {op="median", radius=r, exact=true}, v:median{radius_vox=r})
      add(rec, {op="median", radius=2, mode="mirror", exact=true}, v:median{radius_vox=2, mode="mirror"})
      if #rec.shape == 3 then
        add(rec, {op="median", radius={1, 1, 0}, per_slice=true, exact=true}, v:median{radius_vox=1, per_slice=true})
      end
      local mode = MODES[n % #MODES + 1]
      add(rec, {op="minimum", radius=1, mode=mode, cval=3, exact=true}, v:minimum_filter{radius_vox=1, mode=mode, cval=3})
      add(rec, {op="maximum", radius=2, mode=mode, exact=true}, v:maximum_filter{radius_vox=2, mode=mode})
    end
    check_all(S, 0)
  end)

  it("uniform, correlate and convolve for odd and even kernels", function()
    for n, rec in ipairs(vols) do
      local v = S:load(rec)
      local mode = MODES[n % #MODES + 1]
      add(rec, {op="uniform", size=3, mode=mode, tol=1e-5}, v:uniform{radius_vox=1, mode=mode})
      local size = #rec.shape == 3 and {4, 2, 5} or {4, 3}
      add(rec, {op="uniform", size=size, mode="nearest", tol=1e-5}, v:uniform{size=size, mode="nearest"})
      for _, k in ipairs(kernels) do
        if #k.shape == 2 or #rec.shape == 3 then
          local kv = S:load(k)
          add(rec, {op="correlate", kernel=k.file, mode=mode, cval=1.5, dtype="float64"},
            v:correlate(kv, {mode=mode, cval=1.5, dtype="float64"}))
          add(rec, {op="convolve", kernel=k.file, mode="reflect", dtype="float64"},
            v:convolve(kv, {dtype="float64"}))
        end
      end
    end
    check_all(S, 1e-12)
  end)

  it("edges: skimage per slice, scipy along an axis, Laplacian, LoG, gradient magnitude", function()
    for n, rec in ipairs(vols) do
      local v = S:load(rec)
      local three = #rec.shape == 3
      local mode = MODES[n % #MODES + 1]
      for _, f in ipairs{"sobel", "prewitt", "scharr"} do
        add(rec, {op=f, mode=mode}, v[f](v, {mode=mode}))
      end
      add(rec, {op="roberts"}, v:roberts())
      if three then add(rec, {op="sobel", volume=true}, v:sobel{volume=true}) end
      for axis = 1, #rec.shape do
        add(rec, {op="sobel_axis", axis=axis, mode=mode}, v:sobel{axis=axis, mode=mode})
        add(rec, {op="prewitt_axis", axis=axis}, v:prewitt{axis=axis})
      end
      add(rec, {op="laplace", mode=mode}, v:laplace{mode=mode})
      add(rec, {op="gaussian_laplace", sigma=1.3, mode=mode}, v:gaussian_laplace{sigma_vox=1.3, mode=mode})
      if three then
        add(rec, {op="gaussian_laplace", sigma={2, 1}, per_slice=true}, v:gaussian_laplace{sigma_vox={2, 1}, per_slice=true})
      end
      local sv = v:copy():set_spacing{0.7, 1.3, 2.5}
      add(rec, {op="gradient_magnitude", spacing=sv.spacing, mode="nearest", dtype="float64"},
        sv:gradient_magnitude{dtype="float64"})
      add(rec, {op="gradient_magnitude", spacing={1, 1, 1}, sigma=1.2, mode=mode},
        v:gradient_magnitude{sigma_vox=1.2, spacing=false, mode=mode})
    end
    check_all(S, 1e-5)
  end)

  it("match on the real head CT (gaussian 2 mm, median r1, sobel slices)", function()
    local ct = vol.read(data.path("ct/cranium_ct.nii.gz"))
    local name = S:save(ct, "ct")
    local rec = {file=name}
    local sp = ct.spacing
    add(rec, {op="gaussian", sigma={2 / sp[1], 2 / sp[2], 2 / sp[3]}}, ct:gaussian{sigma_mm=2})
    add(rec, {op="median", radius=1, exact=true}, ct:median{radius_vox=1})
    add(rec, {op="sobel"}, ct:sobel())
    check_all(S, 1e-5)
  end)
end)

describe("v:clahe", function()
  it("matches skimage's equalize_adapthist in 3-D and per slice (within 1/nbins)", function()
    local S = valref.session("filter_ref.py")
    -- skimage refuses floats outside [-1, 1]: the float32 inputs are not in range
    for _, rec in ipairs(S:select(function(r) return r.kind ~= "kernel" and r.kind ~= "float32" end)) do
      local v = S:load(rec)
      local job = {op="clahe", ["in"]=rec.file, dtype="float64"}
      S:add(job, v:clahe{dtype="float64"})
      S:add({op="clahe", ["in"]=rec.file, kernel=#rec.shape == 3 and {5, 4, 3} or {6, 4}, clip_limit=0.03, nbins=64,
             dtype="float64"},
        v:clahe{kernel_size=#rec.shape == 3 and {5, 4, 3} or {6, 4}, clip_limit=0.03, nbins=64, dtype="float64"})
      if #rec.shape == 3 then
        S:add({op="clahe", ["in"]=rec.file, per_slice=true, kernel={7, 5}, dtype="float64"},
          v:clahe{per_slice=true, kernel_size={7, 5}, dtype="float64"})
      end
    end
    local ct = vol.read(data.path("ct/cranium_ct.nii.gz"))
    local crop = ct:crop{lo={60, 50, 30}, hi={187, 177, 69}}
    local name = S:save(crop, "ct")
    S:add({op="clahe", ["in"]=name, dtype="float64"}, crop:clahe{dtype="float64"})
    S:add({op="clahe", ["in"]=name, per_slice=true, clip_limit=0.02, dtype="float64"},
      crop:clahe{per_slice=true, clip_limit=0.02, dtype="float64"})
    -- big enough that the blend reads its per-cell table of maps (the table
    -- is built only when it is no larger than the output)
    local big = vol.phantom.chest{shape={168, 160, 64}}
    local bname = S:save(big, "chest")
    S:add({op="clahe", ["in"]=bname}, big:clahe())
    S:add({op="clahe", ["in"]=bname, nbins=64, clip_limit=0.03, kernel={24, 20, 16}, dtype="float64"},
      big:clahe{nbins=64, clip_limit=0.03, kernel_size={24, 20, 16}, dtype="float64"})
    local results, jobs = S:check()
    local worst = 0
    for i, r in ipairs(results) do
      assert.is_true(r.ok)
      assert.is_true(r.max_abs <= 1 / (jobs[i].nbins or 256), valref.describe(jobs[i], r))
      worst = math.max(worst, r.max_abs)
    end
    -- integer volumes follow skimage step for step
    assert.is_true(worst < 1e-6, "largest difference " .. worst)
  end)

  it("rejects bad arguments", function()
    local v = vol.new{shape={8, 8, 8}}
    assert.error_matches(function() v:clahe{nbins=0} end, "option 'nbins' must be an integer >= 1")
    assert.error_matches(function() v:clahe{clip_limit=-1} end, "clip_limit")
    assert.error_matches(function() v:clahe{kernel_size=0} end, "kernel_size")
  end)
end)

describe("filters and threads", function()
  it("give bit-identical output on 1 and 2 threads", function()
    local v = vol.phantom.chest{shape={96, 80, 40}}
    local saved = vol.threads()
    local out = {}
    for _, t in ipairs{1, 2} do
      vol.set_threads(t)
      out[t] = {v:gaussian{sigma_vox=2}, v:median{radius_vox=1}, v:uniform{radius_vox=2}, v:sobel(),
                v:gaussian_laplace{sigma_vox=1}, v:maximum_filter{radius_vox=1}, v:roberts(),
                v:correlate(vol.new{shape={3, 3, 3}, fill=1 / 27}), v:clahe(), v:clahe{per_slice=true}}
    end
    vol.set_threads(saved)
    for i = 1, #out[1] do assert.is_true(same_volume(out[1][i], out[2][i]), "filter " .. i) end
  end)
end)

describe("filter arguments", function()
  it("are checked", function()
    local v = vol.new{shape={4, 4, 4}}
    assert.error_matches(function() v:gaussian{sigma_vox=-1} end, "option 'sigma_vox' must be >= 0")
    assert.error_matches(function() v:gaussian{sigma_vox=0} end, "sigma must be > 0 on some axis")
    assert.error_matches(function() v:gaussian{} end, "give one of the options 'sigma_mm' and 'sigma_vox'")
    assert.error_matches(function() v:gaussian{sigma_vox=1, sigma_mm=1} end, "give one of the options")
    assert.error_matches(function() v:gaussian{sigma_vox={1, 2}} end, "a list of 3 numbers")
    assert.error_matches(function() v:gaussian{sigma_vox=5000} end,
      "bad argument #1 to 'gaussian' (sigma too large: 5000.0 voxels on axis 1 would need more than 8001 taps)", 1, true)
    assert.error_matches(function() v:gaussian{sigma_vox=1, mode="edge"} end, "option 'mode' must be one of reflect")
    assert.error_matches(function() v:gaussian{sigma_vox=1, dtype="int16"} end, "float32 or float64")
    assert.error_matches(function() v:median{radius_vox=0} end, "radius must be >= 1 voxel")
    assert.error_matches(function() v:median{radius_vox=1.5} end, "integers")
    assert.error_matches(function() v:minimum_filter{} end, "give one of the options 'radius_mm' and 'radius_vox'")
    assert.error_matches(function() v:uniform{size=0} end, "integers 1 to 2001")
    assert.error_matches(function() v:sobel{axis=4} end, "option 'axis' must be 1 to 3")
    assert.error_matches(function() vol.new{shape={4, 4}}:correlate(v) end, "kernel must be 2%-D")
    assert.error_matches(function() vol.new{shape={2, 2, 2, 2}}:gaussian{sigma_vox=1} end, "expected a 2%-D or 3%-D volume")
    assert.error_matches(function() v:gaussian{sigma_vox=1, sigma=1} end, "unknown option 'sigma'")
  end)
end)
