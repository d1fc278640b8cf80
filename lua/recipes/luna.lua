-- The LUNA16 nodule masks as steps over medula's kernels:
--   local luna = require "recipes.luna"
--   local ann = luna.read_annotations("annotations.csv")   -- seriesuid -> nodules
--   local ct = vol.read(uid .. ".mhd")
--   local mask = luna.nodule_mask(ct, ann[uid])            -- balls in world mm
--   local imgs, masks = luna.slices(ct, ann[uid])          -- the tutorial's 3 slices per nodule
--   local patches = luna.patches(ct, cands[uid], 64)       -- candidate-centred cubes
-- luna.run_case writes them for one scan (the runner's recipe).
local csv = require "util.csv"
local doc = require("vol.help").doc

local luna = {}

local function group(rows, cols)
  local by = {}
  for _, r in ipairs(rows) do
    local list = by[r.seriesuid] or {}
    by[r.seriesuid] = list
    local n = {x = r.coordX, y = r.coordY, z = r.coordZ}
    for _, c in ipairs(cols) do n[c] = r[c] end
    list[#list + 1] = n
  end
  return by
end

function luna.read_annotations(path)
  local rows = csv.read(path, {numbers = {"coordX", "coordY", "coordZ", "diameter_mm"}})
  return group(rows, {"diameter_mm"})
end

function luna.read_candidates(path)
  local rows = csv.read(path, {numbers = {"coordX", "coordY", "coordZ", "class"}})
  return group(rows, {"class"})
end

-- A uint8 volume on ct's grid, all zero.
local function zeros_like(ct)
  return ct:ne(ct):astype("uint8")
end

function luna.nodule_mask(ct, nodules)
  local mask = zeros_like(ct)
  local sp = ct.spacing
  for _, n in ipairs(nodules or {}) do
    -- world centre to a fractional 1-based index; the ball's radius in mm
    -- (the direction is orthonormal, so distances on the grid are world distances)
    local i, j, k = ct:world_to_index(n.x, n.y, n.z)
    local ball = vol.phantom.sphere{shape = ct.shape, spacing = sp, center = {i, j, k}, radius_mm = n.diameter_mm / 2}
    mask = mask:bor(ball)
  end
  return mask
end

-- The tutorial's per-slice circles on the three slices around each centre.
-- legacy=true reproduces its arithmetic: distance compared with the
-- diameter (not the radius), within a box of int(diameter/spacing + 5).
function luna.slices(ct, nodules, opts)
  opts = opts or {}
  local imgs, masks = {}, {}
  local nx, ny, nz = ct.shape[1], ct.shape[2], ct.shape[3]
  local sp = ct.spacing
  for _, n in ipairs(nodules or {}) do
    local i, j, k = ct:world_to_index(n.x, n.y, n.z)
    local kc = math.floor(k + 0.5)
    for dk = -1, 1 do
      local kk = math.min(math.max(kc + dk, 1), nz)
      local img = ct:crop{lo = {1, 1, kk}, hi = {nx, ny, kk}}
      local m
      if opts.legacy then
        local half = math.floor(n.diameter_mm / sp[1] + 5)
        local circle = vol.phantom.sphere{shape = {nx, ny, 1}, spacing = {sp[1], sp[2], 1}, center = {i, j, 1},
                                          radius_mm = n.diameter_mm}
        local box = vol.phantom.box{shape = {nx, ny, 1}, lo = {math.floor(i) - half, math.floor(j) - half, 1},
                                    hi = {math.floor(i) + half, math.floor(j) + half, 1}}
        m = circle:band(box)
      else
        -- the ball's cross-section at this slice's world z
        local dz = (kk - k) * sp[3]
        local r2 = (n.diameter_mm / 2) ^ 2 - dz * dz
        if r2 > 0 then
          m = vol.phantom.sphere{shape = {nx, ny, 1}, spacing = {sp[1], sp[2], 1}, center = {i, j, 1},
                                 radius_mm = math.sqrt(r2)}
        else
          m = vol.new{shape = {nx, ny, 1}, dtype = "uint8"}
        end
      end
      imgs[#imgs + 1] = img
      masks[#masks + 1] = m
    end
  end
  return imgs, masks
end

-- size^3 cubes of ct centred (nearest voxel) at each point, -1000 outside.
function luna.patches(ct, points, size, fill)
  size = size or 64
  local out = {}
  for _, p in ipairs(points or {}) do
    local i, j, k = ct:world_to_index(p.x, p.y, p.z)
    local c = {math.floor(i + 0.5) - 1, math.floor(j + 0.5) - 1, math.floor(k + 0.5) - 1}
    local h = size // 2
    out[#out + 1] = ct:warp{offset = {c[1] - h, c[2] - h, c[3] - h}, shape = {size, size, size},
                            interpolation = "nearest", fill = fill or -1000}
  end
  return out
end

-- One picture per nodule: the axial slice through its centre, lung window,
-- the nodule masks outlined.
function luna.pictures(ct, nodules, mask, prefix)
  local paths = {}
  for n, nod in ipairs(nodules or {}) do
    local _, _, k = ct:world_to_index(nod.x, nod.y, nod.z)
    local path = ("%s_nodule%d.png"):format(prefix, n)
    ct:png(path, {index = math.min(math.max(math.floor(k + 0.5), 1), ct.shape[3]), window = {-600, 1500},
                  overlay = mask, contour = true, scale = 2})
    paths[n] = path
  end
  return paths
end

function luna.run_case(case, out, params)
  params = params or {}
  local ct = vol.read(case.path)
  local uid = case.id
  local ann = params.annotations and luna.read_annotations(params.annotations)[uid] or {}
  local mask = luna.nodule_mask(ct, ann)
  mask:write(out:path(uid .. "_nodule_mask.nii.gz"))
  mask:write(out:path(uid .. "_nodule_mask.npy"))
  if #ann > 0 and params.pictures ~= 0 then luna.pictures(ct, ann, mask, out:path(uid)) end
  if #ann > 0 and params.slices ~= 0 then
    local imgs, masks = luna.slices(ct, ann, {legacy = params.legacy == 1})
    vol.save_npy_stack(out:path("images_" .. uid .. ".npy"), imgs)
    vol.save_npy_stack(out:path("masks_" .. uid .. ".npy"), masks)
  end
  local summary = {nodules = #ann}
  if params.candidates then
    local cands = luna.read_candidates(params.candidates)[uid] or {}
    if #cands > 0 then
      local p = luna.patches(ct, cands, params.patch or 64)
      vol.save_npy_stack(out:path(uid .. "_candidates.npy"), p)
      local rows = {}
      for n, c in ipairs(cands) do rows[n] = {index = n - 1, class = c.class, coordX = c.x, coordY = c.y, coordZ = c.z} end
      csv.write(out:path(uid .. "_candidates.csv"), rows, {"index", "class", "coordX", "coordY", "coordZ"})
    end
    summary.candidates = #cands
  end
  return summary
end

doc(luna.read_annotations, [[
luna.read_annotations(path) -> {seriesuid = {{x=, y=, z=, diameter_mm=}, ...}}
LUNA16's annotations.csv grouped by scan; coordinates are world mm (LPS, as the
.mhd's geometry).]])
doc(luna.read_candidates, [[
luna.read_candidates(path) -> {seriesuid = {{x=, y=, z=, class=}, ...}}
LUNA16's candidates.csv grouped by scan.]])
doc(luna.nodule_mask, [[
luna.nodule_mask(ct, nodules) -> uint8 mask
Every nodule as a ball of its diameter at its world position on ct's voxel grid
(anisotropic spacing and direction honoured): a voxel is in when its centre lies
within diameter/2 of the nodule's centre. No nodules: all zero.]])
doc(luna.slices, [[
luna.slices(ct, nodules [, {legacy=false}]) -> {images}, {masks}
The tutorial's three slices around each nodule centre and their circles: the
ball's true cross-section at each slice (legacy=true reproduces the widely copied
code: distance compared with the diameter, within a box of int(d/spacing + 5)).]])
doc(luna.patches, [[
luna.patches(ct, points [, size=64, fill=-1000]) -> {Volume, ...}
size^3 cubes of ct centred at the nearest voxel of each world point, fill outside.]])
doc(luna.pictures, [[
luna.pictures(ct, nodules, mask, prefix) -> {path, ...}
PREFIX_noduleN.png for each nodule: the axial slice through its centre in the lung
window (-600, 1500) with the nodule masks outlined.]])
doc(luna.run_case, [[
luna.run_case(case, out, params) -> summary
The luna_masks workflow for one scan: <uid>_nodule_mask.nii.gz and .npy; with
nodules, images_<uid>.npy and masks_<uid>.npy (3 slices per nodule) and
<uid>_noduleN.png (params.pictures=0 skips them); with
params.candidates, <uid>_candidates.npy (N cubes) and <uid>_candidates.csv.]])

return luna
