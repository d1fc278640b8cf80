-- The case runner: a recipe over a list of cases in worker processes
-- (util/worker.lua), --jobs at a time with their share of the threads, each
-- worker running a series of cases, each case isolated by pcall (a worker
-- that dies is replaced). A ledger beside the outputs makes a rerun skip
-- finished cases;
-- shards and chunks split a run over SLURM array tasks or GNU parallel jobs.
-- Emitting scripts for those engines is util/runner_emit.lua; the script
-- side (options, exit codes) is runner.main below.
local vol = require "vol"
local csv = require "util.csv"
local ledger = require "util.ledger"
local serial = require "util.serial"
local share = require("util.runner_env").share
local term = require "vol.term"
local doc = require("vol.help").doc

local fs, proc = vol.fs, vol.proc
local runner = {}

-- Exit statuses of a run (docs/cluster.md lists them).
runner.EXIT = { ok = 0, fatal = 1, usage = 2, failed = 3, retry = 75, interrupted = 130 }

local function check_id(id, where)
  if type(id) ~= "string" or id == "" or id:find("[/%z\r\n]") or id:sub(1, 1) == "." then
    error(("%s: bad case id %q (it names a folder: no '/', no line break, not starting with '.')"):format(
      where, tostring(id)), 0)
  end
end

