-- Marching cubes (v:mesh) and the Mesh: exact tiny cases, the case table and
-- counts against VTK and scikit-image, spheres against their analytic area
-- and volume, watertightness, world coordinates, the four writers parsed
-- back by independent readers (tests/ref/mesh_ref.py), threads, errors.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"

-- A float32 field radius - distance from the centre c (1-based index) on a
-- grid of n^3, so level 0 is a sphere of that radius.
local function sphere_field(n, c, radius)
  local v = vol.new{shape={n, n, n}, dtype="float32"}
  for k = 1, n do
    for j = 1, n do
      for i = 1, n do
        local x, y, z = i - c[1], j - c[2], k - c[3]
        v:set(i, j, k, radius - math.sqrt(x * x + y * y + z * z))
      end
    end
  end
  return v
end

local function same_mesh(a, b)
  local va, vb, fa, fb = a:vertices(), b:vertices(), a:faces(), b:faces()
  return #va == #vb and #fa == #fb and (va - vb):abs():max() == 0 and fa:ne(fb):stats().sum == 0
end

local function rel(a, b) return math.abs(a - b) / math.abs(b) end

describe("v:mesh", function()
  it("makes the octahedron of one voxel, in world millimetres", function()
    local m = vol.new{shape={3, 3, 3}, dtype="uint8"}
    m:set(2, 2, 2, 1)
    local s = m:mesh()
    assert.equal(6, s.vertex_count)
    assert.equal(8, s.face_count)
    assert.near(math.sqrt(3), s.area, 1e-6)        -- 8 equilateral triangles of side sqrt(1/2)
    assert.near(1 / 6, s.volume, 1e-7)             -- (4/3) * 0.5^3, positive: outward faces
    m:set_spacing{2, 1, 1}:set_origin{10, 20, 30}
    local w = m:mesh()
    assert.near(2 / 6, w.volume, 1e-7)
    assert.same({{11, 20.5, 30.5}, {13, 21.5, 31.5}}, w.bounds)
  end)

  it("keeps faces outward when the direction mirrors an axis", function()
    local m = vol.phantom.box{shape={6, 6, 6}, lo={2, 2, 2}, hi={4, 5, 5}}
    local a = m:mesh()
    m:set_direction{{-1, 0, 0}, {0, 1, 0}, {0, 0, 1}}
    local b = m:mesh()
    assert.near(a.volume, b.volume, 1e-9)
    assert.is_true(b.volume > 0)
    assert.near(-a.bounds[2][1], b.bounds[1][1], 1e-6)
  end)

  it("has VTK's and skimage's triangle count in each of the 256 cube cases", function()
    local r = ref.run("mesh_ref.py", "cases")
    local got = {}
    for c = 0, 255 do got[c + 1] = vol.mcubes_case_triangles(c) end
    assert.same(r.flying_edges, got)
    assert.same(r.marching_cubes, got)
    assert.same(r.skimage_lorensen, got)
  end)

  it("gives a smooth sphere's area and volume within 1% and skimage's counts", function()
    local dir = data.tmpdir()
    local r = 14.3
    local v = sphere_field(40, {20.4, 20.7, 21.1}, r):set_spacing{1, 1, 1}
    v:write(dir .. "/field.npy")
    local s = v:mesh{level=0}
    assert.is_true(rel(s.area, 4 * math.pi * r ^ 2) < 0.01)
    assert.is_true(rel(s.volume, 4 / 3 * math.pi * r ^ 3) < 0.01)
    local k = ref.run("mesh_ref.py", "skimage", dir .. "/field.npy", 0, "1,1,1")
    for _, method in ipairs{"lewiner", "lorensen"} do
      assert.equal(k[method].vertices, s.vertex_count)
      assert.equal(k[method].faces, s.face_count)
      assert.is_true(rel(s.volume, k[method].volume) < 1e-4)
    end
  end)

  it("gives a voxelised sphere's volume within 1% on an anisotropic grid", function()
    local dir = data.tmpdir()
    local b = vol.phantom.sphere{shape={56, 56, 30}, spacing={0.8, 0.8, 1.5}, radius_mm=16,
                                 center={28.3, 28.6, 15.4}}
    b:write(dir .. "/ball.npy")
    local s = b:mesh()
    local vol_true = 4 / 3 * math.pi * 16 ^ 3
    assert.is_true(rel(s.volume, vol_true) < 0.01)
    -- the staircase makes any marching cubes' area exceed the sphere's
    local ratio = s.area / (4 * math.pi * 16 ^ 2)
    assert.is_true(ratio > 1.03 and ratio < 1.15, "area ratio " .. ratio)  -- 1.119 here
    local k = ref.run("mesh_ref.py", "skimage", dir .. "/ball.npy", 0.5, "0.8,0.8,1.5")
    assert.equal(k.lewiner.vertices, s.vertex_count)
    assert.equal(k.lorensen.faces, s.face_count)
    assert.is_true(rel(s.volume, k.lorensen.volume) < 0.002)
  end)

  it("equals VTK's flying edges on the head CT at the bone level", function()
    local ct = vol.read(data.path("ct/cranium_ct.nii.gz"))
    local dir = data.tmpdir()
    ct:write(dir .. "/ct.npy")
    local s = ct:mesh{level=400}
    local r = ref.run("mesh_ref.py", "vtk", dir .. "/ct.npy", 400)
    assert.equal(r.triangles, s.face_count)
    assert.equal(r.points, s.vertex_count)
  end)

  it("is watertight and consistently wound on closed random masks", function()
    local dir = data.tmpdir()
    -- speckle: every kind of ambiguous face occurs
    local noise = vol.new{shape={18, 17, 16}, dtype="float32"}
    local x = 12345
    for k = 2, 15 do
      for j = 2, 16 do
        for i = 2, 17 do
          x = (x * 1103515245 + 12345) % 2147483648
          noise:set(i, j, k, x % 2)
        end
      end
    end
    local s = noise:mesh{level=0.5}
    assert.is_true(s.face_count > 1000)
    s:write(dir .. "/speckle.ply")
    local r = ref.run("mesh_ref.py", "read", dir .. "/speckle.ply")
    assert.same({["2"] = r.edge_uses["2"]}, r.edge_uses)  -- every edge in exactly two faces
    assert.equal(1, r.max_directed_edge_uses)             -- and used once each way
    assert.is_true(s.volume > 0)
  end)

  it("reads a uint8 mask's 0/1 rows as flags and agrees with the float path", function()
    -- rows of 0/1 (taken as flags), rows holding other values (flagged),
    -- empty rows; widths that are not a multiple of the 8-byte words
    for _, shape in ipairs{{21, 13, 9}, {8, 9, 7}, {37, 5, 6}} do
      local m = vol.new{shape=shape, dtype="uint8"}
      local x = 777
      for k = 2, shape[3] - 1 do
        for j = 2, shape[2] - 1 do
          if j % 4 ~= 0 then
            for i = 2, shape[1] - 1 do
              x = (x * 1103515245 + 12345) % 2147483648
              local r = x % 7
              m:set(i, j, k, (r < 3) and 0 or (r < 6) and 1 or (k % 2 == 0 and 3 or 1))
            end
          end
        end
      end
      local f = m:astype("float32")
      for _, level in ipairs{0.5, 1, 0.25, 2} do
        local a, b = m:mesh{level=level}, f:mesh{level=level}
        assert.is_true(same_mesh(a, b), "shape " .. shape[1] .. " level " .. level)
        assert.is_true(level == 2 or a.face_count > 50)
      end
    end
  end)

  it("makes label surfaces, sub-sampled surfaces", function()
    local lab = vol.phantom.box{shape={12, 10, 10}, dtype="int32", lo={2, 2, 2}, hi={5, 5, 5}, value=3}
              + vol.phantom.box{shape={12, 10, 10}, dtype="int32", lo={7, 4, 4}, hi={10, 7, 7}, value=7}
    local a = lab:mesh{label=7}
    local b = lab:eq(7):mesh()
    assert.is_true(same_mesh(a, b))
    assert.equal(0, lab:mesh{label=5}.face_count)
    local ball = vol.phantom.sphere{shape={41, 41, 41}, radius_mm=15}
    local coarse = ball:mesh{step=2}
    assert.is_true(coarse.face_count < ball:mesh().face_count / 3)
    assert.is_true(rel(coarse.volume, 4 / 3 * math.pi * 15 ^ 3) < 0.03)
  end)

  it("is the same on 1 and 2 threads", function()
    local ct = vol.phantom.chest{shape={96, 96, 40}}
    local n = vol.threads()
    vol.set_threads(1)
    local a = ct:mesh{level=-400}
    vol.set_threads(2)
    local b = ct:mesh{level=-400}
    vol.set_threads(n)
    assert.is_true(same_mesh(a, b))
    assert.equal(a.area, b.area)
  end)

  it("frees its buffers when meshes are collected", function()
    local ball = vol.phantom.sphere{shape={30, 30, 30}, radius_mm=10}
    collectgarbage()
    collectgarbage()
    local before = vol.live_bytes()
    for _ = 1, 20 do
      local m = ball:mesh():smooth{iterations=2}:decimate(2)
      assert.is_true(m.face_count > 0)
    end
    collectgarbage()
    collectgarbage()
    assert.equal(before, vol.live_bytes())
    -- mesh buffers count against the memory budget
    local big = vol.phantom.sphere{shape={60, 60, 60}, radius_mm=25}
    vol.set_memory_budget(vol.live_bytes() / 1048576 + 0.05)
    local ok, err = pcall(function() return big:mesh() end)
    vol.set_memory_budget(0)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("budget", 1, true), tostring(err))
  end)

  it("rejects bad arguments", function()
    assert.error_matches(function() vol.new{shape={4, 4}}:mesh{level=0} end, "needs a 3%-D volume")
    assert.error_matches(function() vol.new{shape={4, 4, 1}}:mesh{level=0} end, "at least 2 samples")
    assert.error_matches(function() vol.new{shape={4, 4, 4}}:mesh() end, "option 'level' is needed")
    assert.error_matches(function() vol.new{shape={4, 4, 4}}:mesh{level=0, step=0} end, "'step' must be an integer >= 1")
    assert.error_matches(function() vol.new{shape={4, 4, 4}}:mesh{levl=0} end, "level")
    assert.error_matches(function() vol.new{shape={4, 4, 4}}:mesh{level=0/0} end, "finite")
  end)
