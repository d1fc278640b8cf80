-- Every reader, fed damaged files: truncated at many points and with
-- bytes changed in the header. Each read must either succeed or raise a
-- Lua error naming the file; a crash would end the whole run.
local function tmpname(suffix)
  local base = os.tmpname()
  os.remove(base)
  return base .. suffix
end

package.path = "tests/?.lua;" .. package.path
local files = require "helpers.files"
local slurp, spit = files.slurp, files.spit

local function sample()
  local v = vol.new{shape={7, 5, 3}, dtype="int16", spacing={0.5, 0.7, 2}, origin={1, 2, 3}}
  for k = 1, 3 do for j = 1, 5 do for i = 1, 7 do v:set(i, j, k, i * 100 + j * 10 + k) end end end
  return v
end

local function check_damaged(path, bytes)
  local ok, err = pcall(vol.read, path)
  if not ok then
    assert.is_string(err)
    assert.truthy(err:find(path, 1, true), "error does not name the file: " .. err)
  end
  return ok
end

for _, suffix in ipairs{".nii", ".nii.gz", ".mha", ".npy"} do
  describe("damaged " .. suffix .. " files", function()
    local good = tmpname(suffix)
    local bad = tmpname(suffix)
    setup(function() sample():write(good) end)
    teardown(function() os.remove(good); os.remove(bad) end)

    it("fail cleanly when truncated anywhere", function()
      local bytes = slurp(good)
      -- a file cut anywhere, header or voxel data, is an error, never a
      -- short or made-up volume
      local step = math.max(1, #bytes // 60)
      local cuts = {#bytes - 1}
      for cut = 0, #bytes - 1, step do cuts[#cuts + 1] = cut end
      for _, cut in ipairs(cuts) do
        spit(bad, bytes:sub(1, cut))
        assert.is_false(check_damaged(bad), ("a copy cut to %d of %d bytes was read"):format(cut, #bytes))
      end
    end)

    it("fail cleanly or read when header bytes change", function()
      local bytes = slurp(good)
      local seed = 7
      for _ = 1, 300 do
        seed = (seed * 1103515245 + 12345) % 2147483648
        local pos = 1 + seed % math.min(#bytes, 600)
        local val = (seed // 65536) % 256
        spit(bad, bytes:sub(1, pos - 1) .. string.char(val) .. bytes:sub(pos + 1))
        check_damaged(bad)
      end
    end)
  end)
end

describe("a damaged .mhd/.raw pair", function()
  it("fails naming the file when the data file is short, missing or the header cut", function()
    local mhd = tmpname(".mhd")
    local raw = mhd:gsub("%.mhd$", ".raw")
    sample():write(mhd)
    local header, data = slurp(mhd), slurp(raw)
    for _, cut in ipairs{0, 1, #data // 2, #data - 1} do
      spit(raw, data:sub(1, cut))
      assert.is_false(check_damaged(mhd), "a .raw cut to " .. cut .. " bytes was read")
    end
    spit(raw, data)
    for cut = 0, #header - 1, math.max(1, #header // 40) do
      spit(mhd, header:sub(1, cut))
      assert.is_false(check_damaged(mhd), "a header cut to " .. cut .. " bytes was read")
    end
    os.remove(raw)
    spit(mhd, header)
    local ok, err = pcall(vol.read, mhd)
    assert.is_false(ok)
    assert.truthy(err:find(mhd, 1, true) or err:find(raw, 1, true), err)
    os.remove(mhd)
  end)
end)

describe("files that are not images", function()
  it("raise an error naming the file", function()
    local p = tmpname(".nii")
    spit(p, "hello, world")
    assert.error_matches(function() vol.read(p) end, (p:gsub("%p", "%%%0")))
    os.remove(p)
    assert.error_matches(function() vol.read(p) end, "cannot open")
    local q = tmpname(".txt")
    spit(q, "plain text")
    assert.error_matches(function() vol.read(q) end, "unknown file format")
    os.remove(q)
  end)
end)
