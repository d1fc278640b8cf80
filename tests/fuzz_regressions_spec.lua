-- Inputs the fuzz targets (tests/fuzz, make fuzz) found to crash, hang or
-- exhaust memory, kept in tests/data/fuzz as <target>-<what>.<suffix>:
-- each must now fail with a message naming the file, quickly and without
-- holding memory afterwards. make fuzz also seeds its corpora with them.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"

local EXPECT = { -- file -> substring of the error
  ["png-huge-scal-chunk.png"] = "chunk sCAL at byte 33 announces 1610612776 bytes",
  ["dicom-j2k-huge-codestream.dcm"] = "JPEG 2000 codestream is 2294272x512 with 1 components",
  -- 3.5 kB announcing 512 x 16253184 voxels in small tiles: OpenJPEG's own
  -- header reading took seconds (a timeout under load), now refused first
  ["dicom-j2k-many-tiles.dcm"] = "JPEG 2000 codestream is 512x16253184 with 1 components",
  -- reported as a timeout under heavy machine load; kept for the gzip-wrapped path
  ["dicom-corrupt-gzip-wrapper.dcm"] = "unknown compression method",
}

describe("inputs the fuzzers found", function()
  local dir = data.root() .. "/tests/data/fuzz"
  local names = {}
  for name in io.popen("ls " .. data.shell_quote(dir)):lines() do names[#names + 1] = name end

  it("are all listed with the error they must give", function()
    for _, name in ipairs(names) do assert(EXPECT[name], name .. " has no expectation here") end
    for name in pairs(EXPECT) do assert(io.open(dir .. "/" .. name), name .. " is missing") end
  end)

  for _, name in ipairs(names) do
    it(name, function()
      collectgarbage()
      local base = vol.live_bytes()
      local readers = {vol.read}
      if name:match("^dicom%-") then readers[2] = vol.read_dicom end
      for _, read in ipairs(readers) do
        local ok, err = pcall(read, dir .. "/" .. name)
        assert.is_false(ok)
        assert.truthy(err:find(name, 1, true), err)
        assert.truthy(err:find(EXPECT[name], 1, true), err)
      end
      collectgarbage()
      assert.are.equal(base, vol.live_bytes())
    end)
  end

  it("a JPEG 2000 frame of the right size in more tiles than a codestream can number is refused first", function()
    -- dicom-j2k-many-tiles.dcm with its SIZ marker made 512x512 in 1x1 tiles
    local f = assert(io.open(dir .. "/dicom-j2k-many-tiles.dcm", "rb"))
    local bytes = f:read("a")
    f:close()
    local at = assert(bytes:find("\255\79\255\81", 1, true)) + 4 -- SOC, SIZ
    local siz = bytes:sub(at, at + 37)
    local l, r, x, y, xo, yo, xt, yt, xto, yto, c = (">I2I2I4I4I4I4I4I4I4I4I2"):unpack(siz)
    assert.same({512, 16253184, 512, 512}, {x, y, xt, yt})
    siz = (">I2I2I4I4I4I4I4I4I4I4I2"):pack(l, r, x, 512, xo, yo, 1, 1, xto, yto, c)
    local path = data.tmpdir() .. "/tiles.dcm"
    f = assert(io.open(path, "wb"))
    f:write(bytes:sub(1, at - 1), siz, bytes:sub(at + 38))
    f:close()
    local ok, err = pcall(vol.read, path)
    assert.is_false(ok)
    assert.truthy(err:find("JPEG 2000 codestream has 262144 tiles (at most 65535)", 1, true), err)
  end)
end)
