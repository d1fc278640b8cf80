-- The cases of a run in worker processes started by util.runner, either
--   medula worker.lua RUNFILE CASE_ID [FIELD VALUE]...      (exec: one case)
-- or by forking the runner, the child serving the cases it is told one at
-- a time (worker.serve: no new program, no new process per case).
-- Each case runs the recipe with the case's staging folder as its output
-- folder, moves what it wrote into OUT/CASE_ID/, and leaves a result file
-- (status, outputs, sizes, SHA-256, peak memory, message) for the runner.
-- Every file appears under its final name only when complete, by rename.
local vol = require "vol"
local serial = require "util.serial"
local strip_location = require("util.cli").strip_location

local fs, proc = vol.fs, vol.proc
local worker = {}

-- Peak resident memory of this process in KiB (VmHWM), reset per case by
-- worker.serve where the kernel allows it (/proc/self/clear_refs, "5").
local function peak_kb()
  local f = io.open("/proc/self/status", "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return tonumber(text:match("\nVmHWM:%s*(%d+)"))
end

local function reset_peak()
  local f = io.open("/proc/self/clear_refs", "wb")
  if not f then return end
  f:write("5")
  f:close()
end

-- Messages worth a retry: the machine, not the input, was the problem.
local RETRY = { "out of memory", "memory budget", "No space left", "interrupted", "cancelled",
  "Too many open files", "Resource temporarily unavailable" }

local function classify(msg)
  for _, pat in ipairs(RETRY) do
    if msg:find(pat, 1, true) then return "retry" end
  end
  return "error"
end

local function load_recipe(name)
  local r
  if name:find("%.lua$") or name:find("/") then
    r = dofile(name)
  else
    r = require(name)
  end
  if type(r) == "table" then r = r.run end
  if type(r) ~= "function" then error("recipe " .. name .. " is not a function (nor a table with run)", 0) end
  return r
end

-- Runs run.recipe on case (run: {recipe=, params=, out=, threads=, budget_mb=}),
-- writes OUT/.medula-tmp/ID.result and returns it as a table; raises only
-- when that cannot be written.
function worker.run_case(run, case)
  vol.set_threads(run.threads)
  vol.set_memory_budget(run.budget_mb or 0) -- also undoes a budget the last case set
  local id = case.id
  local tmp = fs.join(run.out, ".medula-tmp")
  local staging = fs.join(tmp, id)
  local result_path = fs.join(tmp, id .. ".result")

  local function write_result(res)
    local part = result_path .. ".part"
    local f = assert(io.open(part, "wb"))
    f:write(serial.dump(res))
    f:close()
    fs.rename(part, result_path)
    return res
  end

  -- What a recipe gets as `out`: where to write, and the case's own folder.
  local out = { dir = staging, case = case, final_dir = fs.join(run.out, id) }
  function out.path(_, name)
    if type(name) ~= "string" or name == "" or name:sub(1, 1) == "/" or name:find("%.%.") or name:find("^%.") then
      error("bad argument #1 to 'path' (a relative output name without '..' expected, got " .. tostring(name) .. ")", 2)
    end
    local p = fs.join(staging, name)
    fs.mkdir(fs.dirname(p))
    return p
  end

  fs.remove(staging, { recursive = true, missing_ok = true })
  fs.mkdir(staging)
  local ok, err = xpcall(function()
    local recipe = load_recipe(run.recipe)
    return recipe(case, out, run.params or {})
  end, function(e)
    return type(e) == "string" and e or tostring(e)
  end)
  if not ok then
    local msg = strip_location(err)
    return write_result({ status = classify(msg), message = msg, peak_kb = peak_kb() })
  end

  -- Publish: every file under the staging folder, in sorted order, renamed
  -- into OUT/ID/ (temporary names of interrupted writers never get here).
  local names, bytes, sums = {}, {}, {}
  for _, rel in ipairs(fs.list(staging, { recursive = true })) do
    local p = fs.join(staging, rel)
    local st = fs.stat(p)
    if st and st.kind == "file" and not fs.basename(rel):find("^%.") then
      local sum, size = fs.sha256(p)
      names[#names + 1], bytes[#bytes + 1], sums[#sums + 1] = rel, size, sum
    end
  end
  for _, rel in ipairs(names) do
    local dst = fs.join(out.final_dir, rel)
    fs.mkdir(fs.dirname(dst))
    fs.rename(fs.join(staging, rel), dst)
  end
  return write_result({ status = "ok", outputs = table.concat(names, ";"), bytes = table.concat(bytes, ";"),
    sha256 = table.concat(sums, ";"), peak_kb = peak_kb() })
end

require("vol.help").doc(worker.run_case, [[
worker.run_case(run, case) -> result
Runs one case in this process: run = {recipe=, params=, out=, threads=, budget_mb=};
writes OUT/.medula-tmp/ID.result for the runner, outputs into OUT/ID/.
  require("util.worker").run_case(run, {id = "c1", path = "c1.nii.gz"})]])

-- In a child forked by the runner: runs cases[i] for each line "i" the
-- runner sends, answering "i" when its result file is in place, until the
-- runner closes the channel. What a case prints goes to OUT/.medula-tmp/ID.log.
-- Between cases the garbage is collected (the memory budget counts live
-- voxels) and the threads, budget and peak-memory counter are reset. A case
-- stopped by a signal (Ctrl-C, SIGTERM) ends the worker after its answer:
-- the cancel flag stays raised in this process.
function worker.serve(run, cases)
  local tmp = fs.join(run.out, ".medula-tmp")
  while true do
    local line = proc._recv()
    if not line then return end
    local case = cases[tonumber(line)]
    if not case then error("worker: no case number " .. line, 0) end
    proc._redirect(fs.join(tmp, case.id .. ".log"))
    reset_peak()
    local res = worker.run_case(run, case)
    io.stdout:flush()
    collectgarbage()
    vol.drop_kept() -- the next case's peak memory is its own
    if not proc._reply(line) then return end
    local msg = res.status == "retry" and res.message or ""
    if msg:find("interrupted", 1, true) or msg:find("cancelled", 1, true) then return end
  end
end

require("vol.help").doc(worker.serve, [[
worker.serve(run, cases)
In a worker forked by the runner (vol.proc._fork): runs cases[i] with worker.run_case for
each line "i" from the runner, answering "i" after each, until the runner closes.]])

if ... == "util.worker" then return worker end

-- Run as a script: the run file and the case from the command line.
local runfile = arg[1]
local f = assert(io.open(runfile, "rb"))
local run = serial.load(f:read("a"), runfile)
f:close()
local case = { id = arg[2] }
for i = 3, #arg - 1, 2 do case[arg[i]] = arg[i + 1] end
worker.run_case(run, case)
os.exit(0)
