-- Argument checks for the Lua half of the vol module, worded as the C
-- binding words them: "bad argument #n to 'f' (...)". One place for the
-- Volume test and option tables, so every Lua-written function reads its
-- arguments the same way.
local M = {}

-- True when x is a Volume (the C userdata).
function M.is_volume(x)
  local mt = type(x) == "userdata" and getmetatable(x)
  return type(mt) == "table" and mt.__name == "Volume"
end

-- Raises "bad argument #argn to 'fname' (msg)" at the caller of the
-- function that calls it (level 3), or at `level`.
function M.arg_error(fname, argn, msg, level)
  error(("bad argument #%d to '%s' (%s)"):format(argn, fname, msg), level or 3)
end

-- Returns x when it is a Volume; raises "Volume expected, got <type>".
function M.volume(fname, argn, x)
  if not M.is_volume(x) then M.arg_error(fname, argn, "Volume expected, got " .. type(x), 4) end
  return x
end

-- An option table (nil gives {}) whose keys are all in `valid` (a set);
-- an unknown key raises and lists the valid ones.
function M.opts(fname, argn, opts, valid)
  if opts == nil then return {} end
  if type(opts) ~= "table" then M.arg_error(fname, argn, "table expected, got " .. type(opts), 4) end
  for k in pairs(opts) do
    if not valid[k] then
      local names = {}
      for n in pairs(valid) do names[#names + 1] = n end
      table.sort(names)
      M.arg_error(fname, argn, ("unknown option '%s' (valid: %s)"):format(tostring(k), table.concat(names, ", ")), 4)
    end
  end
  return opts
end

-- A list of n numbers from one number (every axis) or a list of n, raising
-- "bad argument #argn to 'fname' (what must be ...)" at the caller of the
-- function that calls it, as the C binding's md_lua_argaxes does.
function M.per_axis(fname, argn, x, n, what)
  local t = {}
  if type(x) == "number" then
    for a = 1, n do t[a] = x end
    return t
  end
  if type(x) ~= "table" or #x ~= n then
    M.arg_error(fname, argn, ("%s must be a number or a table of %d numbers"):format(what, n), 4)
  end
  for a = 1, n do
    if type(x[a]) ~= "number" then
      M.arg_error(fname, argn, ("%s[%d] must be a number (got %s)"):format(what, a, type(x[a])), 4)
    end
    t[a] = x[a]
  end
  return t
end

return M
