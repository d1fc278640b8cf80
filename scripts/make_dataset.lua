-- make_dataset KIND --out DIR: generated chest CT (dsb, luna) or head MRI (nfbs) datasets with their truth
-- Usage: medula -s make_dataset dsb --cases 3 --seed 1 --out build/data/dsb
local vol = require "vol"
local cli = require "util.cli"
local dataset = require "recipes.dataset"

cli.main("make_dataset", function()
  local args = cli.parse(arg, {
    name = "make_dataset",
    summary = "Writes a generated dataset with its truth: dsb (chest CT DICOM series), luna (.mhd with\n"
      .. "annotations.csv and candidates.csv) or nfbs (T1 heads in the NFBS layout).",
    options = {
      { long = "--out", type = "string", required = true, metavar = "DIR", help = "the dataset's folder" },
      { long = "--cases", type = "int", min = 1, default = 3, help = "number of cases" },
      { long = "--seed", type = "int", min = 0, default = 1, help = "the same seed writes the same files" },
    },
    positional = { { name = "KIND", type = "choice", choices = {"dsb", "luna", "nfbs"}, help = "dsb, luna or nfbs" } },
  })
  dataset.make(args.kind, {out = args.out, cases = args.cases, seed = args.seed, verbose = true})
  print(("make_dataset: %d %s case(s) in %s"):format(args.cases, args.kind, args.out))
end)
