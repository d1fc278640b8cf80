-- recipes.evaluate: segmentation metrics over two folders of masks or label
-- maps matched by file name (any format vol.read takes), one result row per
-- case and label, a summary per label, CSV files written atomically. The
-- script scripts/evaluate.lua only parses arguments and calls run().
local vol = require "vol"
local progress = require "vol.progress"

local M = {}

M.COLUMNS = {"dice", "jaccard", "precision", "recall", "specificity", "volume_pred", "volume_truth", "ravd",
  "hausdorff", "hd95", "assd", "asd_pred_to_truth", "asd_truth_to_pred", "surface_overlap_pred",
  "surface_overlap_truth", "surface_dice"}

-- The case name of a file medula reads (its name without the format's
-- suffix), or nil for other files (detached .raw data, text, ...).
function M.case_name(file)
  if not vol.format_of(file) then return nil end
  return file:match("^(.*)%.nii%.gz$") or file:match("^(.*)%.[^.]+$") or file
end

-- name -> file name, for the readable files directly inside dir.
function M.list_cases(dir)
  local st = vol.fs.stat(dir)
  if not st or st.kind ~= "dir" then error(("evaluate: cannot list folder '%s'"):format(dir), 0) end
  local cases = {}
  for _, f in ipairs(vol.fs.list(dir)) do
    local kind = (vol.fs.stat(dir .. "/" .. f) or {}).kind
    local name = kind == "file" and M.case_name(f)
    if name then
      if cases[name] then error(("evaluate: %s holds two files for case '%s' (%s, %s)"):format(
        dir, name, cases[name], f), 0) end
      cases[name] = f
    end
  end
  return cases
end

local function fmt3(t) return ("%g x %g x %g"):format(t[1], t[2], t[3] or 1) end

-- Raises when the two volumes do not share one grid.
function M.check_grid(p, t)
  local ps, ts = p.shape, t.shape
  if #ps ~= #ts then error(("grids differ: %d-D prediction, %d-D reference"):format(#ps, #ts), 0) end
  for a = 1, #ps do
    if ps[a] ~= ts[a] then
      error(("grids differ: shape %s vs reference %s"):format(table.concat(ps, "x"), table.concat(ts, "x")), 0)
    end
  end
  local sp, st = p.spacing, t.spacing
  for a = 1, #ps do
    if math.abs(sp[a] - st[a]) > 1e-5 * math.abs(st[a]) then
      error(("grids differ: spacing %s mm vs reference %s mm"):format(fmt3(sp), fmt3(st)), 0)
    end
  end
  local po, to = p.origin, t.origin
  for a = 1, 3 do
    if math.abs(po[a] - to[a]) > 1e-3 then
      error(("grids differ: origin %s mm vs reference %s mm"):format(fmt3(po), fmt3(to)), 0)
    end
  end
  local pd, td = p.direction, t.direction
  for r = 1, 3 do
    for c = 1, 3 do
      if math.abs(pd[r][c] - td[r][c]) > 1e-5 then error("grids differ: direction matrices differ", 0) end
    end
  end
end

