-- recipes.lung: the 3-D lung mask against the chest phantom's own lung
-- truth (Dice >= 0.98) with the patient table crossing the image, inside
-- it, or absent, and with the lungs joined or apart; the tutorial's corner
-- rule failing where the table cuts the air below it off; airways left out.
package.path = "tests/?.lua;" .. package.path
local lung = require "recipes.lung"

local function dice(a, b)
  return 2 * a:band(b):stats().sum / (a:stats().sum + b:stats().sum)
end

local function chest(table_kind, joined)
  return vol.phantom.chest{shape = {128, 128, 64}, spacing = {2.5, 2.5, 4}, truth = true, table = table_kind,
                           joined_lungs = joined, open_dome = true}
end

describe("recipes.lung", function()
  for _, t in ipairs({"sides", "narrow", "none"}) do
    for _, joined in ipairs({false, true}) do
      it(("masks the lungs with the table %s, lungs %s (Dice >= 0.98)"):format(t, joined and "joined" or "apart"),
        function()
          local ct, truth = chest(t, joined)
          local m = lung.mask(ct)
          local d = dice(m, truth)
          assert.is_true(d >= 0.98, ("Dice %.4f"):format(d))
          -- both lungs are there: the mask reaches both halves of the image
          local half = ct.shape[1] // 2
          assert.is_true(m:crop{hi = {half, ct.shape[2], ct.shape[3]}}:stats().sum > 0)
          assert.is_true(m:crop{lo = {half + 1, 1, 1}}:stats().sum > 0)
        end)
    end
  end

  it("shows why the tutorial's corner rule fails when the table crosses the image", function()
    -- at this size the air below the table outgrows the lungs
    local ct, truth = vol.phantom.chest{shape = {160, 160, 80}, spacing = {2, 2, 3}, truth = true, table = "sides",
                                        open_dome = true}
    local classic = lung.mask(ct, {background = "corner", airways = false, keep = "largest"})
    assert.is_true(dice(classic, truth) < 0.5)
    assert.is_true(dice(lung.mask(ct), truth) >= 0.98)
    ct, truth = chest("narrow", false)
    classic = lung.mask(ct, {background = "corner", airways = false, keep = "largest"})
    assert.is_true(dice(classic, truth) >= 0.95) -- it works when the air below the table is outside
  end)

  it("leaves the trachea and main bronchi out", function()
    local ct = chest("none", false)
    local inside = lung.fill_structures(lung.inside_air(lung.air(ct)))
    local airway = lung.airways(ct, inside)
    assert.is_true(airway:stats().sum > 0)
    local nz = ct.shape[3]
    -- the trachea is the air of the top slice inside the patient
    local top_air = inside:crop{lo = {1, 1, nz}}:band(ct:lt(-950):crop{lo = {1, 1, nz}})
    assert.is_true(top_air:stats().sum > 0)
    assert.equal(0, lung.mask(ct):crop{lo = {1, 1, nz}}:band(top_air):stats().sum)
  end)

  it("fills vessels and nodules inside the lungs", function()
    local ct = chest("none", false)
    local m = lung.mask(ct)
    local vessels = ct:eq(60):band(m)
    assert.is_true(vessels:stats().sum > 0)
  end)

  it("reads DICOM padding as air, or as the intercept with the tutorial's padding=\"intercept\"", function()
    local data = require "helpers.data"
    -- a scanner whose intercept is 0 stores the -2000 padding as it is
    local ct = chest("none", false)
    local dir = data.tmpdir() .. "/pad_series"
    ct:write_dicom(dir, {intercept = 0})
    local pad = ct:eq(-2000)
    local n = pad:stats().sum
    assert.is_true(n > 0)
    local air, classic = lung.read(dir), lung.read(dir, {padding = "intercept"})
    -- the padding: -1024 HU, or 0 HU (the intercept) as get_pixels_hu makes it
    assert.equal(n, air:eq(-1024):band(pad):stats().sum)
    assert.equal(n, classic:eq(0):band(pad):stats().sum)
    -- everything else is the same HU
    local keep = pad:bnot()
    assert.equal(0, air:ne(ct):band(keep):stats().sum)
    assert.equal(0, classic:ne(ct):band(keep):stats().sum)
    -- files that are not DICOM are read as they are
    local nii = data.tmpdir() .. "/pad.nii.gz"
    ct:write(nii)
    assert.equal(n, lung.read(nii, {padding = "intercept"}):eq(-2000):stats().sum)
    assert.has_error(function() lung.read(dir, {padding = "zero"}) end,
      "bad argument #2 to 'read' (padding must be \"air\" or \"intercept\", got zero)")
  end)

  it("rejects what it cannot work on", function()
    assert.has_error(function() lung.mask(nil) end, "bad argument #1 to 'mask' (Volume expected, got nil)")
    assert.has_error(function() lung.mask(vol.new{shape = {4, 4}}) end, "bad argument #1 to 'mask' (a 3-D CT expected, got 2-D)")
    local ct = chest("none", false)
    assert.has_error(function() lung.inside_air(lung.air(ct), "edges") end)
    assert.has_error(function() lung.mask(ct, {keep = "three"}) end)
  end)
end)

describe("recipes.lung.mask_2d", function()
  package.path = "tests/?.lua;" .. package.path
  local data = require "helpers.data"
  local ref = require "helpers.ref"

  it("equals the LUNA16 tutorial's per-slice recipe done with skimage (tests/ref/lung2d_ref.py)", function()
    local ct = vol.phantom.chest{shape = {96, 96, 24}, spacing = {3, 3, 10}, truth = false, table = "none",
                                 open_dome = true}
    local dir = data.tmpdir()
    ct:write(dir .. "/ct.npy")
    ref.run("lung2d_ref.py", dir .. "/ct.npy", dir .. "/ref.npy")
    local want = vol.read(dir .. "/ref.npy")
    local got = lung.mask_2d(ct, {ties = "classic"})
    assert.equal(0, (got:astype("int16") - want:astype("int16")):abs():stats().sum)
    assert.is_true(got:stats().sum > 0)
    -- exactly two regions per slice differs from the classic rule only on ties
    assert.equal(0, (lung.mask_2d(ct):astype("int16") - want:astype("int16")):abs():stats().sum)
  end)

  it("runs in the workflow with --mask 2d", function()
    local ds = data.tmpdir() .. "/dsb"
    require("recipes.dataset").make("dsb", {out = ds, cases = 1, seed = 4, shape = {64, 64, 32}})
    local out = data.tmpdir() .. "/out"
    local cmd = ("%s -s lung_segment %s --out %s --spacing 0 --mask 2d --ties classic >/dev/null 2>&1"):format(
      data.shell_quote(data.medula()), data.shell_quote(ds .. "/dsb0001"), data.shell_quote(out))
    assert.is_true(os.execute(cmd))
    assert.is_true(vol.read(out .. "/dsb0001/lungs.nii.gz"):stats().sum > 0)
  end)
end)
