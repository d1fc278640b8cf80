-- CSV as RFC 4180 writes it: fields separated by commas, records by CRLF or
-- LF, quoted fields holding commas, quotes ("" inside) and line breaks, an
-- optional header row. Values stay strings unless numbers are asked for.
-- Reading and writing whole files; appending single rows is format_row.
local doc = require("vol.help").doc

local csv = {}

local function fail(name, line, msg)
  error(("%s:%d: %s"):format(name, line, msg), 0)
end

local function count_newlines(s)
  local _, n = s:gsub("\n", "")
  return n
end

-- The records of text as lists of strings; blank lines are skipped.
local function records(text, sep, name)
  local out = {}
  local pos, n, line = 1, #text, 1
  if text:sub(1, 3) == "\239\187\191" then pos = 4 end -- UTF-8 byte order mark
  local special = "[" .. (sep == "%" and "%%" or "%" .. sep) .. "\r\n\"]"
  while pos <= n do
    local rec, rec_line = {}, line
    while true do
      local field
      if text:byte(pos) == 34 then -- a quoted field
        local parts, open_line = {}, line
        pos = pos + 1
        while true do
          local q = text:find('"', pos, true)
          if not q then fail(name, open_line, "unterminated quoted field") end
          parts[#parts + 1] = text:sub(pos, q - 1)
          if text:byte(q + 1) == 34 then
            parts[#parts + 1] = '"'
            pos = q + 2
          else
            pos = q + 1
            break
          end
        end
        field = table.concat(parts)
        line = line + count_newlines(field)
        local c = text:sub(pos, pos)
        if c ~= sep and c ~= "\n" and c ~= "\r" and c ~= "" then
          fail(name, line, ("unexpected %q after a closing quote (a quote inside a field must be doubled)"):format(c))
        end
      else
        local e = text:find(special, pos)
        if not e then
          field, pos = text:sub(pos), n + 1
        elseif text:byte(e) == 34 then
          fail(name, line, "quote inside an unquoted field (quote the whole field and double the quote)")
        else
          field, pos = text:sub(pos, e - 1), e
        end
      end
      rec[#rec + 1] = field
      local c = text:sub(pos, pos)
      if c == sep then
        pos = pos + 1
      else
        if c == "\r" then pos = pos + (text:sub(pos + 1, pos + 1) == "\n" and 2 or 1) end
        if c == "\n" then pos = pos + 1 end
        if c == "\r" or c == "\n" then line = line + 1 end
        break
      end
    end
    if not (#rec == 1 and rec[1] == "") then
      rec.line = rec_line
      out[#out + 1] = rec
    end
  end
  return out
end

-- A decimal number (no hex, no inf/nan words), or nil.
local function to_number(s)
  if s:find("^%s*[-+]?%.?%d") and not s:find("^%s*[-+]?0[xX]") then
    return tonumber(s)
  end
  return nil
end

local function check_opts(opts, valid, fname)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error(("bad argument to '%s' (options table expected, got %s)"):format(fname, type(opts)), 3)
  end
  for k in pairs(opts) do
    if not valid[k] then
      local names = {}
      for v in pairs(valid) do names[#names + 1] = v end
      table.sort(names)
      error(("bad argument to '%s' (unknown option '%s'; valid: %s)"):format(fname, tostring(k),
        table.concat(names, ", ")), 3)
    end
  end
  return opts
end

local PARSE_OPTS = { header = true, numbers = true, sep = true, name = true }

function csv.parse(text, opts)
  if type(text) ~= "string" then
    error("bad argument #1 to 'parse' (string expected, got " .. type(text) .. ")", 2)
  end
  opts = check_opts(opts, PARSE_OPTS, "parse")
  local sep, name = opts.sep or ",", opts.name or "csv"
  if #sep ~= 1 or sep:find('["\r\n]') then
    error("bad argument to 'parse' (option 'sep' must be one character other than a quote or line break)", 2)
  end
  local recs = records(text, sep, name)
  local use_header = opts.header ~= false
  local header
  if use_header then
    header = table.remove(recs, 1) or {}
    header.line = nil
    local seen = {}
    for i, h in ipairs(header) do
      if seen[h] then fail(name, 1, ("column %q appears twice (columns %d and %d)"):format(h, seen[h], i)) end
      seen[h] = i
    end
  end
  -- which columns become numbers: all that look like one, or the named ones (which must)
  local numbers, strict = opts.numbers, {}
  if type(numbers) == "table" then
    for _, col in ipairs(numbers) do
      if use_header then
        local found = false
        for _, h in ipairs(header) do found = found or h == col end
        if not found then fail(name, 1, ("no column %q for option 'numbers'"):format(tostring(col))) end
      end
      strict[col] = true
    end
  elseif numbers ~= nil and numbers ~= true and numbers ~= false then
    error("bad argument to 'parse' (option 'numbers' must be true, false or a list of columns)", 2)
  end
  local rows = {}
  for _, rec in ipairs(recs) do
    if use_header and #rec ~= #header then
      fail(name, rec.line, ("%d fields, the header has %d"):format(#rec, #header))
    end
    local row = {}
    for i, v in ipairs(rec) do
      local key = use_header and header[i] or i
      if numbers == true or strict[key] then
        local x = to_number(v)
        if x then
          v = x
        elseif strict[key] then
          fail(name, rec.line, ("column %q: %q is not a number"):format(tostring(key), v))
        end
      end
      row[key] = v
    end
    rows[#rows + 1] = row
  end
  return rows, header
end

doc(csv.parse, [[
csv.parse(text [, {header=true, numbers=false, sep=",", name="csv"}]) -> rows, header
Parses CSV text (RFC 4180: quoted fields may hold the separator, "" for a quote,
and line breaks; CRLF or LF; blank lines skipped; a UTF-8 byte order mark ignored).
With header (default) the first record names the columns: rows are tables keyed by
column name and every row must have as many fields; header=false gives lists.
Values are strings; numbers=true converts every decimal-looking field, numbers=
{"col", ...} converts those columns and raises on a field that is not a number.
Errors name the source (name) and the line: "annotations.csv:12: 3 fields, the header has 5".
  local rows = csv.parse("id,x\na,1.5\n", {numbers={"x"}})  -- rows[1].x == 1.5]])

function csv.read(path, opts)
  if type(path) ~= "string" then
    error("bad argument #1 to 'read' (string expected, got " .. type(path) .. ")", 2)
  end
  local f, msg = io.open(path, "rb")
  if not f then error(msg, 2) end
  local text = f:read("a")
  f:close()
  opts = check_opts(opts, PARSE_OPTS, "read")
  local o = { name = path }
  for k, v in pairs(opts) do o[k] = v end
  return csv.parse(text, o)
end

doc(csv.read, [[
csv.read(path [, opts]) -> rows, header
Reads a CSV file with csv.parse (same options; errors name the file and line).
  local rows = csv.read("annotations.csv", {numbers={"coordX", "coordY", "coordZ", "diameter_mm"}})]])

-- The shortest decimal form that reads back as the same double.
local function format_number(x)
  if math.type(x) == "integer" then return tostring(x) end
  if x ~= x then return "nan" end
  if x == math.huge then return "inf" end
  if x == -math.huge then return "-inf" end
  for digits = 15, 17 do
    local s = ("%." .. digits .. "g"):format(x)
    if tonumber(s) == x then return s end
  end
end

function csv.quote(value, sep)
  sep = sep or ","
  local s
  if type(value) == "number" then
    s = format_number(value)
  elseif value == nil then
    s = ""
  else
    s = tostring(value)
  end
  if s:find('["\r\n]') or s:find(sep, 1, true) then
    return '"' .. s:gsub('"', '""') .. '"'
  end
  return s
end

doc(csv.quote, [[
csv.quote(value [, sep=","]) -> string
One field as CSV writes it: numbers in the shortest form that reads back exactly,
nil as "", and quotes around a field holding the separator, a quote or a line break.
  csv.quote('say "hi", twice')  --> "say ""hi"", twice"]])

function csv.format_row(values, n, sep)
  local out = {}
  for i = 1, n or #values do out[i] = csv.quote(values[i], sep) end
  return table.concat(out, sep or ",") .. "\n"
end

doc(csv.format_row, [[
csv.format_row(values [, n=#values, sep=","]) -> string
One record (fields 1..n of the list values, quoted as needed) ending in "\n".
  io.write(csv.format_row({"case1", 3, "ok"}))]])

function csv.format(rows, header, sep)
  if type(rows) ~= "table" then
    error("bad argument #1 to 'format' (table expected, got " .. type(rows) .. ")", 2)
  end
  local out = {}
  if header then out[1] = csv.format_row(header, #header, sep) end
  for _, row in ipairs(rows) do
    local values = row
    if header then
      values = {}
      for i, h in ipairs(header) do values[i] = row[h] end
    end
    out[#out + 1] = csv.format_row(values, header and #header or #row, sep)
  end
  return table.concat(out)
end

doc(csv.format, [[
csv.format(rows [, header, sep=","]) -> string
CSV text of rows: with header (a list of column names) a header record, then each
row's fields in that order (row[name]; a missing one is empty); without, rows are lists.
  csv.format({{id="a", x=1}}, {"id", "x"})  --> "id,x\na,1\n"]])

function csv.write(path, rows, header, sep)
  if type(path) ~= "string" then
    error("bad argument #1 to 'write' (string expected, got " .. type(path) .. ")", 2)
  end
  local text = csv.format(rows, header, sep)
  local fs = require("vol").fs
  local tmp = ("%s/.%s.tmp%d"):format(fs.dirname(path), fs.basename(path), require("vol").proc.pid())
  local f, msg = io.open(tmp, "wb")
  if not f then error(path .. ": cannot write (" .. msg .. ")", 2) end
  local ok, werr = f:write(text)
  local closed, cerr = f:close()
  if not ok or not closed then
    os.remove(tmp)
    error(path .. ": cannot write (" .. tostring(werr or cerr) .. ")", 2)
  end
  fs.rename(tmp, path)
  return path
end

doc(csv.write, [[
csv.write(path, rows [, header, sep=","]) -> path
Writes csv.format(rows, header, sep) to path through a temporary file in the same
folder renamed at the end, so readers never see half a file.
  csv.write("manifest.csv", rows, {"case", "image"})]])

return csv