-- Rows of one case: {case=, label=, status="ok", <metrics>} per label.
function M.evaluate_case(pred_path, truth_path, case, opts)
  local p, t = vol.read(pred_path), vol.read(truth_path)
  M.check_grid(p, t)
  local mopts = {definition=opts.definition, tolerance_mm=opts.tolerance_mm, percent=opts.percent}
  local rows = {}
  if opts.labels then
    local labels = opts.labels ~= "all" and opts.labels or nil
    local per = vol.metrics_per_label(p, t, labels, mopts)
    local ids = {}
    for l in pairs(per) do ids[#ids + 1] = l end
    table.sort(ids)
    for _, l in ipairs(ids) do
      local r = per[l]
      r.case, r.label, r.status = case, l, "ok"
      rows[#rows + 1] = r
    end
  else
    local r = vol.metrics(p, t, mopts)
    r.case, r.label, r.status = case, 1, "ok"
    rows[1] = r
  end
  return rows
end

local function median(xs)
  local n = #xs
  if n == 0 then return 0 / 0 end
  table.sort(xs)
  return n % 2 == 1 and xs[(n + 1) // 2] or (xs[n // 2] + xs[n // 2 + 1]) / 2
end

-- Per label and column: n (finite values), mean, sd (n - 1), median.
function M.summarise(rows)
  local by = {}
  for _, r in ipairs(rows) do
    if r.status == "ok" then
      local s = by[r.label] or {label=r.label, cases=0, values={}}
      by[r.label] = s
      s.cases = s.cases + 1
      for _, c in ipairs(M.COLUMNS) do
        local x = r[c]
        s.values[c] = s.values[c] or {}
        if x == x and x ~= math.huge and x ~= -math.huge then table.insert(s.values[c], x) end
      end
    end
  end
  local out = {}
  for _, s in pairs(by) do out[#out + 1] = s end
  table.sort(out, function(a, b) return a.label < b.label end)
  for _, s in ipairs(out) do
    s.stats = {}
    for _, c in ipairs(M.COLUMNS) do
      local xs = s.values[c] or {}
      local n, sum = #xs, 0
      for _, x in ipairs(xs) do sum = sum + x end
      local mean = n > 0 and sum / n or 0 / 0
      local ss = 0
      for _, x in ipairs(xs) do ss = ss + (x - mean) ^ 2 end
      s.stats[c] = {n=n, mean=mean, sd=n > 1 and math.sqrt(ss / (n - 1)) or 0 / 0, median=median(xs)}
    end
    s.values = nil
  end
  return out
end

local function num(x)
  if x == nil then return "" end
  if x ~= x then return "nan" end
  if x == math.huge then return "inf" elseif x == -math.huge then return "-inf" end
  return ("%.17g"):format(x)
end

local function csv_field(s)
  s = tostring(s)
  if s:find('[,"\n\r]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

-- Writes lines to path through a temporary file renamed at the end.
function M.write_atomic(path, lines)
  local tmp = ("%s.tmp-%d-%d"):format(path, os.time(), math.random(1, 1 << 30))
  local f, err = io.open(tmp, "w")
  if not f then error(("evaluate: cannot write %s (%s)"):format(path, err), 0) end
  local ok, werr = f:write(table.concat(lines, "\n"), "\n")
  local closed, cerr = f:close()
  if not ok or not closed then
    os.remove(tmp)
    error(("evaluate: writing %s failed (%s)"):format(path, tostring(werr or cerr)), 0)
  end
  local renamed, rerr = os.rename(tmp, path)
  if not renamed then
    os.remove(tmp)
    error(("evaluate: cannot rename to %s (%s)"):format(path, rerr), 0)
  end
end

function M.csv_lines(rows, definition)
  local head = {"case", "label", "definition", "status"}
  for _, c in ipairs(M.COLUMNS) do head[#head + 1] = c end
  head[#head + 1] = "error"
  local lines = {table.concat(head, ",")}
  for _, r in ipairs(rows) do
    local f = {csv_field(r.case), r.label and tostring(r.label) or "", definition, r.status}
    for _, c in ipairs(M.COLUMNS) do f[#f + 1] = r.status == "ok" and num(r[c]) or "" end
    f[#f + 1] = csv_field(r.error or "")
    lines[#lines + 1] = table.concat(f, ",")
  end
  return lines
end

function M.summary_lines(summary, definition)
  local lines = {"label,definition,statistic,cases," .. table.concat(M.COLUMNS, ",")}
  for _, s in ipairs(summary) do
    for _, stat in ipairs{"mean", "sd", "median", "n"} do
      local f = {tostring(s.label), definition, stat, tostring(s.cases)}
      for _, c in ipairs(M.COLUMNS) do f[#f + 1] = stat == "n" and tostring(s.stats[c].n) or num(s.stats[c][stat]) end
      lines[#lines + 1] = table.concat(f, ",")
    end
  end
  return lines
end

-- The summary file next to out: results.csv -> results_summary.csv.
function M.summary_path(out)
  return (out:match("^(.*)%.csv$") or out) .. "_summary.csv"
end

--[[ run(pred_dir, truth_dir, opts) -> rows, summary, failed
opts: definition ("deepmind"), tolerance_mm (1), percent (95), labels (nil: binary
masks; a list of integers; or "all"), out (CSV path; nil: nothing written),
jobs (> 1: cases in worker processes through the dataset runner, their rows and
ledger in workdir, default OUT.cases/),
on_error(case, message) called for each failing case. Cases are the files of
truth_dir; a case without a prediction, or whose grids differ, or that fails in
any other way is a row with status "error" and the others go on. ]]
function M.run(pred_dir, truth_dir, opts)
  opts = opts or {}
  opts.definition = opts.definition or "deepmind"
  local preds, truths = M.list_cases(pred_dir), M.list_cases(truth_dir)
  local names = {}
  for name in pairs(truths) do names[#names + 1] = name end
  table.sort(names)
  if #names == 0 then error(("evaluate: no image files in %s"):format(truth_dir), 0) end
  local rows, failed = {}, 0
  local function fail(name, msg)
    failed = failed + 1
    rows[#rows + 1] = {case=name, status="error", error=msg}
    if opts.on_error then opts.on_error(name, msg) end
  end
  if (opts.jobs or 1) > 1 then
    -- the dataset runner: each case in a worker process, its rows in a CSV
    local csv, ledger, runner = require "util.csv", require "util.ledger", require "util.runner"
    local work = opts.workdir or ((opts.out or "results.csv"):match("^(.*)%.csv$") or opts.out) .. ".cases"
    local cases = {}
    for _, name in ipairs(names) do
      if preds[name] then
        cases[#cases + 1] = {id=name, pred=vol.fs.absolute(pred_dir .. "/" .. preds[name]),
                             truth=vol.fs.absolute(truth_dir .. "/" .. truths[name])}
      end
    end
    runner.run{recipe="recipes.evaluate_case", cases=cases, out=work, jobs=opts.jobs, force=true, log=false,
               params={definition=opts.definition, tolerance_mm=opts.tolerance_mm, percent=opts.percent,
                       labels=type(opts.labels) == "table" and table.concat(opts.labels, ",") or opts.labels}}
    local latest = ledger.latest(work)
    for _, name in ipairs(names) do
      local path = work .. "/" .. name .. "/rows.csv"
      if not preds[name] then
        fail(name, "no prediction in " .. pred_dir)
      elseif latest[name] and latest[name].status == "ok" and vol.fs.exists(path) then
        local cols = {"label"}
        for _, c in ipairs(M.COLUMNS) do cols[#cols + 1] = c end
        for _, r in ipairs(csv.read(path, {numbers=cols})) do
          r.case, r.status = name, "ok"
          rows[#rows + 1] = r
        end
      else
        fail(name, latest[name] and latest[name].message or "the worker gave no result")
      end
    end
  else
    local bar = progress(#names, "evaluate")
    for _, name in ipairs(names) do
      local ok, res
      if not preds[name] then
        ok, res = false, "no prediction in " .. pred_dir
      else
        ok, res = pcall(M.evaluate_case, pred_dir .. "/" .. preds[name], truth_dir .. "/" .. truths[name], name, opts)
      end
      if ok then
        for _, r in ipairs(res) do rows[#rows + 1] = r end
      else
        fail(name, tostring(res))
      end
      collectgarbage("step", 0)
      bar:step()
    end
    bar:done()
  end
  local summary = M.summarise(rows)
  if opts.out then
    M.write_atomic(opts.out, M.csv_lines(rows, opts.definition))
    M.write_atomic(M.summary_path(opts.out), M.summary_lines(summary, opts.definition))
  end
  return rows, summary, failed
end

-- One case in a runner worker: the rows of evaluate_case in OUT/<case>/rows.csv.
function M.run_case(case, out, params)
  local labels = params.labels
  if labels and labels ~= "all" then
    local list = {}
    for x in tostring(labels):gmatch("[^,]+") do list[#list + 1] = math.tointeger(tonumber(x)) end
    labels = list
  end
  local rows = M.evaluate_case(case.pred, case.truth, case.id, {definition=params.definition,
    tolerance_mm=params.tolerance_mm, percent=params.percent, labels=labels})
  local cols = {"label"}
  for _, c in ipairs(M.COLUMNS) do cols[#cols + 1] = c end
  require("util.csv").write(out:path("rows.csv"), rows, cols)
  return {rows = #rows}
end

return M
