-- util.csv: RFC 4180 reading and writing, against Python's csv module on a
-- file with every awkward case, exact results on tiny inputs, and errors
-- that name the file and line.
package.path = "tests/?.lua;" .. package.path
local data = require "helpers.data"
local ref = require "helpers.ref"
local files = require "helpers.files"
local csv = require "util.csv"

-- Quotes, doubled quotes, separators and CRLF/LF line breaks inside fields,
-- empty fields, a BOM-less UTF-8 name, numbers of every shape.
local AWKWARD = table.concat({
  'seriesuid,coordX,coordY,coordZ,diameter_mm,note\r\n',
  '1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860,-128.6994211,-175.3192718,-298.3875064,5.651470635,\r\n',
  '"1.3.6.1, quoted",  12.5 ,-0.0,1e3,0.25,"say ""hi""\r\nand bye"\n',
  'x,,,,,"a,b,c"\n',
  '\n',
  'Zoë,1,2,3,4,"""quoted at both ends"""\n',
}, "")

describe("csv.parse", function()
  it("reads what Python's csv module reads", function()
    local path = data.tmpdir() .. "/awkward.csv"
    files.spit(path, AWKWARD)
    local want = ref.run("fs_ref.py", "csv", path).records
    local rows, header = csv.read(path, { header = false })
    assert.is_nil(header)
    for _, r in ipairs(rows) do r.line = nil end
    assert.same(want, rows)
  end)

  it("keys rows by the header and converts numbers only when asked", function()
    local rows, header = csv.parse(AWKWARD)
    assert.same({ "seriesuid", "coordX", "coordY", "coordZ", "diameter_mm", "note" }, header)
    assert.equal(4, #rows)
    assert.equal("-128.6994211", rows[1].coordX)
    assert.equal("say \"hi\"\r\nand bye", rows[2].note)
    rows = csv.parse(AWKWARD, { numbers = true })
    assert.equal(-128.6994211, rows[1].coordX)
    assert.equal(12.5, rows[2].coordX) -- surrounding spaces are fine for a number
    assert.equal(1000.0, rows[2].coordZ)
    assert.equal("1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860", rows[1].seriesuid)
    assert.equal("", rows[3].coordX)
  end)

  it("numbers={columns} converts those columns and raises on a field that is not a number", function()
    local rows = csv.parse("id,v\n001,2\n", { numbers = { "v" } })
    assert.same({ "001", 2 }, { rows[1].id, rows[1].v })
    local ok, err = pcall(csv.parse, "id,v\na,1\nb,x\n", { numbers = { "v" }, name = "m.csv" })
    assert.is_false(ok)
    assert.equal('m.csv:3: column "v": "x" is not a number', err)
    ok, err = pcall(csv.parse, "id,v\na,0x10\n", { numbers = { "v" } })
    assert.truthy(err:find("is not a number", 1, true), err)
  end)

  it("gives lists without a header, keeps empty last fields, skips blank lines", function()
    local rows = csv.parse("a,b,\n\n1,,\r\n", { header = false })
    for _, r in ipairs(rows) do r.line = nil end
    assert.same({ { "a", "b", "" }, { "1", "", "" } }, rows)
    assert.same({}, (csv.parse("")))
    assert.same({ { "x" } }, (function() local r = csv.parse("x", { header = false }); r[1].line = nil; return r end)())
  end)

  it("ignores a UTF-8 byte order mark and takes another separator", function()
    local rows = csv.parse("\239\187\191id;v\na;1,5\n", { sep = ";" })
    assert.same({ id = "a", v = "1,5" }, rows[1])
  end)

  it("raises naming the source and the line", function()
    local cases = {
      { "a,b\n1,2,3\n", "t.csv:2: 3 fields, the header has 2" },
      { "a,b\n1,2\n3,\"4\n5\n", "t.csv:3: unterminated quoted field" },
      { "a,b\n1,x\"y\n", "t.csv:2: quote inside an unquoted field" },
      { "a,b\n\"1\"x,2\n", "t.csv:2: unexpected \"x\" after a closing quote" },
      { "a,a\n", "t.csv:1: column \"a\" appears twice" },
      { "a\n1\n\"x\ny\",\n", "t.csv:3: 2 fields, the header has 1" },
    }
    for _, c in ipairs(cases) do
      local ok, err = pcall(csv.parse, c[1], { name = "t.csv" })
      assert.is_false(ok)
      assert.truthy(err:find(c[2], 1, true), err)
    end
    local ok, err = pcall(csv.parse, "a\n", { number = true })
    assert.truthy(err:find("unknown option 'number'", 1, true), err)
    ok, err = pcall(csv.read, "/nonexistent/x.csv")
    assert.truthy(err:find("/nonexistent/x.csv", 1, true), err)
  end)
end)

describe("csv.format and csv.write", function()
  it("quotes only what needs it and reads back the same", function()
    local header = { "id", "text", "x" }
    local rows = {
      { id = "a", text = "plain", x = 1 },
      { id = "b", text = 'comma, "quote"\nnewline', x = 0.1 },
      { id = "c", text = "", x = 1 / 3 },
      { id = "d", x = -2.5e-300 },
    }
    local text = csv.format(rows, header)
    assert.equal('id,text,x\na,plain,1\nb,"comma, ""quote""\nnewline",0.1\nc,,0.3333333333333333\nd,,-2.5e-300\n', text)
    local back = csv.parse(text, { numbers = { "x" } })
    for i, r in ipairs(rows) do
      assert.equal(r.x, back[i].x)
      assert.equal(r.text or "", back[i].text)
    end
  end)

  it("numbers are written in the shortest form that reads back exactly", function()
    for _, x in ipairs { 0.1, 1 / 3, math.pi, 1e21, 5e-324, -0.0, 123456789012, 2 ^ 53 + 1 } do
      assert.equal(x, tonumber(csv.quote(x)))
    end
    assert.equal("inf", csv.quote(math.huge))
  end)

  it("write leaves the whole file or nothing, and Python reads it back", function()
    local dir = data.tmpdir()
    local path = dir .. "/m.csv"
    local rows = { { "a b", "x,y" }, { "q\"", "multi\nline" } }
    csv.write(path, rows)
    assert.same({ "m.csv" }, files.listdir(dir))
    assert.same(rows, ref.run("fs_ref.py", "csv", path).records)
    local ok, err = pcall(csv.write, dir .. "/missing/m.csv", rows)
    assert.is_false(ok)
    assert.truthy(err:find("missing/m.csv: cannot write", 1, true), err)
  end)
end)
