-- help(), vol.doc and vol.docs: the docstrings the binding registers (and
-- those Lua files attach with vol.doc), read through the host's
-- "vol.docstore", looked up by function value or by name. Printing only;
-- the texts themselves live beside the code they describe.
local store = require "vol.docstore"

local M = {}

-- The vol module; help runs after it has finished loading.
local function module()
  return package.loaded.vol or require "vol"
end

local function methods()
  return module().Volume or {}
end

local function sorted_functions(t)
  local names = {}
  for name, f in pairs(t) do
    if type(name) == "string" and type(f) == "function" and name:sub(1, 1) ~= "_" then
      names[#names + 1] = name
    end
  end
  table.sort(names)
  return names
end

local function list(title, t)
  print(title)
  for _, name in ipairs(sorted_functions(t)) do
    local text = store.get(t[name])
    print("  " .. (text and text:match("^[^\n]*") or name .. "  (no documentation)"))
  end
end

-- The areas help() groups functions into, in this order, with a title each
-- (the binding records which area registered a function; Lua files set it
-- while they load).
local AREAS = {
  { "volume", "Volumes: construction, fields, voxels, geometry" },
  { "arith", "Arithmetic, comparisons and statistics" },
  { "io", "Reading and writing files" },
  { "dicom", "DICOM" },
  { "png", "PNG pictures" },
  { "cropad", "Cropping, padding, flipping, reorienting, stacking" },
  { "resample", "Resampling and transforms" },
  { "morph", "Morphology, structuring elements and hole filling" },
  { "label", "Connected components and regions" },
  { "edt", "Distance transforms" },
  { "patch", "Patches: grids, extraction, merging" },
  { "phantom", "Synthetic phantoms" },
  { "runtime", "Threads and memory" },
  { "repl", "Help, progress bars and printing" },
}

-- How each kind of object's methods are named in listings and lookups.
local OBJECTS = {
  { prefix = "v:", aliases = { "Volume", "v" }, table = function(vol) return vol.Volume end },
  { prefix = "grid:", aliases = { "PatchGrid", "grid" }, table = function(vol) return vol.PatchGrid end },
  { prefix = "merger:", aliases = { "PatchMerger", "merger" }, table = function(vol) return vol.PatchMerger end },
}

-- The docstring's signature (its first lines, as long as brackets stay
-- open or the next line is indented) and the one-line summary after it.
local function split_doc(text)
  local sig, depth, rest = {}, 0, nil
  for line in (text .. "\n"):gmatch("(.-)\n") do
    if rest then
      rest[#rest + 1] = line
    elseif #sig > 0 and depth <= 0 and not line:match("^%s") then
      rest = { line }
    else
      sig[#sig + 1] = line
      local _, open = line:gsub("[%(%[{]", "")
      local _, close = line:gsub("[%)%]}]", "")
      depth = depth + open - close
    end
  end
  -- the summary: the first sentence, which may wrap over a few lines
  local summary = {}
  for _, line in ipairs(rest or {}) do
    if line == "" or line:match("^%u%l+:") and #summary > 0 then break end
    summary[#summary + 1] = line
    local plain = line:gsub("e%.g%.", "eg"):gsub("i%.e%.", "ie")
    if plain:match("[.!?]$") or plain:match("%. ") or #summary == 4 then break end
  end
  local text = table.concat(summary, " ")
  local first = text:gsub("e%.g%.", "e\1g\1"):match("^(.-%.)%s") -- one sentence when a line holds more
  first = first and first:gsub("e\1g\1", "e.g.")
  return sig, first or text
end

-- Every documented-or-not public function: {name, f, area, doc}, where name
-- is how help looks it up ("vol.read", "vol.phantom.sphere", "v:write").
local function catalog()
  local vol, entries, seen = module(), {}, {}
  local function add(name, f)
    if seen[name] then return end
    seen[name] = true
    entries[#entries + 1] = { name = name, f = f, area = store.area(f) or "other", doc = store.get(f) }
  end
  local objects = {}
  for _, o in ipairs(OBJECTS) do
    local t = o.table(vol)
    if t then objects[t] = o end
  end
  for _, name in ipairs(sorted_functions(vol)) do add("vol." .. name, vol[name]) end
  local subs = {}
  for name, t in pairs(vol) do
    if type(name) == "string" and type(t) == "table" and not objects[t] and name:sub(1, 1) ~= "_" then
      subs[#subs + 1] = name
    end
  end
  table.sort(subs)
  for _, sub in ipairs(subs) do
    for _, name in ipairs(sorted_functions(vol[sub])) do add("vol." .. sub .. "." .. name, vol[sub][name]) end
  end
  for _, o in ipairs(OBJECTS) do
    local t = o.table(vol)
    for _, name in ipairs(t and sorted_functions(t) or {}) do add(o.prefix .. name, t[name]) end
  end
  return entries
end

-- The function a name refers to: "vol.read", "read", "Volume:write",
-- "Volume.write", "v:write", "grid:map", "vol.phantom.sphere",
-- "phantom.sphere", or a dotted global path such as "string.format".
local function lookup(name)
  local vol = module()
  local head, sep, field = name:match("^([%a_][%w_]*)([.:])([%a_][%w_]*)$")
  if head == "vol" and sep == "." then
    return vol[field]
  end
  for _, o in ipairs(OBJECTS) do
    for _, alias in ipairs(o.aliases) do
      if head == alias then
        return (o.table(vol) or {})[field]
      end
    end
  end
  if head and sep == ":" then
    return methods()[field]
  end
  if head and type(vol[head]) == "table" and type(vol[head][field]) == "function" then
    return vol[head][field]
  end
  if name:match("^[%a_][%w_]*$") then
    return vol[name] or methods()[name] or rawget(_G, name)
  end
  local value = name:match("^vol%.") and vol or _G
  for part in name:gsub("^vol%.", ""):gmatch("[^.]+") do
    if type(value) ~= "table" then
      return nil
    end
    value = rawget(value, part)
  end
  return value
end

local function print_entry(e)
  if not e.doc then
    print("  " .. e.name .. "  (no documentation)")
    return
  end
  local sig, summary = split_doc(e.doc)
  for _, line in ipairs(sig) do
    print("  " .. line)
  end
  if summary ~= "" then
    print("      " .. summary)
  end
end

-- Prints the entries grouped by area, in the areas' order.
local function print_grouped(entries)
  local by_area, known = {}, {}
  for _, e in ipairs(entries) do
    by_area[e.area] = by_area[e.area] or {}
    table.insert(by_area[e.area], e)
  end
  local order = {}
  for _, a in ipairs(AREAS) do
    known[a[1]] = true
    order[#order + 1] = a
  end
  local extra = {}
  for area in pairs(by_area) do
    if not known[area] then extra[#extra + 1] = area end
  end
  table.sort(extra)
  for _, area in ipairs(extra) do
    order[#order + 1] = { area, area == "other" and "Other functions" or area }
  end
  local first = true
  for _, a in ipairs(order) do
    local list = by_area[a[1]]
    if list then
      if not first then print("") end
      first = false
      print(a[2] .. ":")
      for _, e in ipairs(list) do print_entry(e) end
    end
  end
end

local function overview()
  print("The vol module by area: every function and method with its signature and summary.")
  print("help(vol.read) or help \"read\" shows one in full; help \"word\" finds every")
  print("function whose name or documentation mentions word.")
  print("")
  print_grouped(catalog())
end

-- help "word": the functions whose name or docstring mentions word.
local function apropos(word)
  local needle, found = word:lower(), {}
  for _, e in ipairs(catalog()) do
    if e.name:lower():find(needle, 1, true) or (e.doc and e.doc:lower():find(needle, 1, true)) then
      found[#found + 1] = e
    end
  end
  if #found == 0 then
    print("no function named '" .. word .. "' and none mentions it (help() lists them all)")
    return
  end
  print(("%d function%s mention '%s' (help \"name\" shows one in full):"):format(#found,
    #found == 1 and "" or "s", word))
  print("")
  print_grouped(found)
end

-- The entries of one table (vol.phantom, vol.Volume, vol.PatchGrid ...).
local function table_entries(t)
  local out = {}
  for _, e in ipairs(catalog()) do
    for name, f in pairs(t) do
      if f == e.f and name == e.name:match("([%w_]+)$") then
        out[#out + 1] = e
        break
      end
    end
  end
  return out
end

local function object_of(x)
  local mt = type(x) == "userdata" and getmetatable(x)
  local name = type(mt) == "table" and mt.__name
  for _, o in ipairs(OBJECTS) do
    if o.aliases[1] == name then return o end
  end
end

function M.help(x)
  if x == nil or x == module() then
    overview()
  elseif type(x) == "function" then
    print(store.get(x) or "no documentation for this function")
  elseif type(x) == "string" then
    local f = lookup(x)
    if type(f) == "function" and store.get(f) then
      print(store.get(f))
    elseif type(f) == "function" then
      print("no documentation for " .. x)
    else
      apropos(x)
    end
  elseif object_of(x) then
    local o = object_of(x)
    print(tostring(x))
    print("")
    print_grouped(table_entries(o.table(module())))
  elseif type(x) == "table" then
    local entries = table_entries(x)
    if #entries == 0 then
      list("Functions in this table:", x)
    else
      print_grouped(entries)
    end
  else
    print("no documentation for a " .. type(x) .. " value")
  end
end

function M.doc(fn, text)
  if type(fn) ~= "function" then
    error("bad argument #1 to 'doc' (function expected, got " .. type(fn) .. ")", 2)
  end
  if text ~= nil and type(text) ~= "string" then
    error("bad argument #2 to 'doc' (string expected, got " .. type(text) .. ")", 2)
  end
  store.set(fn, text)
  return fn
end

function M.docs()
  local all = {}
  for _, e in ipairs(catalog()) do
    local name = e.name:gsub("^v:", "Volume:"):gsub("^grid:", "PatchGrid:"):gsub("^merger:", "PatchMerger:")
    all[name] = e.doc or false
  end
  return all
end

M.doc(M.help, [[
help([x])
Prints documentation. help() or help(vol): every function of vol (also
vol.phantom.*, vol.strel.*), every Volume, PatchGrid and merger method,
grouped by area, each with its whole signature and one-line summary.
help(f): f's docstring. help("read"), help("vol.read"), help("Volume:write"),
help("grid:map"), help("phantom.sphere"): looked up by name. help("word")
for any other word: every function whose name or docstring mentions it
(case-insensitive), e.g. help "chest". help(v) for a Volume (or a grid, a
merger): its summary and its methods. help(vol.phantom): that table's.
Example: help "npy"]])

M.doc(M.doc, [[
vol.doc(fn, text) -> fn
Attaches the docstring text to the function fn (nil removes it), for
functions written in Lua; help(fn) then prints it. First line: the
signature; second: a one-line summary.
Example: M.smooth = vol.doc(function (v, r) ... end, "vol.smooth(v, r) -> Volume\n...")]])

M.doc(M.docs, [[
vol.docs() -> table
Every public function help() lists ("vol.read", "vol.phantom.sphere") and
every method ("Volume:write", "PatchGrid:map", "PatchMerger:add") mapped to
its docstring, or to false when it has none.
Example: for name, text in pairs(vol.docs()) do assert(text, name) end]])

return M
