-- Untrusted names: no Lua library or script builds a shell command (the
-- folders they create are made by vol._mkdir_p, without a shell), and
-- outputs land in folders whose names hold spaces, quotes, $, ; and
-- non-ASCII letters.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"

local HOSTILE = "a b/it's \"q\" $HOME; touch pwned `id` é ü/"

describe("shell commands", function()
  it("are never built in lua/ or scripts/", function()
    local found = {}
    for _, dir in ipairs{"lua", "scripts"} do
      local list = io.popen("grep -rlE 'os\\.execute|io\\.popen' " .. data.shell_quote(data.root() .. "/" .. dir))
      for line in list:lines() do found[#found + 1] = line end
      list:close()
    end
    assert.are.same({}, found)
  end)
end)

describe("hostile folder names", function()
  it("vol._mkdir_p creates them literally and runs nothing", function()
    local base = data.tmpdir()
    local path = base .. "/" .. HOSTILE .. "deep/er"
    vol._mkdir_p(path)
    vol._mkdir_p(path)
    local f = assert(io.open(path .. "/x", "w"))
    f:close()
    assert.is_nil(io.open(base .. "/pwned", "r"))
    assert.is_nil(io.open("pwned", "r"))
    local ok, err = pcall(vol._mkdir_p, path .. "/x/y")
    assert.is_false(ok)
    assert.truthy(err:find("a file of that name exists", 1, true), err)
  end)

  it("dicom_convert writes into them", function()
    local out = data.tmpdir() .. "/" .. HOSTILE .. "nifti"
    local r = vol.dicom_convert(data.path("dicom/series/dicomdirtests/98892001/CT5N"), out,
      {format = "nii", progress = false})
    assert.are.equal(1, #r)
    assert.truthy(r[1].path:find(out, 1, true), r[1].path)
    assert.are.same(vol.read_dicom(data.path("dicom/series/dicomdirtests/98892001/CT5N")).shape, vol.read(r[1].path).shape)
  end)

  it("the crop/merge script writes into them", function()
    local out = data.tmpdir() .. "/" .. HOSTILE .. "crop"
    data.run_medula("", {data.root() .. "/scripts/crop_merge_3d.lua", "-", "--out", out, "--patch", "64",
                        "--overlap", "16"})
    assert.is_true(data.size(out .. "/chest/crop_merge_3d_lost.nii.gz") > 0)
    local list = io.popen("ls -A " .. data.shell_quote(out))
    local n = 0
    for _ in list:lines() do n = n + 1 end
    list:close()
    assert.is_true(n > 0)
  end)
end)
