-- N4 bias-field correction: exact small cases, agreement with ITK's
-- N4BiasFieldCorrectionImageFilter (tests/ref/n4_itk.cxx, built on demand
-- under build/), recovery of a known field on the real T1, determinism,
-- options and errors.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"

local ITS = {20, 10, 10, 5}

-- Pearson correlation of a and b (over mask when given).
local function corr(a, b, mask)
  local sa, sb, sab = a:stats(mask), b:stats(mask), (a * b):stats(mask)
  return (sab.mean - sa.mean * sb.mean) / (sa.std * sb.std)
end

-- Largest |a - b| over mask.
local function maxdiff(a, b, mask)
  return (a - b):abs():stats(mask).max
end

local function identical(a, b)
  return a.dtype == b.dtype and (a - b):abs():stats().max == 0 and a:ne(b):stats().sum == 0
end

local function run(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  if not ok then error("command failed: " .. cmd .. "\n" .. out, 2) end
  return out
end

-- The ITK reference executable, built once.
local itk_exe
local function itk()
  if not itk_exe then
    local root = data.root()
    local p = io.popen("sh " .. data.shell_quote(root .. "/tests/ref/build_n4_itk.sh") .. " " ..
      data.shell_quote(root .. "/build") .. " 2>&1")
    local out = p:read("a")
    local ok = p:close()
    assert(ok, "cannot build the ITK N4 reference:\n" .. out)
    itk_exe = out:match("([^\n]+)\n?$")
  end
  return itk_exe
end

-- Runs ITK's N4 on file with mask ("otsu", a file or "-") and returns its
-- corrected image and log field (and its Otsu mask when asked for).
local function itk_n4(dir, file, mask, threads, tag)
  local prefix = dir .. "/" .. tag
  run(table.concat({data.shell_quote(itk()), data.shell_quote(file), data.shell_quote(mask), "3",
    table.concat(ITS, ","), tostring(threads), data.shell_quote(prefix)}, " "))
  local r = {corrected = vol.read(prefix .. "_corrected.nii"), logfield = vol.read(prefix .. "_logfield.nii")}
  if mask == "otsu" then r.mask = vol.read(prefix .. "_mask.nii") end
  return r
end

local ch2 = data.path("nifti/ch2.nii.gz")

-- ITK's run on ch2 with its Otsu mask (threads 1 or 2), made once per spec run.
local ch2_runs, ch2_dir = {}, nil
local function itk_ch2(threads)
  if not ch2_runs[threads] then
    ch2_dir = ch2_dir or data.tmpdir()
    local mask = "otsu"
    if threads ~= 1 then
      itk_ch2(1)
      mask = ch2_dir .. "/t1_mask.nii"
    end
    local r = itk_n4(ch2_dir, ch2, mask, threads, "t" .. threads)
    r.mask = r.mask or ch2_runs[1].mask
    ch2_runs[threads] = r
  end
  return ch2_runs[threads]
end

describe("v:n4", function()
  it("leaves a constant image alone (field exactly 1)", function()
    local v = vol.new{shape={12, 10, 8}, dtype="int16", fill=300}
    local c, b = v:n4{iterations={3, 3}}
    assert.equal("float32", c.dtype)
    assert.equal("float32", b.dtype)
    assert.same({12, 10, 8}, b.shape)
    assert.same({1, 1}, {b:stats().min, b:stats().max})
    assert.same({300, 300}, {c:stats().min, c:stats().max})
  end)

  it("flattens a two-tissue phantom under a linear field and keeps its geometry", function()
    local v = vol.new{shape={40, 36, 30}, dtype="float32", spacing={1.5, 1, 2}, origin={-5, 3, 7}}
    local truth = vol.new{shape={40, 36, 30}, dtype="float32", spacing={1.5, 1, 2}, origin={-5, 3, 7}}
    local inner = vol.new{shape={40, 36, 30}, dtype="uint8", spacing={1.5, 1, 2}, origin={-5, 3, 7}}
    for z = 1, 30 do
      for y = 1, 36 do
        for x = 1, 40 do
          local bias = math.exp(0.3 * (x - 20) / 20)
          local tissue = ((x - 20)^2 + (y - 18)^2 + (z - 15)^2 < 100) and 200 or 100
          v:set(x, y, z, tissue * bias)
          truth:set(x, y, z, tissue)
          inner:set(x, y, z, tissue == 100 and 1 or 0)
        end
      end
    end
    local c, b = v:n4{iterations={20, 20}, control_points=4}
    assert.same(v.spacing, c.spacing)
    assert.same(v.origin, b.origin)
    -- within the outer tissue, the coefficient of variation drops a lot
    local before, after = v:stats(inner), c:stats(inner)
    assert.is_true(after.std / after.mean < 0.25 * before.std / before.mean,
      ("CV %.4f -> %.4f"):format(before.std / before.mean, after.std / after.mean))
    assert.is_true(corr(c, truth) > 0.99)
    -- the product field * corrected is the input (float rounding)
    assert.is_true(maxdiff(c * b, v) < 1e-3)
  end)

  it("agrees with ITK's N4 on the real T1 (shrink 3, {20,10,10,5}, Otsu mask)", function()
    local v = vol.read(ch2)
    local i1, i2 = itk_ch2(1), itk_ch2(2)
    local mask = i1.mask
    local c, b = v:n4{mask=mask, shrink=3, iterations=ITS}
    local logb = b:log()
    local ours, itk_threads = maxdiff(logb, i1.logfield, mask), maxdiff(i1.logfield, i2.logfield, mask)
    print(("\n  n4 vs ITK: max |log field diff| in mask %.3g (ITK 1 vs 2 threads: %.3g); "
      .. "corrected corr %.7f"):format(ours, itk_threads, corr(c, i1.corrected)))
    assert.is_true(corr(c, i1.corrected) >= 0.999)
    assert.is_true(corr(c, i2.corrected) >= 0.999)
    assert.is_true(ours <= itk_threads, ("ours %g, ITK's own %g"):format(ours, itk_threads))
    assert.is_true(maxdiff(logb, i2.logfield, mask) <= math.max(itk_threads, 1e-6) * 1.01)
    -- our Otsu mask is ITK's: mask="otsu" gives the same result bit for bit
    local c2, b2 = v:n4{mask="otsu", shrink=3, iterations=ITS}
    assert.is_true(identical(c, c2) and identical(b, b2))
  end)

  it("recovers a known smooth field on the real T1 at least as well as ITK", function()
    local dir = data.tmpdir()
    ref.run("n4_field.py", ch2, dir .. "/biased.nii", dir .. "/truth.nii")
    local truth = vol.read(dir .. "/truth.nii")
    local biased = vol.read(dir .. "/biased.nii")
    local i1 = itk_n4(dir, dir .. "/biased.nii", "otsu", 1, "t1")
    local mask = i1.mask
    local _, b = biased:n4{mask="otsu", shrink=3, iterations=ITS}
    local logb = b:log()
    -- the field is recovered up to a constant: compare spreads of the differences
    local function removed(est) return 1 - (truth - est):stats(mask).std / truth:stats(mask).std end
    local ours_r, itk_r = corr(logb, truth, mask), corr(i1.logfield, truth, mask)
    local ours_s, itk_s = removed(logb), removed(i1.logfield)
    print(("\n  known field: correlation ours %.4f ITK %.4f; spread removed ours %.4f ITK %.4f")
      :format(ours_r, itk_r, ours_s, itk_s))
    assert.is_true(ours_r >= itk_r - 1e-4)
    assert.is_true(ours_s >= itk_s - 1e-4)
    assert.is_true(ours_r > 0.3 and ours_s > 0.1) -- it does recover something
  end)

  it("gives the same bits on 1 and 2 threads and on a second run", function()
    local v = vol.read(ch2)
    local opts = {mask="otsu", shrink=3, iterations={4, 3, 2}}
    vol.set_threads(1)
    local c1, b1 = v:n4(opts)
    vol.set_threads(2)
    local c2, b2 = v:n4(opts)
    local c3, b3 = v:n4(opts)
    assert.is_true(identical(c1, c2) and identical(b1, b2))
    assert.is_true(identical(c2, c3) and identical(b2, b3))
    -- full resolution: the iteration passes run in parallel too (grids from 1M voxels)
    local f1, g1 = v:n4{iterations={2, 1}}
    vol.set_threads(1)
    local f2, g2 = v:n4{iterations={2, 1}}
    assert.is_true(identical(f1, f2) and identical(g1, g2))
    vol.set_threads(2)
    local a1 = v:n4{shrink=4, shrink_mode="average", iterations={3, 3}}
    vol.set_threads(1)
    local a2 = v:n4{shrink=4, shrink_mode="average", iterations={3, 3}}
    vol.set_threads(2)
    assert.is_true(identical(a1, a2))
  end)

  it("stops on Ctrl-C inside the kernel", function()
    local q = data.shell_quote
    local chunk = "vol.read(" .. ("%q"):format(ch2) .. "):n4{iterations={10000}, convergence=0}"
    local errfile = os.tmpname()
    local t0 = os.time()
    local p = io.popen("sh -c " .. q(q(data.medula()) .. " -e " .. q(chunk) .. " 2>" .. q(errfile)
      .. " & pid=$!; sleep 3; kill -INT $pid; wait $pid; echo rc=$?"))
    local out = p:read("a")
    p:close()
    local f = io.open(errfile)
    local err = f:read("a")
    f:close()
    os.remove(errfile)
    assert.truthy(out:find("rc=1", 1, true), out)
    -- the kernel stops; the host's interrupt hook names it on the way out
    assert.truthy(err:find("n4 cancelled", 1, true) or err:find("interrupted!", 1, true), err)
    assert.truthy(err:find("method 'n4'", 1, true), err)
    assert.is_true(os.time() - t0 < 60) -- 10000 full-resolution iterations would take hours
  end)

  it("reads its options: shrink_mm, spline_distance_mm, weight, shrink_mode", function()
    local v = vol.read(ch2)
    local base = {mask="otsu", iterations={3, 2}}
    local function with(extra)
      local t = {}
      for k, x in pairs(base) do t[k] = x end
      for k, x in pairs(extra) do t[k] = x end
      return t
    end
    local c1, b1 = v:n4(with{shrink=3})
    local c2, b2 = v:n4(with{shrink_mm=3}) -- 1 mm voxels
    assert.is_true(identical(c1, c2) and identical(b1, b2))
    -- extents 180 x 216 x 180 mm: one span, two spans, one span
    local _, d1 = v:n4(with{shrink=3, spline_distance_mm=180})
    local _, d2 = v:n4(with{shrink=3, control_points={4, 5, 4}})
    assert.is_true(identical(d1, d2))
    -- a weight of 1 inside the mask is the mask
    local i = itk_ch2(1)
    local _, w1 = v:n4{mask=i.mask, shrink=3, iterations={3, 2}}
    local _, w2 = v:n4{weight=i.mask:astype("float32"), shrink=3, iterations={3, 2}}
    assert.is_true(identical(w1, w2))
    -- averaging blocks: a close but different field
    local _, a = v:n4(with{shrink=3, shrink_mode="average"})
    assert.is_false(identical(a, b1))
    assert.is_true(corr(a:log(), b1:log(), i.mask) > 0.9)
  end)

  it("rejects bad arguments with clear errors", function()
    local v = vol.new{shape={20, 20, 20}, dtype="float32", fill=1}
    local m0 = vol.new{shape={20, 20, 20}, dtype="uint8"}
    assert.error_matches(function() v:n4{mask=m0} end, "the mask is empty")
    assert.error_matches(function() v:n4{shrink=0} end, "option 'shrink' must hold integers 1 to 64")
    assert.error_matches(function() v:n4{shrink=11} end, "shrink 11 leaves fewer than 2 voxels on axis 1")
    assert.error_matches(function() v:n4{iterations={}} end, "option 'iterations' must list 1 to 16")
    assert.error_matches(function() v:n4{iterations=5} end, "must list 1 to 16 iteration counts")
    assert.error_matches(function() v:n4{mask=vol.new{shape={20, 20, 19}, dtype="uint8"}} end,
      "mask must have the image's shape 20x20x20")
    assert.error_matches(function() v:n4{mask=vol.new{shape={20, 20, 20}, dtype="uint8", spacing={2, 1, 1}}} end,
      "mask is on another grid")
    assert.error_matches(function() v:n4{mask="brain"} end, "must be a Volume or \"otsu\"")
    assert.error_matches(function() v:n4{shrink=2, shrink_mm=2} end, "give shrink or shrink_mm, not both")
    assert.error_matches(function() v:n4{control_points=3} end, "option 'control_points' must hold integers 4")
    assert.error_matches(function() v:n4{fwhm=-1} end, "option 'fwhm' must be a number > 0")
    assert.error_matches(function() v:n4{shrink_mode="max"} end, "must be one of sample, average")
    assert.error_matches(function() v:n4{iteration={1}} end, "iteration")
    assert.error_matches(function() vol.new{shape={20, 20}}:n4() end, "expected a 3%-D volume")
    local m = vol.new{shape={20, 20, 20}, dtype="uint8"}
    m:set(1, 1, 1, 1)
    assert.error_matches(function() v:n4{mask=m, shrink=2} end, "no voxel left in the mask")
  end)
end)
