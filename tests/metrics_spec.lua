-- Segmentation metrics: exact values on hand-built masks, the empty-mask
-- conventions, parity with tests/ref/metrics_ref.py (numpy + scipy, written
-- from the published definitions) on random smooth masks and on the AAL
-- label atlas, label maps, threads and errors.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"
local json = require "dkjson"

local DEFS = {"deepmind", "monai", "medpy"}
local FIELDS = {"dice", "jaccard", "precision", "recall", "specificity", "volume_pred", "volume_truth", "ravd",
  "hausdorff", "hd95", "assd", "asd_pred_to_truth", "asd_truth_to_pred", "surface_overlap_pred",
  "surface_overlap_truth", "surface_dice", "surface_pred", "surface_truth"}

local function box(shape, lo, hi, spacing)
  return vol.phantom.box{shape=shape, lo=lo, hi=hi, spacing=spacing, dtype="uint8"}
end

local function near(a, b, rel)
  if a ~= a then return b ~= b end
  if a == math.huge or a == -math.huge then return a == b end
  return math.abs(a - b) <= rel * math.max(1, math.abs(b))
end

local function decode(x)
  if x == "nan" then return 0 / 0 elseif x == "inf" then return math.huge elseif x == "-inf" then return -math.huge end
  return x
end

-- Compares every field of got with the reference's want (JSON numbers).
local function same_fields(got, want, rel, what)
  for _, k in ipairs(FIELDS) do
    local w = decode(want[k])
    if not near(got[k], w, rel) then
      error(("%s: %s is %.17g, reference %.17g"):format(what, k, got[k], w), 2)
    end
  end
  for _, k in ipairs{"tp", "fp", "fn", "tn"} do assert.equal(want[k], got[k], what .. ": " .. k) end
end

