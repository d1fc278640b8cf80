-- Charts (kernels/plot, kernels/binning): histogram counts and edges equal
-- to numpy.histogram, bars as tall as their counts in the PNG decoded by an
-- independent decoder (tests/ref/render_ref.py), line and bar plots, errors.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"

local function decode(path)
  local f = ref.run("render_ref.py", "decode", path).files[1]
  return f, function(x, y)
    local k = ((y - 1) * f.width + (x - 1)) * 3
    return f.pixels[k + 1], f.pixels[k + 2], f.pixels[k + 3]
  end
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

describe("v:histogram_png", function()
  it("counts as numpy.histogram does on the head CT", function()
    local dir = data.tmpdir()
    local ct = vol.read(data.path("ct/cranium_ct.nii.gz"))
    ct:write(dir .. "/ct.npy")
    for _, case in ipairs{{80, -1100, 700}, {80}, {7, -1000.5, 1000.25}, {1000, -1024, 3071}} do
      local bins, lo, hi = case[1], case[2], case[3]
      local counts, edges = ct:histogram_png(dir .. "/h.png", {bins=bins, range=lo and {lo, hi} or nil})
      local want = lo and ref.run("render_ref.py", "histogram", dir .. "/ct.npy", bins, lo, hi)
                   or ref.run("render_ref.py", "histogram", dir .. "/ct.npy", bins)
      assert.same(want.counts, counts)
      assert.same(want.edges, edges)
    end
  end)

  it("counts float64 values at the edges as numpy does", function()
    local dir = data.tmpdir()
    local v = vol.new{shape={50, 3}, dtype="float64"}
    for i = 1, 50 do
      v:set(i, 1, (i - 1) / 49)          -- values on and near edges of 10 bins over 0..1
      v:set(i, 2, (i - 1) * 0.1)
      v:set(i, 3, 0.3 * i - 0.1)
    end
    v:write(dir .. "/v.npy")
    for _, bins in ipairs{10, 3, 49} do
      local counts, edges = v:histogram_png(dir .. "/h.png", {bins=bins, range={0, 1}})
      local want = ref.run("render_ref.py", "histogram", dir .. "/v.npy", bins, 0, 1)
      assert.same(want.counts, counts)
      assert.same(want.edges, edges)
    end
  end)

  it("draws bars as tall as the counts", function()
    local dir = data.tmpdir()
    local v = vol.new{shape={20, 1}, dtype="uint8"}
    local vals = {1, 1, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5}
    for i, x in ipairs(vals) do v:set(i, 1, x) end
    local counts = v:histogram_png(dir .. "/h.png", {bins=5, range={0.5, 5.5}, color={200, 0, 0}})
    assert.same({2, 1, 4, 8, 5}, counts)
    local f, px = decode(dir .. "/h.png")
    assert.same({640, 400}, {f.width, f.height})
    -- bars are runs of red columns, one pixel apart
    local heights, prev = {}, -1
    for x = 1, f.width do
      local n = 0
      for y = 1, f.height do
        local r, g, b = px(x, y)
        if r == 200 and g == 0 and b == 0 then n = n + 1 end
      end
      if n > 0 then
        if prev ~= x - 1 then heights[#heights + 1] = 0 end
        heights[#heights] = math.max(heights[#heights], n)
        prev = x
      end
    end
    assert.equal(5, #heights)
    for i = 1, 5 do
      assert.is_true(math.abs(heights[i] - counts[i] / 8 * heights[4]) <= 1, "bar " .. i)
    end
    assert.equal(slurp(dir .. "/h.png"), (function()
      v:histogram_png(dir .. "/h2.png", {bins=5, range={0.5, 5.5}, color={200, 0, 0}})
      return slurp(dir .. "/h2.png")
    end)())
  end)

  it("counts only the mask's voxels and rejects bad options", function()
    local v = vol.new{shape={4, 1}, dtype="int16"}
    for i = 1, 4 do v:set(i, 1, i) end
    local m = vol.new{shape={4, 1}, dtype="uint8"}
    m:set(2, 1, 1); m:set(3, 1, 1)
    local path = data.tmpdir() .. "/h.png"
    local counts, edges = v:histogram_png(path, {bins=2, mask=m})
    assert.same({1, 1}, counts)
    assert.same({2, 2.5, 3}, edges)
    assert.error_matches(function() v:histogram_png(path, {bins=0}) end, "'bins' must be an integer >= 1")
    assert.error_matches(function() v:histogram_png(path, {range={2, 1}}) end, "lo <= hi")
    assert.error_matches(function() v:histogram_png(path, {mask=vol.new{shape={3, 1}}}) end, "mask shape differs")
    assert.error_matches(function() v:histogram_png(path, {bin=3}) end, "bin")
  end)
end)

describe("vol.plot", function()
  it("draws lines and bars in their colours with a legend", function()
    local path = data.tmpdir() .. "/p.png"
    local pic = vol.plot{series={{x={0, 10}, y={0, 10}, color={255, 0, 0}, label="diagonal"},
                                {y={3, 6}, kind="bar", color={0, 0, 255}}},
                        title="T", xlabel="x", ylabel="y", width=300, height=200, path=path}
    assert.same({300, 200, 1, 3}, pic.shape)
    local f, px = decode(path)
    local red, blue, black = 0, 0, 0
    for y = 1, f.height do
      for x = 1, f.width do
        local r, g, b = px(x, y)
        if r == 255 and g == 0 and b == 0 then red = red + 1 end
        if r == 0 and g == 0 and b == 255 then blue = blue + 1 end
        if r == 0 and g == 0 and b == 0 then black = black + 1 end
        assert.equal(pic:get(x, y, 1, 1), r)
      end
    end
    assert.is_true(red > 150)     -- the line across the plot, and the legend swatch
    assert.is_true(blue > 1000)   -- two bars
    assert.is_true(black > 500)   -- axes, ticks, text
  end)

  it("rejects bad series", function()
    assert.error_matches(function() vol.plot{series={{y={}}}} end, "has no y values")
    assert.error_matches(function() vol.plot{series={{x={1}, y={1, 2}}}} end, "1 x values and 2 y values")
    assert.error_matches(function() vol.plot{series={{y={1}, kind="pie"}}} end, "'kind' must be one of line, bar")
    assert.error_matches(function() vol.plot{series={{y={1, "a"}}}} end,
      "bad argument #1 to 'plot' (series[1].y[2] must be a number (got string))", 1, true)
    assert.error_matches(function() vol.plot{series={{y={1}}, {y={1}, color={0, 300, 0}}}} end,
      "bad argument #1 to 'plot' (series[2].color must be {r, g, b} with values 0 to 255 (got 300.0))", 1, true)
    assert.error_matches(function() vol.plot{series={3}} end,
      "bad argument #1 to 'plot' (series[1] must be a table (got number))", 1, true)
    assert.error_matches(function() vol.plot{series={{y={1}}}, width=10} end, "'width' must be an integer >= 120")
    assert.error_matches(function() vol.plot{} end, "'series' must be a list")
  end)
end)
