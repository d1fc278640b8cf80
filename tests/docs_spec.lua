-- Every public function has a docstring that help() prints, and a place in
-- docs/: the generated reference (make docs) must be current, and the
-- function must also be shown on a hand-written page of docs/.
package.path = "tests/?.lua;tools/?.lua;" .. package.path
local gendoc = require "gendoc"
local store = require "vol.docstore"

local slurp = require("helpers.files").slurp

local function handwritten_docs()
  local p = io.popen("find docs -name '*.md' ! -name reference.md | sort")
  local all = {}
  for path in p:lines() do all[#all + 1] = slurp(path) end
  p:close()
  return table.concat(all, "\n")
end

describe("documentation", function()
  local fns = gendoc.public_functions()

  it("exists for every public function, starting with its signature", function()
    local missing = {}
    for name, f in pairs(fns) do
      local doc = store.get(f)
      local short = name:match("[.:]([%w_]+)$")
      if not doc then
        missing[#missing + 1] = name .. " (no docstring)"
      elseif not doc:match("^[^\n]*" .. short) then
        missing[#missing + 1] = name .. " (first line does not name it)"
      end
    end
    table.sort(missing)
    assert.same({}, missing)
  end)

  it("is in the generated reference, which is current (run `make docs`)", function()
    assert.equal(gendoc.reference(), slurp("docs/api/reference.md"))
  end)

  it("shows every function on a hand-written page", function()
    local text = handwritten_docs()
    local missing = {}
    for name in pairs(fns) do
      local short = name:match("[.:]([%w_]+)$")
      if not (text:find(name, 1, true) or text:find(":" .. short .. "(", 1, true)
              or text:find("." .. short .. "(", 1, true) or text:find("." .. short .. "{", 1, true)
              or text:find(":" .. short .. "{", 1, true) or text:find("`" .. short .. "`", 1, true)) then
        missing[#missing + 1] = name
      end
    end
    table.sort(missing)
    assert.same({}, missing)
  end)
end)
