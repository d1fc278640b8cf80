-- The REPL: results printed as lua 5.4's REPL does, multi-line input, help,
-- Volume summaries, errors, history in ~/.medula_history, tab completion
-- (the completion function directly, and one TAB through a terminal), and
-- plain line input when stdin is not a terminal. Terminal sessions run
-- under `script` (util-linux, in Debian's base) with HOME in a temporary
-- folder; each session ends with os.exit so that no prompt waits for input.

package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local files = require "helpers.files"

local q, tmpdir, write = data.shell_quote, data.tmpdir, files.spit
local MEDULA = data.medula()

local function read(path)
  local f = io.open(path, "rb")
  if not f then
    return nil
  end
  local s = f:read("a")
  f:close()
  return s
end

-- Runs cmd with input on stdin; returns everything it wrote (stderr too).
local function run(cmd, input)
  local inf = os.tmpname()
  write(inf, input)
  local p = io.popen("(" .. cmd .. ") <" .. q(inf) .. " 2>&1")
  local out = p:read("a")
  p:close()
  os.remove(inf)
  return out
end

-- A REPL session on a pseudo-terminal; returns the screen text without \r.
local function session(lines, home)
  home = home or tmpdir()
  local input = table.concat(lines, "\n") .. "\nos.exit(0)\n"
  local cmd = "cd / && HOME=" .. q(home) .. " TERM=dumb timeout 30 script -qc " .. q(q(MEDULA)) .. " /dev/null"
  return (run(cmd, input):gsub("\r", "")), home
end

-- The lines the REPL printed after its prompts (the echo of the typed
-- input comes first on a terminal and is left out by looking for "\n" .. x).
local function printed(out, text)
  return out:find("\n" .. text .. "\n", 1, true) ~= nil
end

describe("REPL on a terminal", function()
  it("shows a banner with the version and a prompt", function()
    local out = session{"1"}
    assert.truthy(out:match("medula %d+%.%d+%.%d+ %(Lua 5%.4"), out)
    assert.truthy(out:find("help()", 1, true))
    assert.truthy(out:find("medula> ", 1, true))
  end)

  it("prints expression results, several tab-separated", function()
    local out = session{"6*7", "return 1, 'a', nil", "x = 5", "x + 1"}
    assert.truthy(printed(out, "42"), out)
    assert.truthy(printed(out, "1\ta\tnil"), out)
    assert.truthy(printed(out, "6"), out)
  end)

  it("continues a statement over several lines with the >> prompt", function()
    local out = session{"for i = 1, 3 do", "io.write(i, ';')", "end", "io.write('\\n')"}
    assert.truthy(out:find(">> ", 1, true))
    assert.truthy(out:find("1;2;3;", 1, true), out)
  end)

  it("prints the error and goes on", function()
    local out = session{"error('bad thing')", "6*7"}
    assert.truthy(out:find("stdin:1: bad thing", 1, true), out)
    assert.truthy(printed(out, "42"), out)
  end)

  it("prints help(vol.read)", function()
    local out = session{"help(vol.read)"}
    assert.truthy(out:find("vol.read(path [, {raw=false}]) -> Volume\nReads a", 1, true), out)
  end)

  it("prints a Volume as its one-line summary", function()
    local out = session{"vol.new{shape={2, 3}, dtype='int16', fill=4}"}
    assert.truthy(out:find("\nVolume int16 2x3 spacing 1x1x1 origin (0, 0, 0) range [4, 4]\n", 1, true), out)
  end)

  it("honours _PROMPT", function()
    local out = session{"_PROMPT = 'mine> '", "1"}
    assert.truthy(out:find("mine> ", 1, true))
  end)

  it("writes the history to ~/.medula_history and reads it back", function()
    local out, home = session{"6*7", "for i = 1, 2 do", "end"}
    local hist = read(home .. "/.medula_history")
    assert.truthy(hist, "no history file")
    assert.truthy(hist:find("6*7", 1, true), hist)
    -- the next session recalls entries with the up arrow (the newest is os.exit)
    session({"2 * 21"}, home)
    out = session({"\27[A\27[A"}, home)
    assert.truthy(printed(out, "42"), out)
  end)

  it("carries on when the history file cannot be written", function()
    local home = tmpdir() .. "/not/there"
    local out = session({"6*7"}, home)
    assert.truthy(printed(out, "42"), out)
  end)

  it("completes names with TAB", function()
    local out = session{"xyz_unique_name = 6*7", "xyz_uniq\t",
                        "t = {alpha = {beta = 'nested'}}", "t.alpha.be\t",
                        "v = vol.new{shape={2, 2}}", "v:orient\t()"}
    assert.truthy(printed(out, "42"), out)
    assert.truthy(printed(out, "nested"), out)
    assert.truthy(printed(out, "LPS"), out)
  end)

  it("stops a runaway loop on Ctrl-C and keeps the session", function()
    local home = tmpdir()
    -- the interrupt arrives while the loop runs: sent from a helper after a delay
    local cmd = "cd / && HOME=" .. q(home) .. " TERM=dumb timeout 30 script -qc " .. q(q(MEDULA)) .. " /dev/null"
    local input = "while true do end\n"
    local feeder = "(printf " .. q(input) .. "; sleep 1; printf '\\003'; sleep 0.5; printf '6*7\\nos.exit(0)\\n')"
    local p = io.popen(feeder .. " | (" .. cmd .. ") 2>&1")
    local out = p:read("a"):gsub("\r", "")
    p:close()
    assert.truthy(out:find("interrupted!", 1, true), out)
    assert.truthy(printed(out, "42"), out)
  end)
end)

describe("REPL without a terminal", function()
  it("reads plain lines with -i and prints results after the prompt", function()
    local home = tmpdir()
    local out = run("cd / && HOME=" .. q(home) .. " " .. q(MEDULA) .. " -i",
      "6*7\nfor i = 1, 2 do\nio.write(i)\nend\nio.write('\\n')\n")
    assert.truthy(out:find("medula> 42\n", 1, true), out)
    assert.truthy(out:find(">> >> 12", 1, true), out)
    assert.falsy(read(home .. "/.medula_history"), "no history without a terminal")
  end)

  it("reports a chunk left open at the end of input", function()
    local out = run(q(MEDULA) .. " -i", "x = 1 +\n")
    assert.truthy(out:find("stdin:1: unexpected symbol near <eof>", 1, true), out)
  end)

  it("accepts lua's =expr shorthand", function()
    local out = run(q(MEDULA) .. " -i", "=6*7\n")
    assert.truthy(out:find("medula> 42\n", 1, true), out)
  end)
end)

describe("vol._complete", function()
  local complete = vol._complete
  local names = {}
  local function global(name, value)
    rawset(_G, name, value)
    names[#names + 1] = name
  end
  teardown(function()
    for _, name in ipairs(names) do
      rawset(_G, name, nil)
    end
  end)

  local function has(list, x)
    for _, y in ipairs(list) do
      if y == x then
        return true
      end
    end
    return false
  end

  it("completes module functions", function()
    local c = complete("vol.re")
    assert.truthy(has(c, "vol.read"), table.concat(c, " "))
    for _, x in ipairs(c) do
      assert.truthy(x:match("^vol%.re"))
    end
  end)

  it("completes globals and keywords", function()
    assert.truthy(has(complete("pri"), "print"))
    assert.truthy(has(complete("whi"), "while"))
    assert.truthy(has(complete("he"), "help"))
  end)

  it("completes Volume methods after ':' and methods and fields after '.'", function()
    global("cv_volume", vol.new{shape={2, 2, 2}})
    local colon = complete("cv_volume:wr")
    assert.truthy(has(colon, "cv_volume:write"), table.concat(colon, " "))
    for _, x in ipairs(colon) do
      assert.equal("function", type(vol.Volume[x:match(":(.*)")]))
    end
    local dot = complete("cv_volume.s")
    assert.truthy(has(dot, "cv_volume.shape"))
    assert.truthy(has(dot, "cv_volume.spacing"))
    assert.truthy(has(dot, "cv_volume.stats"))
    assert.falsy(has(complete("cv_volume:s"), "cv_volume:shape"), "fields are not methods")
    cv_volume:set_meta("modality", "CT")
    assert.same({"cv_volume.meta.modality"}, complete("cv_volume.meta.mo"))
  end)

  it("completes table fields, nested ones and string methods", function()
    global("ct", {alpha = 1, alpine = 2, beta = {gamma = {delta = true}}, [3] = "x"})
    assert.same({"ct.alpha", "ct.alpine"}, complete("ct.al"))
    assert.same({"ct.beta.gamma.delta"}, complete("ct.beta.gamma.d"))
    assert.same({"ct.beta"}, complete("ct.b"))
    global("cs", "text")
    assert.truthy(has(complete("cs:up"), "cs:upper"))
    assert.truthy(has(complete("vol.Volume.writ"), "vol.Volume.write"))
  end)

  it("returns sorted candidates and nothing for unknown or invalid paths", function()
    local c = complete("vol.")
    local sorted = {table.unpack(c)}
    table.sort(sorted)
    assert.same(sorted, c)
    assert.same({}, complete("no_such_table_xyz.a"))
    assert.same({}, complete("ct:alpha.x"))
    assert.same({}, complete("ct.3."))
  end)

  it("runs no __index function of a table", function()
    local called = false
    global("trap", setmetatable({}, {__index = function() called = true end}))
    complete("trap.x.y")
    complete("trap.")
    assert.is_false(called)
  end)

  it("follows __index tables", function()
    global("obj", setmetatable({own = 1}, {__index = {inherited = function() end}}))
    assert.same({"obj.inherited", "obj.own"}, complete("obj."))
    assert.same({"obj:inherited"}, complete("obj:"))
  end)
end)