-- The cases of a folder (one per entry matching pattern) or a manifest CSV.
function runner.cases(o)
  if type(o) ~= "table" then error("bad argument #1 to 'cases' (table expected)", 2) end
  local list, seen = {}, {}
  local function add(case, where)
    check_id(case.id, where)
    if seen[case.id] then
      error(("%s: case %q appears twice (%s and %s)"):format(where, case.id, seen[case.id], case.path or "a later row"), 0)
    end
    seen[case.id] = case.path or where
    list[#list + 1] = case
  end
  local manifest = o.manifest or (o.input and o.input:find("%.csv$") and o.input)
  if manifest then
    local rows, header = csv.read(manifest)
    local col = (header and ({ case = "case", id = "id" })[header[1]]) or nil
    for _, h in ipairs(header or {}) do if not col and (h == "case" or h == "id") then col = h end end
    if not col then error(manifest .. ": no column 'case' (or 'id') naming the cases", 0) end
    for i, row in ipairs(rows) do
      local case = { id = row[col] }
      for k, v in pairs(row) do if k ~= col and k ~= "id" then case[k] = v end end
      add(case, ("%s row %d"):format(manifest, i + 1))
    end
  elseif o.input then
    local st = fs.stat(o.input)
    if not st or st.kind ~= "dir" then error(o.input .. ": no such folder (the input must be a folder or a .csv manifest)", 0) end
    for _, p in ipairs(fs.glob(fs.join(o.input, o.pattern or "*"))) do
      add({ id = fs.stem(p), path = p }, o.input)
    end
  else
    error("bad argument #1 to 'cases' (input= folder or manifest= CSV expected)", 2)
  end
  return list
end

doc(runner.cases, [[
runner.cases{input=folder, [pattern="*"]} | {manifest=file.csv} -> {case, ...}
The cases of a run. From a folder: one case per entry matching pattern (a vol.fs.glob
pattern relative to the folder, "**" allowed), sorted, with id = the file name without
folder and extension (vol.fs.stem) and path = the entry. From a manifest CSV (also
input="x.csv"): one case per row, id from column "case" (or "id"), every other column a
field of the case. Ids name output folders: unique, no '/', not starting with '.'.
  local cases = runner.cases{input="scans", pattern="*.nii.gz"}]])

-- "K/N" -> K, N (0 <= K < N), or nil and why.
function runner.parse_shard(s)
  local k, n = tostring(s):match("^(%d+)/(%d+)$")
  k, n = tonumber(k), tonumber(n)
  if not k or n < 1 or k >= n then return nil, "expected K/N with 0 <= K < N, got '" .. tostring(s) .. "'" end
  return { k, n }
end

doc(runner.parse_shard, [[
runner.parse_shard(s) -> {K, N} | nil, message
Reads a shard "K/N" (0 <= K < N), as --shard takes it.
  runner.parse_shard("1/4")  --> {1, 4}]])

-- The cases this process runs, and the name of its ledger (nil: the whole run).
function runner.select(cases, o)
  local getenv = o.getenv or os.getenv
  local shard, chunk, task = o.shard, o.chunk, o.task
  if type(shard) == "string" then
    local s, why = runner.parse_shard(shard)
    if not s then error("shard: " .. why, 0) end
    shard = s
  end
  local array_id = tonumber(getenv("SLURM_ARRAY_TASK_ID") or "")
  if array_id and not shard and task == nil then
    local min = tonumber(getenv("SLURM_ARRAY_TASK_MIN") or "") or 0
    local count = tonumber(getenv("SLURM_ARRAY_TASK_COUNT") or "")
      or ((tonumber(getenv("SLURM_ARRAY_TASK_MAX") or "") or array_id) - min + 1)
    if chunk then task = array_id - min else shard = { array_id - min, count } end
  end
  if shard and chunk then error("use --shard or --chunk, not both", 0) end
  local out = {}
  if shard then
    for i = shard[1] + 1, #cases, shard[2] do out[#out + 1] = cases[i] end
    return out, ("shard-%d-of-%d"):format(shard[1], shard[2])
  end
  if chunk then
    if not task then error("--chunk needs --task K (or SLURM_ARRAY_TASK_ID)", 0) end
    for i = task * chunk + 1, math.min(#cases, (task + 1) * chunk) do out[#out + 1] = cases[i] end
    return out, ("chunk-%d-size-%d"):format(task, chunk)
  end
  return cases, nil
end

doc(runner.select, [[
runner.select(cases, {shard=, chunk=, task=, getenv=}) -> cases, name
The cases one process runs: every N-th from K+1 for shard "K/N" (or {K, N}), cases
K*M+1 .. K*M+M for chunk=M, task=K; under a SLURM array (SLURM_ARRAY_TASK_ID, _MIN,
_COUNT) the task id picks them when neither shard nor task is given. name is the
ledger's name ("shard-K-of-N", "chunk-K-size-M"), nil for all cases.
  local mine = runner.select(cases, {shard="0/4"})]])

-- Which file of the recipe: a path (has '/' or ends in .lua) or a module name.
local function resolve_recipe(recipe)
  if type(recipe) ~= "string" then error("recipe: a module name or a .lua file expected", 0) end
  if recipe:find("%.lua$") or recipe:find("/") then
    local f, err = loadfile(recipe)
    if not f then error("recipe " .. recipe .. ": " .. err, 0) end
    return fs.absolute(recipe)
  end
  local path, err = package.searchpath(recipe, package.path)
  if not path then error("recipe " .. recipe .. " not found:" .. err, 0) end
  return recipe
end

local function worker_script()
  local path = package.searchpath("util.worker", package.path)
  if not path then error("cannot find util/worker.lua beside the runner", 0) end
  return fs.absolute(path)
end

local function hostname()
  local f = io.open("/proc/sys/kernel/hostname", "rb")
  local h = f and f:read("l") or os.getenv("HOSTNAME") or "host"
  if f then f:close() end
  return h
end

local function fmt_duration(s)
  s = math.floor(s + 0.5)
  if s >= 3600 then return ("%d:%02d:%02d"):format(s // 3600, s % 3600 // 60, s % 60) end
  return ("%d:%02d"):format(s // 60, s % 60)
end

-- Progress: a bar on a terminal, one line per case otherwise.
local function new_display(total, live, log)
  local d = { total = total, done = 0, failed = 0, t0 = proc.now(), live = live, log = log, drawn = false }
  function d:draw()
    if not self.live then return end
    local now = proc.now()
    if self.shown == self.done and now - (self.shown_at or 0) < 0.5 then return end -- nothing new
    self.shown, self.shown_at = self.done, now
    local el = now - self.t0
    local rate = self.done > 0 and self.done / el or 0
    local eta = rate > 0 and fmt_duration((self.total - self.done) / rate) or "?"
    local width = 24
    local filled = self.total > 0 and math.floor(width * self.done / self.total) or width
    io.stderr:write(("\r[%s%s] %d/%d  %d failed  %.2f cases/s  ETA %s "):format(
      ("#"):rep(filled), ("."):rep(width - filled), self.done, self.total, self.failed, rate, eta))
    io.stderr:flush()
    self.drawn = true
  end
  function d:case(row)
    self.done = self.done + 1
    if row.status ~= "ok" then self.failed = self.failed + 1 end
    if self.live then
      if row.status ~= "ok" then
        io.stderr:write("\r\27[K", row.case, " ", row.status, ": ", row.message, "\n")
      end
      self:draw()
    elseif self.log then
      local line = ("[%d/%d] %s %s %.2f s"):format(self.done, self.total, row.case, row.status, row.seconds)
      if row.status ~= "ok" then line = line .. ": " .. row.message end
      io.stderr:write(line, "\n")
    end
  end
  function d:finish()
    if self.live and self.drawn then io.stderr:write("\n") end
  end
  return d
end

-- Whether this process runs one thread (no OpenMP pool yet): then a fork
-- is a safe, cheap worker.
function runner.single_threaded()
  local f = io.open("/proc/self/status", "rb")
  if not f then return false end
  local text = f:read("a")
  f:close()
  return tonumber(text:match("\nThreads:%s*(%d+)")) == 1
end

-- What a killed runner may have left besides case staging folders: the run
-- files of dead runners on this host (all of them with all=true, when every
-- shard is over) and the temporary copies of its ledger being rewritten.
function runner.clean_leftovers(out, shard_name, all)
  local tmp = fs.join(out, ".medula-tmp")
  local host = hostname()
  if fs.stat(tmp) then
    for _, name in ipairs(fs.list(tmp)) do
      local h, pid = name:match("^run%-(.+)%-(%d+)%.lua$")
      if h and (all or (h == host and not fs.exists("/proc/" .. pid))) then
        fs.remove(fs.join(tmp, name), { missing_ok = true })
      end
    end
  end
  local ledger_name = shard_name and (shard_name .. ".csv") or "ledger.csv"
  local folder = shard_name and fs.join(out, "ledgers") or out
  if fs.stat(folder) then
    for _, name in ipairs(fs.list(folder)) do
      if name:sub(1, #ledger_name + 5) == "." .. ledger_name .. ".tmp" or (all and name:find("^%..*%.csv%.tmp%d+$")) then
        fs.remove(fs.join(folder, name), { missing_ok = true })
      end
    end
  end
end

local function signal_status(sig, name)
  local crash = { SEGV = true, BUS = true, ILL = true, FPE = true, ABRT = true, SYS = true }
  return crash[name] and "crash" or "retry", ("worker ended by signal %d (SIG%s)"):format(sig, name or "?")
end

local RUN_OPTS = {
  recipe = true, params = true, out = true, cases = true, input = true, pattern = true, manifest = true,
  jobs = true, threads = true, force = true, shard = true, chunk = true, task = true, progress = true,
  log = true, getenv = true, keep_logs = true, cases_per_worker = true,
}

function runner.run(o)
  if type(o) ~= "table" then error("bad argument #1 to 'run' (table expected)", 2) end
  for k in pairs(o) do
    if not RUN_OPTS[k] then error("bad argument #1 to 'run' (unknown option '" .. tostring(k) .. "')", 2) end
  end
  if type(o.out) ~= "string" or o.out == "" then error("bad argument #1 to 'run' (out= folder expected)", 2) end
  local jobs = o.jobs or 1
  if math.type(jobs) ~= "integer" or jobs < 1 then error("bad argument #1 to 'run' (jobs must be an integer >= 1)", 2) end
  local cpw = o.cases_per_worker
  if cpw ~= nil and (math.type(cpw) ~= "integer" or cpw < 1) then
    error("bad argument #1 to 'run' (cases_per_worker must be an integer >= 1)", 2)
  end
  local recipe = resolve_recipe(o.recipe)
  local out = fs.absolute(o.out)
  local all = o.cases or runner.cases(o)
  for i, c in ipairs(all) do check_id(c.id, "case " .. i) end
  local selected, shard_name = runner.select(all, o)

  fs.mkdir(out)
  local tmp = fs.join(out, ".medula-tmp")
  fs.mkdir(tmp)
  local latest = ledger.latest(out)
  local todo, skipped, mine = {}, 0, {}
  for _, c in ipairs(selected) do
    local row = latest[c.id]
    if not o.force and row and row.status == "ok" and ledger.outputs_intact(out, row) then
      skipped = skipped + 1
    else
      todo[#todo + 1] = c
    end
    mine[c.id] = true
  end
  -- leftovers of interrupted attempts of these cases: staging folders,
  -- results, logs (other shards' cases are not ours to touch)
  for _, name in ipairs(fs.list(tmp)) do
    local id = name:gsub("%.result%.part$", ""):gsub("%.result$", ""):gsub("%.log$", "")
    if mine[id] or mine[name] then fs.remove(fs.join(tmp, name), { recursive = true, missing_ok = true }) end
  end

  runner.clean_leftovers(out, shard_name)

  local s = share { jobs = jobs, threads = o.threads, getenv = o.getenv }
  local runfile = fs.join(tmp, ("run-%s-%d.lua"):format(hostname(), proc.pid()))
  local f = assert(io.open(runfile, "wb"))
  f:write(serial.dump { recipe = recipe, params = o.params or {}, out = out, threads = s.threads, budget_mb = s.budget_mb })
  f:close()

  local ledger_path = shard_name and fs.join(out, "ledgers", shard_name .. ".csv") or fs.join(out, "ledger.csv")
  local w = ledger.open(ledger_path)
  local live = o.progress
  if live == nil then live = term.isatty(2) end
  local display = new_display(#todo, live, o.log ~= false)
  local exe, worker = proc.exe(), worker_script()
  -- workers[pid] = {case=, index=, t0=} while it runs a case; n = cases it
  -- was given; closing = told to end (it runs nothing more)
  local workers = {}
  local counts = { ok = 0, error = 0, crash = 0, retry = 0 }
  local interrupted = false

  -- Records the case job ran: its result file, else how its worker ended.
  local function finish(job, ended, status, message)
    local case = job.case
    job.case = nil
    local rfile = fs.join(tmp, case.id .. ".result")
    local res
    if fs.exists(rfile) then
      local rf = io.open(rfile, "rb")
      res = serial.load(rf:read("a"), rfile)
      rf:close()
    end
    res = res or {}
    if not res.status then
      if status then
        res.status, res.message = status, message
      elseif ended and ended.signal then
        res.status, res.message = signal_status(ended.signal, ended.signal_name)
      else
        res.status, res.message = "crash", ("worker exited with status %s without a result"):format(ended and ended.code or "?")
      end
    end
    local log = fs.join(tmp, case.id .. ".log")
    local lst = fs.stat(log)
    if lst and lst.size > 0 and (res.status ~= "ok" or o.keep_logs) then
      fs.mkdir(fs.join(out, "logs"))
      fs.rename(log, fs.join(out, "logs", case.id .. ".log"))
      if res.status ~= "ok" and (res.message or "") == "" then res.message = "see logs/" .. case.id .. ".log" end
    end
    fs.remove(log, { missing_ok = true })
    local peak_kb = res.peak_kb or (ended and ended.maxrss_kb)
    local row = {
      case = case.id, status = res.status, outputs = res.outputs or "", bytes = res.bytes or "",
      sha256 = res.sha256 or "", seconds = ("%.3f"):format(proc.now() - job.t0),
      peak_mb = peak_kb and ("%.1f"):format(peak_kb / 1024) or "",
      message = res.message or "", finished = ledger.format_time(proc.now("wall")),
    }
    w:add(row)
    row.seconds = tonumber(row.seconds)
    counts[row.status] = (counts[row.status] or 0) + 1
    fs.remove(fs.join(tmp, case.id), { recursive = true, missing_ok = true })
    fs.remove(rfile, { missing_ok = true })
    display:case(row)
  end

  -- Forking this process (no exec) saves the start of a new program, but
  -- only while no OpenMP pool exists here (its threads would be missing in
  -- the child); otherwise, and with MEDULA_RUNNER_EXEC=1, a new program per
  -- case. A forked worker runs up to per_worker cases one after another (a
  -- new process per case costs its page faults again), isolated from each
  -- other by pcall; a worker that dies takes only its current case along
  -- and a fresh one takes over.
  local use_fork = (o.getenv or os.getenv)("MEDULA_RUNNER_EXEC") ~= "1" and runner.single_threaded()
  local per_worker = o.cases_per_worker or 100
  local run_desc = { recipe = recipe, params = o.params or {}, out = out, threads = s.threads, budget_mb = s.budget_mb }
  local queue, next_case = {}, 1 -- queue: cases handed back by a worker that died before taking them
  for i = 1, #todo do queue[i] = i end

  local function take()
    local i = queue[next_case]
    if i then next_case = next_case + 1 end
    return i
  end
  local function put_back(i)
    next_case = next_case - 1
    queue[next_case] = i
  end

  -- Hands case i to a forked worker; false when the worker is gone.
  local function assign(pid, i)
    local wk = workers[pid]
    if not proc._send(pid, tostring(i)) then
      put_back(i)
      return false
    end
    wk.case, wk.index, wk.t0, wk.n = todo[i], i, proc.now(), wk.n + 1
    return true
  end

  local function retire(pid)
    local wk = workers[pid]
    if wk.closing then return end
    wk.closing = true
    proc._close_send(pid)
  end

  local function start(i)
    local c = todo[i]
    if use_fork then
      io.stdout:flush()
      local serve = require("util.worker").serve
      local pid = proc._fork(function() serve(run_desc, todo) end)
      workers[pid] = { n = 0 }
      if not assign(pid, i) then retire(pid) end
      return
    end
    local log = fs.join(tmp, c.id .. ".log")
    local argv = { exe, worker, runfile, c.id }
    local keys = {}
    for k in pairs(c) do if k ~= "id" and type(k) == "string" then keys[#keys + 1] = k end end
    table.sort(keys)
    for _, k in ipairs(keys) do argv[#argv + 1] = k; argv[#argv + 1] = tostring(c[k]) end
    local pid = proc.spawn(argv, { env = { OMP_NUM_THREADS = tostring(s.threads) }, stdout = log, stderr = log })
    workers[pid] = { case = c, index = i, t0 = proc.now(), n = 1, closing = true } -- one case, then it ends
  end

  -- One event of proc.wait: a worker done with its case, or one that ended.
  local function handle(ev, status, why)
    local wk = workers[ev.pid]
    if not wk then return end
    if ev.message then
      if wk.case and tostring(wk.index) == ev.message then finish(wk) end
      if status then return end -- stopping: no new case
      local i = not wk.closing and wk.n < per_worker and take()
      if not (i and assign(ev.pid, i)) then retire(ev.pid) end
      return
    end
    workers[ev.pid] = nil
    if wk.case then finish(wk, ev, status, why) end
  end

  local t0 = proc.now()
  local ok, err = pcall(function()
    display:draw()
    while queue[next_case] or next(workers) do
      local busy = 0
      for _, wk in pairs(workers) do if wk.case or not wk.closing then busy = busy + 1 end end
      while queue[next_case] and busy < jobs do
        start(take())
        busy = busy + 1
      end
      local ev = proc.wait(0.5)
      if ev then handle(ev) end
      display:draw()
    end
  end)
  if not ok then
    -- Ctrl-C or SIGTERM (or a bug): stop the workers, record them, keep the ledger whole
    interrupted = tostring(err):find("interrupted!", 1, true) ~= nil
    local why = interrupted and "interrupted" or ("runner stopped: " .. tostring(err))
    for pid in pairs(workers) do
      pcall(proc.kill, pid, "TERM")
      retire(pid)
    end
    local deadline = proc.now() + 10
    while next(workers) do
      local left = deadline - proc.now()
      if left <= 0 then
        for pid in pairs(workers) do pcall(proc.kill, pid, "KILL") end
        left = 5
      end
      local okw, ev = pcall(proc.wait, left)
      if okw and ev and workers[ev.pid] then
        handle(ev, "retry", why)
      elseif not okw then
        interrupted = true
      elseif proc.running() == 0 then
        -- reaped just before the interruption reached Lua: its result file tells
        for pid, wk in pairs(workers) do
          workers[pid] = nil
          if wk.case then finish(wk, nil, "retry", why) end
        end
      end
    end
  end
  display:finish()
  w:close()
  fs.remove(runfile, { missing_ok = true })
  -- the staging folder goes when empty, but not under a shard: the other
  -- shards may be about to use it (--merge removes it at the end)
  if not shard_name then
    pcall(fs.remove, tmp)
    ledger.merge(out)
  end

  local summary = {
    selected = #selected, skipped = skipped, ran = #todo, counts = counts, seconds = proc.now() - t0,
    threads = s.threads, jobs = jobs, ledger = ledger_path, shard = shard_name, interrupted = interrupted,
  }
  if interrupted then
    summary.exit = runner.EXIT.interrupted
  elseif not ok then
    error(err, 0)
  elseif counts.retry > 0 then
    summary.exit = runner.EXIT.retry
  elseif counts.error + counts.crash > 0 then
    summary.exit = runner.EXIT.failed
  else
    summary.exit = runner.EXIT.ok
  end
  return summary
end

doc(runner.run, [[
runner.run{recipe=, out=, input= | manifest= | cases=, ...} -> summary
Runs recipe over the cases in worker processes, and records each
finished case in a ledger beside the outputs (out/ledger.csv; for a shard
out/ledgers/<shard>.csv). A rerun skips cases whose latest row is "ok" and
whose outputs are still there with their recorded sizes.
  recipe    a module name ("recipes.lung") or a .lua file returning
            function(case, out, params) (or a table with run = that function).
            case = {id=, path=, other manifest columns}; out:path("mask.nii.gz")
            is where to write an output (a staging folder, moved to out/<id>/
            when the recipe returns); params = the params table.
  jobs      workers at a time (default 1); threads per worker (default: usable
            CPUs // jobs, honouring SLURM_CPUS_PER_TASK and cgroup quotas)
  force     redo every selected case
  cases_per_worker  cases a forked worker runs one after another before a fresh
            one takes over (default 100; 1: a new process per case). Threads,
            memory budget and voxels are reset between cases, Lua globals not.
  shard     "K/N": cases K+1, K+1+N, ... (0 <= K < N); chunk=M with task=K: cases
            K*M+1 .. K*M+M. Under a SLURM array the task id picks them.
  progress  bar on stderr (default: when stderr is a terminal), else log lines
  log       false: no per-case lines
summary: {selected=, skipped=, ran=, counts={ok=, error=, crash=, retry=}, seconds=,
exit=} with exit 0 (all ok), 3 (a case failed on its input or crashed), 75 (a case
worth retrying: killed, out of memory) or 130 (interrupted).
  local s = runner.run{recipe="my_recipe.lua", input="scans", pattern="*.nii.gz", out="out", jobs=2}]])

-- The options every runner script shares (added to its cli.parse spec).
function runner.options()
  return {
    { long = "--jobs", short = "-j", type = "int", min = 1, default = 1, help = "cases at a time, each in its own process" },
    { long = "--threads", type = "int", min = 1, help = "threads per worker (default: usable CPUs // jobs)" },
    { long = "--force", type = "flag", help = "redo every case, also those the ledger lists as done" },
    { long = "--shard", metavar = "K/N", check = runner.parse_shard,
      help = "run every N-th case starting at case K+1 (0 <= K < N)" },
    { long = "--chunk", type = "int", min = 1, metavar = "M", help = "run the M cases of task K (--task or SLURM_ARRAY_TASK_ID)" },
    { long = "--task", type = "int", min = 0, metavar = "K", help = "which chunk --chunk runs (0 = the first)" },
    { long = "--emit", type = "choice", choices = { "slurm", "parallel", "snakemake" },
      help = "print a script running this command on that engine, run nothing" },
    { long = "--merge", type = "flag", help = "merge the ledgers of all shards into OUT/ledger.csv and exit" },
    { long = "--keep-logs", type = "flag", help = "keep what successful cases printed (OUT/logs/ID.log)" },
    { long = "--cases-per-worker", type = "int", min = 1, metavar = "N",
      help = "cases a worker process runs one after another before a fresh one takes over (default 100; 1: a process per case)" },
  }
end

doc(runner.options, [[
runner.options() -> {option, ...}
The cli.parse declarations of the options every runner script takes: --jobs, --threads,
--force, --shard K/N, --chunk M, --task K, --emit slurm|parallel|snakemake, --merge,
--keep-logs. runner.main adds them to a script's own.
  local opts = runner.options()]])

local RUNNER_KEYS = { jobs = true, threads = true, force = true, shard = true, chunk = true, task = true,
  emit = true, merge = true, keep_logs = true }

-- The words of this command as the user could retype it, from the parsed
-- args (defaults left out), with the runner options kept or not.
local function command_words(spec, args, keep)
  local words = { proc.exe(), fs.absolute(arg and arg[0] or spec.name) }
  for _, o in ipairs(spec.options) do
    local key = o.long:sub(3):gsub("-", "_")
    local v = args[key]
    if RUNNER_KEYS[key] and not keep[key] then v = nil end
    if o.many then
      for _, x in ipairs(v or {}) do words[#words + 1] = o.long; words[#words + 1] = tostring(x) end
    elseif o.type == "flag" then
      if v ~= nil and v ~= (o.default or false) then words[#words + 1] = v and o.long or ("--no-" .. o.long:sub(3)) end
    elseif v ~= nil and v ~= o.default then
      words[#words + 1] = o.long
      words[#words + 1] = type(v) == "table" and ("%d/%d"):format(v[1], v[2]) or tostring(v)
    end
  end
  local pos = {}
  for _, p in ipairs(spec.positional or {}) do
    local key = p.key or p.name:lower():gsub("[^%w]", "_")
    local v = args[key]
    if p.many then
      for _, x in ipairs(v or {}) do pos[#pos + 1] = tostring(x) end
    elseif v ~= nil then
      pos[#pos + 1] = tostring(v)
    end
  end
  for _, x in ipairs(pos) do
    -- options may follow (the engines append theirs), so no "--": a word
    -- that looks like an option is written as a path instead
    words[#words + 1] = x:sub(1, 1) == "-" and x ~= "-" and ("./" .. x) or x
  end
  return words
end

local function print_summary(name, s)
  local c = s.counts
  local parts = { ("%d ok"):format(c.ok) }
  for _, k in ipairs { "error", "crash", "retry" } do
    if c[k] > 0 then parts[#parts + 1] = ("%d %s"):format(c[k], k) end
  end
  print(("%s: %d case(s)%s: %s, %d already done; %.1f s, %d job(s) x %d thread(s); ledger %s%s"):format(
    name, s.selected, s.shard and (" in " .. s.shard) or "", table.concat(parts, ", "), s.skipped, s.seconds,
    s.jobs, s.threads, s.ledger, s.interrupted and " (interrupted)" or ""))
end

function runner.main(argv, spec)
  local cli = require "util.cli"
  if type(spec) ~= "table" or type(spec.plan) ~= "function" then
    error("bad argument #2 to 'main' (a cli spec with plan=function(args) expected)", 2)
  end
  cli.main(spec.name, function()
    local full = {}
    for k, v in pairs(spec) do full[k] = v end
    full.options = {}
    for _, o in ipairs(spec.options or {}) do full.options[#full.options + 1] = o end
    for _, o in ipairs(runner.options()) do full.options[#full.options + 1] = o end
    local args = cli.parse(argv, full)
    local run = spec.plan(args)
    if args.merge then
      local path, counts, n = ledger.merge(fs.absolute(run.out))
      runner.clean_leftovers(fs.absolute(run.out), nil, true)
      pcall(fs.remove, fs.join(fs.absolute(run.out), ".medula-tmp")) -- when empty
      local parts = {}
      for status, k in pairs(counts) do parts[#parts + 1] = ("%d %s"):format(k, status) end
      table.sort(parts)
      print(("%s: merged %d case(s) into %s: %s"):format(spec.name, n, path, table.concat(parts, ", ")))
      return 0
    end
    if args.emit then
      if args.shard or args.chunk == nil and args.task then
        error("--emit plans the tasks itself: leave out --shard and --task", 0)
      end
      resolve_recipe(run.recipe) -- fail now, not in every task
      local cases = run.cases or runner.cases(run)
      local out = fs.absolute(run.out)
      fs.mkdir(out .. "/logs")
      io.write(require("util.runner_emit").emit(args.emit, {
        command = command_words(full, args, { force = true, keep_logs = true }), cases = #cases, out = out,
        cwd = fs.absolute("."), chunk = args.chunk, threads = args.threads, jobs = args.jobs, name = spec.name,
      }))
      return 0
    end
    vol.proc.trap_term()
    run.jobs, run.threads, run.force = args.jobs, args.threads, args.force
    run.shard, run.chunk, run.task, run.keep_logs = args.shard, args.chunk, args.task, args.keep_logs
    run.cases_per_worker = args.cases_per_worker
    local s = runner.run(run)
    print_summary(spec.name, s)
    if spec.finish and s.exit == 0 and not run.shard and not run.chunk then
      -- a whole run that succeeded: the script's gathering step (arrays, splits)
      spec.finish(args, run, s)
    end
    return s.exit
  end)
end

doc(runner.main, [[
runner.main(arg, spec)
The body of a runner script: parses arg with spec (a cli.parse spec) plus
runner.options(), calls spec.plan(args) for the runner.run options (recipe, out,
input/pattern or manifest, params; or cases= a list), then merges (--merge), prints a
script (--emit) or runs and prints a summary (and, after a whole run that succeeded,
calls spec.finish(args, plan, summary) when given), and exits with the run's status: 0 all done, 2 usage,
3 a case failed on its input or crashed, 75 a case is worth retrying, 130 interrupted,
1 the run itself failed.
  runner.main(arg, {name="lung_masks", positional={{name="IN"}, {name="OUT"}},
                    plan=function(a) return {recipe="recipes.lung", input=a["in"], out=a.out} end})]])

return runner
