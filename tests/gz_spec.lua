-- .nii.gz as written by medula: one gzip member whose deflate stream chains
-- independently compressed 1 MB blocks, with a block index in the header.
-- Python's zlib/gzip, gzip(1) and nibabel are the references
-- (tests/ref/gz_ref.py); medula's parallel and serial inflate must agree,
-- and damaged files must fail with the file's name.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"
local json = require "dkjson"

local files = require "helpers.files"

local q = data.shell_quote
local slurp, spit = files.slurp, files.spit

-- Reads p with n threads (restoring the count after).
local function read_with(n, p)
  local before = vol.threads()
  vol.set_threads(n)
  local ok, v = pcall(vol.read, p)
  vol.set_threads(before)
  if not ok then error(v, 0) end
  return v
end

local function write_with(n, v, p, opts)
  local before = vol.threads()
  vol.set_threads(n)
  local ok, err = pcall(v.write, v, p, opts)
  vol.set_threads(before)
  if not ok then error(err, 0) end
end

-- The .nii bytes of v: two volumes are the same when these are.
local function nii_bytes(v, dir, name)
  local p = dir .. "/" .. name .. ".nii"
  v:write(p)
  return slurp(p)
end

-- The gzip member's FEXTRA subfield "MI": total, span and entry sizes.
local function index_of(s)
  assert(s:byte(4) & 4 ~= 0, "no FEXTRA")
  local xlen = string.unpack("<I2", s, 11)
  assert.equal("MI", s:sub(13, 14))
  local len = string.unpack("<I2", s, 15)
  assert.equal(xlen, len + 4)
  local total, span = string.unpack("<I8I4", s, 17)
  local sizes = {}
  for i = 1, (len - 12) // 4 do sizes[i] = string.unpack("<I4", s, 29 + 4 * (i - 1)) end
  return {total = total, span = span, sizes = sizes, hdr = 12 + xlen}
end

local dir = data.tmpdir()
ref.run("gz_ref.py", "inputs", dir)
local cases = {
  {"ct", vol.phantom.chest{shape = {128, 128, 80}}, 3},  -- int16 CT-like, 2.6 MB
  {"random", vol.read(dir .. "/random.npy"), 3},          -- incompressible: stored blocks
  {"constant", vol.read(dir .. "/constant.npy"), 4},      -- long matches only
  {"exact", vol.read(dir .. "/exact.npy"), 2},            -- exactly 2 blocks
  {"tiny", vol.new{shape = {5, 4, 3}, dtype = "int16", fill = 7}, 1},
}

-- Writes case c at level (-1: default) and returns the path.
local function gz(c, level)
  local p = ("%s/%s_%d.nii.gz"):format(dir, c[1], level)
  c[2]:write(p, level >= 0 and {level = level} or nil)
  return p
end

