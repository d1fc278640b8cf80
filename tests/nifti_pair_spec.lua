-- NIfTI-1 header/image pairs (.hdr + .img, magic "ni1", SPM-style data):
-- nibabel writes, medula reads and the other way round; the same checks as
-- .nii on damaged pairs.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"

-- The RAS affine of v (LPS geometry turned back into nibabel's convention).
local function ras_affine(v)
  local A = {}
  for r = 1, 3 do
    A[r] = {}
    local sgn = r <= 2 and -1 or 1
    for c = 1, 3 do A[r][c] = sgn * v.direction[r][c] * v.spacing[c] end
    A[r][4] = sgn * v.origin[r]
  end
  return A
end

local function near(a, b) return math.abs(a - b) <= 1e-5 * math.max(1, math.abs(b)) end

local function same_as(v, r, what)
  assert.are.same(r.shape, {table.unpack(v.shape, 1, #r.shape)}, what)
  local nx, ny = r.shape[1], r.shape[2]
  for i, x in ipairs(r.values) do
    local k = i - 1
    assert.is_true(near(v:get(k % nx + 1, (k // nx) % ny + 1, k // (nx * ny) + 1), x), what .. " voxel " .. i)
  end
  local A = ras_affine(v)
  for rr = 1, 3 do
    for c = 1, 4 do assert.is_true(near(A[rr][c], r.affine[rr][c]), what .. " affine") end
  end
end

describe("NIfTI-1 .hdr/.img pairs", function()
  local dir = data.tmpdir()

  it("reads a pair nibabel wrote, by either name, with scaling and geometry", function()
    local r = ref.run("nifti_pair_ref.py", "write", dir .. "/nib")
    assert.are.equal("ni1", r.magic)
    for _, name in ipairs{"/nib.hdr", "/nib.img"} do
      local v = vol.read(dir .. name)
      assert.are.equal("NIfTI-1", v.meta.format)
      same_as(v, r, name)
    end
    assert.are.equal("int16", vol.read(dir .. "/nib.hdr", {raw = true}).dtype)
  end)

  it("writes a pair nibabel reads back exactly", function()
    local v = vol.new{shape = {5, 4, 3}, dtype = "float32"}
    for k = 1, 3 do for j = 1, 4 do for i = 1, 5 do v:set(i, j, k, i + 10 * j + 100 * k + 0.25) end end end
    v:set_spacing({0.5, 0.75, 2})
    v:set_origin({10, -20, 30})
    v:write(dir .. "/med.hdr")
    local f = assert(io.open(dir .. "/med.img", "rb"))
    assert.are.equal(5 * 4 * 3 * 4, #f:read("a"))
    f:close()
    local r = ref.run("nifti_pair_ref.py", "read", dir .. "/med.hdr")
    assert.are.equal("ni1", r.magic)
    same_as(v, r, "medula pair")
    same_as(vol.read(dir .. "/med.img"), r, "read back")
  end)

  it("refuses a short .img, a missing .img and a single-file header, naming the file", function()
    local v = vol.new{shape = {4, 4, 4}, dtype = "int16"}
    v:write(dir .. "/short.hdr")
    local f = assert(io.open(dir .. "/short.img", "wb"))
    f:write(("\0"):rep(10))
    f:close()
    local ok, err = pcall(vol.read, dir .. "/short.hdr")
    assert.is_false(ok)
    assert.truthy(err:find("short.hdr", 1, true) and err:find("the .img file has 10", 1, true), err)
    v:write(dir .. "/gone.hdr")
    os.remove(dir .. "/gone.img")
    ok, err = pcall(vol.read, dir .. "/gone.hdr")
    assert.is_false(ok)
    assert.truthy(err:find("gone.img", 1, true), err)
    v:write(dir .. "/single.nii")
    os.rename(dir .. "/single.nii", dir .. "/single.hdr")
    f = assert(io.open(dir .. "/single.img", "wb"))
    f:close()
    ok, err = pcall(vol.read, dir .. "/single.hdr")
    assert.is_false(ok)
    assert.truthy(err:find('"n+1"', 1, true), err)
  end)

  it("leaves no temporary files beside a written pair", function()
    local v = vol.new{shape = {3, 3, 3}, dtype = "uint8"}
    local sub = data.tmpdir()
    v:write(sub .. "/a.hdr")
    local names = {}
    for name in io.popen("ls -A " .. data.shell_quote(sub)):lines() do names[#names + 1] = name end
    table.sort(names)
    assert.are.same({"a.hdr", "a.img"}, names)
  end)
end)
