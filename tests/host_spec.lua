-- The host program: its command line against the real lua5.4 (arg, ...,
-- -e -l -v -E -W -- -, shebang, LUA_INIT, exit codes, error messages),
-- bundled scripts by name (-s), the install layout, Ctrl-C, and the Lua
-- helpers it ships: help, vol.doc, vol.docs, vol.progress, vol.describe.
-- Each case runs build/medula as a subprocess.

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

-- Runs a shell command with stdin from input (default: empty, never a
-- terminal); returns stdout, stderr, exit status.
local function run(cmd, input)
  local inf, errf = os.tmpname(), os.tmpname()
  write(inf, input or "")
  local p = io.popen("(" .. cmd .. ") <" .. q(inf) .. " 2>" .. q(errf) .. "; echo \"@rc=$?\"")
  local out = p:read("a")
  p:close()
  local err = read(errf)
  os.remove(inf)
  os.remove(errf)
  local rc = tonumber(out:match("@rc=(%d+)\n$"))
  return out:gsub("@rc=%d+\n$", ""), err, rc
end

local function medula(args, input)
  return run(q(MEDULA) .. " " .. args, input)
end

local function lua54(args, input)
  return run("lua5.4 " .. args, input)
end

local function has_lua54()
  local _, _, rc = run("command -v lua5.4 >/dev/null")
  assert(rc == 0, "lua5.4 is needed for the parity specs (Debian package lua5.4)")
end

-- Replaces the interpreter's path in an output by PROG, for comparing.
local function neutral(s, prog)
  return (s:gsub(prog:gsub("%p", "%%%0"), "PROG"))
end

local dir = tmpdir()
local ARGS = dir .. "/args.lua"
write(ARGS, [[
local t = {}
for i = -3, #arg do t[#t + 1] = i .. "=" .. tostring(arg[i]) end
print(table.concat(t, " "))
print("...", select("#", ...), ...)
]])

