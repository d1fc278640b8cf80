-- recipes.dataset and scripts/make_dataset: the generated datasets hold what
-- their layouts promise, their truth agrees with their images, and the
-- same seed writes the same bytes.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local dataset = require "recipes.dataset"
local csv = require "util.csv"

local SMALL = {shape = {64, 64, 32}, head_shape = {48, 56, 48}}

local function make(kind, seed, cases)
  local out = data.tmpdir() .. "/" .. kind
  dataset.make(kind, {out = out, cases = cases or 2, seed = seed or 1, shape = SMALL.shape,
                      head_shape = SMALL.head_shape})
  return out
end

-- The value of v at world point (x, y, z), nearest voxel.
local function at_world(v, x, y, z)
  local i, j, k = v:world_to_index(x, y, z)
  return v:get(math.floor(i + 0.5), math.floor(j + 0.5), math.floor(k + 0.5))
end

describe("recipes.dataset", function()
  it("dsb: DICOM series with shuffled instances and their lung and nodule truth", function()
    local out = make("dsb", 5, 3)
    local fs = vol.fs
    local nod = csv.read(fs.join(out, "truth", "nodules.csv"), {numbers = {"x", "y", "z", "diameter_mm", "pleural"}})
    for c = 1, 3 do
      local id = ("dsb%04d"):format(c)
      local files = fs.list(fs.join(out, id))
      assert.equal(32, #files)
      for _, f in ipairs(files) do assert.truthy(f:match("^%x+%.dcm$")) end
      local ct = vol.read(fs.join(out, id))
      local truth = vol.read(fs.join(out, "truth", id .. "_lung.nii.gz"))
      assert.same(ct.shape, truth.shape)
      local again, want = dataset.chest(5, c, SMALL)
      assert.equal(0, (ct:astype("int32") - again:astype("int32")):abs():stats().max)
      assert.equal(0, (truth - want):abs():stats().max)
    end
    assert.is_true(#nod >= 3)
    for _, n in ipairs(nod) do
      local truth = vol.read(fs.join(out, "truth", n.case .. "_lung.nii.gz"))
      assert.equal(1, at_world(truth, n.x, n.y, n.z)) -- every nodule centre lies in the lung
      local ct = vol.read(fs.join(out, n.case))
      assert.equal(25, at_world(ct, n.x, n.y, n.z)) -- and is drawn at its world position
      assert.is_true(n.diameter_mm >= 4 and n.diameter_mm <= 20)
    end
  end)

  it("luna: .mhd scans, annotations and candidates in world millimetres", function()
    local out = make("luna", 2, 2)
    local ann, ah = csv.read(vol.fs.join(out, "annotations.csv"), {numbers = {"coordX", "coordY", "coordZ", "diameter_mm"}})
    local cand, ch = csv.read(vol.fs.join(out, "candidates.csv"), {numbers = {"coordX", "coordY", "coordZ", "class"}})
    assert.same({"seriesuid", "coordX", "coordY", "coordZ", "diameter_mm"}, ah)
    assert.same({"seriesuid", "coordX", "coordY", "coordZ", "class"}, ch)
    local positives = 0
    for _, r in ipairs(cand) do positives = positives + (r.class == 1 and 1 or 0) end
    assert.equal(#ann, positives)
    assert.is_true(#cand > #ann)
    for _, a in ipairs(ann) do
      assert.truthy(a.seriesuid:match("^1%.3%.6%.1%.4%.1%.14519%.5%.2%.1%.6279%.6001%.%d+$"))
      local ct = vol.read(vol.fs.join(out, a.seriesuid .. ".mhd"))
      assert.equal(25, at_world(ct, a.coordX, a.coordY, a.coordZ))
    end
  end)

  it("nfbs: the subject layout, the brain equal to T1 times its mask", function()
    local out = make("nfbs", 4, 2)
    for c = 1, 2 do
      local id = ("sub-%05d"):format(c)
      local dir = vol.fs.join(out, id)
      local t1 = vol.read(vol.fs.join(dir, id .. "_T1w.nii.gz"))
      local brain = vol.read(vol.fs.join(dir, id .. "_brain.nii.gz"))
      local mask = vol.read(vol.fs.join(dir, id .. "_brainmask.nii.gz"))
      assert.same({48, 56, 48}, t1.shape)
      assert.equal("uint8", mask.dtype)
      assert.equal(0, (brain - t1 * mask):abs():stats().max)
      local bias = vol.read(vol.fs.join(out, "truth", id .. "_bias.nii.gz"))
      assert.is_true(bias:stats().min > 0 and bias:stats().max > bias:stats().min)
    end
  end)

  it("writes the same bytes for the same seed", function()
    local a, b = make("luna", 9, 1), make("luna", 9, 1)
    local names = vol.fs.list(a, {recursive = true})
    assert.same(names, vol.fs.list(b, {recursive = true}))
    for _, name in ipairs(names) do
      local f = vol.fs.join(a, name)
      if vol.fs.stat(f).kind == "file" then
        assert.equal(vol.fs.sha256(f), vol.fs.sha256(vol.fs.join(b, name)))
      end
    end
    local c = make("luna", 10, 1)
    assert.not_same(vol.fs.list(a), vol.fs.list(c))
  end)

  it("rejects bad requests", function()
    assert.has_error(function() dataset.make("ct", {out = "x"}) end,
      "bad argument #1 to 'make' (kind must be dsb, luna or nfbs, got ct)")
    assert.has_error(function() dataset.make("dsb", {}) end)
    assert.has_error(function() dataset.make("dsb", {out = data.tmpdir(), cases = 0}) end)
  end)

  it("runs as a script", function()
    local out = data.tmpdir() .. "/s"
    local ok = os.execute(data.shell_quote(data.medula()) .. " -s make_dataset luna --cases 1 --out " ..
                          data.shell_quote(out) .. " >/dev/null")
    assert.is_true(ok)
    assert.is_true(vol.fs.exists(vol.fs.join(out, "annotations.csv")))
  end)
end)
