-- The runner's recipe for scripts/luna_masks: one scan through recipes.luna.
return require("recipes.luna").run_case
