-- Shared by the runner specs: a small generated dataset, a recipe file
-- whose misbehaviour (errors, kills, crashes, memory, slowness) is chosen
-- per case through params, and running medula as a command.
--   local fx = require "helpers.runner_fixture"
local data = require "helpers.data"
local files = require "helpers.files"

local fx = {}
local q = data.shell_quote

-- n volumes in dir/in (case ids c01, c02, ...), int16 spheres of growing radius.
function fx.dataset(dir, n, shape)
  shape = shape or { 12, 10, 8 }
  vol.fs.mkdir(dir .. "/in")
  for i = 1, n do
    local r = 1 + (i % 5)
    vol.phantom.sphere { shape = shape, radius_mm = r, dtype = "int16", value = 100 + i }:write(
      ("%s/in/c%02d.nii.gz"):format(dir, i))
  end
  return dir .. "/in"
end

-- The recipe: threshold and dilate, write the mask and a copy; params name
-- the cases to fail ("fail"), kill with SIGKILL ("kill"), crash with SIGSEGV
-- ("segv") or run out of memory ("oom"), as "id,id" lists, or to fail the
-- cases fail_on while the file fail_while exists; "sleep" adds
-- seconds of work per case; "threads" records vol.threads() as an output;
-- "trace" names a file each execution appends its case id to.
fx.RECIPE = [[
local vol = require "vol"
local function listed(list, id) return list and (("," .. list .. ","):find("," .. id .. ",", 1, true)) end
return function(case, out, params)
  if params.trace then -- one short append per execution: atomic with O_APPEND
    local f = assert(io.open(params.trace, "a"))
    f:write(case.id, "\n")
    f:close()
  end
  local v = vol.read(case.path)
  if listed(params.fail, case.id) then error("case " .. case.id .. " has no lungs") end
  if params.fail_while and listed(params.fail_on, case.id) and io.open(params.fail_while) then
    error("case " .. case.id .. ": " .. params.fail_while .. " exists")
  end
  if listed(params.kill, case.id) then os.execute("kill -KILL " .. vol.proc.pid()) end
  if listed(params.segv, case.id) then os.execute("kill -SEGV " .. vol.proc.pid()) end
  if listed(params.oom, case.id) then
    vol.set_memory_budget(1)
    vol.new{shape = {512, 512, 64}, dtype = "float32"}
  end
  if tonumber(params.sleep) then os.execute("sleep " .. tonumber(params.sleep)) end
  local mask = v:gt(tonumber(params.level) or 0):dilate(1)
  mask:write(out:path("mask.nii.gz"))
  v:write(out:path("sub/copy.nii"))
  if params.threads then
    local f = assert(io.open(out:path("threads.txt"), "w"))
    f:write(vol.threads(), "\n")
    f:close()
  end
  if case.label then
    local f = assert(io.open(out:path("label.txt"), "w"))
    f:write(case.label, "\n")
    f:close()
  end
end
]]

function fx.recipe(dir)
  local p = dir .. "/recipe.lua"
  files.spit(p, fx.RECIPE)
  return p
end

-- stdout, stderr and exit status of a shell command line.
function fx.sh(cmd)
  local errfile = os.tmpname()
  local p = io.popen("(" .. cmd .. ") 2>" .. q(errfile))
  local out = p:read("a")
  local _, _, rc = p:close()
  local err = files.slurp(errfile)
  os.remove(errfile)
  return out, err, rc
end

-- medula -s run with the words args (quoted here), in folder cwd.
function fx.run(cwd, args, env)
  local words = { q(data.medula()), "-s", "run" }
  for _, a in ipairs(args) do words[#words + 1] = q(a) end
  return fx.sh(("cd %s && %s %s"):format(q(cwd), env or "", table.concat(words, " ")))
end

-- Every file under dir (relative path -> content), hidden ones included;
-- skip: a pattern of relative paths to leave out.
function fx.tree(dir, skip)
  local t = {}
  for _, rel in ipairs(vol.fs.list(dir, { recursive = true })) do
    local st = vol.fs.stat(dir .. "/" .. rel)
    if st.kind == "file" and not (skip and rel:find(skip)) then t[rel] = files.slurp(dir .. "/" .. rel) end
  end
  return t
end

-- The case outputs only (what must be byte-identical across engines).
function fx.outputs(dir)
  local t = {}
  for rel, content in pairs(fx.tree(dir)) do
    if rel:find("^c%d+/") then t[rel] = content end
  end
  return t
end

return fx
