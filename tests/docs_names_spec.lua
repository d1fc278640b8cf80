-- The hand-written docs mention only what exists: every vol.name and
-- v:name( they show is a function or table of the vol module (the host's
-- module names and the vol.doc example aside), and nothing is promised as
-- if it were there.
package.path = "tests/?.lua;" .. package.path
local slurp = require("helpers.files").slurp

-- Names that are not functions of vol but appear on purpose.
local NOT_FUNCTIONS = {
  ["vol.core"] = "the C half's module name", ["vol.term"] = "a host module", ["vol.repl"] = "a host module",
  ["vol.docstore"] = "a host module", ["vol.smooth"] = "vol.doc's example of a user function",
  ["vol.re"] = "the completion example's typed prefix",
}

local function pages()
  local p = io.popen("find docs README.md -name '*.md' ! -name reference.md | sort")
  local out = {}
  for path in p:lines() do out[#out + 1] = path end
  p:close()
  return out
end

describe("the docs", function()
  it("name only functions that exist", function()
    local missing = {}
    for _, path in ipairs(pages()) do
      local text = slurp(path)
      for name in text:gmatch("vol%.([%a_][%w_]*)") do
        local full = "vol." .. name
        if vol[name] == nil and not NOT_FUNCTIONS[full] then missing[#missing + 1] = path .. ": " .. full end
      end
      for name in text:gmatch("[^%w_]v:([%a_][%w_]*)%(") do
        if vol.Volume[name] == nil then missing[#missing + 1] = path .. ": v:" .. name end
      end
    end
    table.sort(missing)
    assert.same({}, missing)
  end)

  it("promise no area that is not there", function()
    for _, path in ipairs(pages()) do
      local text = slurp(path)
      assert.falsy(text:find("The augmentation area", 1, true), path)
      assert.falsy(text:lower():find("a later issue", 1, true), path)
    end
  end)
end)
