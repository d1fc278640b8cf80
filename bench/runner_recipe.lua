-- The benchmark's recipes for the case runner (bench/rows/runner.sh):
-- params.kind "copy" reads a scan and writes it back (the trivial recipe),
-- "lungs" thresholds the chest CT, opens the mask, keeps the two largest
-- components, fills their holes and writes the mask (a real recipe).
local vol = require "vol"

return function(case, out, params)
  local v = vol.read(case.path)
  if params.kind == "lungs" then
    local m = v:lt(-400):open(1):keep_largest(2):fill_holes()
    m:write(out:path("lungs.nii.gz"))
  else
    v:write(out:path("copy.nii"))
  end
end
