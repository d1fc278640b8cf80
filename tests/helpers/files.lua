-- Small file and volume helpers shared by the specs.
--   local files = require "helpers.files"
local data = require "helpers.data"

local files = {}

-- The whole content of a file (raises when it cannot be opened).
function files.slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- Writes s as the whole content of path.
function files.spit(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

-- The names in folder d (hidden ones too), sorted.
function files.listdir(d)
  local p = io.popen("ls -A " .. data.shell_quote(d))
  local t = {}
  for l in p:lines() do t[#t + 1] = l end
  p:close()
  table.sort(t)
  return t
end

-- v:get with as many indices as v has axes (missing ones are 1).
function files.at(v, i, j, k, t)
  if v.ndim == 2 then return v:get(i, j) end
  if v.ndim == 3 then return v:get(i, j, k) end
  return v:get(i, j, k or 1, t or 1)
end

return files