describe("command line", function()
  it("sets arg and ... exactly as lua5.4 does", function()
    has_lua54()
    local a = q(ARGS)
    for _, args in ipairs{a .. " x y", "-e x=1 " .. a .. " x", "-- " .. a, "-E " .. a .. " 1 2",
                          "-W " .. a, "-l string " .. a .. " -e", "-e 'print(arg[0], #arg)' -- " .. a} do
      local want, _, wrc = lua54(args)
      local got, err, rc = medula(args)
      assert.equal(neutral(want, "lua5.4"), neutral(got, MEDULA), "for: " .. args .. "\n" .. err)
      assert.equal(wrc, rc)
    end
  end)

  it("puts the interpreter as invoked in arg[-1] and the script in arg[0]", function()
    local out = medula(q(ARGS) .. " a")
    assert.truthy(out:find("-1=" .. MEDULA .. " 0=" .. ARGS .. " 1=a", 1, true))
  end)

  it("runs -e statements and -l libraries in order", function()
    local out, err, rc = medula("-e 'x = 1' -e 'print(x + 1)' '-eprint(3)'")
    assert.equal("2\n3\n", out, err)
    assert.equal(0, rc)
    out = medula("-l string -e 'print(string == require \"string\")'")
    assert.equal("true\n", out)
  end)

  it("supports -l g=mod like lua 5.4.4", function()
    has_lua54()
    local want = lua54("-l s=string -e 'print(s.rep(\"ab\", 2))'")
    local got = medula("-l s=string -e 'print(s.rep(\"ab\", 2))'")
    assert.equal("abab\n", want)
    assert.equal(want, got)
  end)

  it("prints its version and Lua's with -v", function()
    has_lua54()
    local luav = lua54("-v"):match("Lua 5%.4%.%d+")
    local out, _, rc = medula("-v")
    assert.equal(0, rc)
    assert.truthy(out:match("^medula %d+%.%d+%.%d+"))
    assert.truthy(out:find(luav, 1, true), out)
  end)

  it("runs stdin with - and passes the arguments after it", function()
    local out = medula("- a b", "print(arg[0], ...)")
    assert.equal("-\ta\tb\n", out)
  end)

  it("runs stdin as a script when there is no script and stdin is not a terminal", function()
    local out, _, rc = medula("", "print('from stdin', arg[0] == arg[0])")
    assert.equal("from stdin\ttrue\n", out)
    assert.equal(0, rc)
  end)

  it("runs a script starting with #!/usr/bin/env medula", function()
    local path = dir .. "/shebang.lua"
    write(path, "#!/usr/bin/env medula\nprint('shebang', ..., type(vol))\n")
    local out, err, rc = medula(q(path) .. " z")
    assert.equal("shebang\tz\ttable\n", out, err)
    assert.equal(0, rc)
    -- and through the kernel, with medula found on PATH
    run("chmod +x " .. q(path))
    local bindir = MEDULA:match("^(.*)/[^/]+$") or "."
    out = run("PATH=" .. q(bindir) .. ":$PATH " .. q(path) .. " k")
    assert.equal("shebang\tk\ttable\n", out)
  end)

  it("fails like lua5.4 on a script that raises: status 1, message and traceback on stderr", function()
    has_lua54()
    local path = dir .. "/fail.lua"
    write(path, "local x = 1\nerror('boom')\n")
    local _, werr, wrc = lua54(q(path))
    local out, err, rc = medula(q(path))
    assert.equal(1, wrc)
    assert.equal(1, rc)
    assert.equal("", out)
    assert.equal(neutral(werr, "lua5.4"), neutral(err, MEDULA))
    assert.truthy(err:find(MEDULA .. ": " .. path .. ":2: boom\nstack traceback:", 1, true), err)
  end)

  it("reports non-string errors, missing scripts and syntax errors as lua5.4 does", function()
    has_lua54()
    write(dir .. "/tab.lua", "error({})")
    write(dir .. "/syntax.lua", "x = = 1")
    for _, args in ipairs{q(dir .. "/tab.lua"), q(dir .. "/missing.lua"), q(dir .. "/syntax.lua"),
                          "-e 'x ='", "-l no_such_module_xyz"} do
      local _, werr, wrc = lua54(args)
      local _, err, rc = medula(args)
      assert.equal(wrc, rc, args)
      -- the first line; tracebacks and search paths differ between the two
      assert.equal(neutral(werr, "lua5.4"):match("^[^\n]*"), neutral(err, MEDULA):match("^[^\n]*"), args)
    end
  end)

  it("returns os.exit's status", function()
    local _, _, rc = medula("-e 'os.exit(3)'")
    assert.equal(3, rc)
    _, _, rc = medula("-e 'os.exit(false)'")
    assert.equal(1, rc)
  end)

  it("rejects bad options with lua's message and the usage", function()
    local _, err, rc = medula("-x")
    assert.equal(1, rc)
    assert.truthy(err:find(MEDULA .. ": unrecognized option '-x'", 1, true))
    assert.truthy(err:find("usage: " .. MEDULA .. " [options] [script [args]]", 1, true))
    assert.truthy(err:find("-s name", 1, true))
    _, err, rc = medula("-e")
    assert.equal(1, rc)
    assert.truthy(err:find("'-e' needs argument", 1, true))
    _, err, rc = medula("-l -e x=1")
    assert.equal(1, rc)
    assert.truthy(err:find("'-l' needs argument", 1, true))
  end)

  it("honours LUA_INIT_5_4, then LUA_INIT, unless -E", function()
    local out = run("LUA_INIT='print(\"init\")' " .. q(MEDULA) .. " -e 'print(2)'")
    assert.equal("init\n2\n", out)
    out = run("LUA_INIT_5_4='print(\"v\")' LUA_INIT='print(\"init\")' " .. q(MEDULA) .. " -e 'print(2)'")
    assert.equal("v\n2\n", out)
    write(dir .. "/init.lua", "print('file init')")
    out = run("LUA_INIT=@" .. q(dir .. "/init.lua") .. " " .. q(MEDULA) .. " -e 'print(2)'")
    assert.equal("file init\n2\n", out)
    out = run("LUA_INIT='print(\"init\")' " .. q(MEDULA) .. " -E -e 'print(2)'")
    assert.equal("2\n", out)
    local _, err, rc = run("LUA_INIT='error(\"x\")' " .. q(MEDULA) .. " -e 'print(2)'")
    assert.equal(1, rc)
    assert.truthy(err:find("LUA_INIT:1: x", 1, true))
  end)

  it("ignores LUA_PATH with -E", function()
    write(dir .. "/only_here.lua", "return 'found'")
    local env = "LUA_PATH=" .. q(dir .. "/?.lua") .. " "
    local out = run(env .. q(MEDULA) .. " -e 'print((require \"only_here\"))'")
    assert.equal("found\n", out)
    local _, _, rc = run("cd / && " .. env .. q(MEDULA) .. " -E -e 'require \"only_here\"'")
    assert.equal(1, rc)
  end)

  it("turns warnings on with -W", function()
    local _, err = medula("-W -e 'warn(\"careful\")'")
    assert.truthy(err:find("Lua warning: careful", 1, true))
    _, err = medula("-e 'warn(\"careful\")'")
    assert.equal("", err)
  end)

  it("turns Ctrl-C into a Lua error in running code", function()
    -- the signal is sent once the chunk runs (its handler is then in place;
    -- a background job starts with SIGINT ignored, so an early one is lost)
    local ready = os.tmpname()
    os.remove(ready)
    local _, err, rc = run("sh -c " .. q("READY=" .. q(ready) .. " timeout 120 " .. q(MEDULA)
      .. " -e 'io.open(os.getenv(\"READY\"), \"w\"):close() while true do end' & pid=$!; "
      .. "i=0; while [ ! -e " .. q(ready) .. " ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done; "
      .. "kill -INT $pid; wait $pid"))
    os.remove(ready)
    assert.equal(1, rc)
    assert.truthy(err:find("interrupted!", 1, true), err)
  end)
end)

