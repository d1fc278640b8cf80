-- Connected-component labelling and region measurements: exact small cases,
-- parity with scikit-image (tests/ref/morph_ref.py), threads, errors.
package.path = "tests/?.lua;" .. package.path
local maskref = require "helpers.maskref"

-- A 2-D volume from rows of digits (row 1 is y = 1).
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

describe("v:label", function()
  local m = grid{"1100100", "0010100", "0000001", "1100011"}

  it("numbers components in raster order, 8- or 4-connected", function()
    local l8, n8 = m:label()
    assert.equal(4, n8)
    assert.equal("int32", l8.dtype)
    assert.same({"1100200", "0010200", "0000003", "4400033"}, rows(l8))
    local l4, n4 = m:label{connectivity=4}
    assert.equal(5, n4)
    assert.same({"1100200", "0030200", "0000004", "5500044"}, rows(l4))
  end)

  it("labels regions of equal value and honours background", function()
    local v = grid{"1122", "1100", "3302"}
    local l, n = v:label{connectivity=4}
    assert.equal(4, n)
    assert.same({"1122", "1100", "3304"}, rows(l))
    local lb, nb = v:label{connectivity=4, background=1}
    assert.equal(4, nb)
    assert.same({"0011", "0022", "3324"}, rows(lb))  -- the 0s form a region
  end)

  it("labels each slice alone, numbering slice by slice", function()
    local v = vol.new{shape={3, 1, 3}, dtype="uint8", fill=1}
    local l3, n3 = v:label()
    assert.equal(1, n3)
    local l, n = v:label{per_slice=true}
    assert.equal(3, n)
    assert.same({1, 2, 3}, {l:get(1, 1, 1), l:get(2, 1, 2), l:get(3, 1, 3)})
    local lx, nx = v:label{axis=1}
    assert.equal(3, nx)
    assert.same({1, 2, 3}, {lx:get(1, 1, 3), lx:get(2, 1, 1), lx:get(3, 1, 2)})
  end)

  it("gives identical labels with 1 and 2 threads", function()
    local v = vol.phantom.sphere{shape={90, 80, 60}, radius_mm=25}
    v = v:bxor(vol.phantom.sphere{shape={90, 80, 60}, radius_mm=12, center={40, 40, 30}})
    v = v:band(vol.phantom.box{shape={90, 80, 60}, lo={1, 1, 1}, hi={90, 80, 29}}:bnot())
    local got = {}
    local saved = vol.threads()
    for _, t in ipairs{1, 2} do
      vol.set_threads(t)
      local l, n = v:label{connectivity=6}
      got[t] = {l, n}
    end
    vol.set_threads(saved)
    assert.equal(got[1][2], got[2][2])
    assert.equal(0, got[1][1]:ne(got[2][1]):stats().sum)
  end)

  it("rejects bad arguments", function()
    assert.error_matches(function() m:label{connectivity=6} end, "connectivity must be 4 or 8 in 2%-D or per slice")
    local v3 = vol.new{shape={2, 2, 2}, dtype="uint8"}
    assert.error_matches(function() v3:label{connectivity=8} end, "connectivity must be 6, 18 or 26 in 3%-D")
    assert.error_matches(function() v3:label{conectivity=6} end, "unknown option 'conectivity'")
    assert.error_matches(function() v3:label{axis=0} end, "axis must be 1, 2 or 3")
  end)
end)

