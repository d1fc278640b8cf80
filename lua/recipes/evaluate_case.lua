-- The runner's recipe for evaluate --jobs: one case through recipes.evaluate.
return require("recipes.evaluate").run_case