describe("vol as a global", function()
  it("is loaded before anything runs, from any directory", function()
    local out, err = run("cd / && " .. q(MEDULA) .. " -e 'print(type(vol), vol == require \"vol\", type(help))'")
    assert.equal("table\ttrue\tfunction\n", out, err)
  end)

  it("is available to LUA_INIT and -l", function()
    local out = run("LUA_INIT='print(type(vol.new))' " .. q(MEDULA) .. " -e ''")
    assert.equal("function\n", out)
  end)
end)

-- The repository and the build folder of the binary under test.
local ROOT, BUILD = MEDULA:match("^(.*)/([^/]+)/[^/]+$")

-- `make install` into a fresh prefix: <prefix>/bin/medula and
-- <prefix>/share/medula/{lua,scripts}, from the build folder of the binary
-- under test unless `build` names another; `extra`: more make arguments.
local function make_install(build, extra)
  local prefix = tmpdir()
  build = build or (BUILD:sub(1, 1) == "/" and BUILD or ROOT .. "/" .. BUILD)
  local _, err, rc = run("make -s -j2 -C " .. q(ROOT) .. " BUILD=" .. q(build) .. " PREFIX=" .. q(prefix)
    .. " " .. (extra or "") .. " install >/dev/null")
  assert(rc == 0, "make install failed: " .. tostring(err))
  return prefix
end

