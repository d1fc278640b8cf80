-- util.runner: cases in worker processes with --jobs, per-case isolation
-- and exit codes, the ledger (sizes, SHA-256) and resume, --force, shards
-- and chunks (also from SLURM's variables), thread shares, manifests, and
-- the scripts --emit prints. The real engines are in runner_engines_spec.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local files = require "helpers.files"
local ref = require "helpers.ref"
local fx = require "helpers.runner_fixture"
local runner = require "util.runner"
local ledger = require "util.ledger"
local csv = require "util.csv"

local fs = vol.fs

local function run(o)
  o.log = o.log or false
  return runner.run(o)
end

-- The recipe applied in this process, as the reference for the outputs.
local function reference_outputs(recipe_path, input, params)
  local recipe = dofile(recipe_path)
  local dir = data.tmpdir()
  local t = {}
  for _, p in ipairs(fs.glob(input .. "/*.nii.gz")) do
    local id = fs.stem(p)
    local staging = dir .. "/" .. id
    local out = { path = function(_, name) fs.mkdir(fs.dirname(staging .. "/" .. name)); return staging .. "/" .. name end }
    recipe({ id = id, path = p }, out, params)
  end
  for rel, content in pairs(fx.tree(dir)) do t[rel] = content end
  return t
end

local function ledger_rows(path)
  local rows = csv.read(path)
  local by = {}
  for _, r in ipairs(rows) do by[r.case] = r end
  return rows, by
end

describe("runner.run", function()
  local dir = data.tmpdir()
  local input = fx.dataset(dir, 7)
  local recipe = fx.recipe(dir)

  it("runs every case in its own process, --jobs 2, outputs equal the recipe run in one process", function()
    local out = dir .. "/out_j2"
    local s = run { recipe = recipe, input = input, pattern = "*.nii.gz", out = out, jobs = 2, params = { level = 50 } }
    assert.same({ 7, 0, 7, 0 }, { s.selected, s.skipped, s.counts.ok, s.exit })
    assert.same(reference_outputs(recipe, input, { level = 50 }), fx.outputs(out))
    local names = fs.list(out)
    assert.same({ "c01", "c02", "c03", "c04", "c05", "c06", "c07", "ledger.csv" }, names) -- nothing temporary left
  end)

  it("gives the same outputs and ledger with forked workers and with new programs (exec)", function()
    local o = { recipe = recipe, input = input, pattern = "*.nii.gz", jobs = 2, params = { level = 50, fail = "c03" } }
    o.out = dir .. "/out_fork"
    local forked = run(o)
    o.out, o.getenv = dir .. "/out_exec", function(k) return k == "MEDULA_RUNNER_EXEC" and "1" or nil end
    local execd = run(o)
    assert.same({ 6, 1 }, { forked.counts.ok, forked.counts.error })
    assert.same(forked.counts, execd.counts)
    assert.same(fx.outputs(dir .. "/out_fork"), fx.outputs(dir .. "/out_exec"))
    local a, b = csv.read(dir .. "/out_fork/ledger.csv"), csv.read(dir .. "/out_exec/ledger.csv")
    for i, r in ipairs(a) do
      assert.same({ r.case, r.status, r.outputs, r.bytes, r.sha256, r.message },
        { b[i].case, b[i].status, b[i].outputs, b[i].bytes, b[i].sha256, b[i].message })
    end
  end)

  it("writes a ledger row per case: outputs, sizes and SHA-256 as hashlib computes them", function()
    local out = dir .. "/out_j2"
    local rows, header = csv.read(out .. "/ledger.csv")
    assert.same(ledger.COLUMNS, header)
    assert.equal(7, #rows)
    local py = ref.run("fs_ref.py", "tree", out).sha256
    for _, r in ipairs(rows) do
      assert.equal("ok", r.status)
      assert.equal("mask.nii.gz;sub/copy.nii", r.outputs)
      local sizes, sums = {}, {}
      for _, name in ipairs { "mask.nii.gz", "sub/copy.nii" } do
        local want = py[r.case .. "/" .. name]
        sums[#sums + 1], sizes[#sizes + 1] = want[1], tostring(want[2])
      end
      assert.equal(table.concat(sizes, ";"), r.bytes)
      assert.equal(table.concat(sums, ";"), r.sha256)
      assert.truthy(tonumber(r.seconds) > 0 and tonumber(r.peak_mb) > 1, r.peak_mb)
      assert.truthy(ledger.parse_time(r.finished) > os.time() - 3600)
      assert.equal("", r.message)
    end
  end)

  it("isolates failures: an error, a kill and a crash are recorded, the others done; exit 3 or 75", function()
    local out = dir .. "/out_fail"
    local s = run { recipe = recipe, input = input, out = out, jobs = 2, pattern = "*.nii.gz",
      params = { fail = "c02", segv = "c04" } }
    assert.same({ 5, 1, 1, 0, 3 }, { s.counts.ok, s.counts.error, s.counts.crash, s.counts.retry, s.exit })
    local _, by = ledger_rows(out .. "/ledger.csv")
    assert.same({ "error", "case c02 has no lungs" }, { by.c02.status, by.c02.message })
    assert.equal("crash", by.c04.status)
    assert.truthy(by.c04.message:find("signal 11 (SIGSEGV)", 1, true), by.c04.message)
    assert.is_nil(fs.stat(out .. "/c02"))
    s = run { recipe = recipe, input = input, out = out, pattern = "*.nii.gz", params = { kill = "c02", oom = "c04" } }
    assert.same({ 0, 2, 5, 75 }, { s.counts.ok, s.counts.retry, s.skipped, s.exit })
    _, by = ledger_rows(out .. "/ledger.csv")
    assert.truthy(by.c02.message:find("SIGKILL", 1, true), by.c02.message)
    assert.equal("retry", by.c04.status, by.c04.message) -- the message says why when it is not
    assert.truthy(by.c04.message:find("memory", 1, true), by.c04.message)
    -- a fixed input: the rerun does only those two
    s = run { recipe = recipe, input = input, out = out, pattern = "*.nii.gz" }
    assert.same({ 2, 5, 0 }, { s.counts.ok, s.skipped, s.exit })
    assert.same({}, fs.glob(out .. "/.medula-tmp"))
  end)

  it("resumes: skips done cases, redoes one whose output went missing or changed size; --force redoes all", function()
    local out = dir .. "/out_resume"
    run { recipe = recipe, input = input, pattern = "*.nii.gz", out = out }
    local before = fx.outputs(out)
    local s = run { recipe = recipe, input = input, pattern = "*.nii.gz", out = out }
    assert.same({ 7, 0 }, { s.skipped, s.ran })
    fs.remove(out .. "/c03/mask.nii.gz")
    files.spit(out .. "/c05/sub/copy.nii", "short")
    s = run { recipe = recipe, input = input, pattern = "*.nii.gz", out = out }
    assert.same({ 5, 2 }, { s.skipped, s.ran })
    assert.same(before, fx.outputs(out))
    s = run { recipe = recipe, input = input, pattern = "*.nii.gz", out = out, force = true }
    assert.same({ 0, 7 }, { s.skipped, s.ran })
    local rows = csv.read(out .. "/ledger.csv")
    assert.equal(7, #rows) -- one row per case after the merge
  end)

  it("shards and chunks split the cases without overlap; the merged ledger lists each once", function()
    local out = dir .. "/out_shards"
    local seen = {}
    for k = 0, 2 do
      local s = run { recipe = recipe, input = input, pattern = "*.nii.gz", out = out, shard = k .. "/3" }
      assert.equal(("shard-%d-of-3"):format(k), s.shard)
      for _, r in ipairs(csv.read(out .. "/ledgers/" .. s.shard .. ".csv")) do
        assert.is_nil(seen[r.case])
        seen[r.case] = k
      end
    end
    assert.same({ c01 = 0, c02 = 1, c03 = 2, c04 = 0, c05 = 1, c06 = 2, c07 = 0 }, seen)
    assert.is_nil(fs.stat(out .. "/ledger.csv")) -- shards do not merge on their own
    local path, counts, n = ledger.merge(out)
    assert.same({ 7, 7 }, { n, counts.ok })
    assert.equal(7, #csv.read(path))
    -- chunks of 3: tasks 0, 1, 2 take 3, 3 and 1 cases; all were done by the shards
    for task, want in pairs { [0] = 3, [1] = 3, [2] = 1 } do
      local s = run { recipe = recipe, input = input, pattern = "*.nii.gz", out = out, chunk = 3, task = task }
      assert.same({ want, want, 0 }, { s.selected, s.skipped, s.ran })
    end
  end)

  it("takes the shard or chunk from SLURM_ARRAY_TASK_ID, _MIN and _COUNT", function()
    local cases = runner.cases { input = input, pattern = "*.nii.gz" }
    local function env(t) return function(k) return t[k] end end
    local sel, name = runner.select(cases, { getenv = env { SLURM_ARRAY_TASK_ID = "2", SLURM_ARRAY_TASK_COUNT = "3" } })
    assert.equal("shard-2-of-3", name)
    assert.same({ "c03", "c06" }, { sel[1].id, sel[2].id })
    sel, name = runner.select(cases, { chunk = 2, getenv = env { SLURM_ARRAY_TASK_ID = "4", SLURM_ARRAY_TASK_MIN = "1",
      SLURM_ARRAY_TASK_MAX = "4" } })
    assert.equal("chunk-3-size-2", name)
    assert.same({ "c07" }, { sel[1].id })
    sel, name = runner.select(cases, { shard = "0/2", getenv = env { SLURM_ARRAY_TASK_ID = "1" } })
    assert.equal("shard-0-of-2", name) -- an explicit shard wins
    assert.equal(4, #sel)
    local ok, err = pcall(runner.select, cases, { chunk = 2, getenv = env {} })
    assert.truthy(err:find("--chunk needs --task", 1, true), err)
    assert.is_nil(runner.parse_shard("2/2"))
    assert.is_nil(runner.parse_shard("x"))
    assert.same({ 1, 4 }, runner.parse_shard("1/4"))
    assert.is_false(ok)
  end)

  it("gives each worker cpus // jobs threads, honouring SLURM_CPUS_PER_TASK", function()
    local out = dir .. "/out_threads"
    local cpus = vol.proc.cpus()
    local s = run { recipe = recipe, input = input, pattern = "*.nii.gz", out = out, jobs = 2, params = { threads = 1 } }
    assert.equal(math.max(1, cpus // 2), s.threads)
    assert.equal(("%d\n"):format(s.threads), files.slurp(out .. "/c01/threads.txt"))
    s = run { recipe = recipe, input = input, pattern = "*.nii.gz", out = out, force = true, threads = 3, params = { threads = 1 } }
    assert.equal("3\n", files.slurp(out .. "/c07/threads.txt"))
    local share = require("util.runner_env").share
    local none = { cpus = nil }
    assert.equal(4, share { jobs = 2, cpus = 8, limits = none, getenv = function() end }.threads)
    local slurm = share { jobs = 2, cpus = 8, limits = none, getenv = function(k) return k == "SLURM_CPUS_PER_TASK" and "3" or nil end }
    assert.same({ 1, 3, "SLURM_CPUS_PER_TASK" }, { slurm.threads, slurm.cpus, slurm.cpus_from })
    local mem = share { jobs = 2, cpus = 8, limits = { memory_bytes = 1000 * 1048576 }, getenv = function() end }
    assert.same({ 400, "cgroup memory limit" }, { mem.budget_mb, mem.memory_from })
  end)

  it("reads cgroup v2 and v1 CPU quotas and memory limits, parents included", function()
    local root = data.tmpdir()
    fs.mkdir(root .. "/v2/a/b")
    files.spit(root .. "/self2", "0::/a/b\n")
    files.spit(root .. "/v2/a/cpu.max", "150000 100000\n")
    files.spit(root .. "/v2/a/b/cpu.max", "max 100000\n")
    files.spit(root .. "/v2/a/b/memory.max", "2147483648\n")
    files.spit(root .. "/v2/a/memory.max", "max\n")
    local env = require "util.runner_env"
    local l = env.cgroup_limits(root .. "/v2", root .. "/self2")
    assert.same({ 1.5, 2147483648 }, { l.cpus, l.memory_bytes })
    local s = env.share { jobs = 1, cpus = 8, limits = l, getenv = function() end }
    assert.same({ 1, "cgroup cpu quota", 1638 }, { s.threads, s.cpus_from, s.budget_mb })
    fs.mkdir(root .. "/v1/cpu,cpuacct/job")
    fs.mkdir(root .. "/v1/memory/job")
    files.spit(root .. "/self1", "4:memory:/job\n3:cpu,cpuacct:/job\n")
    files.spit(root .. "/v1/cpu,cpuacct/job/cpu.cfs_quota_us", "400000\n")
    files.spit(root .. "/v1/cpu,cpuacct/job/cpu.cfs_period_us", "100000\n")
    files.spit(root .. "/v1/memory/job/memory.limit_in_bytes", "1073741824\n")
    l = env.cgroup_limits(root .. "/v1", root .. "/self1")
    assert.same({ 4, 1073741824 }, { l.cpus, l.memory_bytes })
    assert.same({}, env.cgroup_limits(root .. "/none", root .. "/missing"))
  end)

  it("takes cases from a manifest CSV, its other columns reaching the recipe", function()
    local man = dir .. "/manifest.csv"
    csv.write(man, { { case = "first", path = input .. "/c01.nii.gz", label = "a, \"quoted\" label" },
      { case = "second", path = input .. "/c02.nii.gz", label = "b" } }, { "case", "path", "label" })
    local out = dir .. "/out_manifest"
    local s = run { recipe = recipe, manifest = man, out = out }
    assert.same({ 2, 0 }, { s.counts.ok, s.exit })
    assert.equal("a, \"quoted\" label\n", files.slurp(out .. "/first/label.txt"))
    assert.same(fx.outputs(dir .. "/out_j2")["c01/mask.nii.gz"], files.slurp(out .. "/first/mask.nii.gz"))
  end)

  -- A recipe recording, per case, which process ran it, what it saw of the
  -- state an earlier case may have changed, and printing its id.
  local SEQ_RECIPE = [[
local vol = require "vol"
return function(case, out, params)
  print("case " .. case.id)
  local f = assert(io.open(out:path("seen.txt"), "w"))
  f:write(vol.proc.pid(), " ", vol.threads(), " ", vol.live_bytes(), "\n")
  f:close()
  if case.id == params.big then
    local v = vol.new{shape = {256, 256, 128}, fill = 1} -- 32 MiB, touched; garbage once the case is over
    assert(v:max() == 1)
  end
  if case.id == params.budget then vol.set_memory_budget(1); vol.set_threads(2) end
  if case.id == params.segv then os.execute("kill -SEGV " .. vol.proc.pid()) end
end
]]

  local function seen(out, id)
    local pid, threads, live = files.slurp(out .. "/" .. id .. "/seen.txt"):match("^(%d+) (%d+) (%d+)")
    return tonumber(pid), tonumber(threads), tonumber(live)
  end

  -- (run as `medula -s run`: a fresh runner forks its workers; one that
  -- already runs threads, such as this spec process may, starts a program
  -- per case instead)
  it("runs the cases of a worker one after another, at most --cases-per-worker each; state does not leak", function()
    local rdir = data.tmpdir()
    files.spit(rdir .. "/seq.lua", SEQ_RECIPE)
    local out = rdir .. "/out4"
    -- c03 fails if c02's budget stayed
    local _, err, rc = fx.run(rdir, { "seq.lua", input, out, "--pattern", "*.nii.gz", "--threads", "1",
      "--cases-per-worker", "4", "--keep-logs", "--param", "big=c03", "--param", "budget=c02" })
    assert.equal(0, rc, err)
    local pids = {}
    for i = 1, 7 do
      local id = ("c%02d"):format(i)
      local pid, threads, live = seen(out, id)
      pids[i] = pid
      -- each case starts with the run's threads, no budget, no voxels of the last case
      assert.same({ 1, 0 }, { threads, live }, id)
      assert.equal("case " .. id .. "\n", files.slurp(out .. "/logs/" .. id .. ".log"))
    end
    assert.same({ pids[1], pids[1], pids[1] }, { pids[2], pids[3], pids[4] })
    assert.are_not.equal(pids[4], pids[5])
    assert.equal(pids[5], pids[7])
    -- peak memory is the case's own: c03's 32 MiB is not c04's (a sanitizer
    -- build keeps freed memory in its quarantine, so its peaks add up)
    local _, by = ledger_rows(out .. "/ledger.csv")
    if not data.medula():find("asan", 1, true) then
      assert.truthy(tonumber(by.c03.peak_mb) > tonumber(by.c04.peak_mb) + 20, by.c03.peak_mb .. " " .. by.c04.peak_mb)
    end
    -- one process per case
    out = rdir .. "/out1"
    _, err, rc = fx.run(rdir, { "seq.lua", input, out, "--pattern", "*.nii.gz", "--cases-per-worker", "1" })
    assert.equal(0, rc, err)
    local distinct, n = {}, 0
    for i = 1, 7 do distinct[seen(out, ("c%02d"):format(i))] = true end
    for _ in pairs(distinct) do n = n + 1 end
    assert.equal(7, n)
  end)

  it("replaces a worker that crashed; the case after the crash runs in a new process", function()
    local rdir = data.tmpdir()
    files.spit(rdir .. "/seq.lua", SEQ_RECIPE)
    local out = rdir .. "/out"
    local _, err, rc = fx.run(rdir, { "seq.lua", input, out, "--pattern", "*.nii.gz", "--param", "segv=c03" })
    assert.equal(3, rc, err)
    local _, by = ledger_rows(out .. "/ledger.csv")
    assert.equal("crash", by.c03.status)
    for _, id in ipairs { "c01", "c02", "c04", "c05", "c06", "c07" } do assert.equal("ok", by[id].status) end
    assert.is_nil(fs.stat(out .. "/.medula-tmp")) -- the staging folder of the crashed case is gone
    local p2, p4 = seen(out, "c02"), seen(out, "c04")
    assert.are_not.equal(p2, p4)
    assert.equal(p4, (seen(out, "c07")))
    assert.has_error(function() run { recipe = rdir .. "/seq.lua", input = input, out = out, cases_per_worker = 0 } end,
      "bad argument #1 to 'run' (cases_per_worker must be an integer >= 1)")
  end)

  it("refuses bad cases and options with a message naming them", function()
    local man = dir .. "/bad.csv"
    local cases = {
      { { recipe = recipe, out = dir .. "/o", input = dir .. "/none" }, "none: no such folder" },
      { { recipe = recipe, out = dir .. "/o", manifest = man, _text = "id,path\na,x\na,y\n" }, "case \"a\" appears twice" },
      { { recipe = recipe, out = dir .. "/o", manifest = man, _text = "name,path\na,x\n" }, "no column 'case' (or 'id')" },
      { { recipe = recipe, out = dir .. "/o", manifest = man, _text = "case\n../up\n" }, "bad case id \"../up\"" },
      { { recipe = recipe, out = dir .. "/o", manifest = man, _text = "case\n.hidden\n" }, "bad case id" },
      { { recipe = dir .. "/none.lua", out = dir .. "/o", input = input }, "none.lua" },
      { { recipe = "no.such.module", out = dir .. "/o", input = input }, "recipe no.such.module not found" },
      { { recipe = recipe, input = input }, "out= folder expected" },
      { { recipe = recipe, out = dir .. "/o", input = input, jobs = 0 }, "jobs must be an integer >= 1" },
      { { recipe = recipe, out = dir .. "/o", input = input, job = 2 }, "unknown option 'job'" },
      { { recipe = recipe, out = dir .. "/o", input = input, shard = "3/3" }, "shard: expected K/N" },
    }
    for _, c in ipairs(cases) do
      if c[1]._text then files.spit(man, c[1]._text); c[1]._text = nil end
      local ok, err = pcall(run, c[1])
      assert.is_false(ok)
      assert.truthy(tostring(err):find(c[2], 1, true), err)
    end
  end)
end)

describe("medula -s run", function()
  local dir = data.tmpdir()
  local input = fx.dataset(dir, 4)
  fx.recipe(dir)

  it("prints one line per case and a summary, exit status 3 when a case failed", function()
    local out, err, rc = fx.run(dir, { "recipe.lua", "in", "out", "--pattern", "*.nii.gz", "-j", "2", "--param", "fail=c03" })
    assert.equal(3, rc)
    assert.truthy(err:find("] c03 error %d+%.%d+ s: case c03 has no lungs\n"), err)
    local n = select(2, err:gsub("%[%d/4%] c%d+ %a+ ", ""))
    assert.equal(4, n, err)
    assert.truthy(out:find("run: 4 case(s): 3 ok, 1 error, 0 already done", 1, true), out)
    out, _, rc = fx.run(dir, { "recipe.lua", "in", "out", "--pattern", "*.nii.gz" })
    assert.equal(0, rc)
    assert.truthy(out:find("1 ok, 3 already done", 1, true), out)
  end)

  it("draws a progress bar with counts, rate and ETA on a terminal", function()
    local _, _, has_script = fx.sh("command -v script")
    assert(has_script == 0, "script (util-linux) is needed to give the run a terminal")
    local cmd = ("cd %s && %s -s run recipe.lua in tty_out --pattern '*.nii.gz' --param fail=c02"):format(
      data.shell_quote(dir), data.shell_quote(data.medula()))
    local text = fx.sh("script -qec " .. data.shell_quote(cmd) .. " /dev/null")
    assert.truthy(text:find("\r[########################] 4/4  1 failed  ", 1, true), text)
    assert.truthy(text:find("4/4  1 failed  [%d.]+ cases/s  ETA 0:00"), text)
    assert.truthy(text:find("\r\27[Kc02 error: case c02 has no lungs", 1, true), text)
    assert.falsy(text:find("[1/4]", 1, true), text) -- no log lines on a terminal
  end)

  it("keeps what a failed case printed in OUT/logs/ID.log", function()
    local rdir = data.tmpdir()
    files.spit(rdir .. "/r.lua", "return function(case) print('looking at ' .. case.id); error('no') end")
    local _, _, rc = fx.run(dir, { rdir .. "/r.lua", "in", rdir .. "/out", "--pattern", "c01*" })
    assert.equal(3, rc)
    assert.equal("looking at c01\n", files.slurp(rdir .. "/out/logs/c01.log"))
  end)

  it("--emit prints scripts whose every path is quoted for the shell", function()
    local odd = dir .. "/out dir's $HOME"
    for _, engine in ipairs { "slurm", "parallel" } do
      local text, err, rc = fx.run(dir, { "recipe.lua", "in", odd, "--pattern", "*.nii.gz", "--param", "level=5",
        "--emit", engine, "-j", "2" })
      assert.equal(0, rc, err)
      local script = dir .. "/emitted.sh"
      files.spit(script, text)
      local _, serr, src = fx.sh("bash -n " .. data.shell_quote(script))
      assert.equal(0, src, serr)
      -- the command line, word by word, as bash reads it
      local line = text:match("\n(" .. data.medula():gsub("%p", "%%%0") .. " [^\n]*)\n")
      assert.truthy(line, text)
      local words = fx.sh("cd / && printf '%s\\n' " .. line:gsub(" %-%-merge$", ""))
      assert.truthy(words:find("\n" .. odd .. "\n", 1, true), words)
      assert.truthy(words:find("\n*.nii.gz\n", 1, true), words)
    end
    local text = fx.run(dir, { "recipe.lua", "in", odd, "--emit", "slurm", "--chunk", "3" })
    assert.truthy(text:find("#SBATCH --array=0-1\n", 1, true), text) -- 4 cases in chunks of 3
    text = fx.run(dir, { "recipe.lua", "in", dir .. "/100% done", "--emit", "slurm" })
    assert.truthy(text:find('#SBATCH --output="' .. dir .. '/100%% done/logs/slurm-%A_%a.out"\n', 1, true), text)
    text = fx.run(dir, { "recipe.lua", "in", odd, "--emit", "snakemake" })
    assert.truthy(text:find("MEDULA_TASKS = range(4)", 1, true), text)
    local _, err, rc = fx.run(dir, { "recipe.lua", "in", odd, "--emit", "slurm", "--shard", "0/2" })
    assert.equal(1, rc)
    assert.truthy(err:find("--emit plans the tasks itself", 1, true), err)
  end)
end)