describe("vol.regionprops", function()
  it("measures counts, boxes, centroids and intensities", function()
    local l = grid{"1100", "1002", "0002"}
    l:set_spacing{0.5, 2, 3}
    l:set_origin{10, 20, 30}
    local ct = grid{"5700", "9004", "0006"}
    local p = vol.regionprops(l, ct)
    assert.equal(2, #p)
    assert.same({label=1, count=3, volume_mm3=9, bbox={1, 1, 2, 2}, centroid={4 / 3, 4 / 3},
                 mean=7, min=5, max=9}, {label=p[1].label, count=p[1].count, volume_mm3=p[1].volume_mm3,
                 bbox=p[1].bbox, centroid=p[1].centroid, mean=p[1].mean, min=p[1].min, max=p[1].max})
    assert.same({4, 2, 4, 3}, p[2].bbox)
    assert.same({4, 2.5}, p[2].centroid)
    assert.same({10 + 1.5, 20 + 3, 30}, p[2].centroid_world)
    assert.same({4, 6}, {p[2].min, p[2].max})
    assert.is_nil(vol.regionprops(l)[1].mean)
  end)

  it("skips absent labels and rejects float labels and shape mismatches", function()
    local l = grid{"0300", "0003"}
    local p = vol.regionprops(l)
    assert.equal(1, #p)
    assert.equal(3, p[1].label)
    assert.error_matches(function() vol.regionprops(l:astype("float32")) end, "labels must be a 2%-D or 3%-D integer volume")
    assert.error_matches(function() vol.regionprops(l, vol.new{shape={3, 3}}) end,
      "intensity shape 3x3 differs from labels shape 4x2")
    -- as many voxels, other shapes: still refused
    assert.error_matches(function() vol.regionprops(l, vol.new{shape={2, 4}}) end,
      "intensity shape 2x4 differs from labels shape 4x2")
    assert.error_matches(function() vol.regionprops(l, vol.new{shape={4, 2, 1}}) end,
      "intensity shape 4x2x1 differs from labels shape 4x2")
    local l3 = vol.new{shape={2, 3, 4}, dtype="int16"}
    assert.error_matches(function() vol.regionprops(l3, vol.new{shape={4, 3, 2}}) end,
      "intensity shape 4x3x2 differs from labels shape 2x3x4")
    assert.error_matches(function() vol.regionprops(l3, vol.new{shape={2, 3, 4, 1}}) end, "differs from labels shape")
  end)

  it("takes any integer label, huge or negative, at a cost set by the voxels", function()
    local l = vol.new{shape={4, 3}, dtype="int32"}
    local ct = vol.new{shape={4, 3}, dtype="int16"}
    local values = {{2147483647, 20000000, 0, -2147483648},
                    {20000000, -5, 1, 268435457},
                    {2147483647, 2147483647, 0, 1}}
    for j, row in ipairs(values) do
      for i, x in ipairs(row) do
        l:set(i, j, x)
        ct:set(i, j, 10 * i + j)
      end
    end
    local p = vol.regionprops(l, ct)
    local got = {}
    for k, r in ipairs(p) do got[k] = {r.label, r.count, r.bbox, r.centroid, r.min, r.max} end
    assert.same({{1, 2, {3, 2, 4, 3}, {3.5, 2.5}, 32, 43},
                 {20000000, 2, {1, 1, 2, 2}, {1.5, 1.5}, 12, 21},
                 {268435457, 1, {4, 2, 4, 2}, {4, 2}, 42, 42},
                 {2147483647, 3, {1, 1, 2, 3}, {1 + 1 / 3, 1 + 4 / 3}, 11, 23}}, got)
    -- the largest uint32 value (a table indexed by label would need 32 GB)
    local u = vol.new{shape={4, 3}, dtype="uint32"}
    u:set(2, 3, 4294967295)
    assert.same({4294967295, 1, {2, 3, 2, 3}}, {vol.regionprops(u)[1].label, vol.regionprops(u)[1].count,
                                               vol.regionprops(u)[1].bbox})
    local none = vol.new{shape={3, 3, 3}, dtype="int32", fill=-7}
    assert.same({}, vol.regionprops(none))
  end)

  it("gives the same regions whether labels are small or spread out", function()
    -- many components: the direct table (labels up to 65536) and the hash of
    -- labels present (every label times 7919, plus an offset) must agree
    local ct = vol.phantom.chest{shape={60, 50, 40}}
    local grid3 = vol.new{shape={60, 50, 40}, dtype="uint8"}
    for i = 1, 60, 3 do
      for j = 1, 50, 3 do
        for k = 1, 40, 4 do grid3:set(i, j, k, 1) end
      end
    end
    local dots, n = grid3:label()
    assert.is_true(n > 3000)
    local spread = dots:astype("int32"):mul(7919):add(1000003):mul(dots:gt(0))
    local a, b = vol.regionprops(dots, ct), vol.regionprops(spread, ct)
    assert.equal(n, #a)
    assert.equal(#a, #b)
    for k = 1, #a do
      assert.equal(a[k].label * 7919 + 1000003, b[k].label)
      assert.same({a[k].count, a[k].bbox, a[k].centroid, a[k].mean, a[k].max},
                  {b[k].count, b[k].bbox, b[k].centroid, b[k].mean, b[k].max})
    end
  end)
end)

describe("labelling parity with scikit-image", function()
  local S = maskref.session()

  local function job(rec, opts)
    local v = S:load(rec)
    local l, n = v:label(opts)
    local planar = #rec.shape == 2 or opts.axis
    S:add({op="label", ["in"]=rec.file, conn=opts.connectivity or (planar and 8 or 26),
           background=opts.background, per_slice=opts.axis or 0, count=n}, l)
  end

  it("gives skimage's ids for every connectivity, density and shape", function()
    for _, rec in ipairs(S.masks) do
      if #rec.shape == 3 then
        for _, c in ipairs{6, 18, 26} do job(rec, {connectivity=c}) end
        job(rec, {connectivity=26, background=1})
      else
        for _, c in ipairs{4, 8} do job(rec, {connectivity=c}) end
        job(rec, {background=1})
      end
    end
    S:assert_all()
  end)

  it("gives skimage's ids per slice and on multi-valued volumes", function()
    for _, rec in ipairs(S.masks) do
      if rec.shape[1] == 23 or rec.shape[1] == 13 then
        for axis = 1, 3 do job(rec, {axis=axis, connectivity=axis == 2 and 4 or 8}) end
        -- values 0..2: the mask times a ramp along x, so equal-valued regions matter
        local v = S:load(rec)
        local ramp = vol.new{shape=v.shape, dtype="uint8"}
        for i = 1, v.shape[1] do
          for j = 1, v.shape[2] do
            for k = 1, v.shape[3] do ramp:set(i, j, k, (i // 5) % 3) end
          end
        end
        local multi = v * ramp
        local file = S:save(multi, "multi")
        for _, c in ipairs{6, 26} do job({file=file, shape=rec.shape}, {connectivity=c}) end
      end
    end
    S:assert_all()
  end)

  -- A rotation about an oblique axis (columns are the axis directions).
  local function rotation(deg)
    local u = {1 / math.sqrt(14), 2 / math.sqrt(14), 3 / math.sqrt(14)}
    local c, s = math.cos(math.rad(deg)), math.sin(math.rad(deg))
    local R = {}
    for i = 1, 3 do
      R[i] = {}
      for j = 1, 3 do
        local cross = 0
        if i ~= j then
          local k = 6 - i - j
          cross = ((j - i) % 3 == 1 and -1 or 1) * u[k]
        end
        R[i][j] = (i == j and c or 0) + (1 - c) * u[i] * u[j] + s * cross
      end
    end
    return R
  end

  -- Records regionprops of labels l (with an int16 intensity pattern) on
  -- the mask in rec's file; geometry is checked when l has some.
  local function props_job(rec, l, geom)
    local inten = vol.new{shape=l.shape, dtype="int16"}
    local n = l.shape
    for i = 1, n[1] do
      for j = 1, n[2] do
        if #n == 2 then inten:set(i, j, (i * 7 + j * 13) % 101 - 50) end
        for k = 1, #n == 3 and n[3] or 0 do inten:set(i, j, k, (i * 7 + j * 13 + k * 29) % 101 - 50) end
      end
    end
    if geom then
      l:set_spacing(geom.spacing)
      l:set_origin(geom.origin)
      l:set_direction(geom.direction)
    end
    local props = vol.regionprops(l, inten)
    local file = S:save(inten, "inten")
    S:add({op="regionprops", ["in"]=rec.file, intensity=file, props=props, geom=geom}, l)
  end

  it("measures regions as skimage.measure.regionprops does, 3-D and 2-D", function()
    for _, rec in ipairs(S.masks) do
      if rec.shape[1] == 23 or rec.shape[1] == 37 or rec.shape[1] == 65 then  -- 23x31x17, 37x29, 65x3
        local l = S:load(rec):label()
        props_job(rec, l)
        props_job(rec, l:astype("int32"), {spacing={0.7, 1.3, 2.5}, origin={-120.5, 33.25, 910},
                                           direction=rotation(#rec.shape == 3 and 37 or 121)})
      end
    end
    assert.equal(24, S:assert_all())
  end)

  it("measures huge, spread out and negative labels as skimage does", function()
    for _, rec in ipairs(S.masks) do
      if rec.shape[1] == 23 or rec.shape[1] == 37 then
        local l = S:load(rec):label()
        local on = l:gt(0)
        -- ids times 331 plus 65537 (above the labels regionprops indexes
        -- directly); background becomes -3, one voxel of it -2^31
        local spread = l:astype("int32"):mul(331):add(65537):mul(on):add(on:bnot():astype("int32"):mul(-3))
        local at = #rec.shape == 3 and {1, 1, 1} or {1, 1}
        while spread:get(table.unpack(at)) > 0 do at[1] = at[1] + 1 end
        at[#at + 1] = -2147483648
        spread:set(table.unpack(at))
        props_job(rec, spread, {spacing={1, 1, 1}, origin={0, 0, 0}, direction=rotation(-64)})
      end
    end
    assert.equal(8, S:assert_all())
  end)
end)
