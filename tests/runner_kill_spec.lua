-- Kill and resume: a 50-case run is killed at ten moments (the whole run
-- with SIGKILL, SIGTERM or SIGINT, or single workers with SIGKILL) and
-- rerun each time. At the end every case is recorded done exactly once, no
-- case recorded done was ever run again, nothing temporary or partial is
-- left, and the outputs equal those of an uninterrupted run.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local files = require "helpers.files"
local fx = require "helpers.runner_fixture"
local ledger = require "util.ledger"
local csv = require "util.csv"

local proc, fs = vol.proc, vol.fs
local N = 50

-- pids of the children of pid (the runner's workers).
local function children(pid)
  local out = fx.sh("pgrep -P " .. pid .. " || true")
  local t = {}
  for p in out:gmatch("%d+") do t[#t + 1] = tonumber(p) end
  return t
end

local function gone(pid) return not fs.exists("/proc/" .. pid) end

local function wait_gone(pids, limit)
  local t0 = proc.now()
  for _, p in ipairs(pids) do
    while not gone(p) do
      assert(proc.now() - t0 < limit, "worker " .. p .. " still alive " .. limit .. " s after its runner was stopped")
      fx.sh("sleep 0.05")
    end
  end
end

-- The cases the ledger records as done.
local function done_cases(out)
  local done = {}
  for id, row in pairs(ledger.latest(out)) do
    if row.status == "ok" then done[id] = true end
  end
  return done
end

local function lines(path)
  local t = {}
  local f = io.open(path, "rb")
  if not f then return t end
  for l in f:lines() do t[#t + 1] = l end
  f:close()
  return t
end

describe("kill and resume", function()
  it("ten interruptions, then one clean rerun: each case done once, outputs as if never interrupted", function()
    local dir = data.tmpdir()
    fx.dataset(dir, N)
    fx.recipe(dir)
    local function argv(out, trace)
      return { data.medula(), data.root() .. "/scripts/run.lua", dir .. "/recipe.lua", dir .. "/in", out,
        "--pattern", "*.nii.gz", "-j", "2", "--param", "level=50", "--param", "sleep=0.15", "--param", "trace=" .. trace }
    end
    -- the uninterrupted reference
    local ref_out = dir .. "/reference"
    local _, err, rc = fx.sh(table.concat((function()
      local w = {}
      for i, a in ipairs(argv(ref_out, dir .. "/ref.trace")) do w[i] = data.shell_quote(a) end
      return w
    end)(), " "))
    assert(rc == 0, err)
    local reference = fx.outputs(ref_out)

    local out, trace = dir .. "/out", dir .. "/trace"
    math.randomseed(14)
    local modes = { "KILL", "worker", "TERM", "INT", "worker", "KILL", "TERM", "worker", "INT", "KILL" }
    local kills_that_landed, workers_killed = 0, 0
    for round, mode in ipairs(modes) do
      local before = done_cases(out)
      local traced = #lines(trace)
      local log = dir .. "/round" .. round .. ".log"
      local pid = proc.spawn(argv(out, trace), { stdout = log, stderr = log })
      local t = 0.15 + 0.6 * math.random()
      local ended = proc.wait(t)
      local workers = {}
      if not ended then
        workers = children(pid)
        if mode == "worker" then
          -- a worker killed -9 is recorded for a retry and the run goes on;
          -- this round then ends with a SIGTERM of the run a moment later
          for _ = 1, 40 do
            if #workers > 0 then break end
            fx.sh("sleep 0.02")
            workers = children(pid)
          end
          assert.truthy(#workers > 0, "no worker to kill")
          fx.sh("kill -KILL " .. workers[math.random(#workers)])
          ended = proc.wait(0.3)
          for _, p in ipairs(children(pid)) do workers[#workers + 1] = p end
        end
        if not ended then proc.kill(pid, mode == "worker" and "TERM" or mode) end
        kills_that_landed = kills_that_landed + 1
        ended = ended or proc.wait(60)
        if not ended then
          proc.kill(pid, "KILL")
          proc.wait(10)
          error(("round %d: the runner did not stop within 60 s after SIG%s"):format(round, mode))
        end
      end
      wait_gone(workers, 20)
      local text = files.slurp(log)
      if mode == "INT" or mode == "TERM" then
        assert.truthy(ended.code == 130 or ended.code == 0, text) -- 0 when it finished first
      elseif mode == "KILL" then
        assert.truthy(ended.signal == 9 or ended.code == 0, text)
      else
        assert.truthy(ended.code == 130 or ended.code == 75, text)
        -- (the worker may have just finished its case when the kill came)
        if text:find("retry %d+%.%d+ s: worker ended by signal 9 %(SIGKILL%)") then workers_killed = workers_killed + 1 end
      end
      -- no case recorded done before this round ran again in it
      local ran = lines(trace)
      for i = traced + 1, #ran do
        assert.is_nil(before[ran[i]], ("round %d (%s) reran %s, already done"):format(round, mode, ran[i]))
      end
    end
    assert.truthy(workers_killed >= 1, "no worker kill was recorded in the ledger")
    assert.truthy(kills_that_landed >= 8, kills_that_landed .. " of 10 kills landed while the run was going")
    -- the final, uninterrupted rerun
    local before = done_cases(out)
    local traced = #lines(trace)
    local pid = proc.spawn(argv(out, trace), { stdout = dir .. "/final.log", stderr = dir .. "/final.log" })
    local ended = proc.wait(300)
    assert.truthy(ended and ended.pid == pid, "the final run did not end within 300 s")
    assert.equal(0, ended.code, files.slurp(dir .. "/final.log"))
    local ran = lines(trace)
    for i = traced + 1, #ran do assert.is_nil(before[ran[i]], ran[i] .. " ran again in the final run") end

    -- every case exactly once in the ledger, all done
    local rows = csv.read(out .. "/ledger.csv")
    assert.equal(N, #rows)
    local seen = {}
    for _, r in ipairs(rows) do
      assert.is_nil(seen[r.case])
      seen[r.case] = true
      assert.equal("ok", r.status)
    end
    -- nothing temporary, nothing partial: only case outputs and ledgers
    for _, rel in ipairs(fs.list(out, { recursive = true })) do
      local ok = rel == "ledger.csv" or rel == "logs" or rel:find("^logs/c%d+%.log$")
        or rel:find("^c%d+$") or rel:find("^c%d+/sub$") or rel:find("^c%d+/mask%.nii%.gz$")
        or rel:find("^c%d+/sub/copy%.nii$")
      assert.truthy(ok, "unexpected file left: " .. rel)
    end
    assert.same(reference, fx.outputs(out))
  end)
end)