end)

describe("v:meshes", function()
  it("gives each label the surface v:mesh{label=} gives", function()
    local aal = vol.read(data.path("labels/aal.nii.gz"))
    local ms = aal:meshes()
    local n = 0
    for k in pairs(ms) do n = n + 1 end
    assert.equal(116, n)
    for _, k in ipairs{1, 2, 45, 116} do
      assert.is_true(same_mesh(ms[k], aal:mesh{label=k}), "label " .. k)
      assert.is_true(ms[k].volume > 0)
    end
    -- volumes near the voxel counts
    local count = aal:eq(45):stats().sum
    assert.is_true(rel(ms[45].volume, count) < 0.1)
  end)

  it("gives each label of a hand-made 3-label map the surface of its own mask", function()
    -- 1 and 2 touch; 9 is two blobs, one of them a single voxel, and shares
    -- rows with the others; 0 is background
    local lab = vol.new{shape={15, 12, 10}, dtype="int16"}:set_spacing{0.5, 1, 2}:set_origin{-3, 4, 10}
    for k = 2, 8 do
      for j = 2, 7 do
        for i = 2, 6 do lab:set(i, j, k, 1) end
        for i = 7, 9 do lab:set(i, j, k, j < 5 and 2 or 1) end
      end
    end
    for k = 3, 6 do
      for j = 9, 11 do
        for i = 10 + k % 2, 14 do lab:set(i, j, k, 9) end
      end
    end
    lab:set(12, 4, 8, 9)
    local ms = lab:meshes()
    local n = 0
    for k, m in pairs(ms) do
      n = n + 1
      assert.is_true(same_mesh(m, lab:mesh{label=k}), "label " .. k)
      assert.is_true(same_mesh(m, lab:eq(k):mesh()), "label " .. k .. " as a mask")
      assert.is_true(m.volume > 0)
    end
    assert.equal(3, n)
    -- label 9: the staggered bar plus the lone voxel's octahedron (8 faces)
    assert.equal(lab:eq(9):mesh().face_count, ms[9].face_count)
    assert.is_true(ms[9].face_count > 8)
    -- on 1 and 2 threads alike
    local t = vol.threads()
    vol.set_threads(1)
    local one = lab:meshes()
    vol.set_threads(t)
    for k in pairs(ms) do assert.is_true(same_mesh(one[k], ms[k])) end
    local f = vol.new{shape={3, 3, 3}}
    f:set(2, 2, 2, 1.5)
    assert.error_matches(function() f:meshes() end, "label volumes hold integers %(found 1.5 at voxel 2, 2, 2%)")
  end)
end)

