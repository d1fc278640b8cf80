-- 2-D volumes take 2-D geometry: spacing {sx, sy}, origin {x, y}, a 2x2
-- direction, world_to_index(x, y), a 2x2 matrix in v:transform, 2-D
-- phantoms with 2-D spacing, and v:resample{spacing=s} with one number.
-- Expected values are worked out by hand on tiny grids.

describe("2-D geometry", function()
  it("vol.new takes spacing, origin and direction of the plane", function()
    local v = vol.new{shape={10, 8}, spacing={0.5, 2}, origin={10, 20}, direction={{0, 1}, {1, 0}}}
    assert.same({0.5, 2, 1}, v.spacing)
    assert.same({10, 20, 0}, v.origin)
    assert.same({{0, 1, 0}, {1, 0, 0}, {0, 0, 1}}, v.direction)
    -- axis i runs along y (0.5 mm), axis j along x (2 mm)
    local i, j, k = v:world_to_index(12, 21)
    assert.equal(3, i)
    assert.equal(2, j)
    assert.is_nil(k)
    local x, y = v:index_to_world(3, 2)
    assert.equal(12, x)
    assert.equal(21, y)
  end)

  it("the setters take 2 numbers (or 4 for the direction) on a 2-D volume", function()
    local v = vol.new{shape={4, 4}, spacing={1, 1, 3}}
    v:set_spacing{2, 5}
    assert.same({2, 5, 3}, v.spacing)
    v:set_origin{-1, 7}
    assert.same({-1, 7, 0}, v.origin)
    v:set_direction{0, -1, 1, 0}
    assert.same({{0, -1, 0}, {1, 0, 0}, {0, 0, 1}}, v.direction)
    assert.equal(2, select("#", v:world_to_index(0, 0)))
    assert.equal(3, select("#", v:world_to_index(0, 0, 0)))
  end)

  it("3-D volumes still need 3 numbers, and errors say how many a 2-D one takes", function()
    assert.error_matches(function() vol.new{shape={4, 4, 4}, spacing={1, 2}} end, "spacing must have 3 numbers %(got 2%)")
    assert.error_matches(function() vol.new{shape={4, 4}, spacing={1}} end,
      "spacing must have 2 or 3 numbers for a 2%-D volume %(got 1%)")
    assert.error_matches(function() vol.new{shape={4, 4}, direction={{1, 0}, {0}}} end, "direction row must have 2 numbers")
    assert.error_matches(function() vol.new{shape={4, 4}, direction={{1, 1}, {1, 1}}} end, "singular")
  end)

  it("vol.phantom.sphere and box take a 2-D spacing", function()
    local s = vol.phantom.sphere{shape={10, 10}, spacing={1, 1}, radius_mm=3}
    -- the disc x^2 + y^2 <= 9 around the centre (5.5, 5.5): offsets +-0.5, +-1.5, +-2.5
    local n = 0
    for _, dx in ipairs{-2.5, -1.5, -0.5, 0.5, 1.5, 2.5} do
      for _, dy in ipairs{-2.5, -1.5, -0.5, 0.5, 1.5, 2.5} do
        if dx * dx + dy * dy <= 9 then n = n + 1 end
      end
    end
    assert.equal(n, s:stats().sum)
    local e = vol.phantom.sphere{shape={10, 10}, spacing={2, 1}, radius_mm=3}
    assert.same({2, 1, 1}, e.spacing)
    assert.truthy(e:stats().sum < n)
    assert.same({0.5, 0.5, 1}, vol.phantom.box{shape={3, 3}, spacing={0.5, 0.5}}.spacing)
  end)

  it("v:transform takes a 2x2 matrix and 2-D translation on a 2-D volume", function()
    local v = vol.new{shape={3, 3}, dtype="uint8"}
    v:set(3, 2, 1)
    -- the pull convention: out(p) = in(M (p - c) + c); M swaps x and y about the centre
    local t = v:transform{matrix={{0, 1}, {1, 0}}, interpolation="nearest"}
    assert.equal(1, t:get(2, 3))
    assert.equal(1, t:stats().sum)
    local same = v:transform{matrix={1, 0, 0, 1}, translation={1, 0}, interpolation="nearest"}
    assert.equal(1, same:get(2, 2))
    assert.error_matches(function() v:transform{matrix={{1, 0}}} end, "matrix must be 2 rows of 2 numbers")
  end)

  it("v:resample{spacing=s} takes one number for every axis", function()
    local v = vol.new{shape={4, 6}, spacing={1, 1}}
    local r = v:resample{spacing=0.5}
    assert.same({8, 12}, r.shape)
    assert.same({0.5, 0.5, 1}, r.spacing)
    local w = vol.new{shape={4, 4, 4}}:resample{spacing=2}
    assert.same({2, 2, 2}, w.shape)
    assert.same({2, 2, 2}, w.spacing)
  end)
end)