describe("v:write .nii.gz", function()
  it("writes one gzip member that zlib, gzip, gzip(1) and nibabel read, at every level", function()
    local pairs_, expect, files = {}, {}, {}
    for _, c in ipairs(cases) do
      local name, v, blocks = c[1], c[2], c[3]
      local nii = dir .. "/" .. name .. ".nii"
      v:write(nii)
      local size = data.size(nii)
      for level = -1, 12 do
        local p = ("%s/%s_%d.nii.gz"):format(dir, name, level)
        v:write(p, level >= 0 and {level = level} or nil)
        pairs_[#pairs_ + 1] = {p, nii}
        expect[#expect + 1] = {size = size, blocks = blocks, name = name, level = level}
        files[#files + 1] = q(p)
        assert.equal(slurp(nii), nii_bytes(vol.read(p), dir, "back"), p .. ": read back")
      end
    end
    local r = ref.run("gz_ref.py", "check", json.encode(pairs_))
    for i, f in ipairs(r.files) do
      local e = expect[i]
      assert(f.one_member, f.path .. ": not exactly one gzip member")
      assert.equal(e.size, f.length, f.path)
      assert.equal(e.size, f.isize, f.path)
      assert(f.zlib_same and f.gzip_same, f.path .. ": contents differ from the .nii")
      assert(f.nibabel_same, f.path .. ": nibabel reads different voxels")
      if e.blocks >= 2 then
        assert.same({"MI"}, f.extra, f.path)
        local ix = index_of(slurp(f.path))
        assert.equal(e.size, ix.total, f.path)
        assert.equal(1048576, ix.span, f.path)
        assert.equal(e.blocks, #ix.sizes, f.path)
        local sum = 0
        for _, n in ipairs(ix.sizes) do sum = sum + n end
        assert.equal(data.size(f.path) - ix.hdr - 8, sum, f.path)
      else
        assert.equal(0, f.flags, f.path .. ": a one-block file needs no index")
      end
    end
    assert(os.execute("gzip -t " .. table.concat(files, " ")), "gzip -t failed")
  end)

  it("is no larger than zlib level 1 by default on CT-like data", function()
    local nii = dir .. "/ct.nii"
    cases[1][2]:write(nii)
    local p = gz(cases[1], -1)
    local zlib1 = io.popen(("%s -c 'import gzip,sys; print(len(gzip.compress(open(sys.argv[1],\"rb\").read(), 1)))' %s")
      :format(q(ref.python), q(nii))):read("n")
    assert(data.size(p) <= zlib1, ("%d bytes against zlib level 1's %d"):format(data.size(p), zlib1))
  end)

  it("writes the same bytes with 1 and 2 threads", function()
    for _, c in ipairs(cases) do
      for _, level in ipairs{-1, 0, 6} do
        local opts = level >= 0 and {level = level} or nil
        local p1, p2 = dir .. "/t1.nii.gz", dir .. "/t2.nii.gz"
        write_with(1, c[2], p1, opts)
        write_with(2, c[2], p2, opts)
        assert(slurp(p1) == slurp(p2), ("%s level %d: bytes differ"):format(c[1], level))
      end
    end
  end)

  it("places the sync flush after each block but the last", function()
    -- Each middle entry ends with an empty stored block: 00 00 ff ff.
    local s = slurp(gz(cases[1], 1))
    local ix = index_of(s)
    local at = ix.hdr
    for i = 1, #ix.sizes - 1 do
      at = at + ix.sizes[i]
      assert.equal("\0\0\255\255", s:sub(at - 3, at), "entry " .. i)
    end
  end)
end)

describe("vol.read .nii.gz", function()
  it("reads medula's files the same on 1 and 2 threads", function()
    for _, c in ipairs(cases) do
      for _, level in ipairs{-1, 0, 12} do
        local p = gz(c, level)
        local want = nii_bytes(c[2], dir, "want")
        assert.equal(want, nii_bytes(read_with(1, p), dir, "one"), p .. " (1 thread)")
        assert.equal(want, nii_bytes(read_with(2, p), dir, "two"), p .. " (2 threads)")
      end
    end
  end)

  it("reads them serially without the index, and with a wrong index", function()
    local v = cases[1][2]
    local want = nii_bytes(v, dir, "want")
    local s = slurp(gz(cases[1], -1))
    local ix = index_of(s)
    -- No FEXTRA at all: the header as any gzip writer makes it.
    local plain = s:sub(1, 3) .. "\0" .. s:sub(5, 10) .. s:sub(ix.hdr + 1)
    spit(dir .. "/noindex.nii.gz", plain)
    assert.equal(want, nii_bytes(read_with(2, dir .. "/noindex.nii.gz"), dir, "got"))
    -- Sizes that still add up but cut the blocks in the wrong places.
    local a, b = ix.sizes[1], ix.sizes[2]
    local wrong = s:sub(1, 28) .. string.pack("<I4I4", a + 1, b - 1) .. s:sub(37)
    spit(dir .. "/wrongindex.nii.gz", wrong)
    assert.equal(want, nii_bytes(read_with(2, dir .. "/wrongindex.nii.gz"), dir, "got"))
  end)

  it("reads the multi-member files earlier versions wrote", function()
    local r = ref.run("gz_ref.py", "members", dir .. "/old.nii.gz", gz(cases[1], -1), 1048576)
    assert.equal(3, r.members)
    local want = nii_bytes(cases[1][2], dir, "want")
    assert.equal(want, nii_bytes(read_with(1, dir .. "/old.nii.gz"), dir, "got"))
    assert.equal(want, nii_bytes(read_with(2, dir .. "/old.nii.gz"), dir, "got"))
  end)

  it("reports a corrupted block, a cut stream and a bad trailer, naming the file", function()
    local s = slurp(gz(cases[1], 1))
    local ix = index_of(s)
    local mid = ix.hdr + ix.sizes[1] + ix.sizes[2] // 2  -- inside block 2
    local damaged = {
      {"corrupt.nii.gz", s:sub(1, mid) .. ("\255"):rep(64) .. s:sub(mid + 65), "corrupt gzip data"},
      {"cut.nii.gz", s:sub(1, mid), "gzip data ends early (file truncated?)"},
      {"cut_trailer.nii.gz", s:sub(1, #s - 3), "gzip data ends early"},
      {"bad_crc.nii.gz", s:sub(1, #s - 8) .. string.char(s:byte(#s - 7) ~ 1) .. s:sub(#s - 6),
        "corrupt gzip data"},
      {"bad_size.nii.gz", s:sub(1, #s - 4) .. string.char(s:byte(#s - 3) ~ 1) .. s:sub(#s - 2),
        "corrupt gzip data"},
    }
    for _, d in ipairs(damaged) do
      local p = dir .. "/" .. d[1]
      spit(p, d[2])
      for _, n in ipairs{1, 2} do
        local ok, err = pcall(read_with, n, p)
        assert.is_false(ok, p)
        assert.truthy(err:find(p, 1, true), "error does not name the file: " .. err)
        assert.truthy(err:find(d[3], 1, true), ("%s: expected %q in: %s"):format(p, d[3], err))
      end
    end
  end)
end)