describe("vol.metrics", function()
  it("gives perfect scores for identical masks under every definition", function()
    local a = vol.phantom.sphere{shape={20, 22, 18}, radius_mm=6, dtype="uint8"}
    for _, d in ipairs(DEFS) do
      local m = vol.metrics(a, a, {definition=d})
      assert.equal(d, m.definition)
      assert.equal(1, m.dice); assert.equal(1, m.jaccard); assert.equal(1, m.precision); assert.equal(1, m.recall)
      assert.equal(0, m.hausdorff); assert.equal(0, m.hd95); assert.equal(0, m.assd)
      assert.equal(1, m.surface_dice); assert.equal(0, m.ravd)
      assert.is_false(m.empty_pred)
    end
  end)

  it("measures cubes shifted by whole voxels, with anisotropic spacing", function()
    local a = box({16, 16, 16}, {4, 4, 4}, {9, 9, 9}, {0.5, 1, 2.5})
    local bx = box({16, 16, 16}, {6, 4, 4}, {11, 9, 9}, {0.5, 1, 2.5})
    local bz = box({16, 16, 16}, {4, 4, 5}, {9, 9, 10}, {0.5, 1, 2.5})
    for _, d in ipairs(DEFS) do
      local m = vol.metrics(a, bx, {definition=d})
      assert.near(2 / 3, m.dice, 1e-15); assert.near(0.5, m.jaccard, 1e-15)
      assert.equal(1.0, m.hausdorff)       -- 2 voxels of 0.5 mm
      assert.equal(216 * 1.25, m.volume_pred); assert.equal(0, m.ravd)
      m = vol.metrics(a, bz, {definition=d})
      assert.equal(2.5, m.hausdorff)       -- 1 voxel of 2.5 mm
      assert.near(5 / 6, m.dice, 1e-15)
      assert.equal(1, m.surface_overlap_pred == m.surface_overlap_pred and 1 or 0)
    end
  end)

  it("weights DeepMind's surface elements by area: a 2-D square's contour", function()
    local sq = box({10, 10}, {3, 3}, {6, 6}):set_spacing{1, 2, 1}
    local m = vol.metrics(sq, sq)
    -- 3 straight steps per side (sx along x, sy along y), four cut corners
    assert.near(2 * 3 * 1 + 2 * 3 * 2 + 4 * 0.5 * math.sqrt(5), m.surface_pred, 1e-12)
    m = vol.metrics(sq, sq, {definition="monai"})
    assert.equal(12, m.surface_pred)       -- boundary pixels of a 4x4 square
  end)

  it("gives one-voxel masks their corner and voxel distances", function()
    local a = box({12, 9, 9}, {5, 5, 5}, {5, 5, 5})
    local b = box({12, 9, 9}, {8, 5, 5}, {8, 5, 5})
    local m = vol.metrics(a, b)
    assert.equal(0, m.dice)
    assert.near(8 * math.sqrt(3) / 8, m.surface_pred, 1e-12) -- 8 corner triangles
    assert.equal(3, m.hausdorff); assert.equal(3, m.hd95)
    assert.equal(2.5, m.asd_pred_to_truth); assert.equal(2.5, m.assd)
    assert.near(0.5, vol.metrics(a, b, {tolerance_mm=2}).surface_dice, 1e-15)
    m = vol.metrics(a, b, {definition="monai"})
    assert.equal(3, m.hausdorff); assert.equal(3, m.assd); assert.equal(0, m.surface_dice)
    assert.equal(1, vol.metrics(a, b, {definition="medpy", tolerance_mm=3}).surface_dice)
  end)

  it("treats the outside of the grid as background for masks touching the border", function()
    local full = box({5, 6, 7}, {1, 1, 1}, {5, 6, 7})
    local less = box({5, 6, 7}, {1, 1, 1}, {4, 6, 7})
    for _, d in ipairs(DEFS) do
      local m = vol.metrics(full, less, {definition=d})
      assert.equal(1, m.hausdorff)
      assert.near(2 * 168 / (210 + 168), m.dice, 1e-15)
      assert.equal(0, m.specificity) -- no true negatives
    end
  end)

  it("finds a sphere's radius and surface within the voxelisation error", function()
    local sp = {0.8, 0.8, 1.2}
    local r1 = vol.phantom.sphere{shape={48, 48, 32}, radius_mm=12, spacing=sp, dtype="uint8"}
    local r2 = vol.phantom.sphere{shape={48, 48, 32}, radius_mm=14, spacing=sp, dtype="uint8"}
    for _, d in ipairs(DEFS) do
      local m = vol.metrics(r1, r2, {definition=d})
      assert.is_true(math.abs(m.assd - 2) < 0.8, d .. " assd " .. m.assd)
      assert.is_true(math.abs(m.hausdorff - 2) < 1.3, d .. " hausdorff " .. m.hausdorff)
    end
    local m = vol.metrics(r1, r1)
    local area = 4 * math.pi * 12 ^ 2
    assert.is_true(math.abs(m.surface_pred - area) < 0.1 * area, "area " .. m.surface_pred)
  end)

  it("follows the documented conventions for empty masks", function()
    local e = vol.new{shape={8, 8, 8}, dtype="uint8"}
    local a = box({8, 8, 8}, {2, 2, 2}, {4, 4, 4})
    for _, d in ipairs(DEFS) do
      local m = vol.metrics(e, e, {definition=d})
      assert.is_true(m.empty_pred and m.empty_truth)
      for _, k in ipairs{"dice", "jaccard", "hausdorff", "hd95", "assd", "surface_dice", "ravd"} do
        assert.is_true(m[k] ~= m[k], k .. " should be NaN")
      end
      assert.equal(1, m.specificity)
      m = vol.metrics(e, a, {definition=d})
      assert.is_true(m.empty_pred and not m.empty_truth)
      assert.equal(0, m.dice); assert.equal(math.huge, m.hausdorff); assert.equal(math.huge, m.hd95)
      assert.equal(math.huge, m.assd); assert.equal(0, m.surface_dice); assert.equal(-1, m.ravd)
      assert.is_true(m.asd_pred_to_truth ~= m.asd_pred_to_truth)
      assert.equal(math.huge, m.asd_truth_to_pred)
      m = vol.metrics(a, e, {definition=d})
      assert.equal(math.huge, m.ravd); assert.equal(0, m.surface_overlap_pred)
    end
  end)

  it("reads hd95 at any percent: 100 is the Hausdorff distance, 0 the smallest", function()
    local t = vol.phantom.sphere{shape={30, 30, 20}, radius_mm=9, spacing={1, 1, 1.5}, dtype="uint8"}
    local p = vol.phantom.sphere{shape={30, 30, 20}, radius_mm=7, center={17, 15, 10.5}, spacing={1, 1, 1.5},
      dtype="uint8"}
    for _, d in ipairs(DEFS) do
      local all = vol.metrics(p, t, {definition=d, percent=100})
      assert.equal(all.hausdorff, all.hd95)
      local lo, mid = vol.metrics(p, t, {definition=d, percent=0}), vol.metrics(p, t, {definition=d, percent=50})
      assert.is_true(lo.hd95 <= mid.hd95 and mid.hd95 <= all.hd95)
      local tight, loose = vol.metrics(p, t, {definition=d, tolerance_mm=0}), vol.metrics(p, t, {definition=d,
        tolerance_mm=100})
      assert.equal(1, loose.surface_dice)
      assert.is_true(tight.surface_dice < 0.5)
    end
  end)

  it("keeps no memory after many calls", function()
    local t = vol.phantom.sphere{shape={40, 40, 30}, radius_mm=10, dtype="uint8"}
    local p = vol.phantom.sphere{shape={40, 40, 30}, radius_mm=9, dtype="float32"}
    vol.metrics(p, t)
    collectgarbage(); collectgarbage()
    local before = vol.live_bytes()
    for _ = 1, 20 do vol.metrics(p, t, {definition="monai"}); vol.metrics_per_label(t, t) end
    collectgarbage(); collectgarbage()
    assert.equal(before, vol.live_bytes())
  end)

  it("accepts 0/1 masks of any dtype and gives the same numbers", function()
    local a = vol.phantom.sphere{shape={20, 20, 20}, radius_mm=5}
    local b = vol.phantom.sphere{shape={20, 20, 20}, radius_mm=6, center={11, 10, 10}}
    local m1 = vol.metrics(a:astype("uint8"), b:astype("uint8"))
    local m2 = vol.metrics(a:astype("float32"), b:astype("int16"))
    for _, k in ipairs(FIELDS) do assert.equal(m1[k], m2[k]) end
  end)

  it("gives the same result bit for bit on 1 and 2 threads", function()
    local t = vol.phantom.sphere{shape={90, 80, 70}, radius_mm=25, dtype="uint8"}
    local p = vol.phantom.sphere{shape={90, 80, 70}, radius_mm=23, center={47, 40, 36}, dtype="uint8"}
    local saved = vol.threads()
    local res = {}
    for _, n in ipairs{1, 2} do
      vol.set_threads(n)
      res[n] = {}
      for _, d in ipairs(DEFS) do res[n][d] = vol.metrics(p, t, {definition=d}) end
    end
    vol.set_threads(saved)
    for _, d in ipairs(DEFS) do
      for _, k in ipairs(FIELDS) do assert.equal(res[1][d][k], res[2][d][k], d .. " " .. k) end
    end
  end)

  it("rejects wrong shapes, spacings, values and options", function()
    local a = box({8, 8, 8}, {2, 2, 2}, {4, 4, 4})
    local function fails(pat, ...)
      local ok, err = pcall(vol.metrics, ...)
      assert.is_false(ok)
      assert.truthy(tostring(err):find(pat, 1, true), tostring(err))
    end
    fails("metrics' (shape differs", a, box({8, 8, 9}, {2, 2, 2}, {4, 4, 4}))
    fails("metrics' (expected a 3-D volume", a, box({8, 8}, {2, 2}, {4, 4}))
    fails("spacing 2.0 mm on axis 3 differs", a, box({8, 8, 8}, {2, 2, 2}, {4, 4, 4}, {1, 1, 2}))
    local two = a:astype("uint8"); two:set(1, 1, 1, 2)
    fails("metrics' (truth is not a binary mask (value 2 at voxel (1, 1, 1))", a, two)
    fails("metrics' (pred is not a binary mask (value 3", two:astype("int16"):mul(1.5), a)
    fails("option 'definition' must be one of deepmind, monai, medpy", a, a, {definition="plastimatch"})
    fails("unknown option 'tolerance'", a, a, {tolerance=2})
    fails("percent must be 0 to 100", a, a, {percent=101})
    fails("tolerance_mm must be >= 0", a, a, {tolerance_mm=-1})
    fails("Volume expected", a, nil)
    -- spacing= settles a disagreement
    local m = vol.metrics(a, box({8, 8, 8}, {2, 2, 2}, {4, 4, 4}, {1, 1, 2}), {spacing={1, 1, 2}})
    assert.equal(27 * 2, m.volume_pred)
  end)
end)

