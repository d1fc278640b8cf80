-- The DSB2017 lung recipe as named steps over medula's kernels, each a line
-- or two a user can call one by one from the REPL:
--   local lung = require "recipes.lung"
--   local air = lung.air(ct)                    -- voxels at most -320 HU
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
  -- at most the threshold, as the tutorial's solid is image > -320
  return ct:le(threshold or -320)
end

-- Air touching the four in-plane faces is outside the patient; the first and
-- last slices do not count (the trachea and cut lungs reach them): the mask
-- is padded by one empty slice at both ends before clearing the border.
local function clear_in_plane(air)
  local nz = air.shape[3]
  local padded = air:pad{before = {0, 0, 1}, after = {0, 0, 1}, value = 0}
  local cleared = padded:clear_border()
  padded:release()
  local inside = cleared:crop{lo = {1, 1, 2}, hi = {air.shape[1], air.shape[2], nz + 1}}
  cleared:release()
  return inside
end

function lung.inside_air(air, background)
  background = background or "sides"
  if background == "sides" then
    return clear_in_plane(air)
  elseif background == "corner" then
    -- the classic rule: the component holding voxel (1, 1, 1) is the background
    local labels = air:label()
    local corner = labels:get(1, 1, 1)
    if corner == 0 then labels:release(); return air:copy() end
    local outside = labels:ne(corner)
    labels:release()
    local inside = air:band(outside)
    outside:release()
    return inside
  end
  error(("bad argument #2 to 'inside_air' (background must be \"sides\" or \"corner\", got %s)")
    :format(tostring(background)), 2)
end

function lung.fill_structures(inside)
  -- per slice, every solid island except the largest (the body and what
  -- surrounds it) is inside the lungs: vessels and nodules become lung
  local solid = inside:bnot()
  local body = solid:keep_largest(1, {per_slice = true})
  solid:release()
  local filled = body:bnot()
  body:release()
  return filled
end

function lung.airways(ct, inside, opts)
  opts = opts or {}
  local hu = opts.airway_hu or -950
  -- air darker than lung tissue, connected (face neighbours) to the top slice
  local below = ct:lt(hu)
  local dark = below:band(inside)
  below:release()
  local labels = dark:label{connectivity = 6}
  dark:release()
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
      local tube = labels:eq(id)
      local both = keep:bor(tube)
      tube:release()
      keep:release()
      keep, any = both, true
    end
  end
  labels:release()
  if not any then return keep end
  local grown = keep:dilate(vol.strel.cross(6))
  keep:release()
  local rim = grown:band(inside) -- the partial-volume rim of the tubes
  grown:release()
  return rim
end