describe("mesh:write", function()
  local ball = vol.phantom.sphere{shape={24, 22, 20}, radius_mm=7, spacing={0.9, 1.1, 1.3}}
  ball:set_origin{-5, 3, 100}
  local m = ball:mesh()
  local xyz = m:vertices()

  for _, ext in ipairs{"stl", "ply", "obj", "vtk"} do
    it("writes ." .. ext .. " that an independent reader parses back", function()
      local path = data.tmpdir() .. "/ball." .. ext
      assert.equal(m, m:write(path))
      local r = ref.run("mesh_ref.py", "read", path)
      assert.equal(m.face_count, r.faces)
      assert.equal(m.vertex_count, r.vertices)   -- STL: distinct corners, the same set
      assert.is_true(rel(r.area, m.area) < 1e-6)
      assert.is_true(rel(r.volume, m.volume) < 1e-6)
      assert.same({["2"] = r.edge_uses["2"]}, r.edge_uses)
      if ext ~= "stl" then
        for i = 1, 4 do
          for c = 1, 3 do
            local f32 = string.unpack("f", string.pack("f", r.first_vertices[3 * (i - 1) + c]))
            assert.equal(xyz:get(c, i), f32)
          end
        end
      else
        assert.is_true(r.normal_error < 1e-5)
        assert.is_nil(r.header:match("^solid"))
      end
    end)
  end

  it("writes the same bytes each time", function()
    local dir = data.tmpdir()
    m:write(dir .. "/a.obj")
    ball:mesh():write(dir .. "/b.obj")
    local f1, f2 = io.open(dir .. "/a.obj", "rb"), io.open(dir .. "/b.obj", "rb")
    assert.equal(f1:read("a"), f2:read("a"))
    f1:close()
    f2:close()
  end)

  it("refuses unknown suffixes and unwritable places, leaving no file", function()
    local dir = data.tmpdir()
    assert.error_matches(function() m:write(dir .. "/x.dae") end, "x.dae: unknown mesh format %(the suffix must be one of .stl, .ply, .obj, .vtk%)")
    assert.error_matches(function() m:write(dir .. "/none/x.stl") end, "none/x.stl")
    local p = io.popen("ls -A " .. data.shell_quote(dir))
    assert.equal("", p:read("a"))
    p:close()
  end)
end)

