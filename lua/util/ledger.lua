-- The run ledger: one CSV row per finished case attempt (case, status,
-- outputs with sizes and SHA-256, seconds, peak memory, message, when). A
-- run appends to its own file (ledger.csv, or ledgers/<shard>.csv for a
-- shard); resuming reads every ledger file of the output folder and takes
-- the latest row of each case. Nothing here starts processes.
local vol = require "vol"
local csv = require "util.csv"
local doc = require("vol.help").doc

local fs = vol.fs
local ledger = {}

ledger.COLUMNS = { "case", "status", "outputs", "bytes", "sha256", "seconds", "peak_mb", "message", "finished" }

-- The ledger files of folder out: ledger.csv first, then ledgers/*.csv.
function ledger.files(out)
  local files = {}
  if fs.stat(out .. "/ledger.csv") then files[1] = out .. "/ledger.csv" end
  for _, p in ipairs(fs.glob(out .. "/ledgers/*.csv")) do
    files[#files + 1] = p
  end
  return files
end

-- The rows of one ledger file. A last line cut short (the writer was killed
-- mid-row) is dropped: that case simply was not recorded.
function ledger.read_file(path)
  local f = io.open(path, "rb")
  if not f then return {} end
  local text = f:read("a")
  f:close()
  if text ~= "" and text:sub(-1) ~= "\n" then text = text:match("^(.*\n)") or "" end
  if text == "" then return {} end
  local ok, rows = pcall(csv.parse, text, { name = path })
  if not ok then error(path .. ": not a ledger (" .. tostring(rows):gsub("^[^:]*:%d+: ", "") .. ")", 0) end
  return rows
end

-- Later rows beat earlier ones: by finish time, then by file and row order.
local function newer(a, b)
  return (tonumber(a.finished_s) or 0) >= (tonumber(b.finished_s) or 0)
end

-- case id -> its latest row, over all ledger files of out (or the given files).
function ledger.latest(out, files)
  local latest = {}
  for _, path in ipairs(files or ledger.files(out)) do
    for _, row in ipairs(ledger.read_file(path)) do
      row.finished_s = ledger.parse_time(row.finished)
      local prev = latest[row.case]
      if not prev or newer(row, prev) then latest[row.case] = row end
    end
  end
  return latest
end

doc(ledger.latest, [[
ledger.latest(out [, files]) -> {case = row}
The latest row of each case over every ledger of the output folder out (ledger.csv
and ledgers/*.csv): the one finished last, later rows winning ties.
  local row = require("util.ledger").latest("out").case1]])

-- "2026-01-02T03:04:05.678Z" <-> seconds since 1970 (UTC).
function ledger.format_time(t)
  local s = math.floor(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", s) .. ("%.3fZ"):format(t - s):sub(2)
end

function ledger.parse_time(s)
  local y, mo, d, h, mi, sec = tostring(s):match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):([%d.]+)Z$")
  if not y then return nil end
  -- days from the civil date (proleptic Gregorian), independent of the local time zone
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo <= 2 then y = y - 1 end
  local era = y // 400
  local yoe = y - era * 400
  local doy = (153 * (mo + (mo > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(sec)
end

-- Whether the outputs a row lists are still there with their recorded sizes.
function ledger.outputs_intact(out, row)
  if row.outputs == nil or row.outputs == "" then return true end
  local sizes = {}
  for b in tostring(row.bytes):gmatch("[^;]+") do sizes[#sizes + 1] = tonumber(b) end
  local i = 0
  for name in row.outputs:gmatch("[^;]+") do
    i = i + 1
    local st = fs.stat(fs.join(out, row.case, name))
    if not st or st.kind ~= "file" or st.size ~= sizes[i] then return false, name end
  end
  return true
end

-- One line of text for the message column.
function ledger.one_line(s)
  return (tostring(s or ""):gsub("[\r\n]+", " | "))
end

local Writer = {}
Writer.__index = Writer

function Writer:add(row)
  local values = {}
  for i, c in ipairs(ledger.COLUMNS) do values[i] = row[c] end
  values[8] = ledger.one_line(values[8])
  self.fp:write(csv.format_row(values, #ledger.COLUMNS))
  self.fp:flush()
end

function Writer:close()
  if self.fp then self.fp:close(); self.fp = nil end
end

-- Opens the ledger at path for appending, first rewriting it (atomically)
-- with only the latest row of each case it held, so it never grows without
-- bound and a row cut short by a kill is gone.
function ledger.open(path)
  fs.mkdir(fs.dirname(path))
  local keep, order = {}, {}
  for _, row in ipairs(ledger.read_file(path)) do
    if not keep[row.case] then order[#order + 1] = row.case end
    keep[row.case] = row
  end
  local rows = {}
  for _, id in ipairs(order) do rows[#rows + 1] = keep[id] end
  csv.write(path, rows, ledger.COLUMNS)
  local fp, msg = io.open(path, "ab")
  if not fp then error(path .. ": cannot append (" .. msg .. ")", 0) end
  return setmetatable({ fp = fp, path = path }, Writer)
end

doc(ledger.open, [[
ledger.open(path) -> writer
Opens a ledger for appending (writer:add(row), writer:close()), first rewriting it
atomically with the latest row of each case it holds (a row cut short is dropped).
  local w = require("util.ledger").open("out/ledger.csv")]])

function ledger.merge(out, into)
  local latest = ledger.latest(out)
  local ids = {}
  for id in pairs(latest) do ids[#ids + 1] = id end
  table.sort(ids)
  local rows, counts = {}, {}
  for _, id in ipairs(ids) do
    local row = latest[id]
    rows[#rows + 1] = row
    counts[row.status] = (counts[row.status] or 0) + 1
  end
  into = into or (out .. "/ledger.csv")
  csv.write(into, rows, ledger.COLUMNS)
  return into, counts, #rows
end

doc(ledger.merge, [[
ledger.merge(out [, into=out.."/ledger.csv"]) -> path, counts, n
Merges every ledger of the output folder out (ledger.csv and ledgers/*.csv, one
per shard) into one manifest with the latest row of each case, sorted by case.
counts maps a status ("ok", "error", "crash", "retry") to its number of cases.
  local path, counts = require("util.ledger").merge("out")]])

return ledger
