-- scripts/nfbs_prep end to end on a generated NFBS-style dataset: the recipe's
-- grid (2 mm, 96x128x160, its affine), 0..255 intensities, masks, the
-- skull-stripped brain equal to image x mask, the training arrays in Keras'
-- layout, a seeded split; N4 on the generated bias field.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local dataset = require "recipes.dataset"
local nfbs = require "recipes.nfbs"
local csv = require "util.csv"
local ref = require "helpers.ref"

local function run(args)
  local cmd = { data.shell_quote(data.medula()), "-s", "nfbs_prep" }
  for _, a in ipairs(args) do cmd[#cmd + 1] = data.shell_quote(a) end
  local p = io.popen(table.concat(cmd, " ") .. " 2>&1")
  local out = p:read("a")
  local _, _, code = p:close()
  return out, code
end

describe("nfbs_prep", function()
  local ds
  setup(function()
    ds = data.tmpdir() .. "/nfbs"
    dataset.make("nfbs", {out = ds, cases = 3, seed = 2, head_shape = {64, 76, 64}})
  end)

  it("writes the recipe's grid, intensities and brains, the arrays and the split", function()
    local out = data.tmpdir() .. "/out"
    local text, code = run({ds, "--out", out, "--no-n4", "--jobs", "2", "--validation", "0.34"})
    assert.equal(0, code, text)
    for c = 1, 3 do
      local id = ("sub-%05d"):format(c)
      local img = vol.read(out .. "/" .. id .. "/image.nii.gz")
      local m = vol.read(out .. "/" .. id .. "/mask.nii.gz")
      local b = vol.read(out .. "/" .. id .. "/brain.nii.gz")
      assert.same({96, 128, 160}, img.shape)
      assert.same({2, 2, 2}, img.spacing)
      assert.equal("float32", img.dtype)
      assert.equal("uint8", m.dtype)
      local s = img:stats()
      assert.near(0, s.min, 1e-4)
      assert.near(255, s.max, 1e-3)
      assert.equal(0, (b - img * m):abs():stats().max)
      assert.is_true(m:stats().sum > 1000)
    end
    -- the affine nibabel reads is the recipe's
    local r = ref.run("nifti_ref.py", "read", out .. "/sub-00001/image.nii.gz")
    local A = nfbs.AFFINE
    for i = 1, 3 do for j = 1, 4 do assert.near(A[i][j], r.affine[i][j], 1e-4) end end
    -- the arrays' .npy headers: Keras' (N, z, y, x, 1), float32
    for _, name in ipairs({"images", "masks", "brains"}) do
      local f = assert(io.open(out .. "/" .. name .. ".npy", "rb"))
      local head = f:read(256)
      f:close()
      assert.truthy(head:find("'descr': '<f4'", 1, true), head)
      assert.truthy(head:find("'shape': (3, 160, 128, 96, 1)", 1, true), head)
    end
    local split = csv.read(out .. "/split.csv")
    assert.equal(3, #split)
    local val = 0
    for _, row in ipairs(split) do val = val + (row.split == "validation" and 1 or 0) end
    assert.equal(1, val)
  end)

  it("corrects the bias field with N4", function()
    local id = "sub-00001"
    local t1 = vol.read(ds .. "/" .. id .. "/" .. id .. "_T1w.nii.gz")
    local mask = vol.read(ds .. "/" .. id .. "/" .. id .. "_brainmask.nii.gz")
    local corrected = nfbs.bias_correct(t1)
    -- white matter, told by the unbiased image (the generator's bias field is known)
    local bias = vol.read(ds .. "/truth/" .. id .. "_bias.nii.gz")
    local wm = (t1 / bias):gt(700):band(mask)
    local function cv(v) local s = v:stats(wm) return s.std / s.mean end
    assert.is_true(cv(corrected) < 0.5 * cv(t1), ("white matter CV %.4f -> %.4f"):format(cv(t1), cv(corrected)))
  end)

  it("refuses a folder without subjects", function()
    local text, code = run({data.tmpdir(), "--out", data.tmpdir()})
    assert.equal(1, code, text)
    assert.truthy(text:find("no subject folder", 1, true), text)
  end)
end)
