-- What a researcher sees in the REPL: tables printed as values (vol.pretty),
-- integer counts as integers, the Volume summary with its non-finite
-- voxels, help() listing everything by area with whole signatures, the
-- help "word" search, the -s listing's whole descriptions. The REPL ones
-- run on a pseudo-terminal under `script`, as repl_spec does.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local files = require "helpers.files"

local q, tmpdir, write = data.shell_quote, data.tmpdir, files.spit
local MEDULA = data.medula()

local function run(cmd, input)
  local inf = os.tmpname()
  write(inf, input or "")
  local p = io.popen("(" .. cmd .. ") <" .. q(inf) .. " 2>&1")
  local out = p:read("a")
  p:close()
  os.remove(inf)
  return out
end

local function session(lines)
  local input = table.concat(lines, "\n") .. "\nos.exit(0)\n"
  local cmd = "cd / && HOME=" .. q(tmpdir()) .. " TERM=dumb timeout 30 script -qc " .. q(q(MEDULA)) .. " /dev/null"
  return (run(cmd, input):gsub("\r", ""))
end

local function printed(out, text)
  return out:find("\n" .. text .. "\n", 1, true) ~= nil
end

local function medula(args)
  return run("cd / && " .. q(MEDULA) .. " " .. args)
end

describe("REPL results", function()
  it("prints tables as values: shapes, stats, nested and long tables", function()
    local out = session{
      "v = vol.new{shape={512, 512, 3}, dtype='int16', fill=2}",
      "w = vol.new{shape={4, 4}, dtype='int16', fill=2}",
      "v.shape",
      "w:stats()",
      "{1, 2.5, 'a', {x = {y = true}}}",
      "t = {} for i = 1, 100 do t[i] = i end",
      "t",
    }
    assert.truthy(printed(out, "{512, 512, 3}"), out)
    assert.truthy(printed(out, "{count = 16, max = 2, mean = 2.0, min = 2, nonfinite = 0, std = 0.0, sum = 32}"), out)
    assert.truthy(printed(out, '{1, 2.5, "a", {x = {y = true}}}'), out)
    assert.truthy(out:find("\n  1, 2, 3,", 1, true), out)
    assert.truthy(out:find("... (80 more),\n}\n", 1, true), out)
    assert.falsy(out:find("table: 0x", 1, true), out)
  end)

  it("still prints several results tab-separated and strings as they are", function()
    local out = session{"return {1}, 'text', 3"}
    assert.truthy(printed(out, "{1}\ttext\t3"), out)
  end)

  it("shows the non-finite voxels in a Volume's summary", function()
    local out = session{"v = vol.new{shape={4, 4}, dtype='uint8', fill=3}", "v:set(1, 1, 0); v:set(2, 1, 0)", "v:log()"}
    assert.truthy(out:find("range [1.09861, 1.09861], 2 -inf\n", 1, true), out)
  end)
end)

describe("vol.pretty", function()
  it("shows lists, then other fields sorted, with Lua's number subtypes", function()
    assert.equal("{3, 3.0, n = 1, x = \"s\"}", vol.pretty{3, 3.0, x = "s", n = 1})
    assert.equal("{}", vol.pretty{})
    assert.equal("{[1.5] = 1, [\"a b\"] = 2}", vol.pretty{["a b"] = 2, [1.5] = 1})
    assert.equal("text", vol.pretty("text"))
    assert.equal("42", vol.pretty(42))
  end)

  it("indents nested tables that do not fit, cuts long ones with a count", function()
    local t = {}
    for i = 1, 30 do t[i] = i end
    local s = vol.pretty({a = t}, {items = 5})
    assert.equal("{a = {1, 2, 3, 4, 5, ... (25 more)}}", s)
    s = vol.pretty({a = t, b = {c = string.rep("x", 70)}})
    assert.equal('{\n  a = {\n    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,\n'
      .. '    ... (10 more),\n  },\n  b = {c = "' .. string.rep("x", 70) .. '"},\n}', s)
  end)

  it("marks cycles and deep nesting, and uses __tostring", function()
    local c = {}
    c.self = c
    assert.equal("{self = <cycle>}", vol.pretty(c))
    assert.equal("{{{...}}}", vol.pretty({{{{1}}}}, {depth = 2}))
    local obj = setmetatable({}, {__tostring = function() return "OBJ" end})
    assert.equal("{OBJ}", vol.pretty{obj})
  end)

  it("rejects unknown options", function()
    assert.error_matches(function() vol.pretty({}, {widht = 3}) end, "unknown option 'widht'")
  end)
end)

