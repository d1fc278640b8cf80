-- PNG reading and writing (io/png): every real sample against Pillow
-- (tests/ref/png_ref.py) and expected.json, each colour type and bit depth,
-- round trips, the windowed writer, damaged files.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"

-- Every sample of v against Pillow's C-order list (row, col[, channel]);
-- small images only: every sample goes through JSON.
local function same_samples(v, r)
  local h, w = r.shape[1], r.shape[2]
  local ch = r.shape[3] or 1
  assert.equal(w, v.shape[1])
  assert.equal(h, v.shape[2])
  local k = 0
  for row = 1, h do
    for col = 1, w do
      for c = 1, ch do
        k = k + 1
        local want = r.values[k]
        if ch == 1 then
          assert.equal(want, v:get(col, row))
        else
          assert.equal(want, v:get(col, row, 1, c))
        end
      end
    end
  end
end

describe("vol.read on PNG", function()
  local files = {"png/BrainMidSagittalSlice.png", "png/BrainProtonDensitySlice.png",
                 "png/BrainProtonDensitySliceBorder20Mask.png", "png/BrainT1Slice.png",
                 "png/FatMRISlice.png", "png/VisibleWomanHeadSlice.png",
                 "ct/cranium_ct_slice054_u16.png"}

  it("reads every real sample as Pillow decodes it", function()
    local dir = data.tmpdir()
    local paths = {}
    for n, rel in ipairs(files) do paths[n] = data.path(rel) end
    local all = ref.run("png_ref.py", "readall", dir, table.unpack(paths))
    for n, path in ipairs(paths) do
      local v = vol.read(path)
      local r = all.files[n]
      local want = vol.read(dir .. "/" .. n .. ".npy")
      assert.equal("PNG", v.meta.format)
      assert.same(want.shape, v.shape)
      assert.equal(want.dtype, v.dtype)
      assert.equal(0, (want - v):abs():max())
      assert.equal(tostring(r.ihdr.bit_depth), v.meta.png_bit_depth)
    end
  end)

  it("matches expected.json's statistics when the shared data folder is there", function()
    local exp = data.expected()
    if not exp then return end -- `make samples` data: the Pillow comparison above covers it
    for _, rel in ipairs(files) do
      local e = exp.files[rel].stored_stats
      local v = vol.read(data.path(rel))
      local s = v:stats()
      assert.equal(e.sum, s.sum)
      assert.is_true(math.abs(e.mean - s.mean) <= 1e-6 * math.abs(e.mean))
      for _, smp in ipairs(e.samples) do
        local i = smp.index
        if #i == 2 then
          assert.equal(smp.value, v:get(i[2] + 1, i[1] + 1))
        else
          assert.equal(smp.value, v:get(i[2] + 1, i[1] + 1, 1, i[3] + 1))
        end
      end
    end
  end)

  it("keeps a grey palette grey, 1-bit values 0/1, RGB on axis 4", function()
    assert.same({181, 217}, vol.read(data.path("png/BrainProtonDensitySlice.png")).shape)
    local mask = vol.read(data.path("png/BrainProtonDensitySliceBorder20Mask.png"))
    assert.equal(1, mask:max())
    assert.equal("1", mask.meta.png_bit_depth)
    assert.same({142, 167, 1, 3}, vol.read(data.path("png/VisibleWomanHeadSlice.png")).shape)
  end)

  it("reads each colour type and bit depth, interlaced too", function()
    local dir = data.tmpdir()
    local made = ref.run("png_ref.py", "make", dir)
    local shapes = {grey16={7, 5}, grey_alpha={6, 4, 1, 2}, rgb={5, 3, 1, 3}, rgba={4, 6, 1, 4},
                    palette={5, 5, 1, 3}, bit1={11, 9}, interlaced={13, 11}}
    for name, r in pairs(made) do
      local v = vol.read(dir .. "/" .. name .. ".png")
      assert.same(shapes[name], v.shape)
      same_samples(v, r)
    end
    assert.equal("uint16", vol.read(dir .. "/grey16.png").dtype)
    assert.equal("colour", vol.read(dir .. "/palette.png").meta.png_palette)
  end)
end)

