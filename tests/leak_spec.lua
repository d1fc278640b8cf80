-- Errors raised in user code inside loops (grid:map, a merger fed by a
-- loop, a DICOM progress function) and errors from the budget or a writer
-- propagate as Lua errors and leave nothing allocated: tests/leak/
-- callbacks.lua checks the live voxel bytes, and runs again under valgrind
-- (no definite leak, no invalid access).
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"

local function series() return data.path("dicom/series/dicomdirtests/98892001/CT5N") end

describe("errors in callbacks", function()
  it("propagate and leave the live bytes where they were", function()
    local out = data.run_medula("MEDULA_DICOM_SERIES=" .. data.shell_quote(series()),
      {data.root() .. "/tests/leak/callbacks.lua", data.tmpdir()})
    assert.truthy(out:find("callbacks: ok", 1, true), out)
  end)

  it("leak nothing and touch no freed memory under valgrind", function()
    if data.medula():find("asan", 1, true) then
      pending("a sanitizer build checks leaks itself; valgrind cannot run it")
      return
    end
    assert(os.execute("command -v valgrind >/dev/null"), "valgrind is missing (Debian package valgrind)")
    local errfile = os.tmpname()
    local cmd = ("env MEDULA_DICOM_SERIES=%s OMP_NUM_THREADS=2 valgrind -q --leak-check=full "
      .. "--errors-for-leak-kinds=definite --show-leak-kinds=definite --error-exitcode=9 %s %s %s 2>%s"):format(
      data.shell_quote(series()), data.shell_quote(data.medula()),
      data.shell_quote(data.root() .. "/tests/leak/callbacks.lua"), data.shell_quote(data.tmpdir()),
      data.shell_quote(errfile))
    local p = io.popen(cmd)
    local out = p:read("a")
    local ok = p:close()
    local f = io.open(errfile, "rb")
    local report = f:read("a")
    f:close()
    os.remove(errfile)
    assert(ok and out:find("callbacks: ok", 1, true), "valgrind reports:\n" .. report .. out)
  end)

  it("raises a DICOM progress function's error even after the last slice", function()
    local ok, err = pcall(vol.read_dicom, series(), {progress = function() error("stop here") end})
    assert.is_false(ok)
    assert.truthy(err:find("stop here", 1, true), err)
    ok, err = pcall(vol.dicom_series, series(), {progress = function() error("stop scan") end})
    assert.is_false(ok)
    assert.truthy(err:find("stop scan", 1, true), err)
  end)
end)
