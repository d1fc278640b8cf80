-- The runner's recipe for scripts/crop_merge_2d and crop_merge_3d (also for
-- `medula -s run recipes.crop_merge_case`): one case through recipes.crop_merge.
return require("recipes.crop_merge").run_case
