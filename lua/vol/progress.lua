-- vol.progress(total, label): a text progress bar on stderr, drawn only when
-- stderr is a terminal (so logs and pipes stay clean). The terminal check is
-- the host's "vol.term", which also draws the bar.
local term = require "vol.term"
local doc = require("vol.help").doc

local Bar = {}
Bar.__index = Bar

-- The host draws it (the same bar as the kernels' progress), so that the
-- REPL can end a bar's line when a call is interrupted.
local function draw(self, final)
  if not self.live then
    return
  end
  local pct = self.total > 0 and math.floor(100 * self.count / self.total) or 100
  if pct == self.shown and not final then
    return -- redraw only when the percentage moves
  end
  self.shown = pct
  term.bar(self.label, final and self.total or self.count, self.total)
end

function Bar:step(n)
  if n ~= nil and type(n) ~= "number" then
    error("bad argument #1 to 'step' (number expected, got " .. type(n) .. ")", 2)
  end
  self.count = math.min(self.total, self.count + (n or 1))
  draw(self, false)
  return self
end

function Bar:done()
  if not self.finished then
    self.finished = true
    self.count = self.total
    draw(self, true)
  end
  return self
end

local function progress(total, label)
  if type(total) ~= "number" or total < 0 then
    error("bad argument #1 to 'progress' (a count >= 0 expected, got " .. tostring(total) .. ")", 2)
  end
  if label ~= nil and type(label) ~= "string" then
    error("bad argument #2 to 'progress' (string expected, got " .. type(label) .. ")", 2)
  end
  return setmetatable({ total = total, label = label or "", count = 0, shown = -1,
    live = term.isatty(2) }, Bar)
end

doc(progress, [[
vol.progress(total [, label]) -> bar
A progress bar for a loop of total steps, drawn on stderr only when stderr is
a terminal (nothing is written otherwise). bar:step([n]) advances by n
(default 1); bar:done() completes it and ends the line. Both return bar.
Example: local bar = vol.progress(#files, "reading")
         for _, f in ipairs(files) do vol.read(f); bar:step() end; bar:done()]])

return progress
