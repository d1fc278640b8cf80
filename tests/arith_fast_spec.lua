-- The typed fast paths of the element-wise kernels against the plain double
-- path that defines their results (vol._arith_reference(true)): every dtype
-- and dtype pair, numbers on either side, edge values (saturation limits,
-- halves, NaN, +-inf, -0, values float32 cannot hold), 2-D, 3-D and 4-D
-- shapes crossing block boundaries, 1 and 2 threads. Results must be the
-- same bytes.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"

local DTYPES = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"}

local INF, NAN = math.huge, 0 / 0
local EDGES = {
  0, -0.0, 1, -1, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994,
  126.5, 127, 127.5, 128, -128, -128.5, -129, 254.5, 255, 255.5, 256,
  32766.5, 32767, 32767.5, 32768, -32768, -32768.5, -32769, 65534.5, 65535, 65535.5, 65536,
  2147483647, 2147483647.5, 2147483648, -2147483648, -2147483648.5, -2147483649,
  4294967295, 4294967295.5, 4294967296, 16777217, -16777217, 1e10, -1e10, 1e30, -1e30,
  3.4028234663852886e38, 3.4028235677973366e38, -3.4028235677973366e38, 1e300, -1e300,
  1.4e-45, 1e-300, INF, -INF, NAN, 0.1, -0.1, 1 / 3, 1000.25, -1024,
}
local SCALARS = {
  0, -0.0, 1, -1, 2, 0.5, -0.5, 2.5, -2.5, 0.1, 1 / 3, 100, -320, 127.5, 255, 256, -129, 32767,
  32768, -32769, 65535, 65536, 2147483647, 2147483648, -2147483649, 4294967296, 1e10, -1e12,
  1e300, INF, -INF, NAN, 16777217,
}

-- A volume of dtype t and shape whose voxel i holds f(i).
local function build(shape, t, f)
  local v = vol.new{shape=shape, dtype=t}
  local n, k = 1, 0
  for _, d in ipairs(shape) do n = n * d end
  local dims = #shape
  local idx = {}
  for i = 1, n do
    k = i - 1
    for a = 1, dims do idx[a] = k % shape[a] + 1; k = k // shape[a] end
    idx[dims + 1] = f(i)
    v:set(table.unpack(idx, 1, dims + 1))
  end
  return v
end

local seed = 20240607
local function rnd()
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
end