function lung.keep_lungs(mask, ct, opts)
  opts = opts or {}
  local keep = opts.keep or "lungs"
  if keep == "largest" then return mask:keep_largest(1) end
  if keep ~= "lungs" then
    error(("bad argument #3 to 'keep_lungs' (keep must be \"lungs\" or \"largest\", got %s)"):format(tostring(keep)), 2)
  end
  -- both lungs when the hilum separates them: the largest component whose
  -- mean HU is lung tissue's (pure air pockets - inside a table, bowel gas -
  -- are not lung), and the next largest when it is at least a fifth of it
  -- and lies on the other side of the body's midline (a lung, not a pocket
  -- under the patient)
  local lo, hi = table.unpack(opts.lung_hu or {-980, -400})
  local labels = mask:label()
  local cands = {}
  for id, r in pairs(vol.regionprops(labels, ct)) do
    if r.mean > lo and r.mean < hi then cands[#cands + 1] = {id = id, n = r.count, cx = r.centroid[1]} end
  end
  table.sort(cands, function(a, b) return a.n > b.n or (a.n == b.n and a.id < b.id) end)
  if #cands == 0 then labels:release(); return mask:band(mask:bnot()) end
  local first = cands[1]
  local out = labels:eq(first.id)
  local mid, width = (mask.shape[1] + 1) / 2, mask.shape[1]
  for i = 2, #cands do
    local c = cands[i]
    if c.n < first.n / 5 then break end
    local apart = (c.cx - mid) * (first.cx - mid) < 0 and math.abs(c.cx - mid) > 0.1 * width
    if apart then
      local other = labels:eq(c.id)
      local both = out:bor(other)
      other:release()
      out:release()
      out = both
      break
    end
  end
  labels:release()
  return out
end

function lung.mask(ct, opts)
  check_ct(ct, "mask")
  opts = opts or {}
  -- each intermediate mask is released as soon as the next step has used
  -- it: a few uint8 volumes live at a time, whatever the garbage collector does
  local air = lung.air(ct, opts.threshold)
  local inside = lung.inside_air(air, opts.background)
  air:release()
  local filled = inside
  if opts.fill ~= false then
    filled = lung.fill_structures(inside)
    inside:release()
  end
  if opts.airways ~= false then
    local airway = lung.airways(ct, filled, opts)
    local open = airway:bnot()
    airway:release()
    local without = filled:band(open)
    open:release()
    filled:release()
    filled = without
  end
  local out = lung.keep_lungs(filled, ct, opts)
  filled:release()
  return out
end

-- ---- the 2-D recipe --------------------------------------------------------------

-- The LUNA16 tutorial's get_segmented_lungs, on every axial slice: threshold,
-- clear the border, keep the two largest regions (ties="classic": every
-- region at least as large as the second largest, as the tutorial's loop
-- does), erode with disk(2), close with disk(10), Roberts edges, fill holes.
function lung.mask_2d(ct, opts)
  check_ct(ct, "mask_2d")
  opts = opts or {}
  local cleared = ct:lt(opts.threshold or -400):clear_border{per_slice = true}
  local kept
  if opts.ties == "classic" then
    local labels = cleared:label{per_slice = true}
    local by_slice = {}
    for id, r in pairs(vol.regionprops(labels)) do
      local z = r.bbox[3]
      local list = by_slice[z] or {}
      by_slice[z] = list
      list[#list + 1] = {id = id, n = r.count}
    end
    local drop = {}
    for _, list in pairs(by_slice) do
      if #list > 2 then
        table.sort(list, function(a, b) return a.n > b.n end)
        local second = list[2].n
        for _, r in ipairs(list) do if r.n < second then drop[r.id] = 0 end end
      end
    end
    kept = next(drop) and labels:replace(drop):gt(0) or labels:gt(0)
  else
    kept = cleared:keep_largest(2, {per_slice = true})
  end
  local closed = kept:erode(vol.strel.disk(2), {per_slice = true}):close(vol.strel.disk(10), {per_slice = true})
  return closed:roberts():gt(0):fill_holes{per_slice = true}
end

doc(lung.mask_2d, [[
lung.mask_2d(ct [, {threshold=-400, ties="two"|"classic"}]) -> uint8 mask
The LUNA16 tutorial's per-slice recipe (get_segmented_lungs) on every axial slice:
HU below threshold, clear_border, the two largest regions (ties="classic": every
region at least as large as the second largest, the tutorial's own rule), erosion
with disk(2), closing with disk(10), Roberts edges, fill holes.]])

-- ---- the whole workflow for one scan ------------------------------------------

-- Step 0: the scan in HU. The padding rule only concerns DICOM (the other
-- formats store HU already and have no padding to replace).
function lung.read(path, opts)
  opts = opts or {}
  local padding = opts.padding or "air"
  if padding ~= "air" and padding ~= "intercept" then
    error(("bad argument #2 to 'read' (padding must be \"air\" or \"intercept\", got %s)"):format(tostring(padding)), 2)
  end
  if padding ~= "air" and not vol.format_of(path) then
    return vol.read(path, {padding = padding})
  end
  return vol.read(path)
end

-- The steps after the mask: dilation, normalisation, the crop to the lungs.
function lung.prepare(ct, mask, opts)
  opts = opts or {}
  local dilated = mask
  if (opts.dilate_mm or 5) > 0 then
    dilated = mask:dilate(opts.strel or vol.strel.ball_mm(opts.dilate_mm or 5, ct))
  end
  -- the box first: the float32 arithmetic below then runs on the crop only
  -- (voxel by voxel, so the values are those of the whole volume's)
  local crop_mask, box = dilated:crop_to_nonzero{margin = opts.margin_vox or 5}
  if dilated ~= mask then dilated:release() end
  -- the DSB2017 normalise: [-1000, 400] HU to [0, 1], clipped, then zero-centred
  local lo, hi = table.unpack(opts.window or {-1000, 400})
  local hu = ct:crop(box)
  local img = hu:astype("float32")
  hu:release()
  -- in place: the same float32 results as img - lo, then * (1 / (hi - lo))
  img:sub(lo):mul(1 / (hi - lo))
  local clipped = img:clamp(0, 1)
  img:release()
  img = clipped:sub(opts.pixel_mean or 0.25)
  return img, crop_mask, box
end

-- A montage of every k-th axial slice of the prepared image with the mask's
-- outline, for a look before training.
function lung.pictures(img, mask, path, opts)
  opts = opts or {}
  local n = img.shape[3]
  return vol.montage(img, {every = opts.every or math.max(1, n // 16), range = {-0.25, 0.75}, cmap = "bone",
                           overlay = mask, contour = true, labels = true, path = path})
end

-- One case of the runner: reads case.path (a DICOM series folder or any
-- image file), resamples, masks, prepares and writes image and mask as
-- .npy ((z, y, x), SimpleITK's array order) and .nii.gz.
function lung.run_case(case, out, params)
  params = params or {}
  local ct = lung.read(case.path, {padding = params.padding})
  local s = params.spacing or 1
  if s > 0 then
    if params.resample == "dsb" then
      ct = ct:resample_dsb{s, s, s}
    else
      ct = ct:resample{spacing = {s, s, s}, interpolation = "linear"}
    end
  end
  local mask
  if params.mask == "2d" then -- the tutorial's per-slice recipe instead of the 3-D mask
    mask = lung.mask_2d(ct, {ties = params.ties})
  else
    mask = lung.mask(ct, {background = params.background, keep = params.keep,
                          airways = params.airways ~= false and params.airways ~= 0})
  end
  local dilate_mm = params.dilate_mm or 5
  local strel
  if params.resample == "dsb" and s > 0 and dilate_mm > 0 then
    -- the tutorial's grid is s mm only nominally (1.002 mm for 0.7 mm pixels
    -- made 1 mm): the ball counts nominal voxels, as ball(5) does in Python
    strel = vol.strel.ball(math.floor(dilate_mm / s + 0.5))
  end
  local img, dilated = lung.prepare(ct, mask, {dilate_mm = dilate_mm, strel = strel})
  ct:release()
  img:write(out:path("image.npy"))
  dilated:write(out:path("mask.npy"))
  if params.npy_only == 1 then
    mask:write(out:path("lungs.npy"))
  else
    img:write(out:path("image.nii.gz"))
    dilated:write(out:path("mask.nii.gz"))
    mask:write(out:path("lungs.nii.gz"))
    if params.pictures ~= 0 then lung.pictures(img, dilated, out:path("montage.png")) end
  end
  local lungs = mask
  return {voxels = lungs:stats().sum, shape = table.concat(img.shape, "x")}
end

-- The cases of lung_segment's inputs: a file is a case; a folder holding
-- DICOM files is one case (a series); any other folder gives a case per entry.
function lung.cases(inputs)
  local fs, cases, seen = vol.fs, {}, {}
  local function add(path)
    local id = fs.stem(path)
    if seen[id] then error(("%s: two inputs are named %q (case ids must be unique)"):format(path, id), 0) end
    seen[id] = true
    cases[#cases + 1] = {id = id, path = path}
  end
  for _, p in ipairs(inputs) do
    local st = fs.stat(p)
    if not st then error(p .. ": no such file or folder", 0) end
    if st.kind == "dir" then
      local entries = fs.list(p)
      local ok, series = pcall(vol.dicom_series, p)
      if ok and #series > 0 then
        add(p)
      else
        for _, name in ipairs(entries) do
          if name:sub(1, 1) ~= "." then add(fs.join(p, name)) end
        end
      end
    else
      add(p)
    end
  end
  return cases
end

doc(lung.read, [[
lung.read(path [, {padding="air"}]) -> Volume
Step 0: a scan in HU (a DICOM series folder or file, or any image file). For
DICOM, padding="air" makes the padding (stored -2000, PixelPaddingValue) -1024
HU, medula's rule; "intercept" is the DSB2017 tutorial's get_pixels_hu, which
sets stored -2000 to 0 before the rescale so it becomes RescaleIntercept (0 HU,
soft tissue, on scanners whose intercept is 0). Other formats are read as they are.]])
doc(lung.prepare, [[
lung.prepare(ct, mask [, {dilate_mm=5, strel=nil, window={-1000, 400}, pixel_mean=0.25, margin_vox=5}])
  -> image, dilated_mask, box
The steps after the mask: the mask dilated by a ball of dilate_mm on ct's grid, or by
strel when given (so nodules on the pleura stay inside), the CT normalised as the DSB2017 tutorial does ([-1000, 400] HU
to [0, 1], clipped, minus pixel_mean) as float32, and both cropped to the dilated
mask's box grown by margin_vox voxels.]])
doc(lung.pictures, [[
lung.pictures(img, mask, path [, {every=}]) -> picture
A montage of every k-th axial slice (about 16 in all) of the prepared image (bone
colours over its [-0.25, 0.75] range) with the mask's outline, written to path.]])
doc(lung.run_case, [[
lung.run_case(case, out, params) -> summary
The lung_segment workflow for one scan (the runner's recipe): reads case.path
(params.padding for a DICOM series: "air", -2000 and PixelPaddingValue become
-1024 HU, or "intercept", the tutorial's get_pixels_hu), resamples to
params.spacing mm (1; resample="dsb" for the tutorial's resample), masks
(params.background, keep, airways), prepares and writes image.npy/.nii.gz,
mask.npy/.nii.gz (dilated, cropped), lungs.nii.gz (the lung mask before the crop)
and montage.png (slices with the mask's outline; params.pictures=0 skips it);
params.npy_only=1 writes image.npy, mask.npy and lungs.npy only; params.mask="2d"
uses lung.mask_2d (params.ties) instead of the 3-D mask.]])
doc(lung.cases, [[
lung.cases(inputs) -> {case, ...}
The cases of lung_segment's inputs: a file is a case, a folder holding a DICOM series
is one case, any other folder gives one case per entry (series folders, .mhd files).]])

doc(lung.air, [[
lung.air(ct [, threshold=-320]) -> uint8 mask
Step 1 of the lung recipe: 1 where ct <= threshold (HU; the tutorial's solid is
image > -320): lungs, airways and the air around the patient.]])
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
the next largest that is at least a fifth of it and lies on the other side of the
image's left-right middle (both lungs when the hilum separates them; a pocket
under the patient sits in the middle); "largest" is the tutorial's single largest
component.]])
doc(lung.mask, [[
lung.mask(ct [, {threshold=-320, background="sides", fill=true, airways=true,
                 airway_hu=-950, keep="lungs"}]) -> uint8 mask
The 3-D lung mask of a CT in HU, steps 1 to 5 in order. The DSB2017 tutorial is
{background="corner", airways=false, keep="largest"}.
Example:
  local lung = require "recipes.lung"
  local mask = lung.mask(vol.read("scan_dir"))]])

return lung
