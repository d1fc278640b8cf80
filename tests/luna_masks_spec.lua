-- recipes.luna and scripts/luna_masks on a generated LUNA-style dataset: the
-- nodule balls equal a voxel-by-voxel world-distance check, sit within a
-- voxel of their annotated centres, scans without nodules give empty masks,
-- the tutorial's circles are right (and the legacy ones reproduce the bug),
-- candidate cubes come out with their classes.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local dataset = require "recipes.dataset"
local luna = require "recipes.luna"
local csv = require "util.csv"

describe("luna_masks", function()
  local ds
  setup(function()
    ds = data.tmpdir() .. "/luna"
    dataset.make("luna", {out = ds, cases = 2, seed = 6, shape = {80, 80, 40}})
  end)

  it("draws each nodule as a ball in world mm: voxel-exact and centred within a voxel", function()
    local ann = luna.read_annotations(ds .. "/annotations.csv")
    for uid, nodules in pairs(ann) do
      local ct = vol.read(ds .. "/" .. uid .. ".mhd")
      local mask = luna.nodule_mask(ct, nodules)
      -- an independent check: every voxel's world position against every ball
      local want = ct:ne(ct):astype("uint8")
      local nx, ny, nz = ct.shape[1], ct.shape[2], ct.shape[3]
      for _, n in ipairs(nodules) do
        local ci, cj, ck = ct:world_to_index(n.x, n.y, n.z)
        local r = n.diameter_mm / 2
        local sp = ct.spacing
        for k = math.max(1, math.floor(ck - r / sp[3]) - 1), math.min(nz, math.ceil(ck + r / sp[3]) + 1) do
          for j = math.max(1, math.floor(cj - r / sp[2]) - 1), math.min(ny, math.ceil(cj + r / sp[2]) + 1) do
            for i = math.max(1, math.floor(ci - r / sp[1]) - 1), math.min(nx, math.ceil(ci + r / sp[1]) + 1) do
              local x, y, z = ct:index_to_world(i, j, k)
              if (x - n.x) ^ 2 + (y - n.y) ^ 2 + (z - n.z) ^ 2 <= r * r * (1 + 1e-12) then want:set(i, j, k, 1) end
            end
          end
        end
      end
      assert.equal(0, (mask:astype("int16") - want:astype("int16")):abs():stats().max)
      -- centroids of the balls within one voxel of the annotations
      local labels = mask:label()
      for _, r in pairs(vol.regionprops(labels)) do
        local best = math.huge
        for _, n in ipairs(nodules) do
          local w = r.centroid_world
          best = math.min(best, math.sqrt((w[1] - n.x) ^ 2 + (w[2] - n.y) ^ 2 + (w[3] - n.z) ^ 2))
        end
        assert.is_true(best <= math.max(ct.spacing[1], ct.spacing[2], ct.spacing[3]), "centroid off by " .. best)
      end
    end
  end)

  it("gives the tutorial's slices with true circles; legacy circles use the diameter as radius", function()
    local ann = luna.read_annotations(ds .. "/annotations.csv")
    local uid, nodules = next(ann)
    local ct = vol.read(ds .. "/" .. uid .. ".mhd")
    local imgs, masks = luna.slices(ct, nodules)
    local _, legacy = luna.slices(ct, nodules, {legacy = true})
    assert.equal(3 * #nodules, #imgs)
    local n = nodules[1]
    local r = n.diameter_mm / 2
    local area_px = masks[2]:stats().sum * ct.spacing[1] * ct.spacing[2]
    -- the middle slice's circle: about pi r^2 minus the slice's offset from the centre
    assert.is_true(area_px <= math.pi * r * r * 1.15 + 4 * ct.spacing[1] * ct.spacing[2])
    assert.is_true(legacy[2]:stats().sum > 2.5 * masks[2]:stats().sum)
  end)

  it("runs over a subset: masks, slices, candidates, and scans without nodules", function()
    local rows = csv.read(ds .. "/annotations.csv", {numbers = {"coordX", "coordY", "coordZ", "diameter_mm"}})
    local keep_uid = rows[1].seriesuid
    local only = {}
    for _, r in ipairs(rows) do if r.seriesuid == keep_uid then only[#only + 1] = r end end
    local annfile = data.tmpdir() .. "/one.csv"
    csv.write(annfile, only, {"seriesuid", "coordX", "coordY", "coordZ", "diameter_mm"})
    local out = data.tmpdir() .. "/out"
    local cmd = ("%s -s luna_masks %s --annotations %s --candidates %s --out %s --patch 16 >/dev/null 2>&1"):format(
      data.shell_quote(data.medula()), data.shell_quote(ds), data.shell_quote(annfile),
      data.shell_quote(ds .. "/candidates.csv"), data.shell_quote(out))
    assert.is_true(os.execute(cmd))
    local uids = {}
    for _, f in ipairs(vol.fs.glob(ds .. "/*.mhd")) do uids[#uids + 1] = vol.fs.stem(f) end
    assert.equal(2, #uids)
    for _, uid in ipairs(uids) do
      local m = vol.read(out .. "/" .. uid .. "/" .. uid .. "_nodule_mask.nii.gz")
      local has = uid == keep_uid
      assert.equal(has, m:stats().sum > 0)
      assert.equal(has, vol.fs.exists(out .. "/" .. uid .. "/images_" .. uid .. ".npy"))
      assert.equal(has, vol.fs.exists(out .. "/" .. uid .. "/" .. uid .. "_nodule1.png"))
      local c = vol.read(out .. "/" .. uid .. "/" .. uid .. "_candidates.npy")
      local idx = csv.read(out .. "/" .. uid .. "/" .. uid .. "_candidates.csv", {numbers = {"class"}})
      assert.equal(#idx, c.shape[4] or 1)
      assert.same({16, 16, 16}, {c.shape[1], c.shape[2], c.shape[3]})
    end
  end)
end)
