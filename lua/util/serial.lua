-- Plain Lua values as Lua source ("return {...}") and back, for the files
-- a runner and its workers exchange: nil, booleans, numbers (exact),
-- strings and tables of them. Loading runs in an empty environment.
local serial = {}
local doc = require("vol.help").doc

local function dump(v, out, depth)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = ("%q"):format(v)
  elseif t == "number" then
    if v ~= v then out[#out + 1] = "(0/0)"
    elseif v == math.huge then out[#out + 1] = "math.huge"
    elseif v == -math.huge then out[#out + 1] = "-math.huge"
    else out[#out + 1] = ("%q"):format(v) end
  elseif t == "boolean" or t == "nil" then
    out[#out + 1] = tostring(v)
  elseif t == "table" then
    if depth > 20 then error("table nested too deeply (or a cycle) in serial.dump", 0) end
    out[#out + 1] = "{"
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b)
      if type(a) == type(b) and (type(a) == "number" or type(a) == "string") then return a < b end
      return type(a) < type(b)
    end)
    for _, k in ipairs(keys) do
      if type(k) ~= "string" and type(k) ~= "number" then
        error("serial.dump: table keys must be strings or numbers, got " .. type(k), 0)
      end
      out[#out + 1] = "["
      dump(k, out, depth + 1)
      out[#out + 1] = "]="
      dump(v[k], out, depth + 1)
      out[#out + 1] = ","
    end
    out[#out + 1] = "}"
  else
    error("serial.dump: cannot write a " .. t .. " value", 0)
  end
end

function serial.dump(v)
  local out = { "return " }
  dump(v, out, 0)
  out[#out + 1] = "\n"
  return table.concat(out)
end

doc(serial.dump, [[
serial.dump(value) -> string
Lua source "return ..." for nil, booleans, numbers (exact), strings and tables of them.
  local text = serial.dump({a = 1, b = {"x"}})]])

function serial.load(text, name)
  local f, err = load(text, "=" .. (name or "serial"), "t", { math = { huge = math.huge } })
  if not f then error(err, 0) end
  return f()
end

doc(serial.load, [[
serial.load(text [, name]) -> value
Runs what serial.dump wrote, in an empty environment, and returns the value.
  local t = serial.load(serial.dump({1, 2}))]])

return serial
