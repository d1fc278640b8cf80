-- The Lua half of the DICOM area: converting a whole folder tree of DICOM
-- series to NIfTI/MetaImage files (vol.dicom_convert) and the text tables
-- scripts/dicom_info.lua prints (vol.dicom_table, vol.dicom_tags). Reading,
-- scanning and ordering are the C reader's (vol.read_dicom, vol.dicom_series).
return function(vol)
  local doc = vol.doc

  local function sanitize(s)
    s = (s or ""):gsub("[^%w%-]+", "_"):gsub("^_+", ""):gsub("_+$", "")
    return s ~= "" and s or "series"
  end

  local function dirname(path)
    return path:match("^(.*)/[^/]*$") or "."
  end

  -- Output name of a series: folder of its first file relative to src, then
  -- description, modality and the end of the UID (the id's "#n" kept).
  local function out_name(src, s, ext)
    local rel = dirname(s.files[1]):sub(#src + 2)
    local tail = s.uid:match("([^.]+)$") or "x"
    local part = s.id:match("#(%d+)$")
    local name = ("%s_%s_%s%s"):format(sanitize(s.modality), sanitize(s.description), tail,
      part and ("_" .. part) or "")
    return (rel ~= "" and (sanitize(rel:gsub("/", "_")) .. "_") or "") .. name .. "." .. ext
  end

  local KEYS = {recursive = true, format = true, progress = true, allow_nonuniform = true,
                keep_padding = true, dtype = true}

  vol.dicom_convert = doc(function(src, dst, opts)
    if type(src) ~= "string" or type(dst) ~= "string" then
      error("dicom_convert: source and destination folders expected", 2)
    end
    opts = opts or {}
    for k in pairs(opts) do
      if not KEYS[k] then
        error("dicom_convert: unknown option '" .. tostring(k) .. "' (valid: recursive, format, progress, "
          .. "allow_nonuniform, keep_padding, dtype)", 2)
      end
    end
    local ext = opts.format or "nii.gz"
    src = src:gsub("/+$", "")
    local list = vol.dicom_series(src, {recursive = opts.recursive ~= false})
    os.execute("mkdir -p '" .. dst:gsub("'", "'\\''") .. "'")
    local bar = opts.progress ~= false and vol.progress and vol.progress(#list, "dicom") or nil
    local results, used = {}, {}
    for _, s in ipairs(list) do
      local r = {id = s.id, description = s.description, nfiles = s.nfiles}
      local ok, err = pcall(function()
        local v <close> = vol.read_dicom(s.files, {
          allow_nonuniform = opts.allow_nonuniform, keep_padding = opts.keep_padding, dtype = opts.dtype})
        local name = out_name(src, s, ext)
        local stem, n = name:sub(1, -#ext - 2), 1
        while used[name] do -- two series that would share a name
          n = n + 1
          name = ("%s_%d.%s"):format(stem, n, ext)
        end
        used[name] = true
        r.path = dst .. "/" .. name
        v:write(r.path)
        r.shape = v.shape
      end)
      if not ok then r.error = tostring(err):gsub("^[^:]*%.lua:%d+: ", "") end
      results[#results + 1] = r
      if bar then bar:step() end
    end
    if bar then bar:done() end
    results.skipped = list.skipped
    return results
  end, [[
vol.dicom_convert(src, dst [, opts]) -> results
Converts every series found under folder src (sub-folders included unless
recursive=false) to one file each in dst, named from the folder, modality,
description and UID. opts: format="nii.gz" (or "nii", "mhd", "mha"),
allow_nonuniform, keep_padding, dtype (as vol.read_dicom), progress=true
(a bar on stderr when it is a terminal). A series that cannot be read is
reported, not fatal: results[i] = {id, description, nfiles, path, shape} or
{id, ..., error}. results.skipped counts files that are not DICOM images.
Example: for _, r in ipairs(vol.dicom_convert("dsb/", "nii/")) do print(r.path or r.error) end]])

  vol.dicom_table = doc(function(list)
    local lines = {("%-4s %-8s %6s %-14s %-4s  %s"):format("#", "modality", "files", "dims", "orient", "description / id")}
    for i, s in ipairs(list) do
      lines[#lines + 1] = ("%-4d %-8s %6d %-14s %-4s  %s"):format(i, s.modality, s.nfiles,
        table.concat(s.dims, "x"), s.orientation, s.description)
      lines[#lines + 1] = ("%-4s %s"):format("", s.id)
      if s.problem or s.warning then lines[#lines + 1] = ("%-4s ! %s"):format("", s.problem or s.warning) end
      if s.tilt_deg then lines[#lines + 1] = ("%-4s ! gantry tilt %.2f degrees"):format("", s.tilt_deg) end
    end
    return lines
  end, [[
vol.dicom_table(list) -> {lines}
The series list of vol.dicom_series as text lines: modality, number of files,
dims, orientation, description and id, with any problem or tilt.]])

  vol.dicom_info = doc(function(dir, id)
    if type(dir) ~= "string" then error("dicom_info: a folder expected", 2) end
    local list = vol.dicom_series(dir, {recursive = true})
    local chosen = list[1]
    for _, s in ipairs(list) do
      if s.id == id then chosen = s end
    end
    if id and chosen.id ~= id then error("dicom_info: no series " .. id .. " in " .. dir, 2) end
    local lines = {("%d series, %d other files in %s"):format(#list, list.skipped, dir)}
    local tab = vol.dicom_table(list)
    table.move(tab, 1, #tab, #lines + 1, lines)
    lines[#lines + 1] = ""
    lines[#lines + 1] = "tags of " .. chosen.id .. " (" .. chosen.files[1] .. "):"
    local tags = vol.dicom_tags(vol.dicom_header(chosen.files[1]))
    table.move(tags, 1, #tags, #lines + 1, lines)
    return lines
  end, [[
vol.dicom_info(dir [, series_id]) -> {lines}
What scripts/dicom_info.lua prints: the series of folder dir (sub-folders
included) as vol.dicom_table gives them, then the tags of one series (the
first, or the one whose id is given) from its first file.]])

  vol.dicom_tags = doc(function(tags)
    local numbered = {}
    for k in pairs(tags) do
      if k:match("^%x%x%x%x,%x%x%x%x$") then numbered[#numbered + 1] = k end
    end
    table.sort(numbered)
    local lines = {}
    for _, k in ipairs(numbered) do
      lines[#lines + 1] = ("(%s) %-28s %s"):format(k, vol.dicom_keyword(k) or "", tags[k])
    end
    return lines
  end, [[
vol.dicom_tags(tags) -> {lines}
The table of vol.dicom_header (or a DICOM volume's v.meta) as sorted lines
"(GGGG,EEEE) Keyword value".]])
end
