-- scripts/demo.lua: runs the demo into a temporary folder, then checks its
-- report and its files, the latter with an independent python3 reader.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"

describe("scripts/demo.lua", function()
  local dir, out
  setup(function()
    dir = data.tmpdir()
    out = data.run_medula(nil, {data.root() .. "/scripts/demo.lua", dir})
  end)

  it("reports each step, each file and a successful round trip", function()
    for _, s in ipairs{"1. make the phantom", "2. write", "3. read every file back",
                       "chest.nii.gz", "chest.mhd + chest.raw", "chest.npy",
                       "voxels and geometry equal", "all files read back equal"} do
      assert.truthy(out:find(s, 1, true), "missing '" .. s .. "' in:\n" .. out)
    end
    assert.falsy(out:find("DIFFER", 1, true), out)
  end)

  it("writes files that an independent reader sees as the phantom", function()
    local ct = vol.phantom.chest{seed=1}
    local s = ct:stats()
    for _, f in ipairs{"chest.nii.gz", "chest.mhd", "chest.npy"} do
      local r = ref.run("volume_ref.py", dir .. "/" .. f, "1,1,1", "71,110,79", "129,154,67")
      assert.same({256, 256, 120}, r.shape, f)
      assert.equal("int16", r.dtype, f)
      assert.equal(s.sum, r.stats.sum, f)
      assert.equal(s.min, r.stats.min, f)
      assert.equal(s.max, r.stats.max, f)
      assert.same({-2000, 25, 700}, r.at, f)
      if f ~= "chest.npy" then
        for a = 1, 3 do
          assert.near(ct.spacing[a], r.spacing[a], 1e-5, f)
          assert.near(ct.origin[a], r.origin_lps[a], 1e-4, f)
        end
      end
    end
    assert.is_true(data.size(dir .. "/chest.raw") == 256 * 256 * 120 * 2)
  end)

  it("fails with a message when the output folder cannot be made", function()
    local ok, err = pcall(data.run_medula, nil, {data.root() .. "/scripts/demo.lua", "/dev/null/demo"})
    assert.is_false(ok)
    assert.truthy(err:find("/dev/null/demo", 1, true), err)
  end)
end)
