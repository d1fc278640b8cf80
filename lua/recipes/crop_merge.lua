-- The crop-and-merge demos over a dataset: each case (an image file, a DICOM
-- series folder, or "-" for the synthetic chest CT) goes through
-- vol.crop_merge_compare, which writes its pictures or volumes into the
-- case's folder, beside the summary it prints (summary.txt, summary.csv).
-- scripts/crop_merge_2d and crop_merge_3d run it on util.runner
-- (recipes/crop_merge_case.lua is the runner's recipe) and end with
-- crop_merge.report, a table over the cases.
local vol = require "vol"
local csv = require "util.csv"
local doc = require("vol.help").doc

local fs = vol.fs
local crop_merge = {}

-- The case "-" of each script: a slice of the chest CT in 2-D, the whole CT
-- in 3-D, named after what it is.
crop_merge.PHANTOM = { [2] = "chest_slice", [3] = "chest" }

-- The columns of summary.csv (one row per case; OUT/summary.csv holds all).
crop_merge.COLUMNS = { "case", "input", "shape", "patch", "overlap", "unit", "voxels", "classic_patches",
  "classic_lost", "classic_lost_percent", "cover_patches", "cover_lost", "cover_wrong", "pad_patches",
  "pad_lost", "pad_wrong", "files" }

-- A folder entry that is an input: a sub-folder (a DICOM series) or a file
-- medula reads by its suffix; the .img of a .hdr/.img pair is its .hdr's.
local function is_input(path)
  local st = fs.stat(path)
  if st and st.kind == "dir" then return true end
  if path:find("%.img$") or path:find("%.img%.gz$") then return false end
  return vol.format_of(path) ~= nil
end

function crop_merge.cases(inputs, dims)
  if type(inputs) ~= "table" then error("bad argument #1 to 'cases' (a list of inputs expected)", 2) end
  dims = dims or 3
  if not crop_merge.PHANTOM[dims] then error("bad argument #2 to 'cases' (dims must be 2 or 3)", 2) end
  if #inputs == 0 then inputs = { "-" } end
  local cases, seen = {}, {}
  local function add(id, path)
    if seen[id] then
      error(("%s: two inputs are named %q (case ids must be unique)"):format(path == "-" and "\"-\"" or path, id), 0)
    end
    seen[id] = true
    cases[#cases + 1] = { id = id, path = path }
  end
  for _, p in ipairs(inputs) do
    if p == "-" then
      add(crop_merge.PHANTOM[dims], "-")
    else
      local st = fs.stat(p)
      if not st then error(p .. ": no such file or folder", 0) end
      if st.kind ~= "dir" then
        add(fs.stem(p), p)
      else
        local ok, series = pcall(vol.dicom_series, p)
        if ok and #series > 0 then
          add(fs.stem(p), p)
        else
          local before = #cases
          for _, name in ipairs(fs.list(p)) do
            local path = fs.join(p, name)
            if name:sub(1, 1) ~= "." and is_input(path) then add(fs.stem(path), path) end
          end
          if #cases == before then error(p .. ": no image file or DICOM series in this folder", 0) end
        end
      end
    end
  end
  return cases
end

doc(crop_merge.cases, [[
crop_merge.cases(inputs [, dims=3]) -> {case, ...}
The cases of the crop_merge scripts: "-" (also an empty list) is the synthetic chest
CT, id "chest" (dims=3, 256x256x120) or "chest_slice" (dims=2, one 256x256 slice); a
file is a case; a DICOM series folder is one case; any other folder gives one case
per image file (by suffix, vol.format_of) or sub-folder. Ids are the names without
folder and extension and must be unique.
  local cases = crop_merge.cases({"scans"}, 3)]])

-- The volume of a case: the file or series, or the phantom for "-".
function crop_merge.read(path, dims)
  if path == "-" then
    if dims == 2 then return vol.phantom.chest{ shape = { 256, 256, 1 } } end
    return vol.phantom.chest{}
  end
  return vol.read(path)
end

doc(crop_merge.read, [[
crop_merge.read(path [, dims=3]) -> Volume
The input of a case: vol.read(path), or for "-" the synthetic chest CT
(vol.phantom.chest{}, 256x256x120) or with dims=2 one slice of it (256x256x1).]])

local function lines_of(r, files)
  local lines = {}
  for _, line in ipairs(r.summary) do
    if not line:find("^wrote ") then lines[#lines + 1] = line end
  end
  for _, name in ipairs(files) do lines[#lines + 1] = "wrote " .. name end
  return lines
end

function crop_merge.run_case(case, out, params)
  local dims = math.tointeger(tonumber(params.dims or 3))
  if not crop_merge.PHANTOM[dims] then error("params.dims must be 2 or 3, got " .. tostring(params.dims), 0) end
  local patch, overlap = tonumber(params.patch or 96), tonumber(params.overlap or 32)
  local v = crop_merge.read(case.path, dims)
  local dir = fs.dirname(out:path("summary.txt"))
  local r = vol.crop_merge_compare(v, { patch = patch, overlap = overlap, outdir = dir })
  local files = {}
  for i, f in ipairs(r.files) do files[i] = fs.basename(f) end
  local lines = lines_of(r, files)
  local text = assert(io.open(out:path("summary.txt"), "wb"))
  text:write(table.concat(lines, "\n"), "\n")
  text:close()
  local x = function(t) return table.concat(t, "x") end
  local row = {
    -- the spatial shape the summary names (no axis of 1 for a 2-D image, no channels)
    case = case.id, input = case.path, shape = lines[1]:match("^%d%-D ([%dx]+),") or x(r.shape), patch = x(r.patch), overlap = x(r.overlap),
    unit = lines[1]:find("^2%-D") and "pixels" or "voxels", voxels = r.voxels,
    classic_patches = r.classic.patches, classic_lost = r.classic.lost,
    classic_lost_percent = ("%.1f"):format(100 * r.classic.lost_fraction),
    cover_patches = r.cover.patches, cover_lost = r.cover.lost, cover_wrong = r.cover.wrong,
    pad_patches = r.pad.patches, pad_lost = r.pad.lost, pad_wrong = r.pad.wrong, files = table.concat(files, ";"),
  }
  csv.write(out:path("summary.csv"), { row }, crop_merge.COLUMNS)
  return row
end

doc(crop_merge.run_case, [[
crop_merge.run_case(case, out, params) -> row
One case (the runner's recipe, recipes.crop_merge_case): reads case.path
(crop_merge.read, params.dims 2 or 3 for "-"), runs vol.crop_merge_compare with
params.patch (96) and params.overlap (32) into the case's folder
(crop_merge_2d_original_classic_full.png for a 2-D image,
crop_merge_3d_{classic,full,lost}.nii.gz for a volume), and writes the lines
it prints to summary.txt and its numbers to summary.csv (crop_merge.COLUMNS).]])

-- The per-case lines of a finished run as the scripts print them: a "wrote"
-- line names the file under out, as the user typed out.
local function case_lines(out, id)
  local f = io.open(fs.join(out, id, "summary.txt"), "rb")
  if not f then error(fs.join(out, id, "summary.txt") .. ": missing (rerun with --force)", 0) end
  local lines = {}
  for line in f:lines() do
    local name = line:match("^wrote (.+)$")
    lines[#lines + 1] = name and ("wrote " .. fs.join(out, id, name)) or line
  end
  f:close()
  return lines
end

function crop_merge.report(out, cases)
  local rows = {}
  for i, c in ipairs(cases) do
    local got = csv.read(fs.join(out, c.id, "summary.csv"))
    if not got[1] then error(fs.join(out, c.id, "summary.csv") .. ": no row", 0) end
    rows[i] = got[1]
  end
  local path = csv.write(fs.join(out, "summary.csv"), rows, crop_merge.COLUMNS)
  local lines = {}
  if #cases == 1 then
    lines = case_lines(out, cases[1].id)
  else
    local table_rows = { { "case", "shape", "classic recipe ('drop')", "cover/pad == input" } }
    for _, r in ipairs(rows) do
      local same = r.cover_wrong == "0" and r.pad_wrong == "0"
      table_rows[#table_rows + 1] = { r.case, r.shape,
        ("%s patches, %s of %s %s lost (%s%%)"):format(r.classic_patches, r.classic_lost, r.voxels, r.unit,
          r.classic_lost_percent),
        same and "yes" or ("NO, " .. r.cover_wrong .. " and " .. r.pad_wrong .. " differ") }
    end
    local widths = { 0, 0, 0 }
    for _, t in ipairs(table_rows) do
      for k = 1, 3 do widths[k] = math.max(widths[k], #t[k]) end
    end
    local fmt = ("%%-%ds  %%-%ds  %%-%ds  %%s"):format(widths[1], widths[2], widths[3])
    for _, t in ipairs(table_rows) do lines[#lines + 1] = fmt:format(table.unpack(t)) end
    lines[#lines + 1] = ("per case: %s; all cases: %s"):format(fs.join(out, "<case>", "summary.txt"), path)
  end
  return lines, rows
end

doc(crop_merge.report, [[
crop_merge.report(out, cases) -> lines, rows
After a run: reads every case's summary.csv, writes them all to out/summary.csv and
returns the lines the scripts print: a single case's own summary (what
vol.crop_merge_compare prints, its files under out/<case>/), or for several cases a
table with one row each (patches and voxels of the classic recipe, what it loses,
whether 'cover' and 'pad' give the input back).]])

return crop_merge
