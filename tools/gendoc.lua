-- Writes docs/api/reference.md from the docstrings help() prints: every
-- public vol function (also in sub-tables such as vol.phantom), and every
-- Volume method. Run by `make docs`; docs_spec checks the file is current.
local store = require "vol.docstore"

local M = {}

-- name -> function for every public function reachable from vol.
function M.public_functions()
  local out = {}
  local function walk(t, prefix, depth)
    for name, value in pairs(t) do
      if type(name) == "string" and name:sub(1, 1) ~= "_" then
        if type(value) == "function" then
          out[prefix .. name] = value
        elseif type(value) == "table" and depth < 2 and name ~= "Volume" then
          walk(value, prefix .. name .. ".", depth + 1)
        end
      end
    end
  end
  walk(vol, "vol.", 1)
  for name, f in pairs(vol.Volume) do
    if type(f) == "function" and name:sub(1, 1) ~= "_" then out["Volume:" .. name] = f end
  end
  return out
end

function M.reference()
  local fns = M.public_functions()
  local names = {}
  for name in pairs(fns) do names[#names + 1] = name end
  table.sort(names)
  local lines = {
    "# API reference",
    "",
    "Generated from the docstrings (`make docs`); `help(name)` prints the same",
    "text in the REPL. The area pages in this folder show the functions at work.",
    "",
  }
  for _, name in ipairs(names) do
    lines[#lines + 1] = "## " .. name
    lines[#lines + 1] = ""
    lines[#lines + 1] = "```"
    lines[#lines + 1] = store.get(fns[name]) or "(no documentation)"
    lines[#lines + 1] = "```"
    lines[#lines + 1] = ""
  end
  return table.concat(lines, "\n")
end

if arg and arg[0] and arg[0]:match("gendoc%.lua$") then
  local path = arg[1] or "docs/api/reference.md"
  local f = assert(io.open(path, "w"))
  f:write(M.reference())
  f:close()
  print("wrote " .. path)
end

return M
