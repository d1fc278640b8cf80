-- The `vol` module: the C core ("vol.core", preloaded by the host) plus the
-- Lua-written parts, each in its own lua/vol/*.lua file. Keep this file a
-- short list of what goes in; the code lives in the files it requires.
local core = require "vol.core"

local vol = {}
for name, value in pairs(core) do
  vol[name] = value
end

local help = require "vol.help"
vol.help = help.help
vol.doc = help.doc
vol.docs = help.docs

vol.progress = require "vol.progress"
vol.describe = require "vol.describe"
vol.pretty = require "vol.pretty"

require("vol.patch")(vol) -- patch grids: grid:map, grid:save_patches, vol.crop_merge_compare
require("vol.geom")(vol) -- v:crop_to_nonzero, v:resample_dsb, v:resample_img
require("vol.dicom")(vol) -- vol.dicom_convert, vol.dicom_table, vol.dicom_tags

-- Completion as the REPL does it (for specs); private, hence the underscore.
vol._complete = require("vol.repl").complete

-- help() is a global too, for the REPL and scripts.
_G.help = help.help

return vol
