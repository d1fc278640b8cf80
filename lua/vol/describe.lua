-- vol.describe(v [, path]): the lines of a human-readable summary of a volume
-- (format, dtype, shape, geometry, orientation, value statistics, file size),
-- as scripts/info.lua prints them. Formatting only; the numbers come from
-- the binding (v.shape, v:orientation(), v:stats()).
local doc = require("vol.help").doc

local function nums(t, sep)
  local out = {}
  for i, x in ipairs(t) do
    out[i] = string.format("%.6g", x)
  end
  return table.concat(out, sep)
end

local function file_size(path)
  local f = path and io.open(path, "rb")
  if not f then
    return nil
  end
  local size = f:seek("end")
  f:close()
  return size
end

local function human(bytes)
  local units, x, i = { "B", "KiB", "MiB", "GiB", "TiB" }, bytes, 1
  while x >= 1024 and i < #units do
    x, i = x / 1024, i + 1
  end
  return i == 1 and string.format("%d B", bytes) or string.format("%.1f %s (%d bytes)", x, units[i], bytes)
end

local function describe(v, path)
  local format_of = require("vol.core").format_of
  local meta = v.meta
  local st = v:stats()
  local rows = {}
  for _, r in ipairs(v.direction) do
    rows[#rows + 1] = nums(r, " ")
  end
  local lines = {
    path,
    "  format       " .. (meta.format or (path and format_of and format_of(path)) or "unknown"),
    "  dtype        " .. v.dtype,
    "  shape        " .. table.concat(v.shape, " x "),
    "  spacing      " .. nums(v.spacing, " x ") .. " mm",
    "  origin       (" .. nums(v.origin, ", ") .. ") mm, LPS",
    "  direction    [" .. table.concat(rows, "; ") .. "]",
    "  orientation  " .. v:orientation(),
    string.format("  values       min %.6g  max %.6g  mean %.6g  std %.6g", st.min, st.max, st.mean, st.std),
  }
  if st.nonfinite and st.nonfinite > 0 then
    lines[#lines + 1] = string.format("  non-finite   %d voxels", st.nonfinite)
  end
  local size = file_size(path)
  if size then
    lines[#lines + 1] = "  file size    " .. human(size)
    -- a detached MetaImage header: its data file holds the voxels
    local data = meta.format == "MetaImage" and meta.ElementDataFile
    if data and data ~= "LOCAL" and not data:find("%s") then
      local dsize = file_size((path:match("^(.*/)") or "") .. data)
      if dsize then
        lines[#lines] = lines[#lines] .. " header, " .. human(dsize) .. " in " .. data
      end
    end
  end
  if path == nil then
    table.remove(lines, 1)
    table.insert(lines, 1, tostring(v))
  end
  return lines
end

doc(describe, [[
vol.describe(v [, path]) -> {lines}
A summary of v as a list of text lines: format (v.meta.format), dtype,
shape, spacing, origin, direction, orientation code, min/max/mean/std and,
when path names a file, its size (for a detached MetaImage header, the
header's and its data file's). scripts/info.lua prints it.
Example: print(table.concat(vol.describe(vol.read("ct.nii.gz"), "ct.nii.gz"), "\n"))]])

return describe
