-- Mask clean-up: fill_holes, clear_border, remove_small_objects, keep_largest.
-- Exact small cases, parity with scipy.ndimage / scikit-image, threads, errors.
package.path = "tests/?.lua;" .. package.path
local maskref = require "helpers.maskref"

local function grid(rows, dtype)
  local v = vol.new{shape={#rows[1], #rows}, dtype=dtype or "uint8"}
  for j, r in ipairs(rows) do
    for i = 1, #r do v:set(i, j, tonumber(r:sub(i, i))) end
  end
  return v
end

local function rows(v)
  local t = {}
  for j = 1, v.shape[2] do
    local s = {}
    for i = 1, v.shape[1] do s[i] = tostring(v:get(i, j)) end
    t[j] = table.concat(s)
  end
  return t
end

describe("m:fill_holes", function()
  it("fills background not connected to the faces, 4-connected in 2-D", function()
    local m = grid{"011100", "010101", "011110", "100001"}
    assert.same({"011100", "011101", "011110", "100001"}, rows(m:fill_holes()))
    -- a diagonal gap does not let the background out with the default connectivity ...
    local d = grid{"01110", "10001", "01110"}
    assert.same({"01110", "11111", "01110"}, rows(d:fill_holes()))
    -- ... but does with connectivity 8
    assert.same({"01110", "10001", "01110"}, rows(d:fill_holes{connectivity=8}))
  end)

  it("fills a hollow ball in 3-D and per slice", function()
    local outer = vol.phantom.sphere{shape={21, 21, 21}, radius_mm=8}
    local inner = vol.phantom.sphere{shape={21, 21, 21}, radius_mm=5}
    local shell = outer:bxor(inner)
    assert.equal(outer:stats().sum, shell:fill_holes():stats().sum)
    -- per slice, the caps of the shell have no hole
    local per = shell:fill_holes{per_slice=true}
    assert.equal(outer:stats().sum, per:stats().sum)
    local open = shell:band(vol.phantom.box{shape={21, 21, 21}, lo={11, 1, 1}, hi={11, 21, 21}}:bnot())
    assert.equal(open:stats().sum, open:fill_holes():stats().sum)
    assert.is_true(open:fill_holes{axis=1}:stats().sum > open:stats().sum)
  end)
end)

describe("v:clear_border", function()
  it("clears regions touching the faces, keeping dtype and values", function()
    local v = grid({"1000", "0020", "0000", "0033"}, "int16")
    local c = v:clear_border()
    assert.equal("int16", c.dtype)
    assert.same({"0000", "0020", "0000", "0000"}, rows(c))
    assert.same({"0000", "0000", "0000", "0000"}, rows(v:clear_border{buffer=1}))
    -- 8-connected by default: the diagonal joins the inner voxel to the corner
    local d = grid{"1000", "0100", "0000", "0000"}
    assert.same({"0000", "0000", "0000", "0000"}, rows(d:clear_border()))
    assert.same({"0000", "0100", "0000", "0000"}, rows(d:clear_border{connectivity=4}))
  end)

  it("rejects a buffer as large as a side", function()
    local v = vol.new{shape={4, 3}, dtype="uint8"}
    assert.error_matches(function() v:clear_border{buffer=3} end, "buffer must be 0 to 2")
    assert.error_matches(function() v:clear_border{buffer=-1} end, "option 'buffer' must be an integer >= 0")
  end)
end)

describe("m:remove_small_objects", function()
  it("removes components smaller than min_size, 4-connected by default in 2-D", function()
    local m = grid{"1101", "1000", "0011", "1010"}
    -- sizes 3, 1, 3, 1
    assert.same({"1100", "1000", "0011", "0010"}, rows(m:remove_small_objects(3)))
    assert.same({"1100", "1000", "0011", "0010"}, rows(m:remove_small_objects(2)))
    assert.same({"1101", "1000", "0011", "1010"}, rows(m:remove_small_objects(1)))
    assert.same({"1100", "1000", "0011", "0010"}, rows(m:remove_small_objects(3, {connectivity=8})))
    assert.same({"0000", "0000", "0000", "0000"}, rows(m:remove_small_objects(4)))
  end)

  it("rejects a negative size", function()
    assert.error_matches(function() grid{"1"}:remove_small_objects(-1) end, "min_size must be >= 0")
  end)
end)

describe("m:keep_largest", function()
  it("keeps the n largest, ties by raster order", function()
    local m = grid{"1101", "1001", "0000", "1011"}
    assert.same({"1100", "1000", "0000", "0000"}, rows(m:keep_largest()))
    -- sizes 3, 2, 1, 2: the two 2-voxel components tie, the first in raster order wins
    assert.same({"1101", "1001", "0000", "0000"}, rows(m:keep_largest(2)))
    assert.same({"1101", "1001", "0000", "0011"}, rows(m:keep_largest(3)))
    assert.same({"0000", "0000", "0000", "0000"}, rows(m:keep_largest(0)))
  end)

  it("keeps the largest of each slice with per_slice", function()
    local v = vol.new{shape={5, 1, 2}, dtype="uint8"}
    for _, x in ipairs{1, 3, 4} do v:set(x, 1, 1, 1) end
    for _, x in ipairs{1, 2, 5} do v:set(x, 1, 2, 1) end
    local k = v:keep_largest(1, {per_slice=true})
    assert.same({0, 0, 1, 1, 0}, {k:get(1, 1, 1), k:get(2, 1, 1), k:get(3, 1, 1), k:get(4, 1, 1), k:get(5, 1, 1)})
    assert.same({1, 1, 0, 0, 0}, {k:get(1, 1, 2), k:get(2, 1, 2), k:get(3, 1, 2), k:get(4, 1, 2), k:get(5, 1, 2)})
    assert.equal(6, v:keep_largest():stats().sum)  -- one component 26-connected in 3-D
  end)

  it("rejects bad arguments", function()
    local m = vol.new{shape={3, 3, 3}, dtype="uint8"}
    assert.error_matches(function() m:keep_largest(-1) end, "the number of components must be >= 0")
    assert.error_matches(function() m:keep_largest{connectivity=5} end, "connectivity must be 4 or 8")
    assert.error_matches(function() m:keep_largest{connectivity=4} end, "connectivity must be 6, 18 or 26 in 3%-D")
    assert.error_matches(function() m:keep_largest(1, {size=2}) end, "unknown option 'size'")
  end)
end)

describe("clean-up threads", function()
  it("gives identical results with 1 and 2 threads", function()
    local v = vol.phantom.sphere{shape={90, 80, 60}, radius_mm=25}
    v = v:bxor(vol.phantom.sphere{shape={90, 80, 60}, radius_mm=12, center={40, 40, 30}})
    local got = {}
    local saved = vol.threads()
    for _, t in ipairs{1, 2} do
      vol.set_threads(t)
      got[t] = {v:fill_holes(), v:clear_border(), v:keep_largest(2, {per_slice=true}), v:remove_small_objects(50)}
    end
    vol.set_threads(saved)
    for i = 1, 4 do assert.equal(0, got[1][i]:ne(got[2][i]):stats().sum) end
  end)
end)

describe("mask operations and memory", function()
  it("leave no voxel memory behind", function()
    local m = vol.phantom.sphere{shape={40, 40, 40}, radius_mm=10}
    collectgarbage()
    collectgarbage()
    local before = vol.live_bytes()
    for _ = 1, 5 do
      m:fill_holes{axis=2}
      m:clear_border()
      m:remove_small_objects(5, {per_slice=true})
      m:keep_largest(1)
      local l = m:label()
      vol.regionprops(l, m)
      m:edt{indices=true}
      m:edt{signed=true, axis=1}
      m:erode(3, {axis=2, method="edt"})
    end
    collectgarbage()
    collectgarbage()
    assert.equal(before, vol.live_bytes())
  end)
end)

describe("clean-up parity with scipy.ndimage and scikit-image", function()
  local S = maskref.session()

  local function job(rec, op, method, arg, opts)
    local v = S:load(rec)
    opts = opts or {}
    local result
    if arg ~= nil then result = v[method](v, arg, opts) else result = v[method](v, opts) end
    S:add({op=op, ["in"]=rec.file, per_slice=opts.axis or 0, conn=opts.connectivity, buffer=opts.buffer,
           min_size=op == "remove_small" and arg or nil, n=op == "keep_largest" and arg or nil}, result)
  end

  it("match on every mask, connectivity and slicing", function()
    for _, rec in ipairs(S.masks) do
      local three = #rec.shape == 3
      job(rec, "fill_holes", "fill_holes")
      job(rec, "fill_holes", "fill_holes", nil, {connectivity=three and 26 or 8})
      job(rec, "clear_border", "clear_border")
      local thick = rec.shape[1] > 2 and rec.shape[2] > 2 and (not three or rec.shape[3] > 2)
      if thick then job(rec, "clear_border", "clear_border", nil, {buffer=1, connectivity=three and 6 or 4}) end
      job(rec, "remove_small", "remove_small_objects", 5)
      job(rec, "remove_small", "remove_small_objects", 3, {connectivity=three and 18 or 8})
      job(rec, "keep_largest", "keep_largest", 2)
      job(rec, "keep_largest", "keep_largest", 1, {connectivity=three and 6 or 4})
      if three and rec.shape[1] >= 13 then
        for axis = 1, 3 do
          job(rec, "fill_holes", "fill_holes", nil, {axis=axis})
          job(rec, "clear_border", "clear_border", nil, {axis=axis})
          job(rec, "remove_small", "remove_small_objects", 4, {axis=axis})
          job(rec, "keep_largest", "keep_largest", 2, {axis=axis, connectivity=4})
        end
      end
    end
    S:assert_all()
  end)
end)
