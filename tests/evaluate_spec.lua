-- scripts/evaluate.lua and recipes.evaluate: files matched by name across
-- formats, one CSV row per case and label, the summary, failing cases
-- reported while the others go on, usage and exit codes.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local evaluate = require "recipes.evaluate"

-- Runs medula with args; returns exit code, stdout, stderr.
local function run(args)
  local q = {data.shell_quote(data.medula())}
  for _, a in ipairs(args) do q[#q + 1] = data.shell_quote(a) end
  local errfile = os.tmpname()
  local p = io.popen(table.concat(q, " ") .. " 2>" .. data.shell_quote(errfile))
  local out = p:read("a")
  local _, _, code = p:close()
  local f = io.open(errfile, "rb")
  local err = f:read("a")
  f:close()
  os.remove(errfile)
  return code, out, err
end

local function read_csv(path)
  local rows, head = {}, nil
  for line in io.lines(path) do
    local f = {}
    for x in (line .. ","):gmatch("([^,]*),") do f[#f + 1] = x end
    if not head then
      head = f
    else
      local r = {}
      for i, k in ipairs(head) do r[k] = f[i] end
      rows[#rows + 1] = r
    end
  end
  return rows
end

local function sphere(r, shape, center)
  return vol.phantom.sphere{shape=shape or {24, 24, 24}, radius_mm=r, center=center, dtype="uint8"}
end

describe("scripts/evaluate.lua", function()
  it("matches files by name across formats and writes results and a summary", function()
    local dir = data.tmpdir()
    os.execute("mkdir -p " .. dir .. "/p " .. dir .. "/t")
    sphere(6):write(dir .. "/p/a.nii.gz"); sphere(7):write(dir .. "/t/a.nii")
    sphere(7):write(dir .. "/p/b.npy"); sphere(7):write(dir .. "/t/b.mha")
    sphere(7, {24, 24, 25}):write(dir .. "/p/c.nii.gz"); sphere(7):write(dir .. "/t/c.nii.gz")
    sphere(7):write(dir .. "/t/d.nii.gz") -- no prediction
    local out = dir .. "/res.csv"
    local code, stdout, stderr = run{"-s", "evaluate", dir .. "/p", dir .. "/t", "--out", out, "--definition", "monai"}
    assert.equal(1, code) -- two cases failed
    assert.truthy(stderr:find("c: grids differ: shape 24x24x25 vs reference 24x24x24", 1, true), stderr)
    assert.truthy(stderr:find("d: no prediction in", 1, true), stderr)
    assert.truthy(stdout:find("4 rows, 2 failing cases", 1, true), stdout)
    local rows = read_csv(out)
    assert.equal(4, #rows)
    assert.same({"a", "b", "c", "d"}, {rows[1].case, rows[2].case, rows[3].case, rows[4].case})
    assert.equal("ok", rows[1].status); assert.equal("error", rows[3].status)
    local m = vol.metrics(sphere(6), sphere(7), {definition="monai"})
    assert.equal(m.dice, tonumber(rows[1].dice)); assert.equal(m.hd95, tonumber(rows[1].hd95))
    assert.equal("1", rows[2].dice); assert.equal("monai", rows[2].definition)
    local summary = read_csv(dir .. "/res_summary.csv")
    assert.equal("mean", summary[1].statistic)
    assert.near((m.dice + 1) / 2, tonumber(summary[1].dice), 1e-15)
    assert.equal("2", summary[1].cases)
    local leftovers = io.popen("ls " .. dir):read("a")
    assert.is_nil(leftovers:find("tmp", 1, true)) -- written through a temporary name
  end)

  it("gives the same results with --jobs 2 through the dataset runner", function()
    local dir = data.tmpdir()
    vol.fs.mkdir(dir .. "/p"); vol.fs.mkdir(dir .. "/t")
    sphere(6):write(dir .. "/p/a.nii.gz"); sphere(7):write(dir .. "/t/a.nii")
    sphere(7):write(dir .. "/p/b.npy"); sphere(7):write(dir .. "/t/b.mha")
    sphere(7, {24, 24, 25}):write(dir .. "/p/c.nii.gz"); sphere(7):write(dir .. "/t/c.nii.gz")
    sphere(7):write(dir .. "/t/d.nii.gz") -- no prediction
    local c1, o1 = run{"-s", "evaluate", dir .. "/p", dir .. "/t", "--out", dir .. "/one.csv"}
    local c2, o2, e2 = run{"-s", "evaluate", dir .. "/p", dir .. "/t", "--out", dir .. "/two.csv", "--jobs", "2"}
    assert.equal(1, c1)
    assert.equal(1, c2)
    assert.truthy(e2:find("c: grids differ: shape 24x24x25 vs reference 24x24x24", 1, true), e2)
    assert.equal(o1:gsub("one%.csv", "X"):gsub("one_summary", "X"), o2:gsub("two%.csv", "X"):gsub("two_summary", "X"))
    local a, b = read_csv(dir .. "/one.csv"), read_csv(dir .. "/two.csv")
    assert.equal(#a, #b)
    for i = 1, #a do
      for _, k in ipairs({"case", "status", "dice", "hd95", "assd", "surface_dice"}) do assert.equal(a[i][k], b[i][k]) end
    end
  end)

  it("evaluates label maps per label", function()
    local dir = data.tmpdir()
    os.execute("mkdir -p " .. dir .. "/p " .. dir .. "/t")
    local t = sphere(5, nil, {8, 12, 12}):astype("int16"):where(sphere(5, nil, {17, 12, 12}), 2, nil)
    local p = sphere(5, nil, {9, 12, 12}):astype("int16"):where(sphere(4, nil, {17, 12, 12}), 2, nil)
    p:write(dir .. "/p/x.nii.gz"); t:write(dir .. "/t/x.nii.gz")
    local out = dir .. "/r.csv"
    local code, _, stderr = run{"-s", "evaluate", dir .. "/p", dir .. "/t", "--labels=1,2", "--out", out,
      "--tolerance", "2"}
    assert.equal(0, code, stderr)
    local rows = read_csv(out)
    assert.equal(2, #rows)
    local per = vol.metrics_per_label(p, t, {1, 2}, {tolerance_mm=2})
    assert.equal("1", rows[1].label); assert.equal("2", rows[2].label)
    assert.equal(per[1].surface_dice, tonumber(rows[1].surface_dice))
    assert.equal(per[2].dice, tonumber(rows[2].dice))
    -- without --labels a label map is not a binary mask: the case fails, clearly
    code, _, stderr = run{"-s", "evaluate", dir .. "/p", dir .. "/t", "--out", out}
    assert.equal(1, code)
    assert.truthy(stderr:find("not a binary mask", 1, true), stderr)
  end)

  it("prints usage for -h (exit 0) and for mistakes (exit 2)", function()
    local code, out = run{"-s", "evaluate", "--help"}
    assert.equal(0, code)
    assert.truthy(out:find("usage: medula -s evaluate", 1, true))
    local err
    code, _, err = run{"-s", "evaluate", "--frobnicate", "a", "b"}
    assert.equal(2, code)
    assert.truthy(err:find("unknown option --frobnicate", 1, true) and err:find("usage:", 1, true))
    code, _, err = run{"-s", "evaluate", "a", "b", "--definition", "nifty"}
    assert.equal(2, code)
    code, _, err = run{"-s", "evaluate", "only_one"}
    assert.equal(2, code)
    assert.truthy(err:find("expected PRED_DIR and TRUTH_DIR", 1, true))
  end)
end)

describe("recipes.evaluate", function()
  it("names cases by file name without the format's suffix", function()
    assert.equal("case01", evaluate.case_name("case01.nii.gz"))
    assert.equal("case01", evaluate.case_name("case01.mhd"))
    assert.is_nil(evaluate.case_name("case01.raw"))
    assert.is_nil(evaluate.case_name("notes.txt"))
  end)
end)
