-- run RECIPE INPUT OUT: a recipe over every case of a folder or manifest, with resume, --jobs, --shard and --emit
-- Usage: medula -s run my_recipe.lua scans/ out/ --pattern '*.nii.gz' --jobs 2
-- RECIPE is a .lua file (or module name) returning function(case, out, params);
-- INPUT is a folder (one case per entry matching --pattern) or a manifest CSV
-- (one case per row, column "case"). See docs/cluster.md.
local cli = require "util.cli"
local runner = require "util.runner"

local function param(s)
  if not s:find("^[%a_][%w_]*=") then return nil, "expected NAME=VALUE, got '" .. s .. "'" end
  return s
end

runner.main(arg, {
  name = "run",
  summary = "Runs RECIPE over every case of INPUT, each case in its own process, writing OUT/<case>/\n"
    .. "and the ledger OUT/ledger.csv; a rerun skips the cases already done.",
  positional = {
    { name = "RECIPE", help = "a .lua file (or a module name) returning function(case, out, params)" },
    { name = "INPUT", help = "a folder (one case per entry matching --pattern) or a manifest .csv" },
    { name = "OUT", help = "the output folder" },
  },
  options = {
    { long = "--pattern", metavar = "GLOB", default = "*", help = "which entries of INPUT are cases" },
    { long = "--param", metavar = "NAME=VALUE", many = true, check = param,
      help = "params.NAME = VALUE for the recipe (a number when it reads as one); repeatable" },
  },
  epilog = "Exit status: 0 all cases done, 2 bad usage, 3 a case failed on its input or crashed,\n"
    .. "75 a case is worth retrying (killed, out of memory), 130 interrupted, 1 the run failed.",
  plan = function(a)
    local params = {}
    for _, kv in ipairs(a.param) do
      local k, v = kv:match("^([%a_][%w_]*)=(.*)$")
      params[k] = tonumber(v) or v
    end
    return { recipe = a.recipe, input = a.input, pattern = a.pattern, out = a.out, params = params }
  end,
})