-- Edge values in every pairing (a[i] walks the list, b[i] steps once per
-- round), then random values spread over the dtype's range.
local L = #EDGES
local RANDOM = {}
for i = 1, 6000 do RANDOM[i] = rnd() end
local function value_a(i, lo, hi)
  if i <= L * L then return EDGES[(i - 1) % L + 1] end
  return lo + RANDOM[i % #RANDOM + 1] * (hi - lo)
end
local function value_b(i, lo, hi)
  if i <= L * L then return EDGES[(i - 1) // L % L + 1] end
  return lo + RANDOM[(i * 7 + 3) % #RANDOM + 1] * (hi - lo)
end
local RANGE = {uint8={0, 255}, int8={-128, 127}, uint16={0, 65535}, int16={-32768, 32767},
               uint32={0, 4294967295}, int32={-2147483648, 2147483647},
               float32={-1e4, 1e4}, float64={-1e6, 1e6}}

local function volumes(shape)
  local A, B = {}, {}
  for _, t in ipairs(DTYPES) do
    local lo, hi = RANGE[t][1], RANGE[t][2]
    A[t] = build(shape, t, function(i) return value_a(i, lo, hi) end)
    B[t] = build(shape, t, function(i) return value_b(i, lo, hi) end)
  end
  return A, B
end

-- v:get(i) with a linear index: the spec's messages only.
local function linear_get(v, i)
  local s, idx, k = v.shape, {}, i - 1
  for a = 1, #s do idx[a] = k % s[a] + 1; k = k // s[a] end
  return v:get(table.unpack(idx))
end

-- Runs f with the fast paths and with the double path; both results (a
-- Volume, or a list of them) must be the same bytes.
local failures
local checked, raised = 0, 0
local function check(what, f)
  checked = checked + 1
  vol._arith_reference(false)
  local ok1, fast = pcall(f)
  vol._arith_reference(true)
  local ok2, ref = pcall(f)
  vol._arith_reference(false)
  if ok1 ~= ok2 then
    failures[#failures + 1] = what .. ": one path raised: " .. tostring(ok1 and ref or fast)
    return
  end
  if not ok1 then raised = raised + 1; return end -- both raised (a bad argument): nothing to compare
  local same, at = vol._same_bytes(fast, ref)
  if not same then
    local msg = what .. ": differs"
    if type(at) == "number" then
      msg = msg .. (" at voxel %d: fast %s, double path %s"):format(at, tostring(linear_get(fast, at)),
        tostring(linear_get(ref, at)))
    else
      msg = msg .. ": " .. tostring(at)
    end
    if #failures < 40 then failures[#failures + 1] = msg end
  end
end

-- Every operation, dtype and dtype pair on volumes of one shape (full: every
-- number of SCALARS, otherwise a few).
local function sweep(shape, full)
  failures = {}
  local A, B = volumes(shape)
  for _, t in ipairs(DTYPES) do
    local a = A[t]
    -- volume with number, both sides; comparisons; in-place
    for _, s in ipairs(full and SCALARS or {0, -0.5, 2.5, 255, 32768, 1e10, NAN, INF}) do
      local w = ("%s %s %.17g"):format(t, "%s", s)
      check(w:format("+"), function() return a + s end)
      check(w:format("r+"), function() return s + a end)
      check(w:format("-"), function() return a - s end)
      check(w:format("r-"), function() return s - a end)
      check(w:format("*"), function() return a * s end)
      check(w:format("/"), function() return a / s end)
      check(w:format("r/"), function() return s / a end)
      check(w:format("^"), function() return a ^ s end)
      check(w:format("min"), function() return a:min(s) end)
      check(w:format("max"), function() return a:max(s) end)
      for _, op in ipairs{"gt", "lt", "ge", "le", "eq", "ne", "band", "bor", "bxor"} do
        check(w:format(op), function() return a[op](a, s) end)
      end
      for _, op in ipairs{"add", "sub", "mul", "div"} do
        check(w:format(op .. " in place"), function() local c = a:copy(); return c[op](c, s) end)
      end
      check(w:format("fill"), function() return a:copy():fill(s) end)
      check(w:format("where number/self"), function() return a:where(B.uint8, s) end)
      check(w:format("where self/number"), function() return a:where(B.int16, nil, s) end)
      check(w:format("where number/number"), function() return a:where(B.float32, s, -s) end)
      if s == s then
        check(w:format("clamp lo"), function() return a:clamp(s, nil) end)
        check(w:format("clamp hi"), function() return a:clamp(nil, s) end)
        check(w:format("clamp"), function() return a:clamp(-math.abs(s), math.abs(s)) end)
        check(w:format("between"), function() return a:between(-math.abs(s), math.abs(s)) end)
        check(w:format("between lo"), function() return a:between(s, INF) end)
      end
    end
    -- unary
    for _, op in ipairs{"abs", "bnot", "sqrt", "exp", "log"} do
      check(t .. " " .. op, function() return a[op](a) end)
    end
    check(t .. " neg", function() return -a end)
    check(t .. " clamp(-0, 0)", function() return a:clamp(-0.0, 0.0) end)
    for _, u in ipairs(DTYPES) do
      for _, r in ipairs{"nearest", "trunc", "floor", "ceil"} do
        check(("%s astype %s %s"):format(t, u, r), function() return a:astype(u, {rounding=r}) end)
      end
    end
    -- volume with volume over every dtype pair
    for _, u in ipairs(DTYPES) do
      local b = B[u]
      local w = t .. " %s " .. u
      for _, op in ipairs{"__add", "__sub", "__mul", "__div", "__pow"} do
        check(w:format(op), function() return getmetatable(a)[op](a, b) end)
      end
      for _, op in ipairs{"min", "max", "gt", "lt", "ge", "le", "eq", "ne", "band", "bor", "bxor"} do
        check(w:format(op), function() return a[op](a, b) end)
      end
      for _, op in ipairs{"add", "sub", "mul", "div"} do
        check(w:format(op .. " in place"), function() local c = a:copy(); return c[op](c, b) end)
      end
      check(w:format("where"), function() return a:where(B.uint8, b) end)
      check(w:format("where else"), function() return a:where(A.float32, nil, b) end)
      check(w:format("where mask dtype"), function() return a:where(b, 7, a) end)
    end
  end
  for _, t in ipairs(DTYPES) do A[t]:release(); B[t]:release() end
  return failures
end

describe("element-wise fast paths", function()
  local threads
  setup(function() threads = vol.threads() end)
  teardown(function() vol.set_threads(threads); vol._arith_reference(false) end)

  it("give the double path's bytes on a 3-D volume, every dtype and number", function()
    vol.set_threads(1)
    checked = 0
    assert.same({}, sweep({17, 13, 23}, true))
    assert.is_true(checked > 10000, "only " .. checked .. " comparisons ran")
    assert.is_true(raised < 100, raised .. " comparisons raised on both paths")
  end)

  it("give the double path's bytes in 2-D and 4-D", function()
    vol.set_threads(1)
    assert.same({}, sweep({67, 71}, false))
    assert.same({}, sweep({9, 7, 5, 17}, false))
  end)

  it("give the double path's bytes on 2 threads (blocks split between threads)", function()
    vol.set_threads(2)
    failures = {}
    local A, B = volumes({41, 37, 45})
    for _, t in ipairs(DTYPES) do
      local a, b = A[t], B[t]
      for _, s in ipairs{2.5, -320, NAN} do
        check(t .. " + " .. s, function() return a + s end)
        check(t .. " r- " .. s, function() return s - a end)
        check(t .. " * " .. s, function() return a * s end)
        check(t .. " / " .. s, function() return a / s end)
        check(t .. " max " .. s, function() return a:max(s) end)
        check(t .. " lt " .. s, function() return a:lt(s) end)
        check(t .. " ne " .. s, function() return a:ne(s) end)
        check(t .. " add in place " .. s, function() local c = a:copy(); return c:add(s) end)
        check(t .. " where " .. s, function() return a:where(B.uint8, s, a) end)
      end
      check(t .. " clamp", function() return a:clamp(-1000, 400) end)
      check(t .. " between", function() return a:between(-1000, 400) end)
      check(t .. " abs", function() return a:abs() end)
      check(t .. " sqrt", function() return a:sqrt() end)
      check(t .. " astype int16", function() return a:astype("int16") end)
      check(t .. " astype float32", function() return a:astype("float32") end)
      for _, u in ipairs{t, "float32", "int16"} do
        local c = B[u]
        check(t .. " + " .. u, function() return a + c end)
        check(t .. " * " .. u, function() return a * c end)
        check(t .. " gt " .. u, function() return a:gt(c) end)
        check(t .. " band " .. u, function() return a:band(c) end)
        check(t .. " where " .. u, function() return a:where(b, c) end)
      end
    end
    for _, t in ipairs(DTYPES) do A[t]:release(); B[t]:release() end
    assert.same({}, failures)
  end)
end)

describe("exp and log stored as float32 (a short evaluation, checked result by result)", function()
  -- Two million float32 inputs spread over every binade exp and log meet:
  -- the fast path must store the same float32 bits as the scalar call.
  local N = 2 ^ 21
  local function ramp(f)
    local v = vol.new{shape={128, 128, N // (128 * 128)}, dtype="float32"}
    local i = 0
    for z = 1, N // (128 * 128) do
      for y = 1, 128 do
        for x = 1, 128 do
          v:set(x, y, z, f(i)); i = i + 1
        end
      end
    end
    return v
  end
  local function same(what, f)
    vol._arith_reference(false)
    local fast = f()
    vol._arith_reference(true)
    local ref = f()
    vol._arith_reference(false)
    local ok, at = vol._same_bytes(fast, ref)
    assert.is_true(ok, what .. " differs at voxel " .. tostring(at))
  end
  teardown(function() vol._arith_reference(false) end)

  it("log over every binade, zeros, negatives and specials", function()
    local g = 0.6180339887498949
    local v = ramp(function(i)
      if i % 65536 == 0 then return ({0, -1, math.huge, -math.huge, 0 / 0, 1.4e-45})[i // 65536 % 6 + 1] end
      return (1 + (i * g) % 1) * 2.0 ^ (i % 254 - 126)
    end)
    same("log", function() return v:log() end)
    vol.set_threads(2)
    same("log on 2 threads", function() return v:log() end)
    vol.set_threads(1)
  end)

  it("exp from underflow to overflow", function()
    local v = ramp(function(i) return -110 + 200 * i / N + (i % 7) * 1e-6 end)
    same("exp", function() return v:exp() end)
    same("exp of int16", function() return (v * 3):astype("int16"):exp() end)
    same("log of int16", function() return (v * 300):astype("int16"):log() end)
  end)

  it("equal libm on every 4099th float32 input and int32 above 2^24 (make check-exp-log: all)", function()
    local q, root = data.shell_quote, data.root()
    local exe = os.tmpname()
    local cc = os.getenv("CC") or "cc"
    assert.is_true(os.execute(("%s -std=c11 -D_GNU_SOURCE -fno-math-errno -fno-trapping-math -ffp-contract=fast " ..
      "-O2 -fopenmp %s -o %s -lm"):format(cc, q(root .. "/tools/exp_log_check.c"), q(exe))) == true)
    local p = io.popen(q(exe) .. " 4099")
    local out = p:read("a")
    local ok = p:close()
    os.remove(exe)
    assert.is_true(ok, out)
    local lines = 0
    for n, bad in out:gmatch("(%d+) compared, (%d+) mismatched") do
      lines = lines + 1
      assert.is_true(tonumber(n) > 500000, out)
      assert.equal("0", bad, out)
    end
    assert.equal(3, lines, out)
  end)
end)

describe("statistics fast path", function()
  local function near_rel(a, b, rel)
    if a ~= a then return b ~= b end
    if a == b then return true end
    return math.abs(a - b) <= rel * math.max(math.abs(a), math.abs(b))
  end

  -- edge values for integers; for floats values of one scale plus NaN and
  -- inf (sums of 1e300 and -1e300 depend on the order of the additions)
  local function stats_volumes(shape)
    local A = volumes(shape)
    for _, t in ipairs{"float32", "float64"} do
      A[t] = build(shape, t, function(i)
        if i % 97 == 0 then return NAN elseif i % 101 == 0 then return (i % 2 == 0) and INF or -INF end
        return (RANDOM[i % #RANDOM + 1] - 0.3) * 1000
      end)
    end
    return A
  end

  it("agrees with the two-pass double path: exact min, max, count, integer sums", function()
    local A = stats_volumes({41, 37, 45})
    local mask = A.uint8:gt(100)
    for _, t in ipairs(DTYPES) do
      for _, m in ipairs{false, true} do
        local mk = m and mask or nil
        vol._arith_reference(true)
        local r = A[t]:stats(mk)
        vol._arith_reference(false)
        local f = A[t]:stats(mk)
        local what = t .. (m and " masked" or "")
        assert.equal(r.count, f.count, what)
        assert.equal(r.nonfinite, f.nonfinite, what)
        assert.equal(r.min, f.min, what)
        assert.equal(r.max, f.max, what)
        if t:match("int") then
          assert.equal(r.sum, f.sum, what)      -- integers: exact either way
          assert.equal(r.mean, f.mean, what)
        else
          assert.is_true(near_rel(r.sum, f.sum, 1e-12), what .. " sum")
          assert.is_true(near_rel(r.mean, f.mean, 1e-12), what .. " mean")
        end
        assert.is_true(near_rel(r.std, f.std, 1e-12), what .. " std " .. r.std .. " " .. f.std)
      end
    end
  end)

  it("int16 under a mask: exact against integer sums done here (16-bit lanes, -32768 pairs, tails)", function()
    local shape = {37, 41, 45} -- 68265 voxels: blocks end mid-lane, and the last block has a tail
    local vals = {-32768, 32767, -1, 0, 1, -1000, 400, 12345, -32768, -32768}
    local v = build(shape, "int16", function(i)
      if i < 4096 then return -32768 end               -- a block of -32768 (pair squares 2^31)
      return vals[(i * 7) % #vals + 1] + (i % 3)
    end)
    local m = build(shape, "uint8", function(i)
      if i >= 8192 and i < 12288 then return 0 end      -- a block wholly outside
      if i >= 12288 and i < 16384 then return 255 end  -- one wholly inside (any nonzero value)
      return (i * 13) % 5 == 0 and 0 or (i % 2 == 0 and 1 or 2)
    end)
    local n, s, q, lo, hi = 0, 0, 0, math.huge, -math.huge
    local vi, mi = 0, 0
    for z = 1, shape[3] do
      for y = 1, shape[2] do
        for x = 1, shape[1] do
          vi = v:get(x, y, z); mi = m:get(x, y, z)
          if mi ~= 0 then
            n = n + 1; s = s + vi; q = q + vi * vi
            lo = math.min(lo, vi); hi = math.max(hi, vi)
          end
        end
      end
    end
    for _, threads in ipairs{1, 2} do
      vol.set_threads(threads)
      local r = v:stats(m)
      assert.equal(n, r.count)
      assert.equal(lo, r.min)
      assert.equal(hi, r.max)
      assert.equal(s + 0.0, r.sum)
      assert.equal(math.sqrt(n * q - s * s) / n, r.std)
    end
  end)

  it("sums integers exactly where doubles would round", function()
    local v = vol.new{shape={256, 256, 128}, dtype="int32", fill=2147483647}
    v:set(1, 1, 1, 1)
    local s = v:stats()
    -- the exact sum is above 2^53: it is rounded once, not at every addition
    local exact = (256 * 256 * 128 - 1) * 2147483647 + 1
    assert.equal(exact + 0.0, s.sum)
    assert.equal(256 * 256 * 128, s.count)
    v:release()
  end)

  it("gives the same bits on 1 and 2 threads, with and without a mask", function()
    local A = stats_volumes({41, 37, 45})
    local mask = A.int16:lt(0)
    local n = vol.threads()
    for _, t in ipairs(DTYPES) do
      for _, mk in ipairs{false, mask} do
        vol.set_threads(1)
        local a = A[t]:stats(mk or nil)
        vol.set_threads(2)
        local b = A[t]:stats(mk or nil)
        assert.equal(("%a %a %a %a"):format(a.sum, a.mean, a.std, a.min),
                     ("%a %a %a %a"):format(b.sum, b.mean, b.std, b.min), t)
      end
    end
    vol.set_threads(n)
  end)
end)
