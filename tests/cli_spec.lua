-- util.cli and every bundled script's argument handling: -h/--help prints
-- the usage on stdout and exits 0; an unknown option, a bad value, a
-- missing or extra argument print the message and the usage on stderr and
-- exit 2; run-time errors read "name: message" (exit 1) with no traceback
-- and no source path.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local files = require "helpers.files"

local q = data.shell_quote

-- stdout, stderr and exit status of medula with args (a list of words).
local function medula(args)
  local words = { q(data.medula()) }
  for _, a in ipairs(args) do words[#words + 1] = q(a) end
  local errfile = os.tmpname()
  local p = io.popen(table.concat(words, " ") .. " 2>" .. q(errfile))
  local out = p:read("a")
  local _, _, rc = p:close()
  local err = files.slurp(errfile)
  os.remove(errfile)
  return out, err, rc
end

-- No Lua internals in what a user reads.
local function assert_clean(text)
  assert.falsy(text:find("traceback", 1, true), text)
  assert.falsy(text:find("%.lua:%d+:"), text)
  assert.falsy(text:find("[C]:", 1, true), text)
  assert.falsy(text:find("lua/util", 1, true), text)
end

local SCRIPTS = {
  -- name, a bad value, an argument list missing something
  { "info", nil, {} },
  { "dicom_info", nil, {} },
  { "dicom_convert", { "--layout", "ras", "a", "b" }, { "only_src" } },
  { "demo", nil, nil },
  { "crop_merge_2d", { "-", "--out", "o", "--patch", "x" }, nil },
  { "crop_merge_3d", { "-", "--out", "o", "--patch", "16", "--overlap", "-3" }, nil },
  { "run", { "r.lua", "in", "out", "--jobs", "0" }, { "r.lua", "in" } },
  { "make_dataset", { "ct", "--out", "x" }, { "dsb" } },
  { "lung_segment", { "x", "--out", "o", "--spacing", "-1" }, { "--out", "o" } },
  { "luna_masks", { "d", "--annotations", "a.csv", "--out", "o", "--patch", "1" }, { "d", "--out", "o" } },
  { "nfbs_prep", { "d", "--out", "o", "--validation", "-1" }, { "d" } },
  { "evaluate", nil, nil },
}

describe("bundled scripts' arguments", function()
  for _, s in ipairs(SCRIPTS) do
    local name = s[1]
    it(name .. ": -h and --help print the usage and exit 0", function()
      for _, flag in ipairs { "-h", "--help" } do
        local out, err, rc = medula({ "-s", name, flag })
        assert.equal(0, rc)
        assert.equal("", err)
        assert.truthy(out:find("^usage: medula %-s " .. name), out)
        assert.truthy(out:find("-h, --help", 1, true), out)
      end
    end)

    it(name .. ": an unknown option prints the usage on stderr and exits 2", function()
      local out, err, rc = medula({ "-s", name, "--no-such-option", "x" })
      assert.equal(2, rc)
      assert.equal("", out)
      assert.truthy(err:find(name .. ": unknown option --no-such-option\nusage: medula -s " .. name, 1, true), err)
      assert_clean(err)
    end)

    if s[2] then
      it(name .. ": a bad value prints the usage on stderr and exits 2", function()
        local args = { "-s", name }
        for _, a in ipairs(s[2]) do args[#args + 1] = a end
        local out, err, rc = medula(args)
        assert.equal(2, rc)
        assert.equal("", out)
        assert.truthy(err:find("^" .. name .. ": .*expected") or err:find("must be >=", 1, true), err)
        assert.truthy(err:find("usage: medula -s " .. name, 1, true), err)
        assert_clean(err)
      end)
    end

    if s[3] then
      it(name .. ": a missing argument prints the usage on stderr and exits 2", function()
        local args = { "-s", name }
        for _, a in ipairs(s[3]) do args[#args + 1] = a end
        local _, err, rc = medula(args)
        assert.equal(2, rc)
        assert.truthy(err:find(name .. ": missing ", 1, true), err)
        assert_clean(err)
      end)
    end
  end

  it("an extra argument is refused", function()
    local _, err, rc = medula({ "-s", "dicom_info", "a", "b", "c" })
    assert.equal(2, rc)
    assert.truthy(err:find("dicom_info: unexpected argument 'c'", 1, true), err)
  end)

  it("run-time errors read 'name: message', exit 1, without traceback or source path", function()
    local dir = data.tmpdir()
    local cases = {
      { { "-s", "info", dir .. "/missing.nii" }, "info: " .. dir .. "/missing.nii" },
      { { "-s", "dicom_info", dir .. "/nope" }, "dicom_info: " .. dir .. "/nope" },
      { { "-s", "dicom_convert", dir .. "/nope", dir .. "/out" }, "dicom_convert: " },
      { { "-s", "demo", "/dev/null/demo" }, "demo: /dev/null/demo: cannot create the folder" },
      { { "-s", "crop_merge_2d", dir .. "/none.png", "--out", dir }, "crop_merge_2d: " .. dir .. "/none.png" },
      { { "-s", "run", dir .. "/none.lua", dir, dir .. "/out" }, "run: recipe " .. dir .. "/none.lua" },
    }
    for _, c in ipairs(cases) do
      local _, err, rc = medula(c[1])
      assert.equal(1, rc, table.concat(c[1], " ") .. "\n" .. err)
      assert.truthy(err:find(c[2], 1, true), err)
      local name = c[2]:match("^[%w_]+: ")
      assert.falsy(err:find(name .. name, 1, true), err) -- not twice
      assert_clean(err)
    end
  end)
end)

describe("cli.parse", function()
  local dir = data.tmpdir()
  local script = dir .. "/t.lua"
  files.spit(script, [[
local cli = require "util.cli"
cli.main("t", function()
  local a = cli.parse(arg, {name = "t", summary = "a test",
    options = {{long = "--jobs", short = "-j", type = "int", default = 1, min = 1, help = "workers"},
               {long = "--scale", type = "number", max = 10},
               {long = "--force", type = "flag"},
               {long = "--recursive", type = "flag", default = true},
               {long = "--mode", type = "choice", choices = {"a", "b"}},
               {long = "--tag", many = true},
               {long = "--even", type = "int", check = function(v) if v % 2 == 0 then return v end return nil, "must be even" end}},
    positional = {{name = "IN"}, {name = "REST", many = true, optional = true}}})
  local keys = {}
  for k in pairs(a) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = a[k]
    print(k, type(v) == "table" and table.concat(v, "|") or tostring(v))
  end
  if a["in"] == "boom" then error("it broke", 2) end
end)]])

  local function parse(...)
    local out, err, rc = medula({ script, ... })
    return out, err, rc
  end

  it("takes --name value, --name=value, -j2, -j 2, flags, negated flags, -- and repeated options", function()
    local out, _, rc = parse("-j2", "--scale=2.5", "--force", "--no-recursive", "--mode", "b", "--tag", "x",
      "--tag=y", "--even", "4", "in", "r1", "--", "-r2")
    assert.equal(0, rc)
    assert.equal(table.concat({ "even\t4", "force\ttrue", "in\tin", "jobs\t2", "mode\tb", "recursive\tfalse",
      "rest\tr1|-r2", "scale\t2.5", "tag\tx|y" }, "\n") .. "\n", out)
    out = parse("x")
    assert.equal(table.concat({ "force\tfalse", "in\tx", "jobs\t1", "recursive\ttrue", "rest\t", "tag\t" }, "\n") .. "\n", out)
    out = parse("-1") -- a negative number is a positional, not an option
    assert.truthy(out:find("in\t-1", 1, true), out)
  end)

  it("refuses bad values with the option's name and what it expected", function()
    local cases = {
      { { "-j", "x", "i" }, "t: option --jobs: expected an integer, got 'x'" },
      { { "-j", "1.5", "i" }, "t: option --jobs: expected an integer, got '1.5'" },
      { { "-j0", "i" }, "t: option --jobs: must be >= 1, got 0" },
      { { "--scale", "11", "i" }, "t: option --scale: must be <= 10, got 11" },
      { { "--scale", "nan", "i" }, "t: option --scale: expected a number, got 'nan'" },
      { { "--mode=c", "i" }, "t: option --mode: expected one of a, b, got 'c'" },
      { { "--even", "3", "i" }, "t: option --even: must be even" },
      { { "--force=yes", "i" }, "t: option --force takes no value" },
      { { "i", "--jobs" }, "t: option --jobs needs a value" },
      { { "--no-jobs", "i" }, "t: unknown option --no-jobs" },
      { {}, "t: missing IN" },
    }
    for _, c in ipairs(cases) do
      local out, err, rc = parse(table.unpack(c[1]))
      assert.equal(2, rc, err)
      assert.equal("", out)
      assert.truthy(err:find(c[2], 1, true), err)
      assert.truthy(err:find("usage: medula -s t [--jobs N] [--scale X] [--force] [--no-recursive]", 1, true), err)
    end
  end)

  it("--help lists every option with its default", function()
    local out, _, rc = parse("--help")
    assert.equal(0, rc)
    assert.truthy(out:find("  -j, --jobs N             workers (default: 1)\n", 1, true), out)
    assert.truthy(out:find("--mode {a,b}", 1, true), out)
    assert.truthy(out:find("--no-recursive", 1, true), out)
    assert.truthy(out:find("\na test\n", 1, true), out)
  end)

  it("cli.main prints errors without location, exits 1; MEDULA_TRACEBACK=1 shows the traceback", function()
    local _, err, rc = parse("boom")
    assert.equal(1, rc)
    assert.equal("t: it broke\n", err)
    local p = io.popen("MEDULA_TRACEBACK=1 " .. q(data.medula()) .. " " .. q(script) .. " boom 2>&1")
    local text = p:read("a")
    p:close()
    assert.truthy(text:find("stack traceback", 1, true), text)
  end)
end)