describe("mesh:smooth and mesh:decimate", function()
  local ball = vol.phantom.sphere{shape={40, 40, 40}, radius_mm=14, center={20.3, 20.6, 20.2}}
  local m = ball:mesh()
  local area, volume = 4 * math.pi * 14 ^ 2, 4 / 3 * math.pi * 14 ^ 3

  it("smooths the staircase without shrinking the sphere", function()
    local s = m:smooth{iterations=20}
    assert.equal(m.face_count, s.face_count)
    assert.is_true(rel(s.area, area) < rel(m.area, area) / 2)
    assert.is_true(rel(s.volume, volume) < 0.02)
    assert.is_true(same_mesh(s, m:smooth{iterations=20}))
    assert.is_true(same_mesh(s, ball:mesh{smooth=20}))
    assert.error_matches(function() m:smooth{lambda=2} end, "lambda")
    assert.error_matches(function() m:smooth{iterations=0} end, "iterations")
  end)

  it("decimates by clustering, keeping the shape closed", function()
    local d = m:decimate(2.5)
    assert.is_true(d.face_count < m.face_count / 4)
    assert.is_true(rel(d.volume, volume) < 0.05)
    local path = data.tmpdir() .. "/d.ply"
    d:write(path)
    local r = ref.run("mesh_ref.py", "read", path)
    assert.equal(d.face_count, r.faces)
    assert.is_true(same_mesh(d, ball:mesh{decimate=2.5}))
    assert.error_matches(function() m:decimate(0) end, "cell size")
  end)

  it("raises on a released mesh", function()
    local s = m:smooth{iterations=1}
    s:release()
    assert.error_matches(function() return s.area end, "released mesh")
  end)
end)

