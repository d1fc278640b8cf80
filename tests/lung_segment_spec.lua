-- scripts/lung_segment end to end on a generated DSB-style dataset: the lung
-- masks agree with the generator's truth (Dice >= 0.98 on the output grid),
-- outputs have the promised layout, a rerun skips finished scans and a bad
-- scan is reported while the others go on.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local dataset = require "recipes.dataset"

local function run(args)
  local cmd = { data.shell_quote(data.medula()), "-s", "lung_segment" }
  for _, a in ipairs(args) do cmd[#cmd + 1] = data.shell_quote(a) end
  local p = io.popen(table.concat(cmd, " ") .. " 2>&1")
  local out = p:read("a")
  local _, _, code = p:close()
  return out, code
end

describe("lung_segment", function()
  local ds, out
  setup(function()
    ds = data.tmpdir() .. "/dsb"
    dataset.make("dsb", {out = ds, cases = 3, seed = 3, shape = {96, 96, 48}})
    out = data.tmpdir() .. "/out"
  end)

  it("masks every scan as the truth says (Dice >= 0.98), tables and all", function()
    local text, code = run({ds .. "/dsb0001", ds .. "/dsb0002", ds .. "/dsb0003", "--out", out, "--spacing", "3",
                            "--jobs", "2"})
    assert.equal(0, code, text)
    for c = 1, 3 do
      local id = ("dsb%04d"):format(c)
      local truth = vol.read(ds .. "/truth/" .. id .. "_lung.nii.gz")
      local m = vol.read(out .. "/" .. id .. "/lungs.nii.gz")
      local t = truth:astype("float32"):resample{reference = m, interpolation = "linear"}:ge(0.5)
      local d = 2 * m:band(t):stats().sum / (m:stats().sum + t:stats().sum)
      assert.is_true(d >= 0.98, ("%s: Dice %.4f"):format(id, d))
      local pic = vol.read(out .. "/" .. id .. "/montage.png")
      assert.equal(3, pic.shape[4] or pic.shape[3]) -- an RGB montage
      local img, mask = vol.read(out .. "/" .. id .. "/image.npy"), vol.read(out .. "/" .. id .. "/mask.npy")
      assert.same(img.shape, mask.shape)
      assert.equal("float32", img.dtype)
      local s = img:stats()
      assert.is_true(s.min >= -0.25 - 1e-6 and s.max <= 0.75 + 1e-6)
      -- the dilated mask holds the lung mask
      local full = vol.read(out .. "/" .. id .. "/mask.nii.gz"):resample{reference = m, interpolation = "nearest"}
      assert.equal(0, m:band(full:bnot()):stats().sum)
    end
  end)

  it("skips finished scans on a rerun and reports a bad one while the others go on", function()
    local bad = data.tmpdir() .. "/broken.nii.gz"
    local f = assert(io.open(bad, "wb"))
    f:write("not a nifti")
    f:close()
    local text, code = run({ds .. "/dsb0001", bad, "--out", out, "--spacing", "3"})
    assert.equal(3, code, text)
    assert.truthy(text:find("1 already done", 1, true), text)
    assert.truthy(text:find("broken", 1, true), text)
  end)

  it("splits the scans over two --shard runs, each scan once, and --merge joins their ledgers", function()
    local csv = require "util.csv"
    local sharded = data.tmpdir() .. "/sharded"
    local scans = {ds .. "/dsb0001", ds .. "/dsb0002", ds .. "/dsb0003"}
    local seen = {}
    for k = 0, 1 do
      local args = {scans[1], scans[2], scans[3], "--out", sharded, "--spacing", "4", "--shard", k .. "/2", "--npy-only"}
      local text, code = run(args)
      assert.equal(0, code, text)
      for _, r in ipairs(csv.read(("%s/ledgers/shard-%d-of-2.csv"):format(sharded, k))) do
        assert.is_nil(seen[r.case], r.case .. " done by two shards")
        assert.equal("ok", r.status)
        seen[r.case] = k
      end
    end
    -- shard K/N takes cases K+1, K+1+N, ...: scans 1 and 3, then scan 2
    assert.same({dsb0001 = 0, dsb0002 = 1, dsb0003 = 0}, seen)
    for id in pairs(seen) do
      -- --npy-only: the .npy files and no .nii.gz
      assert.truthy(vol.fs.stat(sharded .. "/" .. id .. "/lungs.npy"), id)
      assert.truthy(vol.fs.stat(sharded .. "/" .. id .. "/image.npy"), id)
      assert.is_nil(vol.fs.stat(sharded .. "/" .. id .. "/image.nii.gz"), id)
    end
    assert.is_nil(vol.fs.stat(sharded .. "/ledger.csv")) -- shards do not merge on their own
    local text, code = run({scans[1], scans[2], scans[3], "--out", sharded, "--merge"})
    assert.equal(0, code, text)
    local merged = {}
    for _, r in ipairs(csv.read(sharded .. "/ledger.csv")) do
      assert.is_nil(merged[r.case], r.case .. " twice in the merged ledger")
      merged[r.case] = r.status
    end
    assert.same({dsb0001 = "ok", dsb0002 = "ok", dsb0003 = "ok"}, merged)
    -- a whole run after the merge finds every scan done
    text, code = run({scans[1], scans[2], scans[3], "--out", sharded, "--spacing", "4", "--npy-only"})
    assert.equal(0, code, text)
    assert.truthy(text:find("3 already done", 1, true), text)
  end)

  it("answers --help and refuses a missing --out", function()
    local text, code = run({"--help"})
    assert.equal(0, code)
    assert.truthy(text:find("^usage: medula %-s lung_segment"))
    text, code = run({ds .. "/dsb0001"})
    assert.equal(2, code)
    assert.truthy(text:find("missing option --out", 1, true))
  end)
end)
