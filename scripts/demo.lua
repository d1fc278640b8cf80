-- medula scripts/demo.lua [OUTDIR] (make demo): a tour on a synthetic chest
-- CT. Makes the phantom, writes it as NIfTI, MetaImage and NumPy, reads every
-- file back and checks it equals the original, and prints what it did.
-- The demo is a list of steps (below); a later feature adds its own step.
local outdir = arg[1] or "build/demo"


local function file_size(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local n = f:seek("end")
  f:close()
  return n
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

local steps = {
  {"make the phantom", make_phantom},
  {"write it in three formats", write_files},
  {"read every file back and compare", read_back},
  {"crop into 96-voxel patches overlapping by 32, merge back: classic recipe vs full coverage", crop_merge},
}

vol._mkdir_p(outdir)
print(("medula demo -> %s/"):format(outdir))
local state = {}
for i, step in ipairs(steps) do
  print(("%d. %s"):format(i, step[1]))
  step[2](state)
end
print("all files read back equal to the original")