describe("bundled scripts (-s)", function()
  local data = tmpdir()
  local nii = data .. "/scan.nii.gz"
  setup(function()
    local v = vol.new{shape={4, 5, 6}, dtype="int16", spacing={0.5, 0.5, 2}, origin={1, 2, 3}, fill=7}
    v:set(1, 1, 1, -3)
    v:write(nii)
  end)

  it("runs info by name from another directory", function()
    local out, err, rc = run("cd / && " .. q(MEDULA) .. " -s info " .. q(nii))
    assert.equal(0, rc, err)
    assert.truthy(out:find(nii, 1, true))
    assert.truthy(out:find("format       NIfTI-1", 1, true), out)
    assert.truthy(out:find("dtype        int16", 1, true))
    assert.truthy(out:find("shape        4 x 5 x 6", 1, true))
    assert.truthy(out:find("spacing      0.5 x 0.5 x 2 mm", 1, true))
    assert.truthy(out:find("origin       (1, 2, 3) mm, LPS", 1, true))
    assert.truthy(out:find("direction    [1 0 0; 0 1 0; 0 0 1]", 1, true))
    assert.truthy(out:find("orientation  LPS", 1, true))
    assert.truthy(out:find("values       min -3  max 7  mean ", 1, true))
    assert.truthy(out:find("file size    %d+ B"))
  end)

  it("gives a detached MetaImage's header and data file sizes", function()
    local mhd = data .. "/scan.mhd"
    vol.new{shape={4, 5, 6}, dtype="int16"}:write(mhd)
    local out, err, rc = medula("-s info " .. q(mhd))
    assert.equal(0, rc, err)
    assert.truthy(out:find("file size    %d+ B header, 240 B in scan%.raw\n"), out)
  end)

  it("sets arg as if the script had been given by path", function()
    local out = run("cd / && " .. q(MEDULA) .. " -e 'x=1' -s info " .. q(nii) .. " 2>/dev/null; "
      .. q(MEDULA) .. " -e 'for i = -3, #arg do print(i, arg[i]) end' -s info a b")
    local scripts = out:match("\n0\t([^\n]*/scripts/info%.lua)\n")
    assert.truthy(scripts, out)
    assert.truthy(out:find("-2\t-e\n", 1, true))
    assert.truthy(out:find("-3\t" .. MEDULA .. "\n", 1, true))
    assert.truthy(out:find("\n1\ta\n2\tb\n", 1, true))
  end)

  it("exits with status 1 and a message for an unreadable file", function()
    local _, err, rc = medula("-s info " .. q(data .. "/missing.nii"))
    assert.equal(1, rc)
    assert.truthy(err:find("missing.nii", 1, true))
  end)

  it("lists the bundled scripts with their first comment line", function()
    local out, _, rc = medula("-s")
    assert.equal(0, rc)
    assert.truthy(out:find("medula -s NAME", 1, true))
    assert.truthy(out:match("\n  info +info FILE%.%.%.: format, dtype"), out)
  end)

  it("says so for an unknown name", function()
    local _, err, rc = medula("-s no_such_script")
    assert.equal(1, rc)
    assert.truthy(err:find("no bundled script 'no_such_script'", 1, true))
  end)

  it("finds lua/ and scripts/ in <prefix>/share/medula after an install", function()
    local prefix = make_install()
    local bin = q(prefix .. "/bin/medula")
    local out, err, rc = run("cd / && " .. bin .. " -e 'print(package.searchpath(\"vol\", package.path))'"
      .. " && " .. bin .. " -s info " .. q(nii))
    assert.equal(0, rc, err)
    assert.truthy(out:find(prefix .. "/share/medula/lua/vol/init.lua", 1, true), out)
    assert.truthy(out:find("orientation  LPS", 1, true))
    os.execute("rm -rf " .. q(prefix))
  end)

  it("builds without libedit (LIBEDIT=0) and reads plain lines in the REPL", function()
    local tmp = tmpdir()
    local prefix = make_install(tmp .. "/build", "LIBEDIT=0")
    local bin = prefix .. "/bin/medula"
    local libs = run("ldd " .. q(bin))
    assert.falsy(libs:find("libedit", 1, true), libs)
    local out, err, rc = run(q(bin) .. " -i", "x = vol.new{shape={2, 3, 4}}\nreturn #x, x.dtype\n")
    assert.equal(0, rc, err)
    assert.truthy(out:find("24\tfloat32\n", 1, true), out)
    os.execute("rm -rf " .. q(prefix) .. " " .. q(tmp))
  end)

  it("finds them through a symbolic link to the binary", function()
    local link = tmpdir() .. "/medula"
    run("ln -s " .. q(MEDULA) .. " " .. q(link))
    local out, err, rc = run("cd / && " .. q(link) .. " -e 'print(vol.new{shape={2,2}}.dtype)'")
    assert.equal(0, rc, err)
    assert.equal("float32\n", out)
  end)
end)

