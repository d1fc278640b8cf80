-- The command-line helper every bundled script uses: declared options and
-- positional arguments with types and defaults, -h/--help printing the
-- usage (exit 0), and an unknown option or a bad value printing the usage
-- to stderr (exit 2). cli.main runs the script body so that an error
-- reaches the user as "name: message", without traceback or source path.
local doc = require("vol.help").doc

local cli = {}

cli.EXIT_USAGE = 2

-- value checkers by type: string -> value or nil, reason
local TYPES = {
  string = function(s) return s end,
  int = function(s)
    local n = tonumber(s)
    if n and math.type(n) == "integer" and not s:find("[xX.eE]") then return n end
    return nil, "an integer"
  end,
  number = function(s)
    local n = tonumber(s)
    if n and n == n and not s:find("[xX]") then return n end
    return nil, "a number"
  end,
}

local function usage_error(spec, msg)
  io.stderr:write(spec.name, ": ", msg, "\n", cli.usage(spec), "\n")
  io.stderr:write(("Run 'medula -s %s --help' for the details.\n"):format(spec.name))
  os.exit(cli.EXIT_USAGE)
end

local function metavar(o)
  if o.type == "flag" then return nil end
  if o.type == "choice" then return "{" .. table.concat(o.choices, ",") .. "}" end
  return o.metavar or (o.type == "int" and "N" or o.type == "number" and "X" or "VALUE")
end

