-- The runner's recipe for scripts/nfbs_prep: one subject through recipes.nfbs.
return require("recipes.nfbs").run_case
