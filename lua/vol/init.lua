-- The `vol` module: the C core ("vol.core", preloaded by the host) plus the
-- Lua-written parts, each in its own lua/vol/*.lua file. Keep this file a
-- short list of what goes in; the code lives in the files it requires.
local core = require "vol.core"

local vol = {}
for name, value in pairs(core) do
  vol[name] = value
end

local store = require "vol.docstore"
store.set_area("repl") -- help() groups the Lua-written functions by the file's area
local help = require "vol.help"
vol.help = help.help
vol.doc = help.doc
vol.docs = help.docs

vol.progress = require "vol.progress"
vol.describe = require "vol.describe"
vol.pretty = require "vol.pretty"

store.set_area("patch")
require("vol.patch")(vol) -- patch grids: grid:map, grid:save_patches, vol.crop_merge_compare
store.set_area("cropad")
require("vol.cropad")(vol) -- v:crop_to_nonzero
store.set_area("resample")
require("vol.resample")(vol) -- v:resample_dsb, v:resample_img
store.set_area("dicom")
require("vol.dicom")(vol) -- vol.dicom_convert, vol.dicom_table, vol.dicom_tags
store.set_area("augment")
require("vol.augment")(vol) -- vol.augment: seeded pipelines over v:warp and vol.aug.*
store.set_area(nil)

-- Errors from the Lua-written functions point at the caller's line.
local errors = require "vol.errors"
errors.relocate(vol)
for name, t in pairs(vol) do
  if type(t) == "table" and name:sub(1, 1) ~= "_" then
    errors.relocate(t) -- Volume, PatchGrid, PatchMerger methods; vol.phantom ...
  end
end

-- Completion as the REPL does it (for specs); private, hence the underscore.
vol._complete = require("vol.repl").complete

-- help() is a global too, for the REPL and scripts.
_G.help = vol.help

return vol
