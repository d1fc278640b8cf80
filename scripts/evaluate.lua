-- evaluate PRED_DIR TRUTH_DIR [options]: segmentation metrics of every case
-- (files matched by name, any format medula reads) under one named
-- definition; writes one CSV row per case and label, and a summary per label
-- (mean, sd, median) next to it; a failing case is reported and the others go
-- on. --jobs N runs the cases in N worker processes through the dataset
-- runner.
-- Usage: medula -s evaluate preds/ labels/ --labels 1,2 --out results.csv
local evaluate = require "recipes.evaluate"

local USAGE = [[
usage: medula -s evaluate PRED_DIR TRUTH_DIR [options]
  --labels 1,2|all      label maps: these labels (all: every non-zero label);
                        without it both folders hold binary 0/1 masks
  --definition NAME     deepmind (default), monai or medpy (see docs/metrics.md)
  --tolerance MM        surface Dice tolerance in mm (default 1)
  --percent P           the percentile reported as hd95 (default 95)
  --out FILE.csv        results (default results.csv); the summary goes to
                        FILE_summary.csv
  --jobs N              cases in N worker processes (the dataset runner; its
                        per-case files and ledger go to FILE.cases/)
  -h, --help            this text
]]

local function usage_error(msg)
  io.stderr:write("evaluate: ", msg, "\n", USAGE)
  os.exit(2)
end

local opts, pos = {out="results.csv"}, {}
local takes = {["--labels"]=true, ["--definition"]=true, ["--tolerance"]=true, ["--percent"]=true, ["--out"]=true,
               ["--jobs"]=true}
local i = 1
while i <= #arg do
  local a = arg[i]
  local key, val = a:match("^(%-%-[%w-]+)=(.*)$")
  key = key or a
  if key == "-h" or key == "--help" then
    io.write(USAGE)
    os.exit(0)
  elseif takes[key] then
    if not val then
      i = i + 1
      val = arg[i]
      if val == nil then usage_error(key .. " needs a value") end
    end
    if key == "--labels" then
      if val == "all" then
        opts.labels = "all"
      else
        opts.labels = {}
        for s in val:gmatch("[^,]+") do
          local n = math.tointeger(tonumber(s))
          if not n then usage_error("--labels takes integers separated by commas (got '" .. val .. "')") end
          opts.labels[#opts.labels + 1] = n
        end
      end
    elseif key == "--definition" then
      if val ~= "deepmind" and val ~= "monai" and val ~= "medpy" then
        usage_error("--definition must be deepmind, monai or medpy (got '" .. val .. "')")
      end
      opts.definition = val
    elseif key == "--jobs" then
      local n = math.tointeger(tonumber(val))
      if not n or n < 1 then usage_error("--jobs takes an integer >= 1 (got '" .. val .. "')") end
      opts.jobs = n
    elseif key == "--tolerance" or key == "--percent" then
      local x = tonumber(val)
      if not x then usage_error(key .. " takes a number (got '" .. val .. "')") end
      opts[key == "--tolerance" and "tolerance_mm" or "percent"] = x
    else
      opts.out = val
    end
  elseif a:sub(1, 1) == "-" and a ~= "-" then
    usage_error("unknown option " .. a)
  else
    pos[#pos + 1] = a
  end
  i = i + 1
end
if #pos ~= 2 then usage_error("expected PRED_DIR and TRUTH_DIR") end

opts.on_error = function(case, msg) io.stderr:write(("evaluate: %s: %s\n"):format(case, msg)) end
local ok, rows, summary, failed = pcall(evaluate.run, pos[1], pos[2], opts)
if not ok then
  io.stderr:write(tostring(rows):match("^evaluate: ") and "" or "evaluate: ", tostring(rows), "\n")
  os.exit(1)
end
local def = opts.definition or "deepmind"
print(("%d rows, %d failing cases; definition %s; wrote %s and %s"):format(#rows, failed, def, opts.out,
  evaluate.summary_path(opts.out)))
print(("%-8s %6s %10s %10s %10s %12s"):format("label", "cases", "dice", "hd95", "assd", "surface_dice"))
for _, s in ipairs(summary) do
  local function m(c) return ("%.4f"):format(s.stats[c].mean) end
  print(("%-8s %6d %10s %10s %10s %12s"):format(tostring(s.label), s.cases, m("dice"), m("hd95"), m("assd"),
    m("surface_dice")))
end
os.exit(failed == 0 and 0 or 1)
