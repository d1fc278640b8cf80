-- The DSB2017 lung recipe as named steps over medula's kernels, each a line
-- or two a user can call one by one from the REPL:
--   local lung = require "recipes.lung"
--   local air = lung.air(ct)                    -- voxels below -320 HU
--   local inside = lung.inside_air(air)         -- minus the air around the patient
--   local filled = lung.fill_structures(inside) -- vessels and nodules become lung, per slice
--   local airway = lung.airways(ct, filled)     -- trachea and main bronchi
--   local mask = lung.keep_lungs(filled:band(airway:bnot()), ct)
-- lung.mask(ct, opts) runs them in order. The classic tutorial's choices stay
-- available by name (background="corner", keep="largest", airways=false).
local doc = require("vol.help").doc

local lung = {}

local function check_ct(ct, fname)
  if type(ct) ~= "userdata" then
    error(("bad argument #1 to '%s' (Volume expected, got %s)"):format(fname, type(ct)), 3)
  end
  if #ct.shape ~= 3 then
    error(("bad argument #1 to '%s' (a 3-D CT expected, got %d-D)"):format(fname, #ct.shape), 3)
  end
end

function lung.air(ct, threshold)
  check_ct(ct, "air")
  return ct:lt(threshold or -320)
end

-- Air touching the four in-plane faces is outside the patient; the first and
-- last slices do not count (the trachea and cut lungs reach them): the mask
-- is padded by one empty slice at both ends before clearing the border.
local function clear_in_plane(air)
  local nz = air.shape[3]
  local padded = air:pad{before = {0, 0, 1}, after = {0, 0, 1}, value = 0}
  return padded:clear_border():crop{lo = {1, 1, 2}, hi = {air.shape[1], air.shape[2], nz + 1}}
end

function lung.inside_air(air, background)
  background = background or "sides"
  if background == "sides" then
    return clear_in_plane(air)
  elseif background == "corner" then
    -- the classic rule: the component holding voxel (1, 1, 1) is the background
    local labels = air:label()
    local corner = labels:get(1, 1, 1)
    if corner == 0 then return air:copy() end
    return air:band(labels:ne(corner))
  end
  error(("bad argument #2 to 'inside_air' (background must be \"sides\" or \"corner\", got %s)")
    :format(tostring(background)), 2)
end

function lung.fill_structures(inside)
  -- per slice, every solid island except the largest (the body and what
  -- surrounds it) is inside the lungs: vessels and nodules become lung
  local solid = inside:bnot()
  return solid:keep_largest(1, {per_slice = true}):bnot()
end

function lung.airways(ct, inside, opts)
  opts = opts or {}
  local hu = opts.airway_hu or -950
  -- air darker than lung tissue, connected (face neighbours) to the top slice
  local dark = ct:lt(hu):band(inside)
  local labels = dark:label{connectivity = 6}
  local nx, ny, nz = ct.shape[1], ct.shape[2], ct.shape[3]
  local top = labels:crop{lo = {1, 1, nz}, hi = {nx, ny, nz}}
  local keep = vol.new{shape = {nx, ny, nz}, dtype = "uint8"}
  keep:set_spacing(ct.spacing)
  local seen, any = {}, false
  -- the labels present in the top slice (few: the trachea, perhaps lung tips)
  local tl = top:label()
  local props = vol.regionprops(tl, top)
  local limit = (opts.max_area_mm2 or 800) / (ct.spacing[1] * ct.spacing[2])
  for _, r in pairs(props) do
    local id = math.floor(r.mean + 0.5)
    if r.count <= limit and id > 0 and not seen[id] then
      seen[id] = true
      keep = keep:bor(labels:eq(id))
      any = true
    end
  end
  if not any then return keep end
  return keep:dilate(vol.strel.cross(6)):band(inside) -- the partial-volume rim of the tubes
end

function lung.keep_lungs(mask, ct, opts)
  opts = opts or {}
  local keep = opts.keep or "lungs"
  if keep == "largest" then return mask:keep_largest(1) end
  if keep ~= "lungs" then
    error(("bad argument #3 to 'keep_lungs' (keep must be \"lungs\" or \"largest\", got %s)"):format(tostring(keep)), 2)
  end
  -- both lungs when the hilum separates them: the two largest components
  -- whose mean HU is lung tissue's (pure air pockets - inside a table, bowel
  -- gas - are not lung), the second only when at least a fifth of the first
  local lo, hi = table.unpack(opts.lung_hu or {-980, -400})
  local labels = mask:label()
  local sizes = {}
  for id, r in pairs(vol.regionprops(labels, ct)) do
    if r.mean > lo and r.mean < hi then sizes[#sizes + 1] = {id = id, n = r.count} end
  end
  table.sort(sizes, function(a, b) return a.n > b.n or (a.n == b.n and a.id < b.id) end)
  if #sizes == 0 then return mask:band(mask:bnot()) end
  local out = labels:eq(sizes[1].id)
  if sizes[2] and sizes[2].n >= sizes[1].n / 5 then out = out:bor(labels:eq(sizes[2].id)) end
  return out
end

function lung.mask(ct, opts)
  check_ct(ct, "mask")
  opts = opts or {}
  local air = lung.air(ct, opts.threshold)
  local inside = lung.inside_air(air, opts.background)
  local filled = opts.fill == false and inside or lung.fill_structures(inside)
  if opts.airways ~= false then
    filled = filled:band(lung.airways(ct, filled, opts):bnot())
  end
  return lung.keep_lungs(filled, ct, opts)
end

doc(lung.air, [[
lung.air(ct [, threshold=-320]) -> uint8 mask
Step 1 of the lung recipe: 1 where ct < threshold (HU): lungs, airways and the
air around the patient.]])
doc(lung.inside_air, [[
lung.inside_air(air [, background="sides"]) -> uint8 mask
Step 2: the air inside the patient. "sides": every air component touching one of
the four in-plane faces is outside (the first and last slices do not count, since
the trachea and cut lungs reach them) - this survives a patient table that crosses
the image and cuts off the air below it. "corner": the DSB2017 tutorial's rule,
the component holding voxel (1, 1, 1).]])
doc(lung.fill_structures, [[
lung.fill_structures(inside) -> uint8 mask
Step 3: per axial slice, every solid island but the largest (the body) becomes part
of the lungs, so vessels and nodules inside them are filled (the tutorial's
fill_lung_structures=True).]])
doc(lung.airways, [[
lung.airways(ct, inside [, {airway_hu=-950, max_area_mm2=800}]) -> uint8 mask
Step 4: the trachea and main bronchi: air darker than airway_hu inside the patient,
connected (face neighbours) to a small component (at most max_area_mm2) of the top
slice, grown by one voxel for the partial-volume rim.]])
doc(lung.keep_lungs, [[
lung.keep_lungs(mask, ct [, {keep="lungs", lung_hu={-980, -400}}]) -> uint8 mask
Step 5: "lungs" keeps, among the components whose mean HU lies in lung_hu (pure
air pockets such as a table's inside or bowel gas are not lung), the largest and
the second largest when it is at least a fifth of it (both lungs when the hilum
separates them); "largest" is the tutorial's single largest component.]])
doc(lung.mask, [[
lung.mask(ct [, {threshold=-320, background="sides", fill=true, airways=true,
                 airway_hu=-950, keep="lungs"}]) -> uint8 mask
The 3-D lung mask of a CT in HU, steps 1 to 5 in order. The DSB2017 tutorial is
{background="corner", airways=false, keep="largest"}.
Example:
  local lung = require "recipes.lung"
  local mask = lung.mask(vol.read("scan_dir"))]])

return lung
