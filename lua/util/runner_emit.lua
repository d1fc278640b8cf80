-- Scripts that run one runner command on the engines clusters already
-- have: a SLURM array (one chunk of cases per array task), a GNU parallel
-- command (one job per chunk, with a job log and --resume-failed) and a
-- Snakemake rule (one job per chunk). Every path is quoted; the tasks pick
-- their cases with --chunk/--task and resume from the same ledgers.
local doc = require("vol.help").doc

local emit = {}

-- Single quotes for the shell: nothing inside is special.
local function shq(s)
  s = tostring(s)
  if s:find("^[%w%%+,./:=@_-]+$") then return s end
  return "'" .. s:gsub("'", "'\\''") .. "'"
end
emit.shell_quote = shq

local function command(words)
  local out = {}
  for i, w in ipairs(words) do out[i] = shq(w) end
  return table.concat(out, " ")
end

local function concat(a, b)
  local out = {}
  for _, w in ipairs(a) do out[#out + 1] = w end
  for _, w in ipairs(b) do out[#out + 1] = w end
  return out
end

-- A Python string literal; braces doubled where Snakemake formats the text.
local function pyq(s, formatted)
  s = tostring(s):gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\n", "\\n")
  if formatted then s = s:gsub("{", "{{"):gsub("}", "}}") end
  return '"' .. s .. '"'
end

local function check(o)
  for _, k in ipairs { "command", "cases", "out", "cwd" } do
    if o[k] == nil then error("bad argument to 'emit' (" .. k .. "= expected)", 3) end
  end
end

local function plan(o)
  local chunk = o.chunk or 1
  local tasks = math.max(1, (o.cases + chunk - 1) // chunk)
  return chunk, tasks, o.threads or 1
end

function emit.slurm(o)
  check(o)
  local chunk, tasks, threads = plan(o)
  local logs = o.out .. "/logs"
  local lines = {
    "#!/bin/bash",
    ("# %s: %d cases in %d SLURM array tasks of %d case(s); submit with: sbatch THIS_FILE"):format(
      o.name or "medula", o.cases, tasks, chunk),
    "# Each task resumes from the ledgers in the output folder: resubmitting redoes only",
    "# the failed or missing cases. Afterwards merge the ledgers (last line, commented).",
    ("#SBATCH --job-name=%s"):format((o.name or "medula"):gsub("[^%w_.-]", "_")),
    ("#SBATCH --array=0-%d%s"):format(tasks - 1, o.max_running and ("%" .. o.max_running) or ""),
    ("#SBATCH --cpus-per-task=%d"):format(threads),
    ('#SBATCH --chdir="%s"'):format(o.cwd),
    -- '%' starts a SLURM file name pattern: a literal one is doubled
    ('#SBATCH --output="%s/slurm-%%A_%%a.out"'):format((logs:gsub("%%", "%%%%"))),
    "set -u",
    "cd " .. shq(o.cwd) .. " || exit 1",
    command(concat(o.command, { "--chunk", tostring(chunk), "--threads", tostring(threads) })),
    "# " .. command(concat(o.command, { "--merge" })),
    "",
  }
  return table.concat(lines, "\n")
end

function emit.parallel(o)
  check(o)
  local chunk, tasks, threads = plan(o)
  local jobs = o.jobs or 1
  local lines = {
    "#!/bin/bash",
    ("# %s: %d cases in %d GNU parallel jobs of %d case(s), %d at a time."):format(
      o.name or "medula", o.cases, tasks, chunk, jobs),
    "# Rerunning this script retries only the failed jobs (--resume-failed), and each",
    "# job resumes from the ledgers; the ledgers are merged at the end.",
    "cd " .. shq(o.cwd) .. " || exit 1",
    "mkdir -p " .. shq(o.out .. "/logs"),
    command { "parallel", "--jobs", tostring(jobs), "--joblog", o.out .. "/logs/parallel.joblog", "--resume-failed", "-q" }
      .. " " .. command(concat(o.command, { "--chunk", tostring(chunk), "--task" })) .. " {} --threads "
      .. threads .. " ::: $(seq 0 " .. (tasks - 1) .. ")",
    "status=$?",
    command(concat(o.command, { "--merge" })),
    "exit $status",
    "",
  }
  return table.concat(lines, "\n")
end

function emit.snakemake(o)
  check(o)
  local chunk, tasks, threads = plan(o)
  local lines = {
    ("# Snakefile for %s: %d cases in %d jobs of %d case(s)."):format(o.name or "medula", o.cases, tasks, chunk),
    "# Run: snakemake -s THIS_FILE --cores N. A failed job is rerun by the next",
    "# snakemake call and resumes from the ledgers; the last rule merges them.",
    "workdir: " .. pyq(o.cwd),
    "",
    ("MEDULA_TASKS = range(%d)"):format(tasks),
    "",
    "rule all:",
    "    input: " .. pyq(o.out .. "/ledgers/merged.done", true),
    "",
    "rule medula_merge:",
    "    input: expand(" .. pyq(o.out:gsub("[{}]", "%0%0") .. "/ledgers/task-{k}.done") .. ", k=MEDULA_TASKS)",
    "    output: touch(" .. pyq(o.out .. "/ledgers/merged.done", true) .. ")",
    "    shell: " .. pyq(command(concat(o.command, { "--merge" })), true),
    "",
    "rule medula_task:",
    "    output: touch(" .. pyq(o.out:gsub("[{}]", "%0%0") .. "/ledgers/task-{k}.done") .. ")",
    ("    threads: %d"):format(threads),
    "    shell: " .. pyq(command(concat(o.command, { "--chunk", tostring(chunk), "--task" })), true):sub(1, -2)
      .. ' {wildcards.k} --threads {threads}"',
    "",
  }
  return table.concat(lines, "\n")
end

function emit.emit(engine, o)
  local f = ({ slurm = emit.slurm, parallel = emit.parallel, snakemake = emit.snakemake })[engine]
  if not f then
    error("bad argument #1 to 'emit' (slurm, parallel or snakemake expected, got " .. tostring(engine) .. ")", 2)
  end
  return f(o)
end

doc(emit.emit, [[
runner_emit.emit(engine, {command=, cases=, out=, cwd=, [chunk=1], [threads=1], [jobs=1], [name=]}) -> text
A script that runs command (a list of words: the medula executable, the script and
its arguments) over cases cases in tasks of chunk cases, adding --chunk M --task K
(SLURM: the array task id) and --threads: engine "slurm" an sbatch array script,
"parallel" a bash script around one GNU parallel command line (--joblog, --resume-
failed, jobs at a time), "snakemake" a Snakefile (one rule per task, a final merge).
Every path is quoted for the shell (and for Python in the Snakefile).
  print(require("util.runner_emit").emit("slurm", {command={"medula", "run.lua"}, cases=10, out="out", cwd="/data"}))]])

return emit
