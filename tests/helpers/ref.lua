-- Independent references for specs: runs a python3 script from tests/ref/
-- and decodes the JSON it prints.
--   local ref = require "helpers.ref"      (after the package.path line of helpers/data.lua)
--   local r = ref.run("volume_ref.py", path, "1,1,1")
-- The interpreter is Debian's /usr/bin/python3 (it has numpy, nibabel and
-- scipy; the python3 first on PATH may be another one), or $MEDULA_PYTHON.
local data = require "helpers.data"
local json = require "dkjson"

local ref = {}
ref.python = os.getenv("MEDULA_PYTHON") or "/usr/bin/python3"

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

-- Runs tests/ref/<script> with the given arguments (converted with
-- tostring) and returns the decoded JSON it printed on stdout. Raises with
-- the script's stderr when it fails or prints something that is not JSON.
function ref.run(script, ...)
  local q = data.shell_quote
  local cmd = { q(ref.python), q(data.root() .. "/tests/ref/" .. script) }
  for i = 1, select("#", ...) do cmd[#cmd + 1] = q(tostring(select(i, ...))) end
  local errfile = os.tmpname()
  local p = io.popen(table.concat(cmd, " ") .. " 2>" .. q(errfile))
  local out = p:read("a")
  local ok, _, code = p:close()
  local stderr = slurp(errfile)
  os.remove(errfile)
  if not ok then
    error(("reference %s failed (exit %s):\n%s"):format(script, tostring(code), stderr), 2)
  end
  local obj, _, err = json.decode(out)
  if type(obj) ~= "table" then
    error(("reference %s printed no JSON object (%s):\n%s\n%s"):format(script, tostring(err),
      out:sub(1, 500), stderr), 2)
  end
  return obj
end

return ref
