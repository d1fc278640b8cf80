-- Parity sessions for the mask specs (morph, label, edt): tests/ref/morph_ref.py
-- writes random masks into a temporary folder, a spec computes medula's results
-- and records one job per result, and one python run checks them all against
-- scipy.ndimage / scikit-image.
--   local S = require("helpers.maskref").session()
--   for _, m in ipairs(S.masks) do S:add({op="erode", ...}, S:load(m):erode(1)) end
--   S:assert_all()     -- every job matched
local data = require "helpers.data"
local ref = require "helpers.ref"
local json = require "dkjson"

local M = {}
local Session = {}
Session.__index = Session

-- A new session: the generated masks (S.masks, 2-D and 3-D, several densities
-- and odd shapes), structuring elements (S.elements) and masks for large
-- elements (S.large, by name: blobs3, fat2, dotsx, holesbig3, ...).
function M.session()
  local dir = data.tmpdir()
  local g = ref.run("morph_ref.py", "gen", dir)
  local large = {}
  for _, rec in ipairs(g.large) do large[rec.name] = rec end
  return setmetatable({dir = dir, masks = g.masks, elements = g.elements, large = large, jobs = {}, cache = {}},
                      Session)
end

-- The Volume stored in file (or in a mask/element record's file).
function Session:load(rec)
  local file = type(rec) == "table" and rec.file or rec
  if not self.cache[file] then self.cache[file] = vol.read(self.dir .. "/" .. file) end
  return self.cache[file]
end

-- Writes v into the session folder under a fresh name and returns the name.
function Session:save(v, prefix)
  self.count = (self.count or 0) + 1
  local name = ("%s_%d.npy"):format(prefix or "v", self.count)
  v:write(self.dir .. "/" .. name)
  return name
end

-- Records a job whose medula result is v (extra result volumes go in job
-- fields by the caller, saved with Session:save). Returns the job.
function Session:add(job, v)
  job.out = self:save(v, "out")
  self.jobs[#self.jobs + 1] = job
  return job
end

-- Runs the reference on every recorded job; returns the result list (in job order).
function Session:check()
  local path = self.dir .. "/jobs.json"
  local f = assert(io.open(path, "w"))
  f:write(json.encode(self.jobs))
  f:close()
  local results = ref.run("morph_ref.py", "check", self.dir, path).results
  local jobs = self.jobs
  self.jobs = {}
  return results, jobs
end

-- Describes a job for failure messages.
local function describe_job(job)
  local parts = {}
  for k, v in pairs(job) do
    if k ~= "out" then parts[#parts + 1] = k .. "=" .. (type(v) == "table" and json.encode(v) or tostring(v)) end
  end
  table.sort(parts)
  return table.concat(parts, " ")
end

-- Checks every job; exact jobs must have no mismatching voxel and, for
-- labelling, the same count; edt jobs must be within tol (absolute, or
-- relative for float32); jobs marked nontrivial must have a reference that
-- is neither empty nor full. Returns the number of jobs checked.
function Session:assert_all(tol)
  local results, jobs = self:check()
  local bad = {}
  for i, r in ipairs(results) do
    local job = jobs[i]
    local ok = true
    if r.mismatch then ok = r.mismatch == 0 end
    if r.count and job.count and r.count ~= job.count then ok = false end
    local note = ""
    if job.nontrivial and not (r.ones and r.ones > 0 and r.ones < r.size) then
      ok, note = false, " (the reference is empty or full: a mask that tests nothing)"
    end
    if r.max_abs then
      local err = job.dtype == "float64" and r.max_abs or r.max_rel
      ok = err <= (tol or 1e-6)
      if r.indices_max_abs then ok = ok and r.indices_max_abs <= 1e-9 and r.indices_on_zero end
    end
    if not ok then bad[#bad + 1] = describe_job(job) .. " -> " .. json.encode(r) .. note end
  end
  assert(#bad == 0, #bad .. " of " .. #results .. " jobs differ from the reference:\n" .. table.concat(bad, "\n"))
  return #results
end

return M
