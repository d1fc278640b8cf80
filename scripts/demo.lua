-- medula scripts/demo.lua [OUTDIR] (make demo): a tour on a synthetic chest
-- CT. Makes the phantom, writes it as NIfTI, MetaImage and NumPy, reads every
-- file back and checks it equals the original, crops and merges patches, then
-- runs the bundled workflows on small generated datasets and scores them
-- against the generator's truth; prints what it did.
-- The demo is a list of steps (below); a later feature adds its own step.
local vol = require "vol"
local cli = require "util.cli"

local outdir -- set from the arguments below

local function file_size(path)
  local st = vol.fs.stat(path)
  return st and st.size
end

local function human(bytes)
  if bytes >= 1048576 then return ("%.1f MB"):format(bytes / 1048576) end
  return ("%.1f kB"):format(bytes / 1024)
end

local function say(fmt, ...) io.write(("   " .. fmt .. "\n"):format(...)) end

local function dims(v) return table.concat(v.shape, "x") end

-- Each step gets the shared state and adds to it.
local function make_phantom(st)
  st.ct = vol.phantom.chest{seed=1}
  local ct, s = st.ct, st.ct:stats()
  say("chest CT phantom %s %s, spacing %s mm", dims(ct), ct.dtype, table.concat(ct.spacing, "x"))
  say("HU: min %d  max %d  mean %.1f  std %.1f", s.min, s.max, s.mean, s.std)
  local n = s.count
  local parts = {}
  for _, c in ipairs{{"outside scanner", -2000}, {"air", -1000}, {"lung", -850}, {"table", 150},
                     {"bone", 700}, {"nodule", 25}} do
    parts[#parts + 1] = ("%s %.2f%%"):format(c[1], 100 * st.ct:eq(c[2]):stats().sum / n)
  end
  say("%s", table.concat(parts, ", "))
end

local formats = {
  {file="chest.nii.gz", what="NIfTI-1, gzip", geometry=true},
  {file="chest.mhd", extra="chest.raw", what="MetaImage, detached raw data", geometry=true},
  {file="chest.npy", what="NumPy array (values only, no geometry)"},
}

local function write_files(st)
  for _, f in ipairs(formats) do
    local path = outdir .. "/" .. f.file
    st.ct:write(path)
    local size = file_size(path) + (f.extra and file_size(outdir .. "/" .. f.extra) or 0)
    local name = f.file .. (f.extra and (" + " .. f.extra) or "")
    say("%-24s %10s  %s", name, human(size), f.what)
  end
end

local function same_geometry(a, b)
  for ax = 1, 3 do
    if math.abs(a.spacing[ax] - b.spacing[ax]) > 1e-5 or math.abs(a.origin[ax] - b.origin[ax]) > 1e-4 then
      return false
    end
    for r = 1, 3 do
      if math.abs(a.direction[r][ax] - b.direction[r][ax]) > 1e-6 then return false end
    end
  end
  return true
end

local function read_back(st)
  local ct = st.ct
  for _, f in ipairs(formats) do
    local back = vol.read(outdir .. "/" .. f.file)
    local ok = dims(back) == dims(ct) and back.dtype == ct.dtype and back:ne(ct):stats().sum == 0
    local geo = not f.geometry or same_geometry(back, ct)
    say("%-24s %s %s, %s", f.file, dims(back), back.dtype,
        ok and (f.geometry and (geo and "voxels and geometry equal" or "GEOMETRY DIFFERS")
                or "voxels equal") or "VOXELS DIFFER")
    if not (ok and geo) then st.failed = (st.failed or 0) + 1 end
  end
  if st.failed then error(("%d file(s) did not read back equal to the original"):format(st.failed), 0) end
end

-- Overlapping patches cut and merged back, in 2-D (a PNG slice) and 3-D
-- (the NIfTI file): the classic recipe loses the far borders, 'cover' and
-- 'pad' keep every voxel (vol.crop_merge_compare, as scripts/crop_merge_*).
local function crop_merge(st)
  local png = outdir .. "/chest_slice.png"
  vol.phantom.chest{shape={256, 256, 1}, seed=1}:write_png(png, {window={-1000, 400}})
  for _, v in ipairs{vol.read(png), vol.read(outdir .. "/chest.nii.gz")} do
    local r = vol.crop_merge_compare(v, {outdir=outdir})
    for _, line in ipairs(r.summary) do say("%s", line) end
    if r.cover.wrong + r.pad.wrong > 0 then error("crop and merge did not give the input back", 0) end
  end
end

-- The bundled workflows on small generated datasets, scored against the
-- generator's truth (scripts lung_segment, luna_masks, nfbs_prep run the
-- same recipes over whole folders).
local function workflows(st)
  local dataset, runner = require "recipes.dataset", require "util.runner"
  local lung, luna, nfbs = require "recipes.lung", require "recipes.luna", require "recipes.nfbs"
  local fs = vol.fs
  local data = fs.join(outdir, "data")
  dataset.make("dsb", {out = fs.join(data, "dsb"), cases = 2, seed = 1, shape = {96, 96, 48}})
  dataset.make("luna", {out = fs.join(data, "luna"), cases = 2, seed = 1, shape = {96, 96, 48}})
  dataset.make("nfbs", {out = fs.join(data, "nfbs"), cases = 2, seed = 1, head_shape = {64, 76, 64}})
  say("generated 2 DSB-style DICOM series, 2 LUNA-style scans and 2 NFBS subjects in %s", data)
  -- lung_segment
  local out = fs.join(outdir, "lungs")
  local s = runner.run{recipe = "recipes.lung_case", out = out, log = false, force = true,
                       cases = lung.cases({fs.join(data, "dsb", "dsb0001"), fs.join(data, "dsb", "dsb0002")}),
                       params = {spacing = 2}}
  for _, id in ipairs({"dsb0001", "dsb0002"}) do
    local m = vol.read(fs.join(out, id, "lungs.nii.gz"))
    local t = vol.read(fs.join(data, "dsb", "truth", id .. "_lung.nii.gz")):astype("float32")
    t = t:resample{reference = m, interpolation = "linear"}:ge(0.5)
    say("lung_segment %s: lung mask Dice %.3f against the truth", id, 2 * m:band(t):stats().sum / (m:stats().sum + t:stats().sum))
  end
  -- luna_masks
  local ann = luna.read_annotations(fs.join(data, "luna", "annotations.csv"))
  out = fs.join(outdir, "luna_masks")
  s = runner.run{recipe = "recipes.luna_case", input = fs.join(data, "luna"), pattern = "*.mhd", out = out,
                 log = false, force = true, params = {annotations = fs.absolute(fs.join(data, "luna", "annotations.csv"))}}
  local worst, count = 0, 0
  for uid, nodules in pairs(ann) do
    local m = vol.read(fs.join(out, uid, uid .. "_nodule_mask.nii.gz"))
    for _, r in pairs(vol.regionprops((m:label()))) do
      local best = math.huge
      for _, n in ipairs(nodules) do
        local w = r.centroid_world
        best = math.min(best, math.sqrt((w[1] - n.x) ^ 2 + (w[2] - n.y) ^ 2 + (w[3] - n.z) ^ 2))
      end
      worst, count = math.max(worst, best), count + 1
    end
  end
  say("luna_masks: %d nodule balls, centres within %.2f mm of their annotations", count, worst)
  -- nfbs_prep (N4 when this build has it)
  out = fs.join(outdir, "nfbs")
  local cases = {}
  for _, sub in ipairs(nfbs.subjects(fs.join(data, "nfbs"))) do cases[#cases + 1] = {id = sub.id, t1 = sub.t1, mask = sub.mask} end
  s = runner.run{recipe = "recipes.nfbs_case", out = out, cases = cases, log = false, force = true,
                 params = {n4 = vol.Volume.n4 and 1 or 0}}
  local img = vol.read(fs.join(out, cases[1].id, "image.nii.gz"))
  say("nfbs_prep: %d subjects on the %s grid at %g mm%s", #cases, table.concat(img.shape, "x"), img.spacing[1],
      vol.Volume.n4 and ", N4-corrected" or "")
  if s.exit ~= 0 then error("a workflow failed", 0) end
end

local steps = {
  {"make the phantom", make_phantom},
  {"write it in three formats", write_files},
  {"read every file back and compare", read_back},
  {"crop into 96-voxel patches overlapping by 32, merge back: classic recipe vs full coverage", crop_merge},
  {"the bundled workflows on generated datasets, against their truth", workflows},
}

cli.main("demo", function()
  local args = cli.parse(arg, {
    name = "demo",
    summary = "A tour on a synthetic chest CT: writes it in three formats, reads every file back and\n"
      .. "compares, crops and merges patches in 2-D and 3-D, then runs the bundled workflows on\n"
      .. "generated datasets and scores them against the truth.",
    positional = { { name = "OUTDIR", optional = true, default = "build/demo", help = "where the files go" } },
  })
  outdir = args.outdir
  vol.fs.mkdir(outdir)
  print(("medula demo -> %s/"):format(outdir))
  local state = {}
  for i, step in ipairs(steps) do
    print(("%d. %s"):format(i, step[1]))
    step[2](state)
  end
  print("all files read back equal to the original")
end)
