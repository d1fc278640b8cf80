-- What every writer guarantees (src/io/atomicfile.c): a symbolic link is
-- written through to its target, fsync can be switched off for scratch
-- output, and Ctrl-C during a long write leaves nothing behind.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"

local q = data.shell_quote

local function listing(dir)
  local names = {}
  for name in io.popen("ls -A " .. q(dir)):lines() do names[#names + 1] = name end
  table.sort(names)
  return names
end

local function is_link(path) return os.execute("test -L " .. q(path)) == true end

local function ramp(n)
  local v = vol.new{shape = {n, n, 2}, dtype = "int16"}
  for k = 1, 2 do for j = 1, n do for i = 1, n do v:set(i, j, k, i + n * j + k) end end end
  return v
end

describe("writing onto a symbolic link", function()
  for _, suffix in ipairs{".nii", ".nii.gz", ".mha", ".npy"} do
    it("replaces the link's target and keeps the link (" .. suffix .. ")", function()
      local dir = data.tmpdir()
      os.execute("mkdir " .. q(dir .. "/real"))
      vol.new{shape = {2, 2, 2}, dtype = "int16"}:write(dir .. "/real/t" .. suffix)
      assert(os.execute(("ln -s real/t%s %s"):format(suffix, q(dir .. "/l" .. suffix))))
      local v = ramp(4)
      v:write(dir .. "/l" .. suffix)
      assert.is_true(is_link(dir .. "/l" .. suffix))
      local back = vol.read(dir .. "/real/t" .. suffix)
      assert.are.same(v.shape, back.shape)
      assert.are.equal(0, (back - v):abs():stats().max)
      assert.are.same({"t" .. suffix}, listing(dir .. "/real"))
    end)
  end

  it("follows a chain of links and creates the target of a dangling one", function()
    local dir = data.tmpdir()
    assert(os.execute(("ln -s b.nii %s && ln -s c.nii %s"):format(q(dir .. "/a.nii"), q(dir .. "/b.nii"))))
    ramp(3):write(dir .. "/a.nii")
    assert.is_true(is_link(dir .. "/a.nii") and is_link(dir .. "/b.nii"))
    assert.is_false(is_link(dir .. "/c.nii"))
    assert.are.same({3, 3, 2}, vol.read(dir .. "/c.nii").shape)
  end)

  it("names a loop of links", function()
    local dir = data.tmpdir()
    assert(os.execute(("ln -s y.nii %s && ln -s x.nii %s"):format(q(dir .. "/x.nii"), q(dir .. "/y.nii"))))
    local ok, err = pcall(ramp(2).write, ramp(2), dir .. "/x.nii")
    assert.is_false(ok)
    assert.truthy(err:find("x.nii", 1, true) and err:find("symbolic links", 1, true), err)
  end)
end)

describe("fsync", function()
  it("is on by default and can be switched off per write or for the process", function()
    local dir = data.tmpdir()
    local v = ramp(3)
    v:write(dir .. "/a.nii", {fsync = false})
    vol.set_fsync(false)
    v:write(dir .. "/b.nii")
    vol.set_fsync(true)
    v:write(dir .. "/c.nii")
    for _, n in ipairs{"a", "b", "c"} do assert.are.same(v.shape, vol.read(dir .. "/" .. n .. ".nii").shape) end
    assert.has_error(function() vol.set_fsync("no") end)
    local ok, err = pcall(v.write, v, dir .. "/d.nii", {fsyncc = false})
    assert.is_false(ok)
    assert.truthy(err:find("fsync", 1, true), err)
  end)
end)

describe("Ctrl-C during a long write", function()
  it("stops the write and leaves neither the file nor a temporary", function()
    local dir = data.tmpdir()
    local out = dir .. "/out"
    os.execute("mkdir " .. q(out))
    -- the process interrupts itself half a second into a write that takes seconds
    local chunk = ([[
      local v = vol.phantom.chest{shape = {256, 256, 100}}
      local pid = io.open("/proc/self/stat"):read("n")
      os.execute(("(sleep 0.5; kill -INT %%d) &"):format(pid))
      v:write(%q, {level = 12})
      print("finished")
    ]]):format(out .. "/big.nii.gz")
    local ok, err = pcall(data.run_medula, "OMP_NUM_THREADS=2", {"-e", chunk})
    assert.is_false(ok, "the write finished before the interrupt")
    -- the writer's own message, or the host's "interrupted!" that replaces
    -- it when the interrupt hook fires while the error is being raised
    assert.truthy(err:find("interrupted", 1, true), err)
    assert.are.same({}, listing(out))
  end)
end)
