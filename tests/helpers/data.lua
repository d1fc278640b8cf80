-- Where specs find the real sample files, and temporary folders for specs.
--
-- Busted does not put tests/ on package.path, so a spec starts with
--   package.path = "tests/?.lua;" .. package.path
--   local data = require "helpers.data"
-- (make test runs busted from the repository root).
--
-- The data folder is ../shared/data beside the repository when it exists,
-- otherwise $MEDULA_SAMPLES, otherwise build/samples (what `make samples`
-- fills from Debian packages). A missing file is an error, never a skip.
local data = {}

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end
data.shell_quote = shell_quote

local function exists(path)
  local f = io.open(path, "rb") -- also opens folders on Linux
  if f then f:close() end
  return f ~= nil
end

local function cwd()
  local p = io.popen("pwd")
  local d = p:read("l")
  p:close()
  return d
end

local function absolute(path)
  if path:sub(1, 1) == "/" then return path end
  return cwd() .. "/" .. path:gsub("^%./", "")
end

-- The repository root: two folders above this file.
local root
function data.root()
  if not root then
    local src = debug.getinfo(1, "S").source:gsub("^@", "")
    local dir = absolute(src):match("^(.*)/[^/]+$") -- tests/helpers
    root = dir:gsub("/tests/helpers$", "")
  end
  return root
end

local function shared_dir()
  return data.root():match("^(.*)/[^/]+$") .. "/shared/data"
end

-- The rule, apart from the environment (a spec checks it): the shared
-- folder if it exists, else the folder named by env, else build/samples.
function data.choose(shared, env, repo)
  if exists(shared) then return shared end
  if env and env ~= "" then return absolute(env) end
  return repo .. "/build/samples"
end

-- The folder holding the sample files (absolute path).
function data.dir()
  return data.choose(shared_dir(), os.getenv("MEDULA_SAMPLES"), data.root())
end

-- Absolute path of a sample file, e.g. data.path("nifti/ch2.nii.gz").
-- Raises an error naming the file when it is missing.
function data.path(rel)
  if type(rel) ~= "string" or rel == "" then
    error("data.path: expected a path relative to the data folder, got " .. tostring(rel), 2)
  end
  local dir = data.dir()
  local p = dir .. "/" .. rel
  if not exists(p) then
    error(("sample file '%s' not found in %s: run `make samples` (or set MEDULA_SAMPLES "
      .. "to a folder holding the samples)"):format(rel, dir), 2)
  end
  return p
end

-- The decoded expected.json of the shared data folder, or nil when the
-- samples come from `make samples` (specs then compute references with
-- python3, see helpers/ref.lua).
local expected
function data.expected()
  if expected == nil then
    expected = false
    local f = io.open(shared_dir() .. "/expected.json", "rb")
    if f then
      local text = f:read("a")
      f:close()
      local json = require "dkjson"
      local obj, _, err = json.decode(text) -- JSON null becomes nil
      if not obj then error("expected.json: " .. tostring(err)) end
      expected = obj
    end
  end
  return expected or nil
end

-- Folders made by data.tmpdir are removed when the Lua state closes.
local made = setmetatable({}, {__gc = function(t)
  for _, d in ipairs(t) do os.execute("rm -rf " .. shell_quote(d)) end
end})

-- A fresh, empty temporary folder (absolute path).
function data.tmpdir()
  local p = io.popen("mktemp -d \"${TMPDIR:-/tmp}/medula-spec.XXXXXX\"")
  local d = p:read("l")
  p:close()
  assert(d and d ~= "", "mktemp -d failed")
  made[#made + 1] = d
  return d
end

-- The medula executable running the specs (for subprocesses), absolute.
function data.medula()
  local exe = arg and arg[-1]
  if exe and exe:find("medula", 1, true) then return absolute(exe) end
  return data.root() .. "/build/medula"
end

-- Runs medula in a new process with the argument list args (e.g.
-- {"-e", chunk} or {"scripts/demo.lua", dir}) and extra environment
-- assignments (e.g. "OMP_NUM_THREADS=2"). Returns its stdout; raises with
-- its stderr when it exits with an error.
function data.run_medula(env, args)
  local q = { shell_quote(data.medula()) }
  for _, a in ipairs(args) do q[#q + 1] = shell_quote(a) end
  local errfile = os.tmpname()
  local p = io.popen(("env %s %s 2>%s"):format(env or "", table.concat(q, " "), shell_quote(errfile)))
  local out = p:read("a")
  local ok = p:close()
  local f = io.open(errfile, "rb")
  local err = f and f:read("a") or ""
  if f then f:close() end
  os.remove(errfile)
  if not ok then error("medula " .. table.concat(args, " ") .. " failed:\n" .. err .. out, 2) end
  return out
end

-- Size of a file in bytes, or nil when it cannot be opened.
function data.size(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local n = f:seek("end")
  f:close()
  return n
end

-- The 3x3 rotation by angle (radians) about the unit axis u (Rodrigues):
-- an oblique direction matrix for geometry specs.
function data.rotation(u, angle)
  local c, s, t = math.cos(angle), math.sin(angle), 1 - math.cos(angle)
  local x, y, z = u[1], u[2], u[3]
  return {{t * x * x + c, t * x * y - s * z, t * x * z + s * y},
          {t * x * y + s * z, t * y * y + c, t * y * z - s * x},
          {t * x * z - s * y, t * y * z + s * x, t * z * z + c}}
end

return data
