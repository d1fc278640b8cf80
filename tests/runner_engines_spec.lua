-- The runner on the engines clusters run: a real one-node SLURM (slurmctld
-- and slurmd started here, as root), GNU parallel and Snakemake, each
-- running the script --emit printed over a small generated dataset. Their
-- outputs must be byte-identical to a local --jobs 2 run, and a rerun after
-- a failure must redo only what failed. Waits are bounded: a daemon that
-- does not come up fails the spec with the reason.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local files = require "helpers.files"
local fx = require "helpers.runner_fixture"
local csv = require "util.csv"

local q = data.shell_quote
local N = 6

-- The dataset, the recipe and the local reference run, shared by all engines.
local dir = data.tmpdir()
fx.dataset(dir, N)
fx.recipe(dir)
local flag = dir .. "/broken flag"
local reference

local function local_reference()
  if not reference then
    local _, err, rc = fx.run(dir, { "recipe.lua", "in", "local", "--pattern", "*.nii.gz", "--param", "level=50", "-j", "2" })
    assert(rc == 0, err)
    reference = fx.outputs(dir .. "/local")
    assert(next(reference), "the local run wrote nothing")
  end
  return reference
end

-- The emitted script for engine into an output folder with awkward characters.
local function emit(engine, out, extra)
  local args = { "recipe.lua", "in", out, "--pattern", "*.nii.gz", "--param", "level=50", "--param",
    "fail_on=c04", "--param", "fail_while=" .. flag, "--emit", engine }
  for _, a in ipairs(extra or {}) do args[#args + 1] = a end
  local text, err, rc = fx.run(dir, args)
  assert(rc == 0, err)
  return text
end

local function ledger_of(out)
  local by = {}
  for _, r in ipairs(csv.read(out .. "/ledger.csv")) do by[r.case] = r end
  return by
end

local function assert_complete(out)
  assert.same(local_reference(), fx.outputs(out))
  local by = ledger_of(out)
  for i = 1, N do
    assert.equal("ok", by[("c%02d"):format(i)].status)
  end
  assert.same({}, vol.fs.glob(out .. "/.medula-tmp"))
end

local function have(cmd)
  local _, _, rc = fx.sh("command -v " .. cmd .. " >/dev/null || test -x /usr/sbin/" .. cmd)
  return rc == 0
end

describe("GNU parallel", function()
  it("runs the emitted command line; --resume-failed reruns only the failed job", function()
    assert(have("parallel"), "GNU parallel is not installed (apt-get install parallel)")
    local out = dir .. "/par out's"
    local script = dir .. "/par.sh"
    files.spit(script, emit("parallel", out, { "-j", "2", "--chunk", "2" }))
    files.spit(flag, "")
    local _, _, rc = fx.sh("timeout 300 bash " .. q(script))
    assert.equal(1, rc) -- one job (the chunk with c04) failed
    local log = files.slurp(out .. "/logs/parallel.joblog")
    assert.equal(4, select(2, log:gsub("\n", ""))) -- header + 3 jobs
    local first_done = ledger_of(out)
    assert.equal("error", first_done.c04.status)
    os.remove(flag)
    local stdout, err
    stdout, err, rc = fx.sh("timeout 300 bash " .. q(script))
    assert.equal(0, rc, err .. stdout)
    log = files.slurp(out .. "/logs/parallel.joblog")
    assert.equal(5, select(2, log:gsub("\n", ""))) -- only the failed job ran again
    assert.truthy(log:find("--task 1 --threads", 1, true))
    assert.truthy(stdout:find("1 ok, 1 already done", 1, true), stdout)
    assert_complete(out)
    assert.equal(first_done.c01.finished, ledger_of(out).c01.finished) -- not redone
  end)
end)

describe("Snakemake", function()
  it("runs the emitted Snakefile; the next call reruns only the failed job", function()
    assert(have("snakemake"), "snakemake is not installed (apt-get install snakemake)")
    local out = dir .. "/smk out's"
    local snakefile = dir .. "/Snakefile"
    files.spit(snakefile, emit("snakemake", out, { "--chunk", "4" }))
    files.spit(flag, "")
    local cmd = ("cd %s && timeout 600 snakemake -s %s --cores 2 -q"):format(q(dir), q(snakefile))
    local _, _, rc = fx.sh(cmd)
    assert.is_not.equal(0, rc)
    assert.truthy(vol.fs.exists(out .. "/ledgers/task-1.done"))
    assert.falsy(vol.fs.exists(out .. "/ledgers/task-0.done"))
    local t1 = vol.fs.stat(out .. "/ledgers/chunk-1-size-4.csv").mtime
    os.remove(flag)
    local stdout, err
    stdout, err, rc = fx.sh(cmd)
    assert.equal(0, rc, err .. stdout)
    assert.equal(t1, vol.fs.stat(out .. "/ledgers/chunk-1-size-4.csv").mtime) -- the good job did not rerun
    assert.truthy(vol.fs.exists(out .. "/ledgers/merged.done"))
    assert_complete(out)
  end)
end)

describe("SLURM", function()
  local cluster = data.tmpdir()
  local helper = data.root() .. "/tests/helpers/slurm_local.sh"
  local env = "SLURM_CONF=" .. q(cluster .. "/slurm.conf") .. " "
  local started = false

  teardown(function()
    if started then fx.sh("sh " .. q(helper) .. " stop " .. q(cluster)) end
  end)

  -- Submits script and waits (at most limit seconds) until the job left the queue.
  local function sbatch_wait(script, limit)
    local jid, err, rc = fx.sh(env .. "sbatch --parsable " .. q(script))
    assert(rc == 0, "sbatch failed: " .. err)
    jid = jid:match("^(%d+)")
    local t0 = vol.proc.now()
    while true do
      local queued = fx.sh(env .. "squeue -h -j " .. jid .. " 2>/dev/null")
      if queued == "" then break end
      if vol.proc.now() - t0 > limit then
        fx.sh(env .. "scancel " .. jid)
        error(("SLURM job %s still queued after %d s:\n%s"):format(jid, limit, queued))
      end
      fx.sh("sleep 0.5")
    end
    return jid
  end

  it("starts a one-node cluster on this machine", function()
    local _, err, rc = fx.sh("timeout 120 sh " .. q(helper) .. " start " .. q(cluster))
    started = true
    assert(rc == 0, "the local SLURM did not come up: " .. err)
  end)

  it("runs the emitted array script, one task per chunk; resubmitting redoes only the failed case", function()
    assert(started, "no cluster")
    local out = dir .. "/slurm out's"
    local script = dir .. "/array.sh"
    files.spit(script, emit("slurm", out, { "--chunk", "2" }))
    assert.truthy(files.slurp(script):find("#SBATCH --array=0-2\n", 1, true))
    files.spit(flag, "")
    local jid = sbatch_wait(script, 180)
    for k = 0, 2 do
      local log = files.slurp(("%s/logs/slurm-%s_%d.out"):format(out, jid, k))
      assert.truthy(log:find(("in chunk-%d-size-2"):format(k), 1, true), log) -- SLURM_ARRAY_TASK_ID picked it
    end
    os.remove(flag)
    jid = sbatch_wait(script, 180)
    local log = files.slurp(("%s/logs/slurm-%s_1.out"):format(out, jid))
    assert.truthy(log:find("1 ok, 1 already done", 1, true), log)
    log = files.slurp(("%s/logs/slurm-%s_0.out"):format(out, jid))
    assert.truthy(log:find("0 ok, 2 already done", 1, true), log)
    local merge = files.slurp(script):match("\n# ([^\n]* %-%-merge)\n")
    local stdout, err, rc = fx.sh("cd / && " .. merge)
    assert.equal(0, rc, err)
    assert.truthy(stdout:find("merged 6 case(s)", 1, true), stdout)
    assert_complete(out)
  end)
end)