describe("integral results", function()
  it("are Lua integers for integer volumes: stats, min, max, region boxes", function()
    local v = vol.new{shape={3, 3, 3}, dtype="int16", fill=2}
    local s = v:stats()
    assert.equal("integer", math.type(s.sum))
    assert.equal("integer", math.type(s.min))
    assert.equal("integer", math.type(s.max))
    assert.equal("integer", math.type(s.count))
    assert.equal("float", math.type(s.mean))
    assert.equal("integer", math.type(v:max()))
    assert.equal("float", math.type(vol.new{shape={2, 2}}:stats().sum))
    local m = vol.new{shape={4, 4, 4}, dtype="uint8"}
    m:set(2, 3, 4, 1)
    local labels = m:label()
    local r = vol.regionprops(labels)[1]
    assert.same({2, 3, 4, 2, 3, 4}, r.bbox)
    for _, x in ipairs(r.bbox) do assert.equal("integer", math.type(x)) end
  end)
end)

describe("help()", function()
  local out
  setup(function() out = medula("-e 'help()'") end)

  it("groups every function and method by area", function()
    for _, title in ipairs{"Volumes: construction", "Reading and writing files", "Synthetic phantoms",
                           "Morphology", "Patches: grids, extraction, merging", "DICOM"} do
      assert.truthy(out:find("\n" .. title, 1, true), title)
    end
    for _, name in ipairs{"vol.phantom.sphere{", "vol.phantom.chest{", "vol.strel.", "grid:map(",
                          "grid:merger", "m:add(n, patch)", "v:write(path"} do
      assert.truthy(out:find("\n  " .. name, 1, true), name)
    end
    local all = vol.docs()
    for name in pairs(all) do
      local short = name:match("[.:]([%w_]+)$")
      assert.truthy(out:find(short, 1, true), name)
    end
  end)

  it("shows multi-line signatures whole", function()
    assert.truthy(out:find("\n  vol.new{shape={nx, ny [, nz [, nt]]}, dtype=\"float32\", spacing={..}, origin={..},\n"
      .. "          direction=.., fill=0} -> Volume\n      A new volume", 1, true), out)
  end)

  it("finds every function mentioning a word with help \"word\"", function()
    local found = medula("-e 'help \"chest\"'")
    assert.truthy(found:find("mention 'chest'", 1, true), found)
    assert.truthy(found:find("\n  vol.phantom.chest{", 1, true), found)
    found = medula("-e 'help \"NPY\"'")
    assert.truthy(found:find("vol.save_npy_stack(", 1, true), found)
  end)

  it("looks up sub-table functions and grid and merger methods by name", function()
    assert.truthy(medula("-e 'help \"phantom.sphere\"'"):match("^vol%.phantom%.sphere{"))
    assert.truthy(medula("-e 'help \"grid:map\"'"):match("^grid:map%("))
    assert.truthy(medula("-e 'help \"merger:add\"'"):match("^m:add%("))
    assert.truthy(medula("-e 'help(vol.phantom)'"):find("\n  vol.phantom.box{", 1, true))
  end)
end)