describe("vol.metrics_per_label", function()
  it("gives each label what vol.metrics gives its masks", function()
    local t = vol.new{shape={30, 28, 20}, dtype="int16"}
    local p = vol.new{shape={30, 28, 20}, dtype="int16"}
    t = t:where(box({30, 28, 20}, {3, 3, 3}, {12, 14, 10}), 1, nil)
    t = t:where(box({30, 28, 20}, {15, 4, 6}, {26, 20, 17}), 7, nil)
    p = p:where(box({30, 28, 20}, {4, 3, 3}, {12, 15, 11}), 1, nil)
    p = p:where(box({30, 28, 20}, {16, 6, 6}, {27, 20, 16}), 7, nil)
    p = p:where(box({30, 28, 20}, {2, 20, 2}, {5, 25, 4}), 9, nil)
    for _, d in ipairs(DEFS) do
      local per = vol.metrics_per_label(p, t, {definition=d})
      assert.same({1, 7, 9}, (function() local k = {} for l in pairs(per) do k[#k + 1] = l end table.sort(k) return k end)())
      for _, l in ipairs{1, 7, 9} do
        local m = vol.metrics(p:eq(l), t:eq(l), {definition=d})
        assert.equal(l, per[l].label)
        for _, k in ipairs(FIELDS) do
          assert.is_true(near(per[l][k], m[k], 0), ("%s label %d %s"):format(d, l, k))
        end
      end
      local only = vol.metrics_per_label(p, t, {7, 4}, {definition=d, tolerance_mm=2})
      assert.is_nil(only[1]); assert.is_true(only[4].empty_pred and only[4].empty_truth)
    end
  end)

  it("rejects non-integer maps and bad label lists", function()
    local t = vol.new{shape={6, 6, 6}, dtype="float32"}
    t:set(2, 2, 2, 1.5)
    local ok, err = pcall(vol.metrics_per_label, t, t)
    assert.is_false(ok)
    assert.truthy(err:find("bad argument #1 to", 1, true) and
      err:find("(pred is not a label map (value 1.5 is not an int32 integer))", 1, true), err)
    ok, err = pcall(vol.metrics_per_label, t:astype("int32"), t:astype("int32"), {1, 1})
    assert.is_false(ok); assert.truthy(err:find("label 1 is listed twice", 1, true))
  end)
end)

describe("metrics parity with the Python reference", function()
  local dir = data.tmpdir()
  local cases = ref.run("metrics_ref.py", "gen", dir).cases

  local function run_jobs(jobs)
    local path = dir .. "/jobs.json"
    local f = assert(io.open(path, "w"))
    f:write(json.encode(jobs))
    f:close()
    return ref.run("metrics_ref.py", "check", path).results
  end

  it("matches within 1e-9 on random smooth masks, 2-D and 3-D, all definitions", function()
    local jobs, got = {}, {}
    for _, c in ipairs(cases) do
      local p, t = vol.read(dir .. "/" .. c.pred), vol.read(dir .. "/" .. c.truth)
      for _, d in ipairs(DEFS) do
        for _, opt in ipairs{{tol=1, pct=95}, {tol=2.5, pct=90}} do
          local job = {pred=dir .. "/" .. c.pred, truth=dir .. "/" .. c.truth, spacing=c.spacing, definition=d,
                       tolerance=opt.tol, percent=opt.pct}
          local o = {spacing=c.spacing, definition=d, tolerance_mm=opt.tol, percent=opt.pct}
          if c.labels then
            local per = vol.metrics_per_label(p, t, o)
            local labels = {}
            for l in pairs(per) do labels[#labels + 1] = l end
            table.sort(labels)
            job.labels = labels
            got[#got + 1] = per
          else
            got[#got + 1] = vol.metrics(p, t, o)
          end
          jobs[#jobs + 1] = job
        end
      end
    end
    local want = run_jobs(jobs)
    for i, job in ipairs(jobs) do
      local what = ("%s %s tol %g"):format(job.pred:match("[^/]+$"), job.definition, job.tolerance)
      if job.labels then
        for _, l in ipairs(job.labels) do same_fields(got[i][l], want[i][tostring(l)], 1e-9, what .. " label " .. l) end
      else
        same_fields(got[i], want[i], 1e-9, what)
      end
    end
  end)

  it("matches within 1e-9 on the AAL label atlas against a perturbed copy", function()
    local atlas = vol.read(data.path("labels/aal.nii.gz"))
    -- the prediction: every label's voxels moved 1 voxel along x in the left
    -- half of the volume, a different grid spacing to make it anisotropic
    local nx = atlas.shape[1]
    local pred = atlas:astype("int32")
    local moved = atlas:crop{lo={1, 1, 1}, hi={nx - 1, atlas.shape[2], atlas.shape[3]}}
      :pad{before={1, 0, 0}, after={0, 0, 0}}
    local left = box(atlas.shape, {1, 1, 1}, {nx // 2, atlas.shape[2], atlas.shape[3]})
    pred = pred:where(left, moved, nil)
    local p_path, t_path = dir .. "/aal_pred.npy", dir .. "/aal_truth.npy"
    pred:write(p_path)
    atlas:astype("int32"):write(t_path)
    local labels = {}
    for l = 1, 116, 5 do labels[#labels + 1] = l end
    local sp = {1.0, 1.1, 1.4}
    local jobs, got = {}, {}
    for _, d in ipairs(DEFS) do
      jobs[#jobs + 1] = {pred=p_path, truth=t_path, spacing=sp, definition=d, tolerance=1.5, percent=95, labels=labels}
      got[#got + 1] = vol.metrics_per_label(pred, atlas, labels, {spacing=sp, definition=d, tolerance_mm=1.5})
    end
    local want = run_jobs(jobs)
    for i, job in ipairs(jobs) do
      for _, l in ipairs(labels) do
        same_fields(got[i][l], want[i][tostring(l)], 1e-9, ("aal %s label %d"):format(job.definition, l))
      end
    end
  end)
end)
