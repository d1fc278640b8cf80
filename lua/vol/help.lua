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

local is_volume = require("vol.check").is_volume

local function first_line(text)
  return text and text:match("^[^\n]*") or "(no documentation)"
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

-- The function a name refers to: "vol.read", "read", "Volume:write",
-- "Volume.write", "v:write", or a dotted global path such as "string.format".
local function lookup(name)
  local vol, meths = module(), methods()
  local head, sep, field = name:match("^([%a_][%w_]*)([.:])([%a_][%w_]*)$")
  if head == "vol" and sep == "." then
    return vol[field]
  elseif head and (head == "Volume" or sep == ":") then
    return meths[field]
  elseif name:match("^[%a_][%w_]*$") then
    return vol[name] or meths[name] or rawget(_G, name)
  end
  local value = _G
  for part in name:gmatch("[^.]+") do
    if type(value) ~= "table" then
      return nil
    end
    value = rawget(value, part)
  end
  return value
end

local function list(title, prefix, t)
  print(title)
  for _, name in ipairs(sorted_functions(t)) do
    local text = store.get(t[name])
    local line = first_line(text)
    if not text then
      line = prefix .. name .. "  (no documentation)"
    end
    print("  " .. line)
  end
end

local function overview()
  list("Functions of vol (help(vol.read) or help \"read\" shows one in full):", "vol.", module())
  print("")
  list("Volume methods (help \"Volume:write\"):", "v:", methods())
end

function M.help(x)
  if x == nil or x == module() then
    overview()
  elseif type(x) == "function" then
    print(store.get(x) or "no documentation for this function")
  elseif type(x) == "string" then
    local f = lookup(x)
    if type(f) == "function" then
      print(store.get(f) or ("no documentation for " .. x))
    else
      print("no function named '" .. x .. "' in vol or the Volume methods (help() lists them)")
    end
  elseif is_volume(x) or x == methods() then
    if is_volume(x) then
      print(tostring(x))
    end
    list("Volume methods (help \"Volume:write\" shows one in full):", "v:", methods())
  elseif type(x) == "table" then
    list("Functions in this table:", "", x)
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
  local vol, meths = module(), methods()
  for _, name in ipairs(sorted_functions(vol)) do
    all["vol." .. name] = store.get(vol[name]) or false
  end
  for _, name in ipairs(sorted_functions(meths)) do
    all["Volume:" .. name] = store.get(meths[name]) or false
  end
  return all
end

M.doc(M.help, [[
help([x])
Prints documentation. help() or help(vol): every vol function and Volume
method with the first line of its docstring. help(f): f's docstring.
help("read"), help("vol.read"), help("Volume:write"): looked up by name.
help(v) for a Volume: v's summary and the Volume methods.
Example: help(vol.read)]])

M.doc(M.doc, [[
vol.doc(fn, text) -> fn
Attaches the docstring text to the function fn (nil removes it), for
functions written in Lua; help(fn) then prints it. First line: the
signature; second: a one-line summary.
Example: M.smooth = vol.doc(function (v, r) ... end, "vol.smooth(v, r) -> Volume\n...")]])

M.doc(M.docs, [[
vol.docs() -> table
Every public vol function ("vol.read") and Volume method ("Volume:write")
mapped to its docstring, or to false when it has none.
Example: for name, text in pairs(vol.docs()) do assert(text, name) end]])

return M