describe("medula -s", function()
  it("lists each script's whole description", function()
    local out = medula("-s")
    assert.truthy(out:find("dicom_convert", 1, true), out)
    local flat = out:gsub("\n%s+", " ")
    assert.truthy(flat:find("with a progress bar; prints one line per series.", 1, true), out)
    assert.truthy(flat:find("the tags of one series (the first, or the one named).", 1, true), out)
    for line in out:gmatch("[^\n]+") do
      assert.truthy(#line <= 80, line)
    end
  end)
end)

describe("errors from the Lua libraries", function()
  it("carry no internal path", function()
    local out = medula("-s dicom_info /nonexistent")
    assert.equal("dicom_info: /nonexistent: no such file or folder\n", out)
  end)

  it("point at the caller's line", function()
    local dir = tmpdir()
    write(dir .. "/user.lua", "local x = 1\nvol.dicom_info('/nonexistent')\n")
    local out = medula(q(dir .. "/user.lua"))
    assert.truthy(out:find("user.lua:2: /nonexistent: no such file or folder", 1, true), out)
    assert.falsy(out:find("lua/vol/", 1, true), "not in the message nor the traceback: " .. out)
    assert.truthy(out:find("user.lua:2: in main chunk", 1, true), out)
    local ok, err = pcall(function() vol.new{shape={2, 2, 2}}:crop_to_nonzero(1, 2, 3) end)
    assert.falsy(ok)
    assert.falsy(err:find("lua/vol/", 1, true), err)
  end)

  it("keep the user's own locations", function()
    local grid = vol.patch_grid{shape={4, 4}, patch=2}
    local ok, err = pcall(function()
      return grid:map(vol.new{shape={4, 4}}, function() error("mine") end)
    end)
    assert.falsy(ok)
    assert.truthy(err:find("repl_values_spec.lua:%d+: mine"), err)
  end)
end)

describe("option and shape errors", function()
  it("name the option holding an unknown dtype", function()
    local ok, err = pcall(function() return vol.new{shape={4, 4}, dtype="float16"} end)
    assert.falsy(ok)
    assert.truthy(err:find("bad argument #1 to 'new' (option 'dtype': unknown dtype 'float16'; expected one of uint8", 1, true), err)
    ok, err = pcall(function() return vol.phantom.sphere{shape={4, 4}, radius_mm=1, dtype="x"} end)
    assert.truthy(err:find("bad argument #1 to 'sphere' (option 'dtype': unknown dtype 'x'", 1, true), err)
    ok, err = pcall(function() return vol.new{shape={2, 2}}:astype("f8") end)
    assert.truthy(err:find("unknown dtype 'f8'; expected one of", 1, true), err)
  end)

  it("name the geometry option of vol.new that is wrong", function()
    local ok, err = pcall(function() return vol.new{shape={4, 4, 4}, spacing={1, 2}} end)
    assert.falsy(ok)
    assert.truthy(err:find("bad argument #1 to 'new' (option 'spacing': spacing must have 3 numbers (got 2))", 1, true), err)
    ok, err = pcall(function() return vol.new{shape={4, 4}, direction={{1, 1}, {1, 1}}} end)
    assert.truthy(err:find("bad argument #1 to 'new' (option 'direction': direction matrix is singular)", 1, true), err)
  end)

  it("show the shapes as they are", function()
    local ok, err = pcall(function() return vol.new{shape={256, 256, 108}} + vol.new{shape={2, 2}} end)
    assert.falsy(ok)
    assert.truthy(err:find("shapes differ (256x256x108 and 2x2)", 1, true), err)
  end)
end)

describe("REPL progress and Ctrl-C", function()
  -- input written to the terminal in timed pieces: {text, seconds to wait after}
  local function timed_session(pieces)
    local cmd = "cd / && HOME=" .. q(tmpdir()) .. " TERM=dumb timeout 30 script -qc " .. q(q(MEDULA)) .. " /dev/null"
    local feeder = {}
    for _, p in ipairs(pieces) do
      feeder[#feeder + 1] = "printf " .. q(p[1]:gsub("%%", "%%%%")) .. "; sleep " .. (p[2] or 0)
    end
    local f = io.popen("(" .. table.concat(feeder, "; ") .. ") | (" .. cmd .. ") 2>&1")
    local out = f:read("a"):gsub("\r", "")
    f:close()
    return out
  end

  it("draws progress bars on the terminal", function()
    local out = session{"g = vol.patch_grid{shape={16, 16}, patch=8}",
                        "r = g:map(vol.new{shape={16, 16}}, function(p) return p end, {progress='mapping'})",
                        "6*7"}
    assert.truthy(out:find("mapping [####################....................]  50% 2/4", 1, true), out)
    assert.truthy(out:find("100% 4/4\n", 1, true), out)
    assert.truthy(printed(out, "42"), out)
  end)

  it("interrupts a long kernel, ends the bar's line, keeps the session", function()
    local out = timed_session{
      {"b = vol.progress(10, 'slow'); for i = 1, 5 do b:step() end\n", 0.3},
      {"v = vol.new{shape={200, 200, 200}}; while true do w = v:resample{spacing={0.5, 0.5, 0.5}, interpolation='cubic'} end\n", 1.2},
      {"\003", 0.5},
      {"6*7\n", 0.3},
      {"os.exit(0)\n", 0},
    }
    assert.truthy(out:find("interrupted!", 1, true) or out:find("cancelled", 1, true), out)
    assert.truthy(out:find("50% 5/10\n", 1, true), out)
    assert.truthy(printed(out, "42"), out)
  end)

  it("takes a second Ctrl-C during a call without ending the session", function()
    local out = timed_session{
      {"for k = 1, 2 do print(pcall(function() while true do end end)) end\n", 0.5},
      {"\003", 0.5},
      {"\003", 0.3},
      {"6*7\n", 0.3},
      {"os.exit(0)\n", 0},
    }
    local _, n = out:gsub("false\tinterrupted!", "")
    assert.equal(2, n, out)
    assert.truthy(printed(out, "42"), out)
  end)

  it("drops the line being typed on Ctrl-C at the prompt", function()
    local out = timed_session{
      {"x = 1 +", 0.3},
      {"\003", 0.3},
      {"for i = 1, 3 do\n", 0.3},
      {"\003", 0.3},
      {"6*7\n", 0.3},
      {"os.exit(0)\n", 0},
    }
    assert.truthy(printed(out, "42"), out)
    assert.falsy(out:find("unexpected symbol", 1, true), out)
  end)
end)
