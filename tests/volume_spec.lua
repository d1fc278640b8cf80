-- The Volume type: construction, fields, voxel access, geometry, lifetime.
describe("vol.new", function()
  it("makes a zero-filled volume with the given shape, dtype and geometry", function()
    local v = vol.new{shape={4, 3, 2}, dtype="int16", spacing={0.5, 0.75, 2.5},
                      origin={10, -20, 30}}
    assert.same({4, 3, 2}, v.shape)
    assert.equal("int16", v.dtype)
    assert.equal(3, v.ndim)
    assert.same({0.5, 0.75, 2.5}, v.spacing)
    assert.same({10, -20, 30}, v.origin)
    assert.same({{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, v.direction)
    assert.equal(24, #v)
    local s = v:stats()
    assert.equal(0, s.min); assert.equal(0, s.max); assert.equal(24, s.count)
  end)

  it("defaults to float32 and accepts 2D and 4D shapes", function()
    assert.equal("float32", vol.new{shape={2, 2}}.dtype)
    assert.equal(2, vol.new{shape={5, 6}}.ndim)
    local v4 = vol.new{shape={2, 3, 4, 5}, dtype="uint8"}
    assert.same({2, 3, 4, 5}, v4.shape)
    assert.equal(120, #v4)
  end)

  it("accepts every dtype", function()
    for _, t in ipairs{"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"} do
      assert.equal(t, vol.new{shape={2, 2, 2}, dtype=t}.dtype)
    end
  end)

  it("fills with a value", function()
    assert.equal(7, vol.new{shape={3, 3}, dtype="uint8", fill=7}:get(3, 3))
  end)

  it("rejects bad arguments with messages naming them", function()
    assert.error_matches(function() vol.new{shape={2, 2}, spacng={1, 1, 1}} end,
      "bad argument #1 to '.*new' %(unknown option 'spacng' %(valid: shape, dtype, spacing, origin, direction, fill%)%)")
    assert.error_matches(function() vol.new{shape={2, 2}, dtype="int64"} end, "unknown dtype 'int64'")
    assert.error_matches(function() vol.new{shape={0, 2}} end, "shape%[1%] must be a positive integer")
    assert.error_matches(function() vol.new{shape={2}} end, "shape must have 2 to 4 sizes")
    assert.error_matches(function() vol.new{shape={2, 2}, spacing={1, -1, 1}} end, "spacing must be > 0")
    assert.error_matches(function() vol.new{shape={2, 2, 2}, origin={1, 2}} end, "origin must have 3 numbers")
    assert.error_matches(function() vol.new{} end, "'shape'")
  end)

  it("fails cleanly on sizes that overflow or cannot be allocated", function()
    assert.error_matches(function() vol.new{shape={100000, 100000, 100000, 100000}} end, "too large")
    assert.error_matches(function() vol.new{shape={1000000, 1000000, 1000000}} end, "memory")
  end)
end)

describe("fields", function()
  it("are fresh tables that do not alias the volume", function()
    local v = vol.new{shape={2, 2, 2}, spacing={1, 2, 3}}
    local s = v.spacing
    s[1] = 99
    assert.same({1, 2, 3}, v.spacing)
    local d = v.direction
    d[1][1] = -1
    assert.same({1, 0, 0}, v.direction[1])
  end)

  it("are read-only", function()
    local v = vol.new{shape={2, 2}}
    assert.error_matches(function() v.spacing = {2, 2, 2} end, "read%-only")
  end)
end)

describe("v:get and v:set", function()
  it("use 1-based indices with x fastest", function()
    local v = vol.new{shape={3, 2, 2}, dtype="int32"}
    v:set(3, 1, 1, 5)
    v:set(1, 2, 1, 6)
    v:set(1, 1, 2, 7)
    assert.equal(5, v:get(3, 1, 1))
    assert.equal(6, v:get(1, 2, 1))
    assert.equal(7, v:get(1, 1, 2))
    assert.equal(0, v:get(2, 1, 1))
  end)

  it("round and saturate on integer dtypes", function()
    local v = vol.new{shape={2, 2}, dtype="uint8"}
    assert.equal(255, v:set(1, 1, 300):get(1, 1))
    assert.equal(0, v:set(1, 1, -5):get(1, 1))
    assert.equal(3, v:set(1, 1, 2.5):get(1, 1))
    assert.equal(0, v:set(1, 1, 0/0):get(1, 1))
    local f = vol.new{shape={2, 2}, dtype="float64"}
    assert.equal(2.25, f:set(2, 2, 2.25):get(2, 2))
  end)

  it("reject out-of-range indices and wrong index counts", function()
    local v = vol.new{shape={3, 2, 2}}
    assert.error_matches(function() v:get(0, 1, 1) end, "index 0 out of range 1..3 on axis 1")
    assert.error_matches(function() v:get(1, 3, 1) end, "out of range 1..2 on axis 2")
    assert.error_matches(function() v:get(1, 1) end, "expects 3 indices")
  end)
end)

describe("v:copy", function()
  it("copies voxels, geometry and metadata into an independent volume", function()
    local v = vol.new{shape={2, 2, 2}, dtype="int16", spacing={1, 2, 3}}
    v:set(1, 1, 1, 4)
    v:set_meta("note", "x")
    local c = v:copy()
    c:set(1, 1, 1, 9)
    assert.equal(4, v:get(1, 1, 1))
    assert.equal(9, c:get(1, 1, 1))
    assert.same(v.spacing, c.spacing)
    assert.equal("x", c.meta.note)
  end)
end)

describe("geometry", function()
  local function oblique()
    local c, s = math.cos(0.3), math.sin(0.3)
    return vol.new{shape={10, 12, 8}, spacing={0.7, 0.8, 2.5}, origin={-100, 50, 20},
                   direction={{c, -s, 0}, {s, c, 0}, {0, 0, 1}}}
  end

  it("maps indices to world and back", function()
    local v = oblique()
    local x, y, z = v:index_to_world(1, 1, 1)
    assert.near(-100, x, 1e-12); assert.near(50, y, 1e-12); assert.near(20, z, 1e-12)
    for _, p in ipairs{{1, 1, 1}, {3.5, 7.25, 2}, {10, 12, 8}} do
      local i, j, k = v:world_to_index(v:index_to_world(p[1], p[2], p[3]))
      assert.near(p[1], i, 1e-9); assert.near(p[2], j, 1e-9); assert.near(p[3], k, 1e-9)
    end
  end)

  it("gives the LPS affine and the RAS one nibabel shows", function()
    local v = oblique()
    local A, R = v:affine(), v:affine{ras=true}
    local c = math.cos(0.3)
    assert.near(c * 0.7, A[1][1], 1e-12)
    assert.near(-100, A[1][4], 1e-12)
    assert.near(100, R[1][4], 1e-12)
    assert.near(-50, R[2][4], 1e-12)
    assert.near(20, R[3][4], 1e-12)
    assert.near(-c * 0.7, R[1][1], 1e-12)
    assert.same({0, 0, 0, 1}, A[4])
    -- the affine agrees with index_to_world (0-based versus 1-based)
    local x, y, z = v:index_to_world(3, 4, 5)
    assert.near(A[1][1] * 2 + A[1][2] * 3 + A[1][3] * 4 + A[1][4], x, 1e-9)
    assert.near(A[2][1] * 2 + A[2][2] * 3 + A[2][3] * 4 + A[2][4], y, 1e-9)
    assert.near(A[3][1] * 2 + A[3][2] * 3 + A[3][3] * 4 + A[3][4], z, 1e-9)
  end)

  it("sets the affine back", function()
    local v = oblique()
    local w = vol.new{shape={10, 12, 8}}
    w:set_affine(v:affine{ras=true}, {ras=true})
    for r = 1, 3 do
      assert.near(v.spacing[r], w.spacing[r], 1e-12)
      assert.near(v.origin[r], w.origin[r], 1e-12)
      for c = 1, 3 do assert.near(v.direction[r][c], w.direction[r][c], 1e-12) end
    end
  end)

  it("names the orientation", function()
    assert.equal("LPS", vol.new{shape={2, 2, 2}}:orientation())
    local ras = vol.new{shape={2, 2, 2}, direction={{-1, 0, 0}, {0, -1, 0}, {0, 0, 1}}}
    assert.equal("RAS", ras:orientation())
    local lsa = vol.new{shape={2, 2, 2}, direction={{1, 0, 0}, {0, 0, -1}, {0, 1, 0}}}
    assert.equal("LSA", lsa:orientation())
  end)

  it("validates setters", function()
    local v = vol.new{shape={2, 2, 2}}
    assert.error_matches(function() v:set_spacing{1, 0, 1} end, "spacing must be > 0")
    assert.error_matches(function() v:set_direction{{2, 0, 0}, {0, 1, 0}, {0, 0, 1}} end, "unit length")
    assert.error_matches(function() v:set_direction{{1, 0, 0}, {1, 0, 0}, {0, 0, 1}} end, "singular")
    v:set_origin{1, 2, 3}
    assert.same({1, 2, 3}, v.origin)
  end)

  it("words bad setter values and index counts as bad arguments", function()
    local v = vol.new{shape={2, 2, 2}}
    assert.error_matches(function() v:set_spacing{1, 0, 1} end,
      "bad argument #1 to 'set_spacing' (spacing must be > 0 (got 0.0 on axis 2))", 1, true)
    assert.error_matches(function() v:set_origin{1, "x", 3} end,
      "bad argument #1 to 'set_origin' (origin[2] must be a number (got string))", 1, true)
    assert.error_matches(function() v:set_direction{{1, 0}, {0, 1}} end,
      "bad argument #1 to 'set_direction' (direction must be 3 rows of 3 numbers or 9 numbers (got a list of 2))",
      1, true)
    assert.error_matches(function() v:set_direction{{2, 0, 0}, {0, 1, 0}, {0, 0, 1}} end,
      "bad argument #1 to 'set_direction' (direction column 1 must have unit length (got 2.0))", 1, true)
    assert.error_matches(function() v:set_affine{{1, 0, 0, 0}, {0, 1, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}} end,
      "bad argument #1 to 'set_affine' (affine row must have 4 numbers (got 3))", 1, true)
    assert.error_matches(function() v:get(1, 2) end,
      "bad argument #3 to 'get' (get expects 3 indices for a 3D volume (got 2))", 1, true)
    assert.error_matches(function() v:set(1, 2, 1, 1, 5) end,
      "bad argument #5 to 'set' (set expects 3 indices and a value for a 3D volume (got 5 arguments after v))",
      1, true)
    -- vol.new words its geometry options as options of its one argument
    assert.error_matches(function() vol.new{shape={2, 2, 2}, spacing={1, 0, 1}} end,
      "bad argument #1 to 'new' (option 'spacing': spacing must be > 0 (got 0.0 on axis 2))", 1, true)
  end)

  it("leaves the geometry unchanged when a setter rejects its value", function()
    local v = vol.new{shape={3, 4, 5}, spacing={0.5, 0.7, 2}, origin={1, 2, 3}}
    local before = {v.spacing, v.origin, v.direction}
    assert.is_false(pcall(v.set_spacing, v, {0, 1, 1}))
    assert.is_false(pcall(v.set_spacing, v, {1, 1}))
    assert.is_false(pcall(v.set_origin, v, {1, 0 / 0, 3}))
    assert.is_false(pcall(v.set_origin, v, {1, "x", 3}))
    assert.is_false(pcall(v.set_direction, v, {{1, 0, 0}, {1, 0, 0}, {0, 0, 1}}))
    assert.is_false(pcall(v.set_direction, v, {{2, 0, 0}, {0, 1, 0}, {0, 0, 1}}))
    assert.same(before, {v.spacing, v.origin, v.direction})
    assert.error_matches(function() vol.new{shape={2, 2}, origin={0, 1 / 0, 0}} end, "origin must be finite")
    local x, y, z = v:index_to_world(2, 3, 4)
    assert.same({1.5, 3.4, 9}, {x, y, z})
  end)
end)

describe("lifetime", function()
  it("frees buffers on release, on <close> and on collection", function()
    collectgarbage()
    local base = vol.live_bytes()
    local v = vol.new{shape={100, 100, 10}, dtype="float64"}
    assert.equal(base + 800000, vol.live_bytes())
    v:release()
    assert.equal(base, vol.live_bytes())
    assert.error_matches(function() v:get(1, 1, 1) end, "attempt to use a released volume")
    assert.equal("Volume (released)", tostring(v))
    do
      local w <close> = vol.new{shape={100, 100, 10}, dtype="float64"}
      assert.equal(base + 800000, vol.live_bytes())
    end
    assert.equal(base, vol.live_bytes())
    for _ = 1, 50 do local _ = vol.new{shape={100, 100, 10}} + 1 end
    collectgarbage(); collectgarbage()
    assert.equal(base, vol.live_bytes())
  end)

  it("honours a memory budget with a Lua error", function()
    vol.set_memory_budget(vol.live_bytes() / 1048576 + 1)
    local ok, err = pcall(vol.new, {shape={1024, 1024, 4}, dtype="float32"})
    vol.set_memory_budget(0)
    assert.is_false(ok)
    assert.matches("memory budget exceeded", err)
  end)
end)

describe("tostring", function()
  it("summarises dtype, shape, spacing, origin and range", function()
    local v = vol.new{shape={3, 2, 2}, dtype="int16", spacing={0.5, 0.5, 2}, origin={1, 2, 3}}
    v:set(1, 1, 1, -7):set(2, 1, 1, 12)
    assert.equal("Volume int16 3x2x2 spacing 0.5x0.5x2 origin (1, 2, 3) range [-7, 12]", tostring(v))
  end)
end)
