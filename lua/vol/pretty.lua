-- vol.pretty(x [, opts]): a value as the REPL prints it. Tables show their
-- contents ({512, 512, 300}, {count = 16, max = 3}), nested ones indented
-- when a line would be too long, long lists cut with a count, cycles and
-- deep nesting marked. Numbers keep Lua's subtype (3 is an integer, 3.0 a
-- float). Formatting only; nothing here changes the value.
local doc = require("vol.help").doc

local DEFAULTS = { width = 80, depth = 4, items = 20 }

local function is_identifier(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil
    and not ({ ["and"] = 1, ["break"] = 1, ["do"] = 1, ["else"] = 1, ["elseif"] = 1, ["end"] = 1,
      ["false"] = 1, ["for"] = 1, ["function"] = 1, ["goto"] = 1, ["if"] = 1, ["in"] = 1, ["local"] = 1,
      ["nil"] = 1, ["not"] = 1, ["or"] = 1, ["repeat"] = 1, ["return"] = 1, ["then"] = 1, ["true"] = 1,
      ["until"] = 1, ["while"] = 1 })[k]
end

local function scalar(x)
  if type(x) == "string" then
    return (string.format("%q", x):gsub("\\\n", "\\n"))
  end
  return tostring(x)
end

-- Keys other than 1..n, numbers first (ascending), then the rest by text.
local function other_keys(t, n)
  local keys = {}
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then
      keys[#keys + 1] = k
    end
  end
  table.sort(keys, function(a, b)
    local na, nb = type(a) == "number", type(b) == "number"
    if na ~= nb then return na end
    if na then return a < b end
    return tostring(a) < tostring(b)
  end)
  return keys
end

local render

local function render_table(t, indent, seen, o)
  if seen[t] then return "<cycle>" end
  if indent // 2 >= o.depth then return "{...}" end
  seen[t] = true
  local n = rawlen(t) -- raw access: printing runs no metamethod of the table
  local items, shown = {}, 0
  local function add(s)
    items[#items + 1] = s
  end
  for i = 1, n do
    if shown >= o.items and n - i + 1 > 1 then
      add(("... (%d more)"):format(n - i + 1))
      break
    end
    add(render(rawget(t, i), indent + 2, seen, o))
    shown = shown + 1
  end
  local keys = other_keys(t, n)
  for i, k in ipairs(keys) do
    if shown >= o.items and #keys - i + 1 > 1 then
      add(("... (%d more fields)"):format(#keys - i + 1))
      break
    end
    local name = is_identifier(k) and k or "[" .. scalar(k) .. "]"
    add(name .. " = " .. render(rawget(t, k), indent + 2, seen, o))
    shown = shown + 1
  end
  seen[t] = nil
  if #items == 0 then return "{}" end
  local one = "{" .. table.concat(items, ", ") .. "}"
  if not one:find("\n", 1, true) and indent + #one <= o.width then
    return one
  end
  -- several lines: short items packed side by side, a nested block alone
  local pad = string.rep(" ", indent + 2)
  local lines, line = {}, nil
  for _, item in ipairs(items) do
    local multi = item:find("\n", 1, true)
    if line and not multi and #line + #item + 2 <= o.width then
      line = line .. " " .. item .. ","
    else
      if line then lines[#lines + 1] = line end
      line = pad .. item .. ","
      if multi then
        lines[#lines + 1] = line
        line = nil
      end
    end
  end
  if line then lines[#lines + 1] = line end
  return "{\n" .. table.concat(lines, "\n") .. "\n" .. string.rep(" ", indent) .. "}"
end

function render(x, indent, seen, o)
  if type(x) == "table" then
    local mt = getmetatable(x)
    if type(mt) == "table" and mt.__tostring then
      return tostring(x)
    end
    return render_table(x, indent, seen, o)
  end
  return scalar(x)
end

local function pretty(x, opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #2 to 'pretty' (table expected, got " .. type(opts) .. ")", 2)
  end
  local o = {}
  for k, d in pairs(DEFAULTS) do
    local v = opts and opts[k]
    if v ~= nil and math.type(v) ~= "integer" then
      error("bad argument #2 to 'pretty' (option '" .. k .. "' must be an integer)", 2)
    end
    o[k] = v or d
  end
  for k in pairs(opts or {}) do
    if DEFAULTS[k] == nil then
      error("bad argument #2 to 'pretty' (unknown option '" .. tostring(k) .. "' (valid: depth, items, width))", 2)
    end
  end
  if type(x) == "string" then
    return x
  end
  return render(x, 0, {}, o)
end

doc(pretty, [[
vol.pretty(x [, {width=80, depth=4, items=20}]) -> string
x as the REPL prints it: a table shows its contents, list part first
({512, 512, 300}), then its other fields sorted ({count = 16, max = 3});
nested tables are indented when one line would pass width columns; lists
longer than items are cut with a count ("... (980 more)"); tables deeper
than depth show as {...} and a table inside itself as <cycle>. Numbers keep
their subtype (16 is an integer, 16.0 a float); strings inside tables are
quoted, a string alone is returned as it is; other values (a Volume, a
function) give tostring(x).
Example: print(vol.pretty(ct:stats()))]])

return pretty
