-- Value statistics and intensity transforms: exact small cases, parity with
-- numpy / scikit-image (tests/ref/intensity_ref.py) on random volumes of every
-- kind and on the real head CT, threads, errors.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local valref = require "helpers.valref"
local itkref = require "helpers.itkref"

-- A volume holding the list xs along x (dtype default float64).
local function row(xs, dtype)
  local v = vol.new{shape={#xs, 1}, dtype=dtype or "float64"}
  for i, x in ipairs(xs) do v:set(i, 1, x) end
  return v
end

local function same_volume(a, b)
  if a.dtype ~= b.dtype or #a ~= #b then return false end
  return a:ne(b):stats().sum == 0
end

local function same_list(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do
    if a[i] ~= b[i] and not (a[i] ~= a[i] and b[i] ~= b[i]) then return false end
  end
  return true
end

describe("v:histogram", function()
  it("counts numpy's bins, the last one closed", function()
    local c, e = row{1, 2, 2, 3, 4}:histogram{bins=3}
    assert.same({1, 2, 2}, c)
    assert.same({1, 2, 3, 4}, e)
    c, e = row{5, 5, 5}:histogram{bins=2}
    assert.same({0, 3}, c)
    assert.same({4.5, 5, 5.5}, e)
    c = row{-1, 0, 0.5, 1, 2}:histogram{bins=2, range={0, 1}}
    assert.same({1, 2}, c)
    c, e = row{0, 1, 2, 3, 10}:histogram{bins={0, 1, 5, 10}}
    assert.same({1, 3, 1}, c)
    assert.same({0, 1, 5, 10}, e)
  end)

  it("leaves out NaN and voxels outside the mask", function()
    local v = row{0 / 0, 1, 2, 3}
    local c = v:histogram{bins=2}
    assert.same({1, 2}, c)
    local m = row({0, 1, 0, 1}, "uint8")
    c = v:histogram{bins=2, mask=m}
    assert.same({1, 1}, c)
  end)

  it("rejects bad arguments", function()
    local v = row{1, 2}
    assert.error_matches(function() v:histogram{bins=0} end, "option 'bins' must be an integer >= 1")
    assert.error_matches(function() v:histogram{range={2, 1}} end, "lo <= hi")
    assert.error_matches(function() v:histogram{bins={3, 1}} end, "increase monotonically")
    assert.error_matches(function() v:histogram{bin=3} end, "unknown option 'bin'")
    assert.error_matches(function() v:histogram{mask=row({0, 0}, "uint8")} end, "selection is empty")
    assert.error_matches(function() v:histogram{mask=row({0, 0, 1}, "uint8")} end, "mask shape")
  end)
end)

describe("v:percentile and v:median", function()
  it("interpolate as numpy's linear method", function()
    local v = row{4, 1, 3, 2}
    assert.equal(2.5, v:percentile(50))
    assert.same({1, 1.75, 4}, v:percentile{q={0, 25, 100}})
    assert.equal(2.5, v:median())
    assert.equal(2, row{3, 1, 2}:median())
    assert.equal(2, v:percentile(50, {method="lower"}))
    assert.equal(3, v:percentile(50, {method="higher"}))
    assert.equal(3, v:percentile(50, {method="nearest"})) -- index 1.5 rounds half to even: 2
    assert.equal(2.5, v:percentile(50, {method="midpoint"}))
  end)

  it("reject bad arguments", function()
    local v = row{1, 2}
    assert.error_matches(function() v:percentile(101) end, "percentiles must be in %[0, 100%]")
    assert.error_matches(function() v:percentile(5, {method="cubic"}) end, "option 'method' must be one of linear")
    assert.error_matches(function() v:percentile{mask=v} end, "option 'q'")
    assert.error_matches(function() v:median{mask=row({0, 0}, "uint8")} end, "selection is empty")
  end)
end)

describe("v:unique", function()
  it("lists distinct values and counts", function()
    local v = row({3, -1, 3, 0, -1, 3}, "int16")
    assert.same({-1, 0, 3}, v:unique())
    local u, c = v:unique{counts=true}
    assert.same({-1, 0, 3}, u)
    assert.same({2, 1, 3}, c)
    u, c = row{0.5, -0.0, 0.0, 0 / 0, 0.5}:unique{counts=true}
    assert.same({0, 0.5}, u)
    assert.same({2, 2}, c)
    assert.same({}, row({1, 2}, "int32"):unique{mask=row({0, 0}, "uint8")})
  end)
end)

describe("statistics parity with numpy", function()
  local S = valref.session("intensity_ref.py")

  local function stat_jobs(rec, masked)
    local v = S:load(rec)
    local mask = masked and S:load(rec.mask) or nil
    local mname = masked and rec.mask or nil
    local jobs = {}
    local function add(job, got)
      job["in"], job.mask = rec.file, mname
      S:add(job)
      jobs[#jobs + 1] = {job, got}
    end
    for _, bins in ipairs{1, 10, 80, 256} do
      local c, e = v:histogram{bins=bins, mask=mask}
      add({op="histogram", bins=bins}, {counts=c, edges=e})
    end
    local c, e = v:histogram{bins=7, range={-100.3, 250.7}, mask=mask}
    add({op="histogram", bins=7, range={-100.3, 250.7}}, {counts=c, edges=e})
    c, e = v:histogram{bins={-500, -3.5, 0, 0.25, 1, 40, 1e4}, mask=mask}
    add({op="histogram", bins={-500, -3.5, 0, 0.25, 1, 40, 1e4}}, {counts=c, edges=e})
    local q = {0, 0.5, 1, 2.5, 25, 33.3, 50, 66.7, 75, 97.5, 99.5, 100}
    for _, method in ipairs{"linear", "lower", "higher", "midpoint", "nearest", "inverted_cdf",
                            "averaged_inverted_cdf", "closest_observation", "interpolated_inverted_cdf",
                            "hazen", "weibull", "median_unbiased", "normal_unbiased"} do
      add({op="percentile", q=q, method=method}, {ref=v:percentile(q, {mask=mask, method=method})})
    end
    add({op="median"}, {ref=v:median{mask=mask}})
    local u, n = v:unique{counts=true, mask=mask}
    add({op="unique"}, {values=u, counts=n})
    return jobs
  end

  local function check(all)
    local results = S:check()
    local bad = 0
    for i, r in ipairs(results) do
      local job, got = all[i][1], all[i][2]
      local ok = true
      for k, want in pairs(r) do
        if type(want) == "table" and not same_list(got[k], want) then ok = false end
        if type(want) == "number" and got[k] ~= want then ok = false end
      end
      if not ok then
        bad = bad + 1
        if bad < 4 then print("mismatch: " .. valref.describe(job, r)) end
      end
    end
    return bad, #results
  end

  it("match for every dtype, with and without a mask", function()
    local all = {}
    for _, rec in ipairs(S.inputs) do
      for _, masked in ipairs{false, true} do
        for _, j in ipairs(stat_jobs(rec, masked)) do all[#all + 1] = j end
      end
    end
    local bad, n = check(all)
    assert.equal(0, bad)
    assert.is_true(n > 1000)
  end)

  it("match on the real head CT (80 HU bins, percentiles, unique)", function()
    local ct = vol.read(data.path("ct/cranium_ct.nii.gz"))
    local name = S:save(ct, "ct")
    local rec = {file=name}
    S.cache[name] = ct
    local all = stat_jobs(rec, false)
    local c = ct:histogram{bins=80, range={-1000, 600}}
    S:add({op="histogram", ["in"]=name, bins=80, range={-1000, 600}})
    all[#all + 1] = {S.jobs[#S.jobs], {counts=c, edges=select(2, ct:histogram{bins=80, range={-1000, 600}})}}
    local f = ct:astype("float32")
    local fname = S:save(f, "ctf")
    S.cache[fname] = f
    for _, j in ipairs(stat_jobs({file=fname}, false)) do all[#all + 1] = j end
    local bad = check(all)
    assert.equal(0, bad)
  end)

  it("give the same answers on 1 and 2 threads", function()
    local v = vol.phantom.chest{shape={96, 96, 40}}:astype("float32")
    local saved = vol.threads()
    local out = {}
    for _, t in ipairs{1, 2} do
      vol.set_threads(t)
      local c = v:histogram{bins=33}
      out[t] = {c, v:percentile{q={1, 50, 99}}, #v:unique()}
    end
    vol.set_threads(saved)
    assert.same(out[1], out[2])
  end)
end)

describe("intensity transforms", function()
  it("give exact values on small inputs", function()
    local v = row({-1000, -600, 0, 150, 400}, "int16")
    local w = v:window(-600, 800)
    assert.equal("float32", w.dtype)
    assert.same({0, 127.5, 255, 255, 255}, {w:get(1, 1), w:get(2, 1), w:get(3, 1), w:get(4, 1), w:get(5, 1)})
    local r = v:rescale{min=0, max=1400, dtype="int16"}
    assert.equal("int16", r.dtype)
    assert.same({0, 400, 1000, 1150, 1400}, {r:get(1, 1), r:get(2, 1), r:get(3, 1), r:get(4, 1), r:get(5, 1)})
    local n = v:normalize{lo=-1000, hi=400, center=0.25}
    assert.near(-0.25, n:get(1, 1), 1e-7)
    assert.near(0.75, n:get(5, 1), 1e-7)
    assert.near(400 / 1400 - 0.25, n:get(2, 1), 1e-7)
    local z = row{1, 2, 3}:zscore()
    assert.near(-math.sqrt(1.5), z:get(1, 1), 1e-6)
    assert.equal(0, z:get(2, 1))
    local zn = row{0, 2, 4}:zscore{nonzero=true}
    assert.same({0, -1, 1}, {zn:get(1, 1), zn:get(2, 1), zn:get(3, 1)})
    local l = row{2, 3, 5}:log_transform()
    assert.near(math.log(4), l:get(3, 1), 1e-6)
    assert.near(1.5, row{1, 2, 3}:power_transform(2):get(1, 1), 1e-6)
    assert.near(math.exp(0), row{1, 2, 3}:exp_transform():get(2, 1), 1e-7)
    local c = row{1, 2, 3, 4, 5}:clip_percentile{lo=25, hi=75}
    assert.same({2, 2, 3, 4, 4}, {c:get(1, 1), c:get(2, 1), c:get(3, 1), c:get(4, 1), c:get(5, 1)})
    local rp = row({1, 2, 3, 2}, "uint8"):replace{[2]=7, [3]=300}
    assert.same({1, 7, 255, 7}, {rp:get(1, 1), rp:get(2, 1), rp:get(3, 1), rp:get(4, 1)})
    assert.equal(0, row{0 / 0, 1}:replace(0 / 0, 0):get(1, 1))
    local eq = row({1, 1, 2, 3}, "int16"):equalize_hist()
    assert.same({0.5, 0.5, 0.75, 1}, {eq:get(1, 1), eq:get(2, 1), eq:get(3, 1), eq:get(4, 1)})
  end)

  it("match numpy and skimage on random volumes and the head CT", function()
    local S = valref.session("intensity_ref.py")
    local recs = S:select(function(r) return r.kind ~= "ties" end)
    local ct = vol.read(data.path("ct/cranium_ct.nii.gz"))
    local ctname = S:save(ct, "ct")
    S.cache[ctname] = ct
    recs[#recs + 1] = {file=ctname, kind="ct"}
    for _, rec in ipairs(recs) do
      local v = S:load(rec)
      local m = rec.mask and S:load(rec.mask) or nil
      local f = rec.file
      S:add({op="window", ["in"]=f, level=40, width=400, min=0, max=255, tol=1e-7}, v:window(40, 400))
      S:add({op="window", ["in"]=f, level=-600, width=1500, min=-1, max=1},
        v:window(-600, 1500, {min=-1, max=1, dtype="float64"}))
      S:add({op="rescale", ["in"]=f, min=0, max=255}, v:rescale{dtype="float64"})
      S:add({op="normalize", ["in"]=f, lo=-1000, hi=400, center=0.25},
        v:normalize{lo=-1000, hi=400, center=0.25, dtype="float64"})
      S:add({op="zscore", ["in"]=f}, v:zscore{dtype="float64"})
      S:add({op="zscore", ["in"]=f, nonzero=true}, v:zscore{nonzero=true, dtype="float64"})
      S:add({op="power", ["in"]=f, n=3}, v:power_transform(3, {dtype="float64"}))
      S:add({op="exp", ["in"]=f}, v:exp_transform{dtype="float64"})
      S:add({op="log", ["in"]=f}, v:log_transform{dtype="float64"})
      S:add({op="clip_percentile", ["in"]=f, lo=0.5, hi=99.5}, v:clip_percentile{dtype="float64"})
      -- skimage returns float32 for a float32 volume
      local eqtol = v.dtype == "float32" and 2e-7 or nil
      S:add({op="equalize_hist", ["in"]=f, tol=eqtol}, v:equalize_hist{dtype="float64"})
      if m then
        S:add({op="zscore", ["in"]=f, mask=rec.mask}, v:zscore{mask=m, dtype="float64"})
        S:add({op="clip_percentile", ["in"]=f, mask=rec.mask, lo=2, hi=90},
          v:clip_percentile{lo=2, hi=90, mask=m, dtype="float64"})
        S:add({op="equalize_hist", ["in"]=f, mask=rec.mask, nbins=64, tol=eqtol},
          v:equalize_hist{mask=m, nbins=64, dtype="float64"})
      end
    end
    local results, jobs = S:check()
    local worst, where = 0, nil
    for i, r in ipairs(results) do
      assert.is_true(r.ok)
      if jobs[i].tol then
        assert.is_true(r.max_rel <= jobs[i].tol, valref.describe(jobs[i], r))
      elseif r.max_rel > worst then
        worst, where = r.max_rel, valref.describe(jobs[i], r)
      end
    end
    assert.is_true(worst < 1e-12, where)
  end)

  it("reject bad arguments", function()
    local v = row{1, 2, 3}
    assert.error_matches(function() v:window(0, 0) end, "width must be > 0")
    assert.error_matches(function() v:window(0, 10, {min=5, max=1}) end, "min must be < max")
    assert.error_matches(function() v:normalize{lo=1} end, "lo < hi")
    assert.error_matches(function() v:zscore{mask=row({0, 0, 0}, "uint8")} end, "selection is empty")
    assert.error_matches(function() v:clip_percentile{lo=50, hi=10} end, "0 <= lo <= hi <= 100")
    assert.error_matches(function() v:rescale{dtype="int12"} end, "unknown dtype")
    assert.error_matches(function() v:replace{[1]="x"} end, "pairs must map numbers to numbers")
    assert.error_matches(function() v:power_transform() end, "number expected")
  end)
end)

describe("v:laplacian_sharpen and v:adaptive_equalize against ITK", function()
  -- largest absolute difference and the number of differing voxels
  local function diff(a, b)
    local d = (a:astype("float64") - b:astype("float64")):abs()
    return d:max(), d:gt(0):stats().sum
  end

  it("give hand-computed values on a tiny input", function()
    -- a 3x1x1 ramp: Laplacian (nearest) 1, 0, -1 -> rescaled to 2, 1, 0; 0 2 4 minus that: -2 1 4;
    -- mean kept (2): -1 2 5, clamped to [0, 4]: 0 2 4
    local v = vol.new{shape={3, 1, 1}, dtype="float32"}
    v:set(1, 1, 1, 0)
    v:set(2, 1, 1, 2)
    v:set(3, 1, 1, 4)
    local s = v:laplacian_sharpen()
    assert.same({0, 2, 4}, {s:get(1, 1, 1), s:get(2, 1, 1), s:get(3, 1, 1)})
    -- two voxels 0 and 1 in one box, alpha 0.5, beta 0: u = -0.5, 0.5 and
    -- F(0.5, -0.5) = 0.5 * 2^0.5, so the values move to 0.5 -+ 2^0.5 / 4
    local t = vol.new{shape={2, 1, 1}, dtype="float64"}
    t:set(2, 1, 1, 1)
    local a = t:adaptive_equalize{alpha=0.5, beta=0, radius_vox=1}
    assert.near(0.5 - math.sqrt(2) / 4, a:get(1, 1, 1), 1e-7)
    assert.near(0.5 + math.sqrt(2) / 4, a:get(2, 1, 1), 1e-7)
  end)

  it("adaptive_equalize ends on NaN voxels: the windows holding one are NaN", function()
    -- a NaN once kept the grouping of equal window values from advancing
    local v = vol.new{shape={6, 5, 1}, dtype="float32"}
    for x = 1, 6 do for y = 1, 5 do v:set(x, y, 1, x * 10 + y) end end
    v:set(1, 1, 1, 0 / 0)
    local a = v:adaptive_equalize{radius_vox={1, 1, 0}}
    assert.is_true(a:get(2, 2, 1) ~= a:get(2, 2, 1))
    assert.is_true(a:get(4, 4, 1) == a:get(4, 4, 1))
  end)

  it("match ITK 5 on int16 and float32 volumes, with and without spacing", function()
    local ct = vol.phantom.chest{shape={48, 40, 14}}:set_spacing{0.7, 0.8, 2.5}
    local f = ct:astype("float32") * 0.01
    for _, v in ipairs{ct, f} do
      local sp = v.spacing
      -- int16 results are identical; float32 ones may differ in the last bit
      -- (the summation order of ITK's neighbourhood inner product)
      local ulp = v.dtype == "float32" and 1e-6 * (v:max() - v:min()) or 0
      local want = itkref.run(v, "sharpen", {sp[1], sp[2], sp[3]})
      assert.is_true(diff(v:laplacian_sharpen(), want) <= ulp)
      local unit = itkref.run(v, "sharpen", {1, 1, 1})
      assert.is_true(diff(v:laplacian_sharpen{spacing=false}, unit) <= ulp)
      -- (the AHE sum's order over distinct values is ITK's hash order, ours ascending)
      want = itkref.run(v, "ahe", {0.9, 0.9, 3, 3, 3})
      assert.is_true(diff(v:adaptive_equalize{alpha=0.9, beta=0.9, radius_vox=3}, want) <= ulp)
      want = itkref.run(v, "ahe", {0.3, 0.6, 2, 1, 0})
      assert.is_true(diff(v:adaptive_equalize{alpha=0.3, beta=0.6, radius_vox={2, 1, 0}}, want) <= ulp)
    end
  end)

  it("v:gaussian{method=\"recursive\"} matches ITK's SmoothingRecursiveGaussian", function()
    local v = (vol.phantom.chest{shape={48, 40, 14}} * 0.01):set_spacing{0.7, 0.8, 2.5}
    assert.equal("float32", v.dtype)
    local scale = v:max() - v:min()
    for _, sigma in ipairs{0.8, 1.5, 6} do
      local want = itkref.run(v, "smooth", {0.7, 0.8, 2.5, sigma})
      assert.is_true(diff(v:gaussian{sigma_mm=sigma, method="recursive"}, want) <= 1e-6 * scale, "sigma " .. sigma)
    end
    local c = vol.new{shape={6, 5, 4}, dtype="float32", fill=7}
    local g = c:gaussian{sigma_vox=2, method="recursive", dtype="float64"}
    assert.near(7, g:get(1, 1, 1), 1e-9)
    assert.near(7, g:get(6, 5, 4), 1e-9)
    assert.error_matches(function() vol.new{shape={3, 8, 8}}:gaussian{sigma_vox=1, method="recursive"} end,
      "at least 4 voxels along axis 1")
    assert.error_matches(function() c:gaussian{sigma_vox=1, method="recursive", mode="wrap"} end,
      "apply to method \"exact\" only")
  end)

  it("match ITK 5 on the real head CT", function()
    local ct = vol.read(data.path("ct/cranium_ct.nii.gz"))
    assert.equal("int16", ct.dtype)
    local sp = ct.spacing
    assert.same({0, 0}, {diff(ct:laplacian_sharpen(), itkref.run(ct, "sharpen", {sp[1], sp[2], sp[3]}))})
    local crop = ct:crop{lo={100, 100, 50}, hi={163, 147, 61}}
    assert.same({0, 0}, {diff(crop:adaptive_equalize{alpha=0.9, beta=0.9, radius_vox=3},
      itkref.run(crop, "ahe", {0.9, 0.9, 3, 3, 3}))})
  end)

  it("reject bad arguments", function()
    local v = vol.new{shape={4, 4, 4}}
    assert.error_matches(function() v:adaptive_equalize{alpha=2} end, "must be in %[0, 1%]")
    assert.error_matches(function() v:adaptive_equalize{radius_vox=-1} end, "must be >= 0")
    assert.error_matches(function() v:laplacian_sharpen{spacin=true} end, "unknown option 'spacin'")
  end)
end)
