-- The runner's recipe for scripts/lung_segment: one scan through recipes.lung.
return require("recipes.lung").run_case
