-- Element-wise arithmetic, comparisons, logic, where, astype, fill, stats.
package.path = "tests/?.lua;" .. package.path

local function ramp(dtype, n, f)
  local v = vol.new{shape={n, 1}, dtype=dtype}
  for i = 1, n do v:set(i, 1, f(i)) end
  return v
end

local function values(v)
  local t = {}
  for i = 1, v.shape[1] do t[i] = v:get(i, 1) end
  return t
end

describe("metamethods", function()
  it("follow the documented result types", function()
    local i16 = vol.new{shape={2, 2}, dtype="int16"}
    local u8 = vol.new{shape={2, 2}, dtype="uint8"}
    local i8 = vol.new{shape={2, 2}, dtype="int8"}
    local f32 = vol.new{shape={2, 2}, dtype="float32"}
    local i32 = vol.new{shape={2, 2}, dtype="int32"}
    local u32 = vol.new{shape={2, 2}, dtype="uint32"}
    assert.equal("int16", (i16 + 1).dtype)
    assert.equal("int16", (1 + i16).dtype)
    assert.equal("float32", (i16 + 0.5).dtype)
    assert.equal("float64", (i32 * 0.5).dtype)
    assert.equal("float32", (i16 / 2).dtype)
    assert.equal("int16", (u8 + i8).dtype)
    assert.equal("float32", (i16 * f32).dtype)
    assert.equal("float64", (i32 + f32).dtype)
    assert.equal("float64", (i32 + u32).dtype)
    assert.equal("uint16", (u8 + vol.new{shape={2, 2}, dtype="uint16"}).dtype)
    assert.equal("int32", (-u8).dtype)
  end)

  it("compute exact values, with a number on either side", function()
    local v = ramp("int16", 4, function(i) return i * 10 end)   -- 10 20 30 40
    assert.same({11, 21, 31, 41}, values(v + 1))
    assert.same({-10, -20, -30, -40}, values(-v))
    assert.same({90, 80, 70, 60}, values(100 - v))
    assert.same({5.0, 10.0, 15.0, 20.0}, values(v / 2))
    assert.same({0.1, 0.05, 1 / 30, 0.025}, (function()
      local r = values(1 / v:astype("float64")); return r end)())
    assert.same({20, 40, 60, 80}, values(v * 2))
    assert.same({100, 400, 900, 1600}, values(v ^ 2))
  end)

  it("saturate instead of wrapping", function()
    local v = ramp("int16", 2, function(i) return 32760 + i end)
    assert.same({32767, 32767}, values(v + 10))
    local u = ramp("uint8", 2, function(i) return i end)
    assert.same({0, 0}, values(u - 5))
  end)

  it("reject mismatched shapes and non-numbers", function()
    local a, b = vol.new{shape={2, 2}}, vol.new{shape={2, 3}}
    assert.error_matches(function() return a + b end, "shapes differ")
    assert.error_matches(function() return a + "x" end, "Volume or number expected")
  end)
end)

describe("in-place arithmetic", function()
  it("keeps the dtype and returns self", function()
    local v = ramp("int16", 3, function(i) return i end)
    local r = v:add(0.6)
    assert.equal(v, r)
    assert.equal("int16", v.dtype)
    assert.same({2, 3, 4}, values(v))          -- 1.6 2.6 3.6 rounded
    v:mul(10):sub(ramp("int16", 3, function() return 5 end)):div(4)
    assert.same({4, 6, 9}, values(v))          -- 15/4=3.75, 25/4=6.25, 35/4=8.75
  end)
end)

describe("min, max, abs, clamp", function()
  it("work element-wise or give the extreme value", function()
    local v = ramp("float32", 4, function(i) return ({-3, 5, -1, 2})[i] end)
    assert.equal(-3, v:min())
    assert.equal(5, v:max())
    assert.same({0, 5, 0, 2}, values(v:max(0)))
    assert.same({-3, 1, -1, 1}, values(v:min(1)))
    assert.same({3, 5, 1, 2}, values(v:abs()))
    assert.same({-2, 3, -1, 2}, values(v:clamp(-2, 3)))
    assert.same({-3, 3, -1, 2}, values(v:clamp(nil, 3)))
    assert.same({-3, 5, -1, 2}, values(v))      -- unchanged
    assert.equal(32767, ramp("int16", 1, function() return -32768 end):abs():get(1, 1))
  end)
end)

describe("comparisons and logic", function()
  local v = ramp("float32", 5, function(i) return i - 3 end)  -- -2 -1 0 1 2
  it("return uint8 masks", function()
    assert.equal("uint8", v:gt(0).dtype)
    assert.same({0, 0, 0, 1, 1}, values(v:gt(0)))
    assert.same({1, 1, 0, 0, 0}, values(v:lt(0)))
    assert.same({0, 0, 1, 1, 1}, values(v:ge(0)))
    assert.same({1, 1, 1, 0, 0}, values(v:le(0)))
    assert.same({0, 0, 1, 0, 0}, values(v:eq(0)))
    assert.same({1, 1, 0, 1, 1}, values(v:ne(0)))
    assert.same({0, 1, 1, 1, 0}, values(v:between(-1, 1)))
    local w = ramp("int16", 5, function(i) return ({0, -2, 0, 3, 1})[i] end)
    assert.same({0, 1, 0, 0, 1}, values(v:gt(w)))
  end)
  it("combine masks", function()
    local a, b = v:ge(0), v:le(1)
    assert.same({0, 0, 1, 1, 0}, values(a:band(b)))
    assert.same({1, 1, 1, 1, 1}, values(a:bor(b)))
    assert.same({1, 1, 0, 0, 1}, values(a:bxor(b)))
    assert.same({1, 1, 0, 0, 0}, values(a:bnot()))
  end)
end)

