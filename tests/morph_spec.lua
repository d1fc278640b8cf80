-- Structuring elements and binary morphology: exact small cases, parity with
-- scipy.ndimage / scikit-image (tests/ref/morph_ref.py), threads, errors.
package.path = "tests/?.lua;" .. package.path
local maskref = require "helpers.maskref"

-- A 2-D uint8 volume from rows of '0'/'1' (row 1 is y = 1).
local function grid(rows)
  local v = vol.new{shape={#rows[1], #rows}, dtype="uint8"}
  for j, r in ipairs(rows) do
    for i = 1, #r do v:set(i, j, tonumber(r:sub(i, i))) end
  end
  return v
end

local function rows(v)
  local t = {}
  for j = 1, v.shape[2] do
    local s = {}
    for i = 1, v.shape[1] do s[i] = tostring(v:get(i, j)) end
    t[j] = table.concat(s)
  end
  return t
end

local function same_volume(a, b)
  return a.dtype == b.dtype and #a == #b and a:ne(b):stats().sum == 0
end

describe("vol.strel", function()
  it("builds skimage's disk and ball", function()
    assert.same({"010", "111", "010"}, rows(vol.strel.disk(1)))
    assert.same({"00100", "01110", "11111", "01110", "00100"}, rows(vol.strel.disk(2)))
    assert.equal(7, vol.strel.ball(1):stats().sum)
    assert.equal(33, vol.strel.ball(2):stats().sum)
    assert.same({21, 21}, vol.strel.disk(10).shape)
    assert.same({1, 1, 1}, vol.strel.ball(0).shape)
  end)

  it("builds boxes, crosses and elements from masks", function()
    assert.same({2, 3, 4}, vol.strel.box{2, 3, 4}.shape)
    assert.equal(27, vol.strel.box(3):stats().sum)
    assert.same({"010", "111", "010"}, rows(vol.strel.cross(4)))
    assert.equal(7, vol.strel.cross():stats().sum)
    local m = grid{"02", "30"}
    assert.same({"01", "10"}, rows(vol.strel.from_mask(m)))
    local f = vol.new{shape={3, 2, 2}, dtype="float32", spacing={2, 3, 4}}
    f:set(1, 1, 1, -0.5)
    f:set(3, 2, 2, 1e-30)
    local se = vol.strel.from_mask(f)
    assert.equal("uint8", se.dtype)
    assert.same({3, 2, 2}, se.shape)
    assert.same({1, 1, 2}, {se:get(1, 1, 1), se:get(3, 2, 2), se:stats().sum})
    assert.error_matches(function() vol.strel.from_mask(vol.new{shape={2, 2, 2, 2}}) end,
      "expected a 2%-D or 3%-D volume")
  end)

  it("builds balls in millimetres on anisotropic grids", function()
    local se = vol.strel.ball_mm(1.5, {0.5, 0.5, 1.5})
    assert.same({7, 7, 3}, se.shape)
    assert.equal(29 + 2, se:stats().sum)  -- disk(3) in the middle slice, the centre above and below
    assert.equal(1, se:get(4, 4, 1))
    assert.equal(0, se:get(4, 5, 1))
    local ct = vol.new{shape={4, 4, 4}, spacing={2, 2, 4}}
    assert.same({5, 5, 3}, vol.strel.ball_mm(4, ct).shape)
    assert.same({9, 5}, vol.strel.ball_mm(2, {0.5, 1}).shape)
  end)

  it("rejects bad arguments", function()
    assert.error_matches(function() vol.strel.ball(-1) end, "radius must be an integer 0 to 500")
    assert.error_matches(function() vol.strel.disk(1.5) end, "number has no integer representation")
    assert.error_matches(function() vol.strel.cross(8) end, "cross connectivity must be 4")
    assert.error_matches(function() vol.strel.box{1} end, "box needs 2 or 3 sides")
    assert.error_matches(function() vol.strel.ball_mm(2, {1, 0, 1}) end, "spacing must be > 0")
    assert.error_matches(function() vol.strel.ball_mm(2, "x") end, "table of 2 or 3 spacings or Volume expected")
  end)
end)

describe("m:erode and m:dilate", function()
  it("give exact results on small masks", function()
    local m = grid{"0000000", "0111110", "0111110", "0111110", "0000000"}
    assert.same({"0000000", "0000000", "0011100", "0000000", "0000000"}, rows(m:erode(vol.strel.cross(4))))
    assert.same({"0111110", "1111111", "1111111", "1111111", "0111110"}, rows(m:dilate(1)))
  end)

  it("erode from the edge with scipy's border and not with skimage's", function()
    local full = grid{"11111", "11111", "11111"}
    assert.same({"00000", "01110", "00000"}, rows(full:erode(1)))
    assert.same({"11111", "11111", "11111"}, rows(full:erode(1, {border="skimage"})))
  end)

  it("reflect a non-symmetric element when dilating, as scipy does", function()
    -- box{2, 1}: members at x offsets -1 and 0 (centre at index floor(2/2)+1), so
    -- dilation reaches x and x - 1 of each object voxel and erosion needs x - 1 and x
    local dot = grid{"0001000"}
    assert.same({"0011000"}, rows(dot:dilate(vol.strel.box{2, 1})))
    local bar = grid{"0011100"}
    assert.same({"0001100"}, rows(bar:erode(vol.strel.box{2, 1})))
  end)

  it("treat any non-zero voxel as object and keep the geometry", function()
    local v = vol.new{shape={5, 5, 5}, dtype="float32", spacing={0.5, 0.5, 2}, origin={1, 2, 3}}
    v:set(3, 3, 3, -2.5)
    local d = v:dilate(1)
    assert.equal("uint8", d.dtype)
    assert.equal(7, d:stats().sum)
    assert.same({0.5, 0.5, 2}, d.spacing)
    assert.same({1, 2, 3}, d.origin)
  end)

  it("apply a 2-D element in each slice across the chosen axis", function()
    local v = vol.new{shape={5, 5, 5}, dtype="uint8"}
    v:set(3, 3, 3, 1)
    assert.equal(5, v:dilate(1, {per_slice=true}):stats().sum)
    assert.equal(5, v:dilate(vol.strel.disk(1)):stats().sum)
    local d = v:dilate(1, {axis=1})
    assert.equal(1, d:get(3, 3, 4))
    assert.equal(0, d:get(4, 3, 3))
  end)

  it("give the same result with both methods and any thread count", function()
    local v = vol.phantom.sphere{shape={70, 60, 50}, radius_mm=20}
    v = v:bxor(vol.phantom.sphere{shape={70, 60, 50}, radius_mm=9, center={30, 25, 20}})
    local results = {}
    local saved = vol.threads()
    for _, threads in ipairs{1, 2} do
      vol.set_threads(threads)
      for _, method in ipairs{"runs", "edt"} do
        results[#results + 1] = v:close(3, {method=method})
        results[#results + 1] = v:erode(7, {per_slice=true, axis=2, method=method})
      end
    end
    vol.set_threads(saved)
    for i = 3, #results do assert.is_true(same_volume(results[(i - 1) % 2 + 1], results[i])) end
  end)

  it("reject bad arguments", function()
    local m = vol.new{shape={4, 4, 4}, dtype="uint8"}
    local m2 = vol.new{shape={4, 4}, dtype="uint8"}
    assert.error_matches(function() m:erode("x") end, "Volume %(structuring element%) or radius expected")
    assert.error_matches(function() m:erode(1, {bordr="scipy"}) end, "unknown option 'bordr'")
    assert.error_matches(function() m:erode(1, {border="numpy"}) end, "option 'border' must be one of scipy, skimage")
    assert.error_matches(function() m:erode(vol.strel.ball(1), {per_slice=true}) end,
      "per%-slice morphology needs a 2%-D structuring element")
    assert.error_matches(function() m2:erode(vol.strel.ball(1)) end, "a 3%-D structuring element needs a 3%-D mask")
    assert.error_matches(function() m:erode(vol.strel.from_mask(vol.new{shape={3, 3}})) end,
      "structuring element is empty")
    assert.error_matches(function() m:erode(vol.strel.box(3), {method="edt"}) end, "method 'edt' needs a ball or disk")
    assert.error_matches(function() m:erode(1, {axis=4}) end, "axis must be 1, 2 or 3")
    assert.error_matches(function() m2:erode(1, {axis=1}) end, "axis must be 3 for a 2%-D volume")
    assert.error_matches(function() m:erode(1, {iterations=0}) end, "option 'iterations' must be an integer >= 1")
    assert.error_matches(function() vol.new{shape={2, 2, 2, 2}}:erode(1) end, "expected a 2%-D or 3%-D volume")
  end)

  it("do not leak voxel memory", function()
    local m = vol.phantom.sphere{shape={40, 40, 40}, radius_mm=10}
    collectgarbage()
    local before = vol.live_bytes()
    for _ = 1, 20 do m:close(2) end
    collectgarbage()
    collectgarbage()
    assert.equal(before, vol.live_bytes())
  end)
end)

-- Records op on mask rec with element spec se ({kind=, r=} or {file=}) in
-- session S; opts are the method's options plus ref= ("ndi" or "count": which
-- reference, see morph_ref.py) and nontrivial=true (the reference must be
-- neither empty nor full).
local function morph_job(S, rec, op, se, opts)
  local m = S:load(rec)
  local el = se.file and vol.strel.from_mask(S:load(se.file)) or vol.strel[se.kind](se.r)
  opts = opts or {}
  local j = {op=op, ["in"]=rec.file, se=se, per_slice=opts.axis or 0, border=opts.border,
             iterations=opts.iterations, method=opts.method, ref=opts.ref, nontrivial=opts.nontrivial}
  local o = {axis=opts.axis, border=opts.border, iterations=opts.iterations, method=opts.method}
  S:add(j, m[op](m, el, o))
end

describe("morphology parity with scipy.ndimage and scikit-image", function()
  local S = maskref.session()
  local function job(...) morph_job(S, ...) end

  local function masks(pred)
    local t = {}
    for _, rec in ipairs(S.masks) do
      if pred(rec) then t[#t + 1] = rec end
    end
    return t
  end
  local is3d = function(rec) return #rec.shape == 3 end
  local is2d = function(rec) return #rec.shape == 2 end
  local main = masks(function(rec) return rec.shape[1] == 23 end)  -- 23x31x17, four densities

  it("use skimage's ball and disk for radii 0 to 15", function()
    for r = 0, 15 do
      S:add({op="strel", se={kind="ball", r=r}}, vol.strel.ball(r))
      S:add({op="strel", se={kind="disk", r=r}}, vol.strel.disk(r))
    end
    assert.equal(32, S:assert_all())
  end)

  it("match for small balls, both methods, every density", function()
    for r = 1, 4 do
      for i, rec in ipairs(main) do
        local method = (i + r) % 2 == 0 and "edt" or "runs"
        job(rec, "erode", {kind="ball", r=r}, {method=method})
        job(rec, "dilate", {kind="ball", r=r}, {method=method})
      end
    end
    for _, r in ipairs{2, 4} do
      job(main[r % 4 + 1], "close", {kind="ball", r=r}, {method=r == 4 and "edt" or "runs"})
      job(main[(r + 1) % 4 + 1], "open", {kind="ball", r=r}, {border="skimage"})
    end
    assert.equal(36, S:assert_all())
  end)

  it("match per slice for small disks across every axis, every density", function()
    for r = 1, 4 do
      for axis = 1, 3 do
        local rec = main[(r + axis) % 4 + 1]
        local method = (r + axis) % 2 == 0 and "edt" or "runs"
        job(rec, "close", {kind="disk", r=r}, {axis=axis, method=method, border=axis == 2 and "skimage" or nil})
        job(rec, "erode", {kind="disk", r=r}, {axis=axis, method=method})
      end
    end
    for _, rec in ipairs(masks(is2d)) do
      for r = 1, 3 do
        job(rec, "dilate", {kind="disk", r=r}, {method=r == 2 and "edt" or nil})
        job(rec, "open", {kind="disk", r=r})
      end
    end
    S:assert_all()
  end)

  it("match on odd shapes with every operation, border and element", function()
    local e3 = S.elements[1]       -- 3x2x4, non-symmetric
    local e3flat = S.elements[2]   -- 2x3x1
    local e2 = S.elements[3]       -- 4x3
    for _, rec in ipairs(masks(is3d)) do
      for _, op in ipairs{"erode", "dilate", "open", "close"} do
        if rec.shape[1] == 23 then break end
        job(rec, op, {kind="ball", r=1})
        job(rec, op, {kind="ball", r=2}, {border="skimage"})
        job(rec, op, {file=e3.file})
        job(rec, op, {file=e3flat.file}, {iterations=2})
      end
    end
    for _, rec in ipairs(masks(is2d)) do
      for _, op in ipairs{"erode", "dilate", "open", "close"} do
        job(rec, op, {kind="disk", r=2}, {border="skimage"})
        job(rec, op, {file=e2.file}, {iterations=3})
      end
    end
    S:assert_all()
  end)

  it("match with millimetre balls on anisotropic spacing", function()
    local se = vol.strel.ball_mm(3, {0.7, 0.9, 2.5})
    local file = S:save(se, "se")
    for _, rec in ipairs(main) do
      job(rec, "dilate", {file=file})
      job(rec, "erode", {file=file})
    end
    S:assert_all()
  end)
end)

-- Large elements on masks big enough that no answer is empty or full
-- (S.large: smooth blobs, fat blobs, sparse dots and their complement, the
-- holes). Each operation and border alternates between two masks with the
-- radius; the largest radii use one chosen mask per operation.
describe("morphology parity at large radii", function()
  local S = maskref.session()
  local PLAN = {
    {op="erode", border="scipy", masks={"fat", "holes"}},
    {op="erode", border="skimage", masks={"holes", "fat"}},
    {op="dilate", masks={"dots", "blobs"}},
    {op="open", border="scipy", masks={"fat", "holes"}},
    {op="open", border="skimage", masks={"blobs", "fat"}},
    {op="close", border="scipy", masks={"blobs", "fat"}},
    {op="close", border="skimage", masks={"dots", "blobs"}},
  }
  -- the masks for the largest radii, in PLAN's order
  local BEYOND_3D = {"holes", "fat", "dots", "fat", "fat", "blobs", "blobs"}
  local BEYOND_2D = {"holes", "fat", "dots", "holes", "fat", "fat", "dots"}
  local METHODS = {"runs", "edt"}

  -- Every PLAN entry with element kind(r) on the masks named with suffix,
  -- the methods alternating.
  local function plan_jobs(r, suffix, kind)
    for i, p in ipairs(PLAN) do
      morph_job(S, S.large[p.masks[r % 2 + 1] .. suffix], p.op, {kind=kind, r=r},
                {border=p.border, method=METHODS[(r + i) % 2 + 1], nontrivial=true})
    end
  end

  -- Every PLAN entry with kind(r) on the given masks (one per entry).
  local function beyond_jobs(r, suffix, kind, masks, method)
    for i, p in ipairs(PLAN) do
      morph_job(S, S.large[masks[i] .. suffix], p.op, {kind=kind, r=r},
                {border=p.border, method=method, nontrivial=true})
    end
  end

  it("match for balls of radius 1 to 10, every operation and border, both methods", function()
    for r = 1, 10 do
      plan_jobs(r, "3", "ball")
    end
    assert.equal(70, S:assert_all())
  end)

  it("match for disks of radius 1 to 10 in 2-D and per slice across every axis", function()
    for r = 1, 10 do
      plan_jobs(r, "2", "disk")
      -- the slice masks: 8 slices across x, y or z
      for i, p in ipairs(PLAN) do
        local a = (r + i) % 3 + 1
        local rec = S.large[p.masks[r % 2 + 1] .. ("xyz"):sub(a, a)]
        morph_job(S, rec, p.op, {kind="disk", r=r},
                  {border=p.border, method=METHODS[(r + i + 1) % 2 + 1], axis=a, nontrivial=true})
      end
    end
    assert.equal(140, S:assert_all())
  end)

  it("match for ball(14) and ball(15) through the distance transform and the runs", function()
    -- ball(14) is the smallest ball that method "auto" sends to the distance transform
    for _, method in ipairs{"auto", "edt", "runs"} do beyond_jobs(15, "big3", "ball", BEYOND_3D, method) end
    for _, i in ipairs{1, 3, 7} do
      local p = PLAN[i]
      morph_job(S, S.large[BEYOND_3D[i] .. "big3"], p.op, {kind="ball", r=14},
                {border=p.border, nontrivial=true})
    end
    assert.equal(24, S:assert_all())
  end)

  it("match for disk(20) through the distance transform and the runs, 2-D and per slice", function()
    for _, method in ipairs{"edt", "runs"} do
      beyond_jobs(20, "2", "disk", BEYOND_2D, method)
      for i, p in ipairs(PLAN) do
        local a = i % 3 + 1
        morph_job(S, S.large[BEYOND_2D[i] .. ("xyz"):sub(a, a)], p.op, {kind="disk", r=20},
                  {border=p.border, method=method, axis=a, nontrivial=true})
      end
    end
    assert.equal(28, S:assert_all())
  end)

  it("have references that agree: scipy's own operations and member counts", function()
    -- the reference counts the members on the object with running sums
    -- where scipy's set-up is slow (balls from radius 6, disk(20)); on these
    -- jobs each medula result is checked against both, so each reference is
    -- checked by the other
    local both = {
      {"fat3", "erode", {kind="ball", r=8}, {}},
      {"dots3", "dilate", {kind="ball", r=7}, {}},
      {"blobs3", "close", {kind="ball", r=6}, {border="skimage"}},
      {"holes3", "open", {kind="ball", r=3}, {}},
      {"holes2", "erode", {kind="disk", r=20}, {}},
      {"fatz", "open", {kind="disk", r=20}, {border="skimage", axis=3}},
      {"blobsy", "close", {kind="disk", r=7}, {axis=2}},
    }
    for _, b in ipairs(both) do
      for _, how in ipairs{"ndi", "count"} do
        local o = {ref=how, nontrivial=true}
        for k, v in pairs(b[4]) do o[k] = v end
        morph_job(S, S.large[b[1]], b[2], b[3], o)
      end
    end
    assert.equal(14, S:assert_all())
  end)
end)

describe("the lung recipe's steps on a real CT", function()
  local data = require "helpers.data"
  local ref = require "helpers.ref"

  -- threshold, clear_border, label, keep 2 largest, erosion disk(2), closing
  -- disk(10), fill holes: the classic per-slice recipe, skimage's borders
  local function steps(v)
    local per = {per_slice=true}
    local s = {}
    s.threshold = v:lt(-320)
    s.cleared = s.threshold:clear_border(per)
    s.labels = s.cleared:label(per)
    s.largest = s.cleared:keep_largest(2, per)
    s.eroded = s.largest:erode(vol.strel.disk(2), {per_slice=true, border="skimage"})
    s.closed = s.eroded:close(vol.strel.disk(10), {per_slice=true, border="skimage"})
    s.filled = s.closed:fill_holes(per)
    return s
  end

  it("match scikit-image on one slice and slice by slice on a stack", function()
    local path = data.path("ct/cranium_ct.nii.gz")
    local ct = vol.read(path)
    local dir = data.tmpdir()
    local cases = {single = {ct:slice(3, 35), 35, 35},
                   stack = {ct:crop{lo={1, 1, 28}, hi={ct.shape[1], ct.shape[2], 32}}, 28, 32}}
    local args = {}
    for name, c in pairs(cases) do
      for step, out in pairs(steps(c[1])) do out:write(("%s/%s_%s.npy"):format(dir, name, step)) end
      args[#args + 1] = ("%s:%d:%d"):format(name, c[2], c[3])
    end
    local r = ref.run("lung_ref.py", path, dir, table.unpack(args))
    for name in pairs(cases) do
      for _, step in ipairs{"threshold", "cleared", "labels", "largest", "eroded", "closed", "filled"} do
        assert.equal(0, r[name][step].mismatch, name .. ": " .. step .. " differs from scikit-image")
        assert.is_true(r[name][step].ones > 0, name .. ": " .. step .. " is empty: badly chosen slices")
      end
    end
  end)
end)