describe("v:write to .png", function()
  it("round-trips uint8 and uint16 grey, RGB and RGBA, and Pillow agrees", function()
    local dir = data.tmpdir()
    -- Pillow reads 16-bit colour as 8-bit: the uint16 RGB case is checked by
    -- the round trip alone. Pillow reads all the others in one run at the end.
    local cases = {{shape={7, 4}, dtype="uint8"}, {shape={5, 6}, dtype="uint16"},
                   {shape={4, 3, 1, 3}, dtype="uint8"}, {shape={3, 5, 1, 4}, dtype="uint8"},
                   {shape={3, 2, 1, 2}, dtype="uint8"}, {shape={4, 3, 1, 3}, dtype="uint16", own=true}}
    for n, c in ipairs(cases) do
      local v = vol.new{shape=c.shape, dtype=c.dtype}
      local top = c.dtype == "uint8" and 255 or 65535
      local k = 0
      for ch = 1, c.shape[4] or 1 do
        for j = 1, c.shape[2] do
          for i = 1, c.shape[1] do
            k = k + 1
            local x = (k * 7919) % (top + 1)
            if #c.shape == 4 then v:set(i, j, 1, ch, x) else v:set(i, j, x) end
          end
        end
      end
      local path = dir .. "/w" .. n .. ".png"
      v:write(path)
      local back = vol.read(path)
      assert.same(v.shape, back.shape)
      assert.equal(c.dtype, back.dtype)
      assert.equal(0, (back - v):abs():max())
      cases[n].path, cases[n].v = path, v
    end
    local paths = {}
    for _, c in ipairs(cases) do
      if not c.own then paths[#paths + 1] = c.path end
    end
    local out = data.tmpdir()
    ref.run("png_ref.py", "readall", out, table.unpack(paths))
    for n = 1, #paths do
      assert.equal(0, (vol.read(out .. "/" .. n .. ".npy") - cases[n].v):abs():max())
    end
  end)

  it("keeps the pixel spacing through an sCAL chunk", function()
    local path = data.tmpdir() .. "/s.png"
    vol.new{shape={4, 4}, dtype="uint8", spacing={0.5, 0.75, 1}}:write(path)
    assert.same({0.5, 0.75, 1}, vol.read(path).spacing)
  end)

  it("refuses other dtypes and shapes with a hint", function()
    local dir = data.tmpdir()
    local ok, err = pcall(function() vol.new{shape={4, 4}}:write(dir .. "/f.png") end)
    assert.is_false(ok)
    assert.matches("PNG stores uint8 or uint16 samples (got float32): use v:write_png", err, 1, true)
    ok, err = pcall(function() vol.new{shape={4, 4, 3}, dtype="uint8"}:write(dir .. "/f.png") end)
    assert.is_false(ok)
    assert.matches("PNG holds 2-D images with 1 to 4 channels", err, 1, true)
    local p = io.popen("ls -A " .. dir)
    assert.equal("", p:read("a")) -- no temporary left behind
    p:close()
  end)
end)

describe("v:write_png", function()
  it("maps a window onto 0..255 or 0..65535, rounding and clamping", function()
    local v = vol.new{shape={5, 1}, dtype="float32"}
    for i, x in ipairs{-1100, -1000, -300, 400, 900} do v:set(i, 1, x) end
    local dir = data.tmpdir()
    v:write_png(dir .. "/w8.png", {window={-1000, 400}})
    local b = vol.read(dir .. "/w8.png")
    assert.same({0, 0, 128, 255, 255}, {b:get(1, 1), b:get(2, 1), b:get(3, 1), b:get(4, 1), b:get(5, 1)})
    v:write_png(dir .. "/w16.png", {window={-1000, 400}, bits=16})
    local b16 = vol.read(dir .. "/w16.png")
    assert.equal("uint16", b16.dtype)
    assert.equal(32768, b16:get(3, 1)) -- 700 / 1400 * 65535 = 32767.5, rounded half up
    v:write_png(dir .. "/auto.png")
    local a = vol.read(dir .. "/auto.png")
    assert.equal(0, a:get(1, 1))
    assert.equal(255, a:get(5, 1))
  end)

  it("rejects a bad window", function()
    local ok, err = pcall(function()
      vol.new{shape={2, 2}}:write_png(data.tmpdir() .. "/x.png", {window={5, 1}})
    end)
    assert.is_false(ok)
    assert.matches("window must be {lo, hi} with lo <= hi", err, 1, true)
  end)
end)

describe("damaged PNG files", function()
  it("fail with a message naming the file", function()
    local dir = data.tmpdir()
    local src = io.open(data.path("png/FatMRISlice.png"), "rb")
    local bytes = src:read("a")
    src:close()
    local function write(name, s)
      local f = io.open(dir .. "/" .. name, "wb")
      f:write(s)
      f:close()
      return dir .. "/" .. name
    end
    local cut = write("cut.png", bytes:sub(1, #bytes // 2))
    local ok, err = pcall(vol.read, cut)
    assert.is_false(ok)
    assert.matches("cut.png: corrupt PNG", err, 1, true)
    local fake = write("fake.png", "not a png at all")
    ok, err = pcall(vol.read, fake)
    assert.is_false(ok)
    assert.matches("fake.png: not a PNG file", err, 1, true)
    local flipped = bytes:sub(1, 200) .. string.char((bytes:byte(201) + 1) % 256) .. bytes:sub(202)
    ok, err = pcall(vol.read, write("crc.png", flipped))
    assert.is_false(ok)
    assert.matches("crc.png: corrupt PNG", err, 1, true)
  end)

  it("are recognised by their signature whatever the suffix", function()
    local dir = data.tmpdir()
    os.execute(("cp %s %s"):format(data.shell_quote(data.path("png/FatMRISlice.png")),
      data.shell_quote(dir .. "/slice.dat")))
    assert.same({256, 256}, vol.read(dir .. "/slice.dat").shape)
  end)
end)
