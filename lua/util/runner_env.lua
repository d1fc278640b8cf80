-- How many threads and how much memory each worker of a run gets: the CPUs
-- this process may use (affinity), lowered by SLURM_CPUS_PER_TASK and by
-- the cgroup CPU quota; the memory from the cgroup limit or SLURM's
-- --mem. Reads files and environment variables only.
local vol = require "vol"
local doc = require("vol.help").doc

local env = {}

local function first_line(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("l")
  f:close()
  return s
end

-- The cgroup folders of this process, innermost first, for controller
-- (v2: the one unified hierarchy; v1: the hierarchy listing controller).
local function cgroup_dirs(root, self_cgroup, controller)
  local f = io.open(self_cgroup, "rb")
  if not f then return {} end
  local dirs = {}
  for line in f:lines() do
    local id, ctrls, path = line:match("^(%d+):([^:]*):(.*)$")
    local base
    if id == "0" and ctrls == "" then
      base = root
    elseif ctrls and (("," .. ctrls .. ","):find("," .. controller .. ",", 1, true)) then
      base = root .. "/" .. ctrls
    end
    if base then
      local p = path
      while true do
        dirs[#dirs + 1] = base .. (p == "/" and "" or p)
        if p == "/" or p == "" then break end
        p = p:match("^(.*)/[^/]*$")
        if p == "" then p = "/" end
      end
    end
  end
  f:close()
  return dirs
end

function env.cgroup_limits(root, self_cgroup)
  root = root or "/sys/fs/cgroup"
  self_cgroup = self_cgroup or "/proc/self/cgroup"
  local cpus, mem
  for _, d in ipairs(cgroup_dirs(root, self_cgroup, "cpu")) do
    local q, period = (first_line(d .. "/cpu.max") or ""):match("^(%d+)%s+(%d+)")
    if not q then
      q, period = tonumber(first_line(d .. "/cpu.cfs_quota_us")), tonumber(first_line(d .. "/cpu.cfs_period_us"))
      if q and q <= 0 then q = nil end
    end
    if q and tonumber(period) and tonumber(period) > 0 then
      local c = tonumber(q) / tonumber(period)
      cpus = cpus and math.min(cpus, c) or c
    end
  end
  for _, d in ipairs(cgroup_dirs(root, self_cgroup, "memory")) do
    local m = tonumber(first_line(d .. "/memory.max") or "") or tonumber(first_line(d .. "/memory.limit_in_bytes") or "")
    if m and m < 2 ^ 60 then mem = mem and math.min(mem, m) or m end
  end
  return { cpus = cpus, memory_bytes = mem }
end

doc(env.cgroup_limits, [[
runner_env.cgroup_limits([root="/sys/fs/cgroup", self="/proc/self/cgroup"]) -> {cpus=, memory_bytes=}
The CPU quota (cpu.max, or cpu.cfs_quota_us / cpu.cfs_period_us on cgroup v1) and
memory limit (memory.max, memory.limit_in_bytes) of this process's cgroup and its
parents, the smallest of each; nil where there is none.
  print(require("util.runner_env").cgroup_limits().cpus)]])

function env.share(o)
  o = o or {}
  local getenv = o.getenv or os.getenv
  local jobs = o.jobs or 1
  local cpus, why = o.cpus or vol.proc.cpus(), "affinity"
  local slurm = tonumber(getenv("SLURM_CPUS_PER_TASK") or "")
  if slurm and slurm >= 1 and slurm < cpus then cpus, why = math.floor(slurm), "SLURM_CPUS_PER_TASK" end
  local limits = o.limits or env.cgroup_limits(o.cgroup_root, o.self_cgroup)
  if limits.cpus and limits.cpus < cpus then cpus, why = math.max(1, math.floor(limits.cpus + 1e-9)), "cgroup cpu quota" end
  local mem_mb, mem_why
  if limits.memory_bytes then mem_mb, mem_why = limits.memory_bytes / 1048576, "cgroup memory limit" end
  local slurm_mem = tonumber(getenv("SLURM_MEM_PER_NODE") or "")
  if slurm_mem and (not mem_mb or slurm_mem < mem_mb) then mem_mb, mem_why = slurm_mem, "SLURM_MEM_PER_NODE" end
  local threads = o.threads or math.max(1, cpus // jobs)
  return {
    cpus = cpus, cpus_from = why, threads = threads,
    -- voxel buffers may use 80% of a worker's share; the rest is the program itself
    budget_mb = mem_mb and math.floor(0.8 * mem_mb / jobs) or nil, memory_from = mem_why,
  }
end

doc(env.share, [[
runner_env.share{jobs=1, [threads=], [cpus=], [getenv=], [limits=]} -> {threads=, cpus=, cpus_from=, budget_mb=, memory_from=}
What each of jobs workers gets: threads = cpus // jobs (at least 1) unless threads is
given, where cpus is the affinity count lowered by SLURM_CPUS_PER_TASK and the cgroup
CPU quota; budget_mb = 80% of the memory limit (cgroup or SLURM_MEM_PER_NODE) / jobs,
nil when there is no limit. cpus_from and memory_from say which limit applied.
  local s = require("util.runner_env").share{jobs=2}]])

return env
