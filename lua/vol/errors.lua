-- Errors raised inside medula's Lua libraries are reported at the caller's
-- line (or with no location when the caller is C, e.g. pcall), never at a
-- line of the library's own files: a user reads "study.lua:12: /data: no
-- such file or folder", not the path of lua/vol/dicom.lua. Done once, by
-- wrapping the public Lua-written functions when the vol module loads;
-- errors whose location is the user's own code pass through untouched.
local store = require "vol.docstore"

local M = {}

-- The folder holding the library files ("/opt/medula/lua/"), from this file's name.
local ROOT = debug.getinfo(1, "S").source:match("^@(.*/)vol/errors%.lua$")

-- Whether file (as an error message shows it: the full name, or "..."
-- and its end when the name is long) is one of the library files.
local function in_library(file)
  if not ROOT then
    return false
  end
  if file:sub(1, #ROOT) == ROOT then
    return true
  end
  if file:sub(1, 3) ~= "..." then
    return false
  end
  local tail = file:sub(4)
  for k = 1, #ROOT do
    local head = ROOT:sub(k)
    if tail:sub(1, #head) == head and tail:sub(#head + 1):match("^[%w_/]+%.lua$") then
      return true
    end
  end
  return false
end
M.in_library = in_library

-- The message without a leading location inside the library, or nil when
-- it carries none (or one in the user's code).
local function strip(msg)
  local file, rest = msg:match("^([^\n]-):%d+: (.*)$")
  if file and in_library(file) then
    return rest
  end
  return nil
end
M.strip = strip

local function pass(ok, ...)
  if ok then
    return ...
  end
  local err = ...
  if type(err) ~= "string" then
    error(err, 0)
  end
  -- a library location, or none (the library's error(msg, 2) landed on
  -- this wrapper's pcall): the line that called the public function
  -- instead (w tail-calls pass, so that is level 2)
  local bare = strip(err)
  if bare or not err:match("^[^\n]-:%d+: ") then
    error(bare or err, 2)
  end
  error(err, 0)
end

-- f wrapped so that its library-located errors move to the caller's line;
-- the docstring and help() area go with it.
local function wrap(f)
  local w = function(...)
    return pass(pcall(f, ...))
  end
  local text, area = store.get(f), store.area(f)
  if text then
    store.set_area(area)
    store.set(w, text)
    store.set_area(nil)
  end
  return w
end

local function from_library(f)
  local info = debug.getinfo(f, "S")
  return info.what == "Lua" and info.source:sub(1, 1) == "@" and in_library(info.source:sub(2))
end

-- Wraps, in place, every public Lua-written library function of t.
function M.relocate(t)
  for name, f in pairs(t) do
    if type(name) == "string" and name:sub(1, 1) ~= "_" and type(f) == "function" and from_library(f) then
      t[name] = wrap(f)
    end
  end
end

return M
