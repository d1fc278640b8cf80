-- Pictures (kernels/render): windowing, colour maps, overlays, contours,
-- spacing and orientation with exact pixels decoded by an independent PNG
-- decoder (tests/ref/render_ref.py: zlib + struct), colour maps against
-- matplotlib, montages, the three-view, comparisons, projections against
-- numpy, the terminal, byte-identical output, errors.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"

-- Decodes PNG files; returns for each a table with w, h and px(x, y) -> {r, g, b} (1-based).
local function decode(...)
  local r = ref.run("render_ref.py", "decode", ...)
  local out = {}
  for i, f in ipairs(r.files) do
    assert.equal(2, f.color_type)
    out[i] = {w = f.width, h = f.height, px = function(x, y)
      local k = ((y - 1) * f.width + (x - 1)) * 3
      return {f.pixels[k + 1], f.pixels[k + 2], f.pixels[k + 3]}
    end}
  end
  return table.unpack(out)
end

local function png_of(v, opts)
  local path = data.tmpdir() .. "/p.png"
  v:png(path, opts)
  return decode(path), path
end

local function grey(g) return {g, g, g} end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- A 2-D float volume from rows (row 1 is y = 1).
local function grid(rows, dtype)
  local v = vol.new{shape={#rows[1], #rows}, dtype=dtype or "float32"}
  for j, r in ipairs(rows) do
    for i, x in ipairs(r) do v:set(i, j, x) end
  end
  return v
end

describe("v:png", function()
  it("windows values onto the grey map exactly", function()
    local v = grid{{0, 25, 50, 100}, {-10, 110, 51, 49.9}}
    local p = png_of(v, {range={0, 100}})
    assert.same({4, 2}, {p.w, p.h})
    local want = {{0, 64, 128, 255}, {0, 255, 130, 127}}  -- floor(x * 2.55 + 0.5), clamped
    for y = 1, 2 do
      for x = 1, 4 do assert.same(grey(want[y][x]), p.px(x, y)) end
    end
    -- window {level, width} is range {level - width/2, level + width/2}
    local q = png_of(v, {window={50, 100}})
    for y = 1, 2 do
      for x = 1, 4 do assert.same(grey(want[y][x]), q.px(x, y)) end
    end
    -- default: the volume's min..max
    local d = png_of(grid{{-10, 110}})
    assert.same(grey(0), d.px(1, 1))
    assert.same(grey(255), d.px(2, 1))
  end)

  it("stretches the coarser axis by its spacing", function()
    local v = grid{{0, 255, 0}, {255, 0, 255}}:set_spacing{1, 2, 1}
    local p = png_of(v, {range={0, 255}})
    assert.same({3, 4}, {p.w, p.h})
    assert.same(grey(255), p.px(2, 1))
    assert.same(grey(255), p.px(2, 2))
    assert.same(grey(0), p.px(2, 3))
    local s = png_of(v, {range={0, 255}, scale=2})
    assert.same({6, 8}, {s.w, s.h})
  end)

  it("shows the patient's right on the left, and switches convention on request", function()
    -- 3 x 2 x 1 with distinct values; LPS identity: columns already run toward L
    local v = vol.new{shape={3, 2, 1}, dtype="uint8"}
    for i = 1, 3 do for j = 1, 2 do v:set(i, j, 1, 10 * i + j) end end
    local lps = png_of(v, {range={0, 255}})
    assert.same(grey(11), lps.px(1, 1))
    assert.same(grey(32), lps.px(3, 2))
    local ras = v:copy():set_direction{{-1, 0, 0}, {0, -1, 0}, {0, 0, 1}}
    local r = png_of(ras, {range={0, 255}})
    assert.same(grey(32), r.px(1, 1))                -- i runs toward R: mirrored both ways
    local neuro = png_of(v, {range={0, 255}, convention="neurological"})
    assert.same(grey(31), neuro.px(1, 1))
    local raw = png_of(ras, {range={0, 255}, convention="voxel"})
    assert.same(grey(11), raw.px(1, 1))
    local flipped = png_of(v, {range={0, 255}, flip="v"})
    assert.same(grey(12), flipped.px(1, 1))
    -- coronal: rows run superior to inferior (k = 2 on top for LPS)
    local c = vol.new{shape={2, 1, 2}, dtype="uint8"}
    c:set(1, 1, 1, 1); c:set(2, 1, 1, 2); c:set(1, 1, 2, 3); c:set(2, 1, 2, 4)
    local cor = png_of(c, {axis="coronal", range={0, 255}})
    assert.same({grey(3), grey(4), grey(1)}, {cor.px(1, 1), cor.px(2, 1), cor.px(1, 2)})
    -- sagittal: columns anterior to posterior, rows superior to inferior
    local s = vol.new{shape={1, 2, 2}, dtype="uint8"}
    s:set(1, 1, 1, 1); s:set(1, 2, 1, 2); s:set(1, 1, 2, 3); s:set(1, 2, 2, 4)
    local sag = png_of(s, {axis="sagittal", range={0, 255}})
    assert.same({grey(3), grey(4), grey(1)}, {sag.px(1, 1), sag.px(2, 1), sag.px(1, 2)})
  end)

  it("blends overlays and colours labels", function()
    local v = grid({{100, 100, 100}, {100, 100, 100}}, "int16")
    local lab = grid({{0, 1, 2}, {3, 4, 7}}, "int32")
    local p = png_of(v, {range={0, 255}, overlay=lab, overlay_alpha=0.5})
    local function blend(c) return (100 * (255 - 128) + c * 128 + 127) // 255 end
    assert.same(grey(100), p.px(1, 1))
    assert.same({blend(255), blend(0), blend(0)}, p.px(2, 1))
    assert.same({blend(0), blend(255), blend(0)}, p.px(3, 1))
    assert.same({blend(0), blend(0), blend(255)}, p.px(1, 2))
    assert.same({blend(255), blend(255), blend(0)}, p.px(2, 2))
    -- every label of 1..40 gets its own colour
    local many = vol.new{shape={40, 1}, dtype="int32"}
    for i = 1, 40 do many:set(i, 1, i) end
    local m = png_of(vol.new{shape={40, 1}}, {range={0, 1}, overlay=many, overlay_alpha=1})
    local seen = {}
    for i = 1, 40 do
      local key = table.concat(m.px(i, 1), ",")
      assert.is_nil(seen[key], "label " .. i .. " repeats a colour")
      seen[key] = true
    end
  end)

  it("outlines regions one pixel wide on the upsampled picture", function()
    local v = vol.new{shape={6, 6}, dtype="uint8"}
    local mask = vol.phantom.box{shape={6, 6}, lo={2, 2}, hi={4, 5}}
    local p = png_of(v, {range={0, 1}, overlay=mask, contour=true, scale=2})
    assert.same({12, 12}, {p.w, p.h})
    for y = 1, 12 do
      for x = 1, 12 do
        local inside = x >= 3 and x <= 8 and y >= 3 and y <= 10
        local edge = inside and (x == 3 or x == 8 or y == 3 or y == 10)
        assert.same(edge and {255, 0, 0} or grey(0), p.px(x, y), x .. "," .. y)
      end
    end
  end)

  it("has matplotlib's colour maps", function()
    local ramp = vol.new{shape={256, 1}, dtype="uint8"}
    for i = 1, 256 do ramp:set(i, 1, i - 1) end
    local want = ref.run("render_ref.py", "cmaps")
    for name, lut in pairs(want) do
      local p = png_of(ramp, {range={0, 255}, cmap=name})
      local worst = 0
      for i = 1, 256 do
        local got = p.px(i, 1)
        for c = 1, 3 do worst = math.max(worst, math.abs(got[c] - lut[3 * (i - 1) + c])) end
      end
      assert.is_true(worst <= (name == "viridis" and 3 or 1), name .. " differs by " .. worst)
    end
  end)

  it("writes the same bytes on every run and thread count", function()
    local ct = vol.phantom.chest{shape={64, 64, 24}}
    local dir = data.tmpdir()
    local n = vol.threads()
    vol.set_threads(1)
    vol.montage(ct, {count=9, overlay=ct:gt(0), contour=true, path=dir .. "/a.png"})
    vol.set_threads(2)
    vol.montage(ct, {count=9, overlay=ct:gt(0), contour=true, path=dir .. "/b.png"})
    vol.set_threads(n)
    assert.equal(slurp(dir .. "/a.png"), slurp(dir .. "/b.png"))
  end)

  it("writes pictures at zlib level 1, and v:write honours other levels", function()
    local ct = vol.phantom.chest{shape={96, 96, 8}}
    local dir = data.tmpdir()
    ct:png(dir .. "/a.png", {window={-600, 1500}})
    local pic = ct:picture{window={-600, 1500}}
    pic:write(dir .. "/b.png", {level=1})
    pic:write(dir .. "/c.png", {level=9})
    pic:write(dir .. "/d.png", {level=0})
    assert.equal(slurp(dir .. "/a.png"), slurp(dir .. "/b.png"))
    assert.is_true(#slurp(dir .. "/c.png") < #slurp(dir .. "/b.png"))
    assert.is_true(#slurp(dir .. "/d.png") > 96 * 96 * 3)
    local a, c, d = decode(dir .. "/a.png", dir .. "/c.png", dir .. "/d.png")
    for _, xy in ipairs{{1, 1}, {48, 48}, {30, 70}, {96, 96}} do
      assert.same(a.px(xy[1], xy[2]), c.px(xy[1], xy[2]))
      assert.same(a.px(xy[1], xy[2]), d.px(xy[1], xy[2]))
      assert.same({pic:get(xy[1], xy[2], 1, 1), pic:get(xy[1], xy[2], 1, 2), pic:get(xy[1], xy[2], 1, 3)},
                  a.px(xy[1], xy[2]))
    end
  end)

  it("rejects bad arguments with clear messages", function()
    local v = vol.new{shape={4, 4, 3}}
    local path = data.tmpdir() .. "/x.png"
    assert.error_matches(function() v:png(path, {index=4}) end, "option 'index' is 4, out of range 1..3 on axis 3")
    assert.error_matches(function() v:png(path, {cmap="rainbow"}) end, "unknown cmap 'rainbow' %(known: gray, bone")
    assert.error_matches(function() v:png(path, {overlay=vol.new{shape={4, 4, 4}}}) end,
      "overlay is on another grid %(shape 4x4x4, image 4x4x3")
    assert.error_matches(function() v:png(path, {overlay=v:copy():set_spacing{1, 1, 2}}) end, "another grid")
    assert.error_matches(function() v:png(path, {window={0, 10}, range={0, 1}}) end, "not both")
    assert.error_matches(function() v:png(path, {window={0, -1}}) end, "width > 0")
    assert.error_matches(function() v:png(path, {axis="w"}) end, "option 'axis' must be one of")
    assert.error_matches(function() v:png(path, {colour="red"}) end, "colour")
    assert.error_matches(function() vol.new{shape={4, 4}}:png(path, {axis="x"}) end, "only axis z")
    assert.error_matches(function() v:png(path, {scale=0}) end, "'scale' must be > 0")
  end)
end)

describe("vol.montage", function()
  it("tiles the chosen slices in rows", function()
    local v = vol.new{shape={3, 2, 10}, dtype="uint8"}
    for k = 1, 10 do for j = 1, 2 do for i = 1, 3 do v:set(i, j, k, 20 * k + i) end end end
    local dir = data.tmpdir()
    vol.montage(v, {every=3, cols=3, range={0, 255}, labels=false, path=dir .. "/m.png"})
    local m = decode(dir .. "/m.png")
    assert.same({9, 4}, {m.w, m.h})                      -- slices 1, 4, 7, 10 on 3 columns
    assert.same(grey(21), m.px(1, 1))
    assert.same(grey(83), m.px(6, 2))                     -- slice 4, i = 3
    assert.same(grey(141), m.px(7, 1))                    -- slice 7
    assert.same(grey(201), m.px(1, 4))                    -- slice 10, row 2 of tiles
    assert.same(grey(0), m.px(4, 4))                      -- empty cell
    local c = vol.montage(v, {count=2, labels=false, range={0, 255}})
    assert.same({6, 2, 1, 3}, c.shape)
    assert.equal(20 * 3 + 1, c:get(1, 1, 1, 1))            -- middles of two halves: slices 3 and 8
    assert.equal(20 * 8 + 1, c:get(4, 1, 1, 1))
    assert.error_matches(function() vol.montage(v, {every=2, count=3}) end, "not both")
    assert.error_matches(function() vol.montage(v, {index=2}) end, "not index")
  end)

  it("draws an 8x8 montage with an overlay of a chest CT", function()
    local ct = vol.phantom.chest{shape={128, 128, 64}}
    local pic = vol.montage(ct, {count=64, cols=8, window={-600, 1500}, overlay=ct:lt(-400), contour=true})
    assert.same({8 * 128, 8 * 128, 1, 3}, pic.shape)
    -- each tile's title (its slice number) is drawn in white in its corner
    local white = 0
    for y = 1 + 128, 10 + 128 do
      for x = 1, 40 do
        if pic:get(x, y, 1, 1) == 255 and pic:get(x, y, 1, 3) == 255 then white = white + 1 end
      end
    end
    assert.is_true(white > 20)
  end)
end)

describe("vol.ortho", function()
  it("shows three views with a cross-hair through the point", function()
    local v = vol.new{shape={5, 6, 7}, dtype="uint8"}
    local pic = vol.ortho(v, {point={2, 3, 4}, range={0, 1}, labels=false})
    -- axial 5x6, coronal 5x7, sagittal 6x7 on cells of 6x7
    assert.same({18, 7, 1, 3}, pic.shape)
    local function rgb(x, y) return {pic:get(x, y, 1, 1), pic:get(x, y, 1, 2), pic:get(x, y, 1, 3)} end
    assert.same({0, 255, 0}, rgb(2, 1))          -- axial: column i = 2
    assert.same({0, 255, 0}, rgb(5, 3))          -- axial: row j = 3
    assert.same({0, 0, 0}, rgb(1, 1))
    assert.same({0, 255, 0}, rgb(6 + 2, 7))      -- coronal: column i = 2 (rows: k = 7 on top)
    assert.same({0, 255, 0}, rgb(6 + 1, 4))      -- coronal: row k = 4 -> 7 - 4 + 1
    assert.same({0, 255, 0}, rgb(12 + 3, 1))     -- sagittal: column j = 3
    assert.same({0, 0, 0}, rgb(6 + 1, 1))
    assert.error_matches(function() vol.ortho(v, {point={9, 1, 1}}) end, "outside the volume on axis 1")
  end)
end)

describe("vol.compare", function()
  it("colours agreement: both yellow, prediction only red, truth only green", function()
    local img = vol.new{shape={3, 1}, dtype="uint8"}
    local pred = grid({{1, 1, 0}}, "uint8")
    local truth = grid({{1, 0, 1}}, "uint8")
    local pic = vol.compare(img, pred, truth, {range={0, 1}, overlay_alpha=1, labels=false})
    assert.same({12, 1, 1, 3}, pic.shape)
    local function rgb(x) return {pic:get(x, 1, 1, 1), pic:get(x, 1, 1, 2), pic:get(x, 1, 1, 3)} end
    assert.same({{0, 0, 0}, {0, 0, 0}, {0, 0, 0}}, {rgb(1), rgb(2), rgb(3)})
    assert.same({{255, 255, 0}, {255, 0, 0}, {0, 0, 0}}, {rgb(4), rgb(5), rgb(6)})
    assert.same({{255, 255, 0}, {0, 0, 0}, {0, 255, 0}}, {rgb(7), rgb(8), rgb(9)})
    assert.same({{255, 255, 0}, {255, 0, 0}, {0, 255, 0}}, {rgb(10), rgb(11), rgb(12)})
    assert.error_matches(function() vol.compare(img, vol.new{shape={4, 1}}, truth) end, "prediction is on another grid")
  end)
end)

describe("v:project", function()
  it("equals numpy's max, min and mean along each axis", function()
    local dir = data.tmpdir()
    local ct = vol.phantom.chest{shape={40, 36, 20}}
    ct:write(dir .. "/ct.npy")
    ref.run("render_ref.py", "project", dir .. "/ct.npy", dir)
    for axis = 1, 3 do
      for _, mode in ipairs{"max", "min", "mean"} do
        local got = ct:project{axis=axis, mode=mode}
        local want = vol.read(dir .. "/" .. mode .. axis .. ".npy")
        assert.same(want.shape, got.shape)
        assert.equal(want.dtype, got.dtype)
        assert.equal(0, (got - want):abs():max(), mode .. axis)
      end
    end
    local p = ct:project{axis="y"}
    assert.same(ct.spacing, p.spacing)
  end)
end)

describe("v:show", function()
  local function shown(v, opts)
    local path = os.tmpname()
    local f = io.open(path, "w")
    local saved = io.output()
    io.output(f)
    v:show(opts)
    io.output(saved)
    f:close()
    local s = slurp(path)
    os.remove(path)
    return s
  end

  it("draws half blocks in 24-bit colour, 256 colours, or grey characters", function()
    local v = grid({{0, 255}, {255, 0}, {0, 0}}, "uint8")
    local t = shown(v, {range={0, 255}, mode="24bit", width=2})
    assert.equal("\27[38;2;0;0;0m\27[48;2;255;255;255m\u{2580}\27[38;2;255;255;255m\27[48;2;0;0;0m\u{2580}\27[0m\n"
      .. "\27[38;2;0;0;0m\27[49m\u{2580}\27[38;2;0;0;0m\27[49m\u{2580}\27[0m\n", t)
    local c = shown(v, {range={0, 255}, mode="256", width=2})
    assert.truthy(c:find("\27[38;5;16m\27[48;5;231m", 1, true))
    local g = shown(vol.new{shape={4, 4}, fill=1}, {range={0, 1}, mode="grey", width=4})
    assert.equal("@@@@\n@@@@\n", g)
    assert.error_matches(function() v:show{mode="sixel"} end, "option 'mode' must be one of 24bit, 256, grey")
  end)
end)
