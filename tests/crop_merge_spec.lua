-- scripts/crop_merge_3d and crop_merge_2d on the case runner: per-case
-- outputs checked against the classic numpy recipe (tests/ref/patch_ref.py),
-- --jobs 2, resume from the ledger, --force, --help, the zero-argument demo on
-- the synthetic chest CT, and the same recipe through `medula -s run`.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"
local csv = require "util.csv"

local q = data.shell_quote

-- Output (stdout and stderr) and exit status of medula -s NAME args, run in cwd.
local function run(name, args, cwd)
  local cmd = { q(data.medula()), "-s", name }
  for _, a in ipairs(args) do cmd[#cmd + 1] = q(a) end
  local line = table.concat(cmd, " ") .. " 2>&1"
  if cwd then line = "cd " .. q(cwd) .. " && " .. line end
  local p = io.popen(line)
  local out = p:read("a")
  local _, _, code = p:close()
  return out, code
end

local function ledger_rows(out)
  local rows = {}
  for _, r in ipairs(csv.read(out .. "/ledger.csv")) do rows[r.case] = r end
  return rows
end

describe("crop_merge_3d on the runner", function()
  local dir, out
  -- two small volumes (NIfTI and MetaImage) and a file that is not an image
  local inputs = { a = { file = "a.nii.gz", shape = { 40, 30, 20 }, seed = 1 },
                   b = { file = "b.mha", shape = { 36, 28, 24 }, seed = 2 } }
  setup(function()
    dir = data.tmpdir()
    vol.fs.mkdir(dir .. "/in")
    for id, c in pairs(inputs) do
      c.v = vol.phantom.chest{ shape = c.shape, seed = c.seed }
      c.v:write(dir .. "/in/" .. c.file)
      c.v:write(dir .. "/" .. id .. ".npy") -- numpy's (z, y, x) array for the reference
    end
    local f = assert(io.open(dir .. "/in/notes.txt", "wb"))
    f:write("not an image\n")
    f:close()
    out = dir .. "/out"
  end)

  it("runs every case with --jobs 2 and writes what the classic numpy recipe gives", function()
    local text, code = run("crop_merge_3d", { dir .. "/in", "--out", out, "--patch", "16", "--overlap", "4", "--jobs", "2" })
    assert.equal(0, code, text)
    assert.truthy(text:find("crop_merge_3d: 2 case(s): 2 ok, 0 already done", 1, true), text)
    local summary = {}
    for _, r in ipairs(csv.read(out .. "/summary.csv")) do summary[r.case] = r end
    for id, c in pairs(inputs) do
      local tmp = data.tmpdir()
      local np = ref.run("patch_ref.py", "classic", dir .. "/" .. id .. ".npy", tmp, "16,16,16", "4,4,4")
      local base = out .. "/" .. id .. "/crop_merge_3d_"
      local lost, full, classic = vol.read(base .. "lost.nii.gz"), vol.read(base .. "full.nii.gz"),
        vol.read(base .. "classic.nii.gz")
      assert.same(c.shape, lost.shape)
      assert.equal(np.lost, lost:stats().sum)
      assert.equal(0, full:ne(c.v):stats().sum)
      assert.equal(0, classic:ne(vol.read(tmp .. "/merged.npy")):stats().sum)
      -- the recorded summary: the same numbers, and the lines the script prints for one case
      local row = summary[id]
      assert.same({ tostring(np.count), tostring(np.lost), "0", "0" },
        { row.classic_patches, row.classic_lost, row.cover_wrong, row.pad_wrong })
      local voxels = c.shape[1] * c.shape[2] * c.shape[3]
      local line = ("classic recipe ('drop'): %d patches, %d of %d voxels lost"):format(np.count, np.lost, voxels)
      assert.truthy(data.size(out .. "/" .. id .. "/summary.txt") > 0)
      local f = assert(io.open(out .. "/" .. id .. "/summary.txt", "rb"))
      local lines = f:read("a")
      f:close()
      assert.truthy(lines:find(line, 1, true), lines)
      -- and the table over the cases
      assert.truthy(text:find(id .. "%s+" .. table.concat(c.shape, "x") .. "%s+" .. ("%d patches, %d of %d voxels lost"):format(
        np.count, np.lost, voxels) .. " %([%d.]+%%%)%s+yes"), text)
    end
    assert.falsy(text:find("notes", 1, true), text) -- not an image: not a case
  end)

  it("skips finished cases on a rerun, redoes a case whose output went missing, and all with --force", function()
    local args = { dir .. "/in", "--out", out, "--patch", "16", "--overlap", "4", "--jobs", "2" }
    local before = ledger_rows(out)
    local text, code = run("crop_merge_3d", args)
    assert.equal(0, code, text)
    assert.truthy(text:find("2 case(s): 0 ok, 2 already done", 1, true), text)
    assert.same(before, ledger_rows(out))
    assert.truthy(text:find("b  ", 1, true), text) -- the table still lists them
    os.remove(out .. "/a/crop_merge_3d_full.nii.gz")
    text, code = run("crop_merge_3d", args)
    assert.equal(0, code, text)
    assert.truthy(text:find("2 case(s): 1 ok, 1 already done", 1, true), text)
    assert.truthy(data.size(out .. "/a/crop_merge_3d_full.nii.gz") > 0)
    assert.equal(before.b.finished, ledger_rows(out).b.finished)
    args[#args + 1] = "--force"
    text, code = run("crop_merge_3d", args)
    assert.equal(0, code, text)
    assert.truthy(text:find("2 case(s): 2 ok, 0 already done", 1, true), text)
  end)

  it("answers --help with its inputs and options", function()
    local text, code = run("crop_merge_3d", { "--help" })
    assert.equal(0, code, text)
    assert.truthy(text:find("^usage: medula %-s crop_merge_3d"), text)
    for _, w in ipairs({ "IN...", "--out DIR", "--patch N", "(default: 96)", "(default: 32)", "--jobs",
                         "--emit", "synthetic chest CT" }) do
      assert.truthy(text:find(w, 1, true), w .. "\n" .. text)
    end
  end)

  it("refuses an overlap not below the patch and a missing input, naming them", function()
    local text, code = run("crop_merge_3d", { dir .. "/in", "--out", out, "--patch", "8", "--overlap", "8" })
    assert.equal(1, code, text)
    assert.truthy(text:find("crop_merge_3d: --overlap (8) must be smaller than --patch (8)", 1, true), text)
    text, code = run("crop_merge_3d", { dir .. "/none.nii.gz", "--out", out })
    assert.equal(1, code, text)
    assert.truthy(text:find("crop_merge_3d: " .. dir .. "/none.nii.gz: no such file", 1, true), text)
  end)

  it("is the recipe `medula -s run` runs too, with the same outputs", function()
    local other = dir .. "/run"
    local text, code = run("run", { "recipes.crop_merge_case", dir .. "/in", other, "--pattern", "*.nii.gz",
                                    "--param", "patch=16", "--param", "overlap=4" })
    assert.equal(0, code, text)
    local mine, theirs = ledger_rows(out), ledger_rows(other)
    assert.is_nil(theirs.b)
    assert.equal(mine.a.outputs, theirs.a.outputs)
    assert.equal(mine.a.sha256, theirs.a.sha256)
  end)

  it("prints a cluster script with --emit, its inputs and options in the command", function()
    local text, code = run("crop_merge_3d", { dir .. "/in", "--out", dir .. "/emit", "--patch", "16", "--overlap", "4",
                                              "--emit", "parallel" })
    assert.equal(0, code, text)
    assert.truthy(text:find("crop_merge_3d", 1, true), text)
    assert.truthy(text:find("--patch", 1, true) and text:find("16", 1, true), text)
    assert.truthy(text:find(dir .. "/in", 1, true), text)
  end)
end)

describe("crop_merge_2d on the runner", function()
  it("runs a folder of PNGs with --jobs 2 and prints a table of what the classic recipe loses", function()
    local dir = data.tmpdir()
    vol.fs.mkdir(dir .. "/in")
    -- stride 24: x keeps starts 0 and 24 (56 covered), y start 0 (32 covered)
    local want = { p70 = { 70, 50, 70 * 50 - 56 * 32 }, p64 = { 64, 40, 64 * 40 - 56 * 32 } }
    for id, w in pairs(want) do
      vol.phantom.chest{ shape = { w[1], w[2], 1 }, seed = w[1] }:write_png(dir .. "/in/" .. id .. ".png",
        { window = { -1000, 400 } })
    end
    local text, code = run("crop_merge_2d", { dir .. "/in", "--out", dir .. "/out", "--patch", "32", "--overlap", "8",
                                              "--jobs", "2" })
    assert.equal(0, code, text)
    for id, w in pairs(want) do
      assert.truthy(text:find(("%s%%s+%dx%d%%s+2 patches, %d of %d pixels lost"):format(id, w[1], w[2], w[3],
        w[1] * w[2])), text)
      local pic = vol.read(dir .. "/out/" .. id .. "/crop_merge_2d_original_classic_full.png")
      assert.same({ 3 * w[1] + 2 * 8, w[2] }, pic.shape)
    end
  end)
end)

describe("the crop_merge demos without arguments", function()
  -- 96-voxel patches overlapping by 32 keep starts 0, 64, 128 of 256 (224
  -- covered) and start 0 of 120 (96 covered)
  it("crop_merge_3d runs the synthetic chest CT as the case 'chest' into build/crop_merge_3d", function()
    local cwd = data.tmpdir()
    local text, code = run("crop_merge_3d", {}, cwd)
    assert.equal(0, code, text)
    local lost = 256 * 256 * 120 - 224 * 224 * 96
    assert.truthy(text:find(("classic recipe ('drop'): 9 patches, %d of 7864320 voxels lost (38.8%%)"):format(lost),
      1, true), text)
    assert.truthy(text:find("wrote build/crop_merge_3d/chest/crop_merge_3d_lost.nii.gz", 1, true), text)
    assert.equal(lost, vol.read(cwd .. "/build/crop_merge_3d/chest/crop_merge_3d_lost.nii.gz"):stats().sum)
  end)

  it("crop_merge_2d runs a slice of it as the case 'chest_slice' into build/crop_merge_2d", function()
    local cwd = data.tmpdir()
    local text, code = run("crop_merge_2d", {}, cwd)
    assert.equal(0, code, text)
    local lost = 256 * 256 - 224 * 224
    assert.truthy(text:find(("classic recipe ('drop'): 9 patches, %d of 65536 pixels lost (23.4%%)"):format(lost),
      1, true), text)
    local pic = vol.read(cwd .. "/build/crop_merge_2d/chest_slice/crop_merge_2d_original_classic_full.png")
    assert.same({3 * 256 + 2 * 8, 256}, pic.shape)
  end)
end)
