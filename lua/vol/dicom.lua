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
                keep_padding = true, padding = true, dtype = true, layout = true, skip_damaged = true}
  local VALID = "recursive, format, progress, allow_nonuniform, keep_padding, padding, dtype, layout, skip_damaged"
  local FORMATS = {["nii.gz"] = "dcm2niix", nii = "dcm2niix", mhd = "lps", mha = "lps"}

  -- The series list of src, with a bar over the files whose headers are read.
  local function scan(src, opts)
    local bar
    local function progress(done, total)
      if opts.progress == false or not vol.progress then return end
      bar = bar or vol.progress(total, "dicom scan")
      bar:step(done - bar.count)
    end
    local list = vol.dicom_series(src, {recursive = opts.recursive ~= false, progress = progress})
    if bar then bar:done() end
    return list
  end

  vol.dicom_convert = doc(function(src, dst, opts)
    if type(src) ~= "string" or type(dst) ~= "string" then
      error("dicom_convert: source and destination folders expected", 2)
    end
    opts = opts or {}
    for k in pairs(opts) do
      if not KEYS[k] then
        error("dicom_convert: unknown option '" .. tostring(k) .. "' (valid: " .. VALID .. ")", 2)
      end
    end
    local ext = opts.format or "nii.gz"
    if not FORMATS[ext] then
      error("dicom_convert: format must be nii.gz, nii, mhd or mha (got '" .. tostring(ext) .. "')", 2)
    end
    local layout = opts.layout or FORMATS[ext]
    if layout ~= "dcm2niix" and layout ~= "lps" then
      error("dicom_convert: layout must be \"dcm2niix\" or \"lps\" (got '" .. tostring(layout) .. "')", 2)
    end
    src = src:gsub("/+$", "")
    local list = scan(src, opts)
    if #list.damaged > 0 and not opts.skip_damaged then
      local d = list.damaged[1]
      error(("dicom_convert: %s is damaged: %s (%d damaged files; convert the others with "
        .. "skip_damaged=true)"):format(d.path, d.error, #list.damaged), 2)
    end
    vol.fs.mkdir(dst)
    local nfiles = 0
    for _, s in ipairs(list) do nfiles = nfiles + s.nfiles end
    local bar = opts.progress ~= false and vol.progress and vol.progress(nfiles, "dicom") or nil
    local results, used = {}, {}
    local before = 0 -- files of the series converted before this one
    local function step(done) -- the bar advances as the files of a series are decoded
      if bar then bar:step(before + done - bar.count) end
    end
    for _, s in ipairs(list) do
      local r = {id = s.id, description = s.description, nfiles = s.nfiles}
      local ok, err = pcall(function()
        local v <close> = vol.read_dicom(s.files, {progress = bar and step or nil,
          allow_nonuniform = opts.allow_nonuniform, keep_padding = opts.keep_padding, padding = opts.padding,
          dtype = opts.dtype})
        local name = out_name(src, s, ext)
        local stem, n = name:sub(1, -#ext - 2), 1
        while used[name] do -- two series that would share a name
          n = n + 1
          name = ("%s_%d.%s"):format(stem, n, ext)
        end
        used[name] = true
        r.path = dst .. "/" .. name
        if layout == "dcm2niix" then -- rows flipped, world kept: dcm2niix's array
          local f <close> = v:flip(2)
          f:write(r.path)
        else
          v:write(r.path)
        end
        r.shape = v.shape
      end)
      if not ok then r.error = tostring(err):gsub("^[^:]*%.lua:%d+: ", "") end
      results[#results + 1] = r
      before = before + s.nfiles
      step(0)
    end
    if bar then bar:done() end
    results.skipped = list.skipped
    results.skipped_files = list.skipped_files
    results.damaged = list.damaged
    return results
  end, [[
vol.dicom_convert(src, dst [, opts]) -> results
Converts every series found under folder src (sub-folders included unless
recursive=false) to one file each in dst, named from the folder, modality,
description and UID. opts: format="nii.gz" (or "nii", "mhd", "mha"),
layout ("dcm2niix" for NIfTI, "lps" for MetaImage: "dcm2niix" writes
dcm2niix's array, rows flipped (axis 2 reversed, world positions kept), so
the file equals dcm2niix's voxel for voxel; "lps" writes vol.read_dicom's
array as it is), allow_nonuniform, keep_padding, padding, dtype (as vol.read_dicom),
skip_damaged=false (a file that starts like DICOM but cannot be read stops
the conversion, naming it; true: convert without it), progress=true (bars
on stderr when it is a terminal: headers scanned, then files decoded and
written, both advancing every few files).
A series that cannot be read is reported, not fatal: results[i] = {id,
description, nfiles, path, shape} or {id, ..., error}. results.skipped
counts files that are not DICOM images (results.skipped_files lists them),
results.damaged lists {path, error} of the damaged files skipped.
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
    local lines = {("%d series, %d other files, %d damaged files in %s"):format(#list, list.skipped,
      #list.damaged, dir)}
    for _, d in ipairs(list.damaged) do lines[#lines + 1] = ("! damaged %s: %s"):format(d.path, d.error) end
    local tab = vol.dicom_table(list)
    table.move(tab, 1, #tab, #lines + 1, lines)
    lines[#lines + 1] = ""
    lines[#lines + 1] = "tags of " .. chosen.id .. " (" .. chosen.files[1] .. "):"
    local tags = vol.dicom_tags(vol.dicom_header(chosen.files[1]))
    table.move(tags, 1, #tags, #lines + 1, lines)
    return lines
  end, [[
vol.dicom_info(dir [, series_id]) -> {lines}
What scripts/dicom_info.lua prints: the number of series, other files and
damaged files (each damaged one named, with its problem), the series of
folder dir (sub-folders included) as vol.dicom_table gives them, then the
tags of one series (the first, or the one whose id is given) from its
first file.]])

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