-- "[--jobs N] [--force] IN OUT [EXTRA...]"
function cli.usage(spec)
  local parts = { "usage: medula -s " .. spec.name }
  for _, o in ipairs(spec.options or {}) do
    if not o.hidden then
      local mv = metavar(o)
      local flag = o.type == "flag" and o.default == true and ("--no-" .. o.long:sub(3)) or o.long
      local text = flag .. (mv and (" " .. mv) or "")
      parts[#parts + 1] = o.required and text or ("[" .. text .. "]")
    end
  end
  for _, p in ipairs(spec.positional or {}) do
    local s = p.name .. (p.many and "..." or "")
    parts[#parts + 1] = (p.optional or p.default ~= nil) and ("[" .. s .. "]") or s
  end
  return table.concat(parts, " ")
end

local function help_text(spec)
  local lines = { cli.usage(spec), "" }
  if spec.summary then lines[#lines + 1] = spec.summary; lines[#lines + 1] = "" end
  local function row(left, text, default)
    local d = default ~= nil and (" (default: " .. tostring(default) .. ")") or ""
    lines[#lines + 1] = (("  %-24s %s%s"):format(left, text or "", d):gsub("%s+$", ""))
  end
  if spec.positional and #spec.positional > 0 then
    lines[#lines + 1] = "arguments:"
    for _, p in ipairs(spec.positional) do row(p.name .. (p.many and "..." or ""), p.help, p.default) end
  end
  lines[#lines + 1] = "options:"
  row("-h, --help", "print this help and exit")
  for _, o in ipairs(spec.options or {}) do
    if not o.hidden then
      local mv = metavar(o)
      local names = (o.short and (o.short .. ", ") or "") .. o.long
      if o.type == "flag" and o.default == true then names = "--no-" .. o.long:sub(3) end
      row(names .. (mv and (" " .. mv) or ""), o.help, o.type ~= "flag" and o.default or nil)
    end
  end
  if spec.epilog then lines[#lines + 1] = ""; lines[#lines + 1] = spec.epilog end
  return table.concat(lines, "\n")
end

local function key_of(long) return long:sub(3):gsub("-", "_") end

-- Checks and converts one value for declaration o (an option or positional).
local function convert(spec, o, label, s)
  local v, why
  if o.type == "choice" then
    for _, c in ipairs(o.choices) do if c == s then v = s end end
    why = "one of " .. table.concat(o.choices, ", ")
  else
    v, why = (TYPES[o.type or "string"])(s)
  end
  if v == nil then usage_error(spec, ("%s: expected %s, got '%s'"):format(label, why, s)) end
  if o.min and v < o.min then usage_error(spec, ("%s: must be >= %s, got %s"):format(label, o.min, s)) end
  if o.max and v > o.max then usage_error(spec, ("%s: must be <= %s, got %s"):format(label, o.max, s)) end
  if o.check then
    local w, msg = o.check(v)
    if w == nil then usage_error(spec, ("%s: %s"):format(label, msg or ("bad value '" .. s .. "'"))) end
    v = w
  end
  return v
end

local function validate_spec(spec)
  if type(spec) ~= "table" or type(spec.name) ~= "string" then
    error("bad argument #2 to 'parse' (a spec {name=, options=, positional=} expected)", 3)
  end
  for _, o in ipairs(spec.options or {}) do
    if type(o.long) ~= "string" or not o.long:find("^%-%-[%w][%w-]*$") then
      error("bad option declaration (long = \"--name\" expected, got " .. tostring(o.long) .. ")", 3)
    end
    if o.type and o.type ~= "flag" and o.type ~= "choice" and not TYPES[o.type] then
      error("bad option declaration for " .. o.long .. " (unknown type " .. tostring(o.type) .. ")", 3)
    end
  end
end

function cli.parse(argv, spec)
  validate_spec(spec)
  local out, byname, pos = {}, {}, {}
  for _, o in ipairs(spec.options or {}) do
    byname[o.long] = o
    if o.short then byname[o.short] = o end
    local k = key_of(o.long)
    if o.many then out[k] = {} elseif o.default ~= nil then out[k] = o.default elseif o.type == "flag" then out[k] = false end
  end
  local i, only_pos = 1, false
  while argv[i] ~= nil do
    local a = argv[i]
    if only_pos or a == "-" or a:sub(1, 1) ~= "-" or a:find("^%-%d") then
      pos[#pos + 1] = a
    elseif a == "--" then
      only_pos = true
    elseif a == "-h" or a == "--help" then
      print(help_text(spec))
      os.exit(0)
    else
      local name, value = a:match("^(%-%-[^=]+)=(.*)$")
      name = name or a
      if not value and not name:find("^%-%-") and #name > 2 then -- "-j2"
        name, value = name:sub(1, 2), name:sub(3)
      end
      local o, negated = byname[name], false
      if not o and name:find("^%-%-no%-") then
        o = byname["--" .. name:sub(6)]
        negated = o ~= nil and o.type == "flag"
        if not negated then o = nil end
      end
      if not o then usage_error(spec, "unknown option " .. name) end
      local k = key_of(o.long)
      if o.type == "flag" then
        if value then usage_error(spec, ("option %s takes no value"):format(name)) end
        out[k] = not negated
      else
        if not value then
          i = i + 1
          value = argv[i]
          if value == nil then usage_error(spec, ("option %s needs a value"):format(name)) end
        end
        local v = convert(spec, o, "option " .. o.long, value)
        if o.many then table.insert(out[k], v) else out[k] = v end
      end
    end
    i = i + 1
  end
  local decl = spec.positional or {}
  local k = 1
  for _, p in ipairs(decl) do
    local key = p.key or p.name:lower():gsub("[^%w]", "_")
    if p.many then
      local list = {}
      while k <= #pos do list[#list + 1] = convert(spec, p, p.name, pos[k]); k = k + 1 end
      if #list == 0 and not p.optional then usage_error(spec, "missing " .. p.name) end
      out[key] = list
    elseif pos[k] ~= nil then
      out[key] = convert(spec, p, p.name, pos[k])
      k = k + 1
    elseif p.default ~= nil then
      out[key] = p.default
    elseif not p.optional then
      usage_error(spec, "missing " .. p.name)
    end
  end
  if pos[k] ~= nil then usage_error(spec, ("unexpected argument '%s'"):format(pos[k])) end
  for _, o in ipairs(spec.options or {}) do
    if o.required and out[key_of(o.long)] == nil then usage_error(spec, "missing option " .. o.long) end
  end
  return out
end

doc(cli.parse, [[
cli.parse(argv, spec) -> args
Parses a script's arguments (arg) against spec:
  {name="info", summary="one line", epilog="more text",
   options={{long="--jobs", short="-j", type="int", default=1, min=1, help="..."},
            {long="--force", type="flag"}, {long="--layout", type="choice", choices={"a", "b"}}},
   positional={{name="IN", help="..."}, {name="OUT", optional=true, default="out"},
               {name="FILE", many=true}}}
Types: string (default), int, number, flag (--x sets true, --no-x false), choice;
many=true collects every use of the option into a list (default {});
required=true makes leaving the option out a usage error;
min, max and check=function(v) -> value | nil, message refine them. Options take
"--name value", "--name=value", "-j 2" or "-j2"; "--" ends the options.
args holds each option under its name without dashes (- becomes _) and each
positional under its lower-case name (a list for many=true).
-h/--help prints the usage and the list of options and exits 0; an unknown option,
a bad value, a missing or an extra argument prints the message and the usage to
stderr and exits 2.
  local args = cli.parse(arg, {name="info", positional={{name="FILE", many=true}}})]])

cli.usage = cli.usage
doc(cli.usage, [[
cli.usage(spec) -> string
The one-line usage of a cli.parse spec: "usage: medula -s NAME [--opt N] ... ARGS".
  print(cli.usage(spec))]])

-- "scripts/x.lua:12: msg" and "[string ...]:3: msg" -> "msg", as often as it applies.
local function strip_location(msg)
  local prev
  repeat
    prev = msg
    msg = msg:gsub("^[^\n:]*%.lua:%d+: ", ""):gsub("^%[string [^\n]*%]:%d+: ", ""):gsub("^%[C%]: ", "")
  until msg == prev
  return msg
end
cli.strip_location = strip_location
doc(cli.strip_location, [[
cli.strip_location(message) -> string
The message without leading "file.lua:12: " and "[C]: " locations.
  cli.strip_location("scripts/x.lua:3: bad input")  --> "bad input"]])

function cli.main(name, body)
  if type(name) ~= "string" or type(body) ~= "function" then
    error("bad argument to 'main' (a script name and a function expected)", 2)
  end
  local trace = os.getenv("MEDULA_TRACEBACK")
  local ok, err = xpcall(body, function(e)
    local s = type(e) == "string" and e or tostring(e)
    if trace and trace ~= "" and trace ~= "0" then return debug.traceback(s, 2) end
    return s
  end)
  if ok then
    os.exit(type(err) == "number" and err or 0)
  end
  local msg = strip_location(err)
  if msg:find("^interrupted!") then
    io.stderr:write(name, ": interrupted\n")
    os.exit(130)
  end
  if msg:sub(1, #name + 2) == name .. ": " then msg = msg:sub(#name + 3) end
  io.stderr:write(name, ": ", msg, "\n")
  os.exit(1)
end

doc(cli.main, [[
cli.main(name, body)
Runs body() and exits: with its return value when it is a number, 0 otherwise; an
error is printed on stderr as "name: message" (no traceback, no source location;
set MEDULA_TRACEBACK=1 to see one) and exits 1; Ctrl-C exits 130.
  cli.main("info", function() ... return failed > 0 and 1 or 0 end)]])

return cli
