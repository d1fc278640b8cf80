-- vol.fs (listing, glob, stat, mkdir -p, remove, rename, path helpers,
-- sha256) against Python's os, glob and hashlib on a generated tree, and
-- vol.proc (worker processes) on small commands.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"
local files = require "helpers.files"

local fs, proc = vol.fs, vol.proc

-- A tree with hidden entries, nested folders, a symlink, odd names and
-- files of several sizes (0 bytes, one block, many blocks).
local function make_tree()
  local root = data.tmpdir()
  for _, d in ipairs { "a/b/c", "a/.hidden", "sp ace", "x[1]" } do fs.mkdir(root .. "/" .. d) end
  local sizes = { ["a/one.nii.gz"] = 0, ["a/b/two.nii.gz"] = 55, ["a/b/c/three.nii"] = 64, ["a/.hidden/h.nii.gz"] = 3,
    ["top.nii.gz"] = 1000, ["sp ace/f.txt"] = 70000, ["x[1]/y.nii.gz"] = 119, [".dot"] = 1, ["B.csv"] = 2 }
  for rel, n in pairs(sizes) do
    local s = {}
    for i = 1, n do s[i] = string.char((i * 7 + #rel) % 256) end
    files.spit(root .. "/" .. rel, table.concat(s))
  end
  os.execute("ln -s a " .. data.shell_quote(root .. "/link"))
  return root
end

describe("vol.fs listing and glob", function()
  local root = make_tree()
  local patterns = { "*", "*.nii.gz", "**/*.nii.gz", "a/**", "a/*/*.nii.gz", "**", "x[[]1]/*", "sp ace/*.txt", "nothing*" }
  local r = ref.run("fs_ref.py", "tree", root, table.unpack(patterns))

  it("** enters symlinked folders as Python does, but not in a loop", function()
    local loop = data.tmpdir()
    fs.mkdir(loop .. "/d")
    files.spit(loop .. "/d/f.nii", "x")
    os.execute("ln -s .. " .. data.shell_quote(loop .. "/d/up"))
    assert.same({ loop .. "/d/f.nii" }, fs.glob(loop .. "/**/*.nii"))
    fs.mkdir(loop .. "/e")
    os.execute("ln -s ../d " .. data.shell_quote(loop .. "/e/to_d"))
    assert.same({ loop .. "/d/f.nii", loop .. "/e/to_d/f.nii" }, fs.glob(loop .. "/**/*.nii"))
  end)

  it("list equals sorted os.listdir, recursive equals os.walk (symlinked folders not entered)", function()
    assert.same(r.list, fs.list(root))
    assert.same(r.walk, fs.list(root, { recursive = true }))
  end)

  it("glob equals Python's glob.glob(recursive=True), sorted", function()
    for _, p in ipairs(patterns) do
      local mine = fs.glob(root .. "/" .. p)
      assert.same(r.glob[p], mine, p)
    end
  end)

  it("sha256 and sizes equal hashlib's", function()
    for rel, want in pairs(r.sha256) do
      local sum, size = fs.sha256(root .. "/" .. rel)
      assert.equal(want[1], sum, rel)
      assert.equal(want[2], size, rel)
    end
    -- the plain C path (the SHA extensions are used when the CPU has them)
    local list = {}
    for rel in pairs(r.sha256) do list[#list + 1] = rel end
    table.sort(list)
    local chunk = "for _, rel in ipairs{" .. ("%q,"):rep(#list):format(table.unpack(list)) .. "} do "
      .. "print(rel, (vol.fs.sha256(" .. ("%q"):format(root) .. " .. '/' .. rel))) end"
    local out = data.run_medula("MEDULA_SHA256_PORTABLE=1", { "-e", chunk })
    for rel, sum in out:gmatch("([^\t\n]+)\t(%x+)\n") do assert.equal(r.sha256[rel][1], sum, rel) end
    assert.equal(#list, select(2, out:gsub("\n", "")))
    -- the FIPS 180-4 examples
    local p = root .. "/abc"
    files.spit(p, "abc")
    assert.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", fs.sha256(p))
    files.spit(p, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
    assert.equal("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", fs.sha256(p))
  end)

  it("stat says kind, size and mtime; a missing path gives nil and a message", function()
    local st = fs.stat(root .. "/top.nii.gz")
    assert.same({ "file", 1000 }, { st.kind, st.size })
    assert.truthy(math.abs(st.mtime - os.time()) < 3600)
    assert.equal("dir", fs.stat(root .. "/a").kind)
    assert.equal("dir", fs.stat(root .. "/link").kind)
    assert.equal("link", fs.stat(root .. "/link", { follow = false }).kind)
    local none, msg = fs.stat(root .. "/missing")
    assert.is_nil(none)
    assert.truthy(msg:find("missing: No such file", 1, true), msg)
    assert.is_true(fs.exists(root .. "/a/b"))
    assert.is_false(fs.exists(root .. "/a/nope"))
  end)

  it("raises naming the folder, and rejects unknown options", function()
    local ok, err = pcall(fs.list, root .. "/missing")
    assert.is_false(ok)
    assert.truthy(err:find("missing: cannot list the folder", 1, true), err)
    ok, err = pcall(fs.list, root, { recursiv = true })
    assert.truthy(err:find("recursiv", 1, true), err)
    ok, err = pcall(fs.list)
    assert.truthy(err:find("bad argument #1", 1, true), err)
  end)
end)

describe("vol.fs.mkdir, remove, rename", function()
  it("mkdir makes parents, accepts an existing folder, refuses a file in the way", function()
    local root = data.tmpdir()
    assert.equal(root .. "/p/q/r", fs.mkdir(root .. "/p/q/r"))
    fs.mkdir(root .. "/p/q/r")
    assert.equal("dir", fs.stat(root .. "/p/q/r").kind)
    files.spit(root .. "/f", "x")
    local ok, err = pcall(fs.mkdir, root .. "/f/g")
    assert.is_false(ok)
    assert.truthy(err:find("f exists and is not a folder", 1, true), err)
  end)

  it("remove deletes files and empty folders; recursive trees, without following symlinks", function()
    local root = make_tree()
    local outside = data.tmpdir()
    files.spit(outside .. "/keep", "k")
    os.execute("ln -s " .. data.shell_quote(outside) .. " " .. data.shell_quote(root .. "/a/out"))
    local ok, err = pcall(fs.remove, root .. "/a")
    assert.is_false(ok)
    assert.truthy(err:find("Directory not empty", 1, true), err)
    assert.is_true(fs.remove(root .. "/a", { recursive = true }))
    assert.is_false(fs.exists(root .. "/a"))
    assert.is_true(fs.exists(outside .. "/keep"))
    ok, err = pcall(fs.remove, root .. "/a")
    assert.truthy(err:find("No such file", 1, true), err)
    assert.is_true(fs.remove(root .. "/a", { missing_ok = true }))
  end)

  it("rename replaces the target and names both paths on failure", function()
    local root = data.tmpdir()
    files.spit(root .. "/a", "new")
    files.spit(root .. "/b", "old")
    fs.rename(root .. "/a", root .. "/b")
    assert.equal("new", files.slurp(root .. "/b"))
    local ok, err = pcall(fs.rename, root .. "/a", root .. "/c")
    assert.is_false(ok)
    assert.truthy(err:find("cannot rename " .. root .. "/a to " .. root .. "/c", 1, true), err)
  end)
end)

describe("vol.fs path helpers", function()
  it("join, basename, dirname as os.path does", function()
    assert.equal("a/b/c", fs.join("a", "b", "c"))
    assert.equal("a/b/", fs.join("a", "b/"))
    assert.equal("/c/d", fs.join("a", "/c", "d"))
    assert.equal("a/b", fs.join("a/", "b"))
    assert.equal("scan.nii.gz", fs.basename("x/y/scan.nii.gz"))
    assert.equal("y", fs.basename("x/y/"))
    assert.equal("x/y", fs.dirname("x/y/scan.nii.gz"))
    assert.equal(".", fs.dirname("scan.nii.gz"))
    assert.equal("/", fs.dirname("/scan"))
  end)

  it("extension knows compound suffixes; stem drops it", function()
    local cases = {
      { "a/scan.nii.gz", ".nii.gz", "scan" }, { "scan.nii", ".nii", "scan" }, { "1.3.6.1.mhd", ".mhd", "1.3.6.1" },
      { "x.tar.gz", ".tar.gz", "x" }, { "noext", "", "noext" }, { ".bashrc", "", ".bashrc" },
      { "file.gz", ".gz", "file" }, { "d.v/f", "", "f" }, { "a.npy.xz", ".npy.xz", "a" },
    }
    for _, c in ipairs(cases) do
      assert.equal(c[2], fs.extension(c[1]), c[1])
      assert.equal(c[3], fs.stem(c[1]), c[1])
    end
  end)

  it("absolute folds . and .. after joining the working folder", function()
    assert.equal("/a/c", fs.absolute("/a/b/../c/."))
    local cwd = io.popen("pwd"):read("l")
    assert.equal(cwd .. "/x", fs.absolute("./x"))
    assert.equal("/", fs.absolute("/.."))
  end)
end)

describe("vol.proc", function()
  it("starts a program with extra environment and redirected output, and reaps its status", function()
    local dir = data.tmpdir()
    local log = dir .. "/log"
    local pid = proc.spawn({ "/bin/sh", "-c", "echo \"$MEDULA_X\"; echo oops >&2; exit 7" },
      { env = { MEDULA_X = "it's here" }, stdout = log, stderr = log })
    assert.equal(1, proc.running())
    local ended = proc.wait(30)
    assert.same({ pid, 7 }, { ended.pid, ended.code })
    assert.is_nil(ended.signal)
    assert.truthy(ended.maxrss_kb > 0)
    assert.equal("it's here\noops\n", files.slurp(log))
    assert.equal(0, proc.running())
    local none, why = proc.wait(0.01)
    assert.same({ nil, "no child" }, { none, why })
  end)

  it("says which signal ended a child, and times out while it runs", function()
    local pid = proc.spawn({ "/bin/sleep", "30" })
    local none, why = proc.wait(0.05)
    assert.same({ nil, "timeout" }, { none, why })
    proc.kill(pid, "KILL")
    local ended = proc.wait(30)
    assert.same({ pid, 9, "KILL" }, { ended.pid, ended.signal, ended.signal_name })
  end)

  it("wakes as soon as a child ends, not at the timeout", function()
    proc.spawn({ "/bin/true" })
    local t0 = proc.now()
    assert.truthy(proc.wait(20))
    assert.truthy(proc.now() - t0 < 10)
  end)

  it("raises for a program that cannot start, a foreign pid and bad arguments", function()
    local pid = proc.spawn({ "/nonexistent/prog" })
    assert.equal(127, proc.wait(30).code) -- exec failed in the child
    local ok, err = pcall(proc.kill, 1, "TERM")
    assert.truthy(err:find("not a running child", 1, true), err)
    ok, err = pcall(proc.spawn, {})
    assert.truthy(err:find("argv must name the program", 1, true), err)
    ok, err = pcall(proc.spawn, { "/bin/true" }, { environ = {} })
    assert.truthy(err:find("environ", 1, true), err)
    ok, err = pcall(proc.kill, pid, "STOP")
    assert.truthy(err:find("invalid option 'STOP'", 1, true), err)
    assert.is_false(ok)
  end)

  it("knows its executable, pid, CPUs and clocks", function()
    assert.equal(data.medula(), proc.exe())
    assert.truthy(proc.cpus() >= 1)
    assert.truthy(proc.pid() > 1)
    assert.truthy(math.abs(proc.now("wall") - os.time()) < 2)
    local a = proc.now()
    assert.truthy(proc.now() >= a)
  end)
end)