describe("where", function()
  it("selects between values, nil meaning the volume itself", function()
    local v = ramp("int16", 4, function(i) return i end)
    local m = v:gt(2)
    assert.same({1, 2, -1, -1}, values(v:where(m, -1)))
    assert.same({0, 0, 3, 4}, values(v:where(m, nil, 0)))
    assert.same({9, 9, 3, 4}, values(vol.where(v, m:bnot(), 9)))
    assert.equal("float32", v:where(m, 0.5).dtype)
  end)
end)

describe("astype", function()
  local v = ramp("float64", 6, function(i) return ({2.5, -2.5, 1e6, -1e6, 0/0, 0.49999})[i] end)
  it("rounds half away from zero and saturates; NaN becomes 0", function()
    assert.same({3, -3, 32767, -32768, 0, 0}, values(v:astype("int16")))
    assert.same({3, 0, 255, 0, 0, 0}, values(v:astype("uint8")))
  end)
  it("offers other rounding modes", function()
    assert.same({2, -2, 32767, -32768, 0, 0}, values(v:astype("int16", {rounding="trunc"})))
    assert.same({2, -3, 32767, -32768, 0, 0}, values(v:astype("int16", {rounding="floor"})))
    assert.same({3, -2, 32767, -32768, 0, 1}, values(v:astype("int16", {rounding="ceil"})))
    assert.error_matches(function() v:astype("int16", {rounding="up"}) end, "rounding must be")
    assert.error_matches(function() v:astype("int16", {round="up"}) end, "unknown option 'round'")
  end)
  it("rounds to float32", function()
    local f = ramp("float64", 1, function() return 0.1 end):astype("float32")
    assert.equal(string.unpack("f", string.pack("f", 0.1)), f:get(1, 1))
  end)
end)

describe("fill", function()
  it("sets every voxel in place", function()
    local v = vol.new{shape={3, 3, 3}, dtype="uint8"}
    assert.equal(v, v:fill(300))
    local s = v:stats()
    assert.equal(255, s.min); assert.equal(255, s.max)
  end)
end)

describe("stats", function()
  it("gives exact values on a hand-made case", function()
    local v = ramp("int16", 4, function(i) return ({1, 2, 3, 10})[i] end)
    local s = v:stats()
    assert.equal(1, s.min); assert.equal(10, s.max); assert.equal(16, s.sum)
    assert.equal(4, s.count); assert.equal(4, s.mean)
    assert.near(math.sqrt((9 + 4 + 1 + 36) / 4), s.std, 1e-15)
  end)
  it("honours a mask and skips non-finite values", function()
    local v = ramp("float32", 5, function(i) return ({1, 0/0, 3, 1/0, 5})[i] end)
    local s = v:stats()
    assert.equal(3, s.count); assert.equal(2, s.nonfinite); assert.equal(3, s.mean)
    local m = v:ge(3)
    local sm = v:stats(m)
    assert.equal(2, sm.count); assert.equal(4, sm.mean)
  end)
  it("is identical with 1 and 2 threads", function()
    local v = vol.new{shape={256, 256, 20}, dtype="float32"}
    local seed = 1
    for k = 1, 20 do for j = 1, 256, 7 do for i = 1, 256, 3 do
      seed = (seed * 1103515245 + 12345) % 2147483648
      v:set(i, j, k, seed / 1e6)
    end end end
    local n = vol.threads()
    vol.set_threads(1); local a = v:stats()
    vol.set_threads(2); local b = v:stats()
    vol.set_threads(n)
    assert.equal(string.format("%a %a", a.sum, a.std), string.format("%a %a", b.sum, b.std))
  end)
end)

describe("parity with numpy", function()
  local data = require "helpers.data"
  local ref = require "helpers.ref"
  it("gives numpy's statistics and element-wise results on random volumes", function()
    local dir = data.tmpdir()
    local a = vol.new{shape={37, 23, 11}, dtype="float64"}
    local b = vol.new{shape={37, 23, 11}, dtype="int16"}
    local seed = 12345
    local function rnd()
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed / 2147483648
    end
    for k = 1, 11 do for j = 1, 23 do for i = 1, 37 do
      a:set(i, j, k, (rnd() - 0.3) * 1000)
      b:set(i, j, k, math.floor(rnd() * 2000 - 1000))
    end end end
    a:write(dir .. "/a.npy")
    b:write(dir .. "/b.npy")
    local r = ref.run("arith_ref.py", dir .. "/a.npy", dir .. "/b.npy")
    local s = a:stats()
    assert.equal(r.stats.count, s.count)
    assert.equal(r.stats.min, s.min)
    assert.equal(r.stats.max, s.max)
    assert.near(r.stats.mean, s.mean, 1e-9 * math.abs(r.stats.mean))
    assert.near(r.stats.std, s.std, 1e-9 * r.stats.std)
    assert.near(r.stats.sum, s.sum, 1e-9 * math.abs(r.stats.sum))
    assert.near(r.sum_ab, (a + b):stats().sum, 1e-9 * math.abs(r.sum_ab))
    assert.equal(r.gt_count, a:gt(b):stats().sum)
    local safe = b:where(b:eq(0), 1)
    assert.near(r.max_abs_div, (a / safe):abs():max(), 1e-9 * r.max_abs_div)
  end)
end)
