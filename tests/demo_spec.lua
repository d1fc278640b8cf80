-- scripts/demo.lua: runs the demo into a temporary folder, then checks its
-- report and its files, the latter with independent python3 readers, and
-- the crop-merge step's numbers against the classic numpy recipe.
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

  it("runs the bundled workflows on generated data and scores them against the truth", function()
    assert.truthy(out:find("5. the bundled workflows on generated datasets", 1, true), out)
    for dice in out:gmatch("lung mask Dice (%d%.%d+)") do assert.is_true(tonumber(dice) >= 0.98, out) end
    assert.truthy(out:find("lung_segment dsb0002", 1, true), out)
    local mm = tonumber(out:match("centres within (%d+%.%d+) mm"))
    assert.is_true(mm and mm <= 3, out)
    assert.truthy(out:find("nfbs_prep: 2 subjects on the 96x128x160 grid at 2 mm", 1, true), out)
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

  -- Step 4: the numbers it prints against the classic numpy recipe run on
  -- the same inputs (tests/ref/patch_ref.py, the PNG decoded by Pillow, the
  -- volume from the demo's chest.npy), and its pictures and volumes read by
  -- independent readers.
  it("crops and merges in 2-D and 3-D, printing the voxels numpy's recipe loses", function()
    assert.truthy(out:find("4. crop into 96-voxel patches overlapping by 32", 1, true), out)
    local printed = {}
    local pattern = "classic recipe %('drop'%): (%d+) patches, (%d+) of (%d+) (%a+) lost"
    for patches, lost, total, unit in out:gmatch(pattern) do
      printed[#printed + 1] = {patches=tonumber(patches), lost=tonumber(lost), total=tonumber(total), unit=unit}
    end
    assert.equal(2, #printed, out)
    local _, yes = out:gsub("0 %a+ lost, merged == input: yes", "")
    assert.equal(4, yes, out)                   -- 'cover' and 'pad', in 2-D and 3-D

    local tmp = data.tmpdir()
    local pics = ref.run("png_ref.py", "readall", tmp, dir .. "/chest_slice.png",
                         dir .. "/crop_merge_2d_original_classic_full.png")
    assert.same({256, 256}, pics.files[1].shape)
    assert.same({256, 3 * 256 + 2 * 8}, pics.files[2].shape)   -- three panels, 8-pixel gaps
    local np2 = ref.run("patch_ref.py", "classic", tmp .. "/1.npy", tmp, "96,96", "32,32")
    assert.same({patches=np2.count, lost=np2.lost, total=256 * 256, unit="pixels"}, printed[1])
    assert.equal(15360, np2.lost)

    local np3 = ref.run("patch_ref.py", "classic", dir .. "/chest.npy", tmp, "96,96,96", "32,32,32")
    assert.same({patches=np3.count, lost=np3.lost, total=256 * 256 * 120, unit="voxels"}, printed[2])
    local ct = vol.phantom.chest{seed=1}
    local s = ct:stats()
    local function nifti(name) return ref.run("volume_ref.py", dir .. "/crop_merge_3d_" .. name .. ".nii.gz") end
    local full, lost, classic = nifti("full"), nifti("lost"), nifti("classic")
    for _, r in ipairs{full, lost, classic} do assert.same({256, 256, 120}, r.shape) end
    assert.same({s.sum, s.min, s.max}, {full.stats.sum, full.stats.min, full.stats.max})
    assert.equal(np3.lost, lost.stats.sum)     -- the mask of lost voxels
    -- the classic result (lost voxels 0) is numpy's merge, voxel for voxel
    local merged = vol.read(tmp .. "/merged.npy")
    assert.equal(0, vol.read(dir .. "/crop_merge_3d_classic.nii.gz"):ne(merged):stats().sum)
    assert.equal(0, vol.read(dir .. "/crop_merge_3d_full.nii.gz"):ne(ct):stats().sum)
  end)

  it("fails with a message when the output folder cannot be made", function()
    local ok, err = pcall(data.run_medula, nil, {data.root() .. "/scripts/demo.lua", "/dev/null/demo"})
    assert.is_false(ok)
    assert.truthy(err:find("/dev/null/demo", 1, true), err)
  end)
end)