describe("help", function()
  it("prints a function's docstring", function()
    local out = medula("-e 'help(vol.read)'")
    assert.truthy(out:match("^vol%.read%(path"), out)
    out = medula("-e 'help(function() end)'")
    assert.equal("no documentation for this function\n", out)
  end)

  it("looks functions up by name", function()
    for _, name in ipairs{"vol.read", "read", "Volume:write", "Volume.write", "v:write", "write"} do
      local out = medula("-e 'help(\"" .. name .. "\")'")
      assert.truthy(out:match("^vol%.read") or out:match("^v:write"), name .. ": " .. out)
    end
    local out = medula("-e 'help(\"nothing_like_this\")'")
    assert.truthy(out:find("no function named 'nothing_like_this'", 1, true))
  end)

  it("lists functions and methods with their first line for help() and help(vol)", function()
    local out = medula("-e 'help()'")
    assert.equal(out, (medula("-e 'help(vol)'")))
    assert.truthy(out:find("\n  vol.read(path [, {raw=false}]) -> Volume\n", 1, true))
    assert.truthy(out:find("\n  v:write(path", 1, true))
    assert.truthy(out:find("\n  vol.progress(total [, label]) -> bar\n", 1, true))
  end)

  it("shows a Volume's summary and the methods for help(v)", function()
    local out = medula("-e 'help(vol.new{shape={2, 3}})'")
    assert.truthy(out:match("^Volume float32 2x3"), out)
    assert.truthy(out:find("\n  v:write(path", 1, true))
  end)
end)

describe("vol.doc", function()
  it("attaches a docstring to a Lua function and returns it", function()
    local f = function() end
    assert.equal(f, vol.doc(f, "f() -> nil\nDoes nothing."))
    assert.equal("f() -> nil\nDoes nothing.", require("vol.docstore").get(f))
    assert.equal("f() -> nil", vol.docs and require("vol.docstore").get(f):match("^[^\n]*"))
  end)

  it("rejects non-functions, naming the argument", function()
    assert.error_matches(function() vol.doc(1, "x") end, "bad argument #1 to 'doc' %(function expected, got number%)")
    assert.error_matches(function() vol.doc(print, 2) end, "bad argument #2 to 'doc' %(string expected, got number%)")
  end)
end)

describe("vol.docs", function()
  it("maps every public function and method to its docstring or false", function()
    local docs = vol.docs()
    assert.truthy(docs["vol.read"]:match("^vol%.read"))
    assert.truthy(docs["Volume:write"]:match("^v:write"))
    assert.truthy(docs["vol.help"])
    assert.truthy(docs["vol.doc"])
    assert.truthy(docs["vol.docs"])
    assert.truthy(docs["vol.progress"])
    assert.truthy(docs["vol.describe"])
    for name, text in pairs(docs) do
      assert.truthy(text == false or type(text) == "string", name)
      assert.falsy(name:match("[.:]_"), "private names are not listed: " .. name)
    end
  end)
end)

describe("vol.progress", function()
  local loop = "-e 'local b = vol.progress(50, \"work\") for i = 1, 50 do b:step() end b:done()'"

  it("draws nothing when stderr is not a terminal", function()
    local out, err, rc = medula(loop)
    assert.equal(0, rc)
    assert.equal("", out)
    assert.equal("", err)
  end)

  it("draws a bar on a terminal and ends at 100%", function()
    local out = run("timeout 20 script -qc " .. q(q(MEDULA) .. " " .. loop) .. " /dev/null")
    assert.truthy(out:find("\rwork [", 1, true), out)
    assert.truthy(out:find("100% 50/50", 1, true), out)
  end)

  it("counts steps of n and checks its arguments", function()
    local b = vol.progress(10, "x")
    assert.equal(b, b:step(4))
    assert.equal(4, b.count)
    b:step(100)
    assert.equal(10, b.count)
    assert.equal(b, b:done())
    assert.error_matches(function() vol.progress("x") end, "bad argument #1 to 'progress'")
    assert.error_matches(function() vol.progress(3, 4) end, "bad argument #2 to 'progress'")
  end)
end)

describe("vol.describe", function()
  it("summarises a volume in lines", function()
    local v = vol.new{shape={2, 3, 4}, dtype="uint8", fill=1}
    local lines = vol.describe(v)
    assert.truthy(lines[1]:match("^Volume uint8 2x3x4"))
    local text = table.concat(lines, "\n")
    assert.truthy(text:find("shape        2 x 3 x 4", 1, true))
    assert.truthy(text:find("values       min 1  max 1  mean 1  std 0", 1, true))
    assert.falsy(text:find("file size", 1, true))
  end)
end)
