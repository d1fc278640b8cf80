-- The memory budget (vol.set_memory_budget): voxel buffers and the large
-- scratch blocks of readers and kernels are refused past it, with a message
-- naming the size asked for, and nothing stays allocated after a refusal.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local fx = require "helpers.dicom_fixture"

local MiB = 1048576

describe("vol.set_memory_budget", function()
  after_each(function() vol.set_memory_budget(0) end)

  it("refuses a voxel buffer past the budget, naming the bytes asked for", function()
    collectgarbage()
    vol.set_memory_budget(vol.live_bytes() / MiB + 1)
    local ok, err = pcall(vol.new, {shape = {512, 512, 10}, dtype = "int16"})
    assert.is_false(ok)
    assert.truthy(err:find("5242880 bytes asked for", 1, true), err)
    assert.truthy(err:find("budget", 1, true), err)
  end)

  it("refuses a kernel's scratch past the budget and leaks nothing", function()
    local m = vol.phantom.sphere{shape = {128, 128, 128}, radius_mm = 40}
    collectgarbage()
    local base = vol.live_bytes()
    -- room for the 2 MiB output, not for the 4 MiB of reordered copies
    vol.set_memory_budget(base / MiB + 3)
    local ok, err = pcall(m.fill_holes, m, {per_slice = true, axis = 1})
    assert.is_false(ok)
    assert.truthy(err:find("bytes of scratch asked for", 1, true), err)
    collectgarbage()
    assert.are.equal(base, vol.live_bytes())
    vol.set_memory_budget(0)
    local f = m:fill_holes{per_slice = true, axis = 1}
    assert.are.equal(m:stats().sum, f:stats().sum)
  end)

  it("refuses a reader's file buffer past the budget", function()
    local dir = data.tmpdir()
    local rows, cols, frames = 256, 256, 20 -- 2.5 MiB of pixels
    local p = dir .. "/big.dcm"
    fx.write_slice(p, {rows = rows, cols = cols, frames = frames, ipp = {0, 0, 0},
      pixel_bytes = ("\1\0"):rep(rows * cols * frames)})
    collectgarbage()
    vol.set_memory_budget(vol.live_bytes() / MiB + 3)
    local ok, err = pcall(vol.read_dicom, p)
    assert.is_false(ok)
    assert.truthy(err:find("asked for", 1, true), err)
    assert.truthy(err:find(p, 1, true), err)
    vol.set_memory_budget(0)
    assert.are.same({cols, rows, frames}, vol.read_dicom(p).shape)
  end)
end)
