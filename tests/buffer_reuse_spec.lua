-- Released voxel buffers of 8 MiB or more are kept for the next buffer of
-- the same size (vol.kept_bytes), so a step may write into memory that holds
-- anything. Each operation below runs once into fresh memory and once into a
-- kept buffer filled with a pattern; the two results must be the same bytes.
-- (The sanitizer build keeps nothing, and fills every new block instead:
-- ASAN_OPTIONS max_malloc_fill_size in the Makefile.)
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"

local dir = data.tmpdir()
local MiB = 1048576
local keeps = not data.medula():find("asan", 1, true)

local function bytes_of(v)
  local p = dir .. "/r.npy"
  v:write(p, {fsync = false})
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  os.remove(p)
  return s
end

local PATTERN = {uint8 = 165, int8 = -91, uint16 = 42405, int16 = -23131, uint32 = 2779096485,
  int32 = -1515870811, float32 = 0 / 0, float64 = 0 / 0}

-- name, call; hit = the step's output is the first large block it asks for,
-- so it must land in the kept buffer.
local function cases(I)
  return {
    {"lt", function() return I.ct:lt(-320) end, hit = true},
    {"bnot", function() return I.m:bnot() end, hit = true},
    {"band", function() return I.m:band(I.m2) end, hit = true},
    {"where", function() return I.ct:where(I.m, 0, I.ct) end, hit = true},
    {"add number", function() return I.ct + 1 end, hit = true},
    {"mul volumes", function() return I.ct * I.ct end, hit = true},
    {"clamp", function() return I.ct:clamp(-1000, 400) end, hit = true},
    {"astype", function() return I.ct:astype("float32") end, hit = true},
    {"log", function() return I.f:abs():log() end, hit = false},
    {"exp", function() return (I.f * 0.001):exp() end, hit = false},
    {"copy", function() return I.ct:copy() end, hit = true},
    {"flip", function() return I.ct:flip({1, 3}) end, hit = true},
    {"permute", function() return I.ct:permute({3, 1, 2}) end, hit = true},
    {"dilate", function() return I.m:dilate(vol.strel.ball(2)) end, hit = false},
    {"label", function() return I.m:label() end, hit = false},
    {"edt", function() return I.m:edt() end, hit = false},
    {"gaussian", function() return I.f:gaussian{sigma_vox = 1.5} end, hit = false},
    {"median", function() return I.ct:median{radius_vox = 1} end, hit = false},
    {"resample", function() return I.ct:resample{spacing = {0.6, 0.7, 1.0}, interpolation = "linear"} end, hit = false},
    {"pad", function() return I.ct:crop{lo = {2, 2, 2}, hi = {255, 255, 127}}:pad{width = 1} end, hit = false},
  }
end

describe("kept voxel buffers", function()
  local I
  setup(function()
    I = {}
    I.ct = vol.phantom.chest{shape = {256, 256, 128}, spacing = {0.7, 0.7, 1.0}, seed = 5}
    I.m, I.m2 = I.ct:lt(-320), I.ct:gt(-1000)
    I.f = I.ct:astype("float32")
  end)
  after_each(function() vol.set_memory_budget(0) end)

  it("keeps a released large buffer and frees it for a request of another size", function()
    vol.set_memory_budget(0) -- frees kept buffers
    assert.are.equal(0, vol.kept_bytes())
    local a = vol.new{shape = {256, 256, 128}, dtype = "uint8"}
    a:fill(7)
    a:release()
    if not keeps then
      assert.are.equal(0, vol.kept_bytes())
      return
    end
    assert.are.equal(8 * MiB, vol.kept_bytes())
    local hits = vol._reuse_hits()
    local b = vol.new{shape = {256, 256, 128}, dtype = "uint8"}
    assert.are.equal(hits + 1, vol._reuse_hits())
    assert.are.equal(0, vol.kept_bytes())
    assert.are.equal(0, b:stats().max) -- vol.new still zeroes a kept buffer
    b:release()
    local c = vol.new{shape = {256, 256, 128}, dtype = "int16"} -- another size: the kept one goes
    assert.are.equal(hits + 1, vol._reuse_hits())
    assert.are.equal(0, vol.kept_bytes())
    c:release()
    assert.are.equal(16 * MiB, vol.kept_bytes())
    vol.set_memory_budget(0)
    assert.are.equal(0, vol.kept_bytes())
  end)

  it("keeps small buffers out (under 8 MiB), and frees kept ones before a volume of 1 MiB or more", function()
    vol.set_memory_budget(0)
    vol.new{shape = {256, 256, 127}, dtype = "uint8"}:release()
    assert.are.equal(0, vol.kept_bytes())
    if not keeps then return end
    vol.new{shape = {256, 256, 128}, dtype = "uint8"}:release()
    assert.are.equal(8 * MiB, vol.kept_bytes())
    local small = vol.new{shape = {256, 256, 8}, dtype = "uint8"} -- 512 KiB: the kept one stays
    assert.are.equal(8 * MiB, vol.kept_bytes())
    local mid = vol.new{shape = {256, 256, 16}, dtype = "uint8"} -- 1 MiB: the kept one goes first
    assert.are.equal(0, vol.kept_bytes())
    small:release()
    mid:release()
  end)

  it("gives the same bytes into a kept, dirty buffer as into fresh memory", function()
    for _, c in ipairs(cases(I)) do
      local name, call = c[1], c[2]
      vol.set_memory_budget(0)
      collectgarbage()
      local fresh = call()
      local want, dtype, shape = bytes_of(fresh), fresh.dtype, fresh.shape
      fresh:release()
      collectgarbage()
      vol.set_memory_budget(0)
      local dirty = vol.new{shape = shape, dtype = dtype}
      dirty:fill(PATTERN[dtype])
      dirty:release()
      local hits = vol._reuse_hits()
      local again = call()
      if keeps and c.hit then
        assert.are.equal(hits + 1, vol._reuse_hits(), name .. ": the kept buffer was not used")
      end
      assert(want == bytes_of(again), name .. ": differs when written into a kept buffer")
      again:release()
    end
  end)
end)