describe("mesh:png", function()
  -- a slab 30 x 10 x 20 voxels (x = L, y = P, z = S), padded
  local box = vol.phantom.box{shape={40, 20, 30}, lo={6, 6, 6}, hi={35, 15, 25}}
  local m = box:mesh()

  -- The box's extent in the picture: columns and rows holding non-background pixels.
  local function extent(pic)
    local x0, x1, y0, y1 = math.huge, -1, math.huge, -1
    for y = 1, pic.shape[2] do
      for x = 1, pic.shape[1] do
        if pic:get(x, y, 1, 1) + pic:get(x, y, 1, 2) + pic:get(x, y, 1, 3) > 0 then
          x0, x1, y0, y1 = math.min(x0, x), math.max(x1, x), math.min(y0, y), math.max(y1, y)
        end
      end
    end
    return x1 - x0 + 1, y1 - y0 + 1
  end

  it("shades faces toward the camera in full colour and fits the picture", function()
    local pic = m:picture{size=100, color={200, 100, 50}}
    assert.same({100, 100, 1, 3}, pic.shape)
    assert.same({200, 100, 50}, {pic:get(50, 50, 1, 1), pic:get(50, 50, 1, 2), pic:get(50, 50, 1, 3)})
    assert.same({0, 0, 0}, {pic:get(1, 1, 1, 1), pic:get(1, 1, 1, 2), pic:get(1, 1, 1, 3)})
    -- front: width is the L extent (30), height the S extent (20): 90 x 60 pixels
    local w, h = extent(pic)
    assert.is_true(math.abs(w - 90) <= 1 and math.abs(h - 60) <= 1, w .. "x" .. h)
    local tw, th = extent(m:picture{size=100, view="top"})
    assert.is_true(math.abs(tw - 90) <= 1 and math.abs(th - 30) <= 1, tw .. "x" .. th)
    local lw, lh = extent(m:picture{size=100, view="left"})
    assert.is_true(math.abs(lw - 45) <= 1 and math.abs(lh - 90) <= 1, lw .. "x" .. lh)
  end)

  it("writes the same bytes on 1 and 2 threads", function()
    local dir = data.tmpdir()
    local ball = vol.phantom.sphere{shape={30, 30, 30}, radius_mm=10}:mesh()
    local n = vol.threads()
    vol.set_threads(1)
    ball:png(dir .. "/a.png", {view="iso", size={300, 200}})
    vol.set_threads(2)
    ball:png(dir .. "/b.png", {view="iso", size={300, 200}})
    vol.set_threads(n)
    local a, b = io.open(dir .. "/a.png", "rb"), io.open(dir .. "/b.png", "rb")
    assert.equal(a:read("a"), b:read("a"))
    a:close()
    b:close()
    assert.same({300, 200, 1, 3}, vol.read(dir .. "/a.png").shape)
    assert.error_matches(function() ball:png(dir .. "/c.png", {view="side"}) end, "option 'view' must be one of front")
    assert.error_matches(function() ball:png(dir .. "/c.png", {size=4}) end, "'size' must be")
    assert.error_matches(function() ball:png(dir .. "/c.png", {elevation=100}) end, "between %-90 and 90")
  end)
end)
