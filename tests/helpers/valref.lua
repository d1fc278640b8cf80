-- Parity sessions for the value specs (intensity, filter): a python script in
-- tests/ref writes random volumes into a temporary folder, a spec computes
-- medula's results and records one job per result, and one python run checks
-- them all against numpy / scipy.ndimage / scikit-image.
--   local S = require("helpers.valref").session("filter_ref.py")
--   S:add({op="gaussian", ["in"]=rec.file, sigma={1, 1, 1}}, S:load(rec):gaussian{sigma_vox=1})
--   local results = S:check()
local data = require "helpers.data"
local ref = require "helpers.ref"
local json = require "dkjson"

local M = {}
local Session = {}
Session.__index = Session

function M.session(script)
  local dir = data.tmpdir()
  local g = ref.run(script, "gen", dir)
  return setmetatable({dir = dir, script = script, inputs = g.inputs, jobs = {}, cache = {}}, Session)
end

-- The inputs whose record satisfies pred (all when nil).
function Session:select(pred)
  local t = {}
  for _, rec in ipairs(self.inputs) do
    if not pred or pred(rec) then t[#t + 1] = rec end
  end
  return t
end

function Session:load(rec)
  local file = type(rec) == "table" and rec.file or rec
  if not self.cache[file] then self.cache[file] = vol.read(self.dir .. "/" .. file) end
  return self.cache[file]
end

function Session:save(v, prefix)
  self.count = (self.count or 0) + 1
  local name = ("%s_%d.npy"):format(prefix or "v", self.count)
  v:write(self.dir .. "/" .. name)
  return name
end

-- Records a job; v (optional) is medula's output volume, saved as job.out.
function Session:add(job, v)
  if v then job.out = self:save(v, "out") end
  self.jobs[#self.jobs + 1] = job
  return job
end

-- Runs the reference on every recorded job; returns results and jobs in order.
function Session:check()
  local path = self.dir .. "/jobs.json"
  local f = assert(io.open(path, "w"))
  f:write(json.encode(self.jobs))
  f:close()
  local results = ref.run(self.script, "check", self.dir, path).results
  local jobs = self.jobs
  self.jobs = {}
  return results, jobs
end

-- Describes a job for a failure message.
function M.describe(job, res)
  return json.encode(job) .. " -> " .. json.encode(res)
end

return M
