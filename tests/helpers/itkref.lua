-- The ITK reference for the intensity specs: tests/ref/itk_ref.cxx built on
-- demand into build/itk_ref against Debian's libinsighttoolkit5-dev, and a
-- runner that passes volumes to it as raw files (see the program's header).
local data = require "helpers.data"

local M = {}

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function run(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

-- The ITK include folder (/usr/include/ITK-5.x), or raises naming the package.
local function itk_include()
  local p = io.popen("ls -d /usr/include/ITK-5* 2>/dev/null | sort | tail -1")
  local dir = p:read("l")
  p:close()
  if not dir or dir == "" then
    error("ITK is not installed: the ITK reference needs Debian's libinsighttoolkit5-dev and g++ "
      .. "(`apt-get install libinsighttoolkit5-dev g++`, or `make deps` as root)", 3)
  end
  return dir, dir:match("ITK%-([%d.]+)$")
end

-- Path of the built reference program (compiled once, again when the source is newer).
function M.program()
  local root = data.root()
  local exe, src = root .. "/build/itk_ref", root .. "/tests/ref/itk_ref.cxx"
  if exists(exe) and run(("test %s -nt %s"):format(data.shell_quote(exe), data.shell_quote(src))) then return exe end
  local inc, ver = itk_include()
  local libs = ("-lITKSmoothing-%s -lITKCommon-%s -litksys-%s -litkvnl-%s -litkvnl_algo-%s"):format(ver, ver, ver, ver, ver)
  local cmd = ("mkdir -p %s && g++ -O2 -std=c++17 -I%s %s -o %s %s 2>&1"):format(
    data.shell_quote(root .. "/build"), data.shell_quote(inc), data.shell_quote(src), data.shell_quote(exe), libs)
  local p = io.popen(cmd)
  local out = p:read("a")
  local ok = p:close()
  if not ok then error("building the ITK reference failed (needs libinsighttoolkit5-dev and g++):\n" .. out, 2) end
  return exe
end

-- Runs op ("sharpen" with spacing {sx, sy, sz}, "smooth" with {sx, sy, sz, sigma_mm},
-- or "ahe" with {alpha, beta, rx, ry, rz})
-- on the int16 or float32 volume v; returns ITK's output as a Volume of v's dtype.
function M.run(v, op, params)
  local exe = M.program()
  local dir = data.tmpdir()
  local t = v.dtype == "int16" and "short" or "float"
  assert(t == "short" or v.dtype == "float32", "the ITK reference takes int16 or float32 volumes")
  local s = v.shape
  v:write(dir .. "/in.mhd")
  local args = {op, t, s[1], s[2], s[3] or 1}
  for _, x in ipairs(params) do args[#args + 1] = ("%.17g"):format(x) end
  args[#args + 1] = dir .. "/in.raw"
  args[#args + 1] = dir .. "/out.raw"
  for i, a in ipairs(args) do args[i] = data.shell_quote(tostring(a)) end
  local p = io.popen(data.shell_quote(exe) .. " " .. table.concat(args, " ") .. " 2>&1")
  local out = p:read("a")
  if not p:close() then error("ITK reference failed: " .. out, 2) end
  -- a header for ITK's raw output, so the reader takes it
  local h = io.open(dir .. "/in.mhd"):read("a"):gsub("ElementDataFile = [^\n]*", "ElementDataFile = out.raw")
  local f = assert(io.open(dir .. "/out.mhd", "w"))
  f:write(h)
  f:close()
  return vol.read(dir .. "/out.mhd")
end

return M
