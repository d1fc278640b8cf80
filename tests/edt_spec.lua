-- Euclidean distance transform: exact small cases, parity with
-- scipy.ndimage.distance_transform_edt, threads, errors.
package.path = "tests/?.lua;" .. package.path
local maskref = require "helpers.maskref"

local function grid(rows)
  local v = vol.new{shape={#rows[1], #rows}, dtype="uint8"}
  for j, r in ipairs(rows) do
    for i = 1, #r do v:set(i, j, tonumber(r:sub(i, i))) end
  end
  return v
end

local function values(v, j)
  local t = {}
  for i = 1, v.shape[1] do t[i] = v:get(i, j or 1) end
  return t
end

describe("m:edt", function()
  it("gives each object voxel its distance to the nearest zero voxel", function()
    local m = grid{"0111110"}
    assert.same({0, 1, 2, 3, 2, 1, 0}, values(m:edt()))
    assert.same({0, 1, 4, 9, 4, 1, 0}, values(m:edt{squared=true}))
    assert.equal("float32", m:edt().dtype)
    assert.equal("float64", m:edt{dtype="float64"}.dtype)
  end)

  it("measures in mm through the spacing, or in voxels", function()
    local m = grid{"111", "101", "111", "111"}
    m:set_spacing{2, 3, 1}
    local d = m:edt{dtype="float64"}
    assert.same({2, 0, 2}, values(d, 2))
    assert.same({math.sqrt(13), 3, math.sqrt(13)}, values(d, 1))
    assert.same({math.sqrt(40), 6, math.sqrt(40)}, values(d, 4))
    assert.same({math.sqrt(2), 1, math.sqrt(2)}, values(m:edt{spacing=false, dtype="float64"}, 1))
    assert.same({1, 0, 1}, values(m:edt{spacing={1, 5}}, 2))
  end)

  it("signs distances: negative inside, positive outside", function()
    local m = grid{"0011100"}
    assert.same({2, 1, -1, -2, -1, 1, 2}, values(m:edt{signed=true}))
    assert.same({4, 1, -1, -4, -1, 1, 4}, values(m:edt{signed=true, squared=true}))
  end)

  it("returns the 1-based index of each voxel's nearest zero voxel", function()
    local m = grid{"111", "110", "111"}
    local d, ix, iy = m:edt{indices=true}
    assert.equal("int32", ix.dtype)
    assert.same({3, 3, 3}, values(ix, 1))
    assert.same({2, 2, 2}, values(iy, 3))
    assert.equal(2, d:get(1, 2))
    local v = vol.new{shape={2, 2, 2}, dtype="uint8", fill=1}
    v:set(2, 2, 2, 0)
    local _, _, _, iz = v:edt{indices=true}
    assert.equal(2, iz:get(1, 1, 1))
  end)

  it("gives +inf without any zero voxel, and works per slice", function()
    local ones = vol.new{shape={3, 3}, dtype="uint8", fill=1}
    assert.equal(math.huge, ones:edt():get(2, 2))
    local v = vol.new{shape={5, 5, 3}, dtype="uint8", fill=1}
    v:set(3, 3, 1, 0)
    assert.equal(2, v:edt():get(3, 3, 3))
    assert.equal(math.huge, v:edt{per_slice=true}:get(3, 3, 3))
    assert.equal(2, v:edt{per_slice=true}:get(3, 1, 1))
    assert.equal(2, v:edt{axis=1}:get(3, 3, 3))
    -- indices: 0 on every axis in a slice without a zero voxel
    local _, ix, iy, iz = v:edt{per_slice=true, indices=true}
    assert.same({0, 0, 0}, {ix:get(3, 3, 3), iy:get(3, 3, 3), iz:get(3, 3, 3)})
    assert.same({3, 3, 1}, {ix:get(1, 3, 1), iy:get(1, 3, 1), iz:get(1, 3, 1)})
  end)

  it("gives the same result with 1 and 2 threads", function()
    local m = vol.phantom.sphere{shape={90, 70, 50}, radius_mm=25, spacing={0.8, 0.9, 2.5}}
    local got = {}
    local saved = vol.threads()
    for _, t in ipairs{1, 2} do
      vol.set_threads(t)
      got[t] = {m:edt(), m:edt{signed=true}, select(2, m:edt{indices=true})}
    end
    vol.set_threads(saved)
    for i = 1, 3 do assert.equal(0, got[1][i]:ne(got[2][i]):stats().sum) end
  end)

  it("rejects bad arguments", function()
    local m = vol.new{shape={3, 3, 3}, dtype="uint8"}
    assert.error_matches(function() m:edt{spacing={1, 1}} end, "spacing must have 3 numbers")
    assert.error_matches(function() m:edt{spacing={1, 0, 1}} end, "spacing must be > 0")
    assert.error_matches(function() m:edt{spacing="mm"} end, "option 'spacing' must be true, false or a table")
    assert.error_matches(function() m:edt{dtype="int32"} end, "option 'dtype' must be one of float32, float64")
    assert.error_matches(function() m:edt{signed=true, indices=true} end, "indices are not available with signed=true")
    assert.error_matches(function() m:edt{sampling={1, 1, 1}} end, "unknown option 'sampling'")
  end)
end)

describe("edt parity with scipy.ndimage.distance_transform_edt", function()
  local S = maskref.session()

  -- Without a zero voxel (or, signed, without an object voxel) scipy's map
  -- is undefined; the reference then expects medula's +inf (-inf inside a
  -- signed map without zero voxels), whole or per slice.
  local function job(rec, opts)
    local m = S:load(rec)
    local sp = opts.spacing or {1, 1, 1}
    local r = table.pack(m:edt(opts))
    local j = {op="edt", ["in"]=rec.file, sampling=sp, squared=opts.squared, signed=opts.signed,
               dtype=opts.dtype or "float32", per_slice=opts.axis}
    if opts.indices then
      j.indices = {}
      for a = 2, r.n do j.indices[a - 1] = S:save(r[a], "idx") end
    end
    S:add(j, r[1])
  end

  it("match within 1e-6 on every mask, spacing and variant", function()
    for _, rec in ipairs(S.masks) do
      local sp = #rec.shape == 3 and {0.7, 1.3, 2.5} or {0.7, 1.3}
      job(rec, {spacing=sp, dtype="float64", indices=true})
      job(rec, {spacing=sp})
      job(rec, {spacing=false, squared=true, dtype="float64"})
      job(rec, {spacing=sp, signed=true})
      job(rec, {spacing=sp, signed=true, squared=true, dtype="float64"})
    end
    S:assert_all(1e-6)
  end)

  it("match per slice across every axis, with the in-plane spacing", function()
    local blank = 0  -- slices with no zero voxel, where every distance is +inf
    for _, rec in ipairs(S.masks) do
      if #rec.shape == 3 then
        for axis = 1, 3 do
          job(rec, {spacing={0.7, 1.3, 2.5}, axis=axis, dtype="float64", indices=true})
          job(rec, {spacing={1.9, 0.6, 1.1}, axis=axis})
          job(rec, {spacing={0.7, 1.3, 2.5}, axis=axis, signed=true})
          job(rec, {spacing=false, axis=axis, squared=true, dtype="float64"})
          local d = S:load(rec):edt{axis=axis}
          blank = blank + d:eq(math.huge):stats().sum
        end
      end
    end
    assert.is_true(blank > 0, "no slice without a zero voxel: the +inf rule went untested")
    S:assert_all(1e-6)
  end)
end)
