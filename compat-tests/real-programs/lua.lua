-- lua 5.4 (Debian's source, built static with musl): tables, closures, metatables,
-- coroutines, string patterns, integer and float arithmetic, and io on files.
local function counter()
  local n = 0
  return function() n = n + 1; return n end
end
local c = counter(); c(); c()
print("closure", c())

local words = {}
for w in ("the quick brown fox jumps over the lazy dog"):gmatch("%a+") do
  words[#words + 1] = w
end
table.sort(words)
print("sorted", table.concat(words, ","))
local freq = {}
for _, w in ipairs(words) do freq[w] = (freq[w] or 0) + 1 end
print("the x" .. freq.the, "fox x" .. freq.fox)

print(("2026-12-07"):match("(%d+)-(%d+)-(%d+)"))
print(("hello world"):gsub("o", "0"))
print(string.format("%5.2f|%-5s|%x|%q", math.pi, "ab", 255, "a\nb"))
print(math.maxinteger, math.mininteger, 7 // 2, 7 / 2, 2^10, 10 % 3)

local V = {}
V.__index = V
V.__add = function(a, b) return setmetatable({x = a.x + b.x}, V) end
V.__tostring = function(v) return "V(" .. v.x .. ")" end
print("metatable", tostring(setmetatable({x = 1}, V) + setmetatable({x = 2}, V)))

local gen = coroutine.wrap(function()
  for i = 1, 3 do coroutine.yield(i * i) end
end)
print("coroutine", gen(), gen(), gen())

local ok, err = pcall(function() error({code = 7}) end)
print("pcall", ok, err.code)

local f = assert(io.open("lua-out.txt", "w"))
for i = 1, 5 do f:write(("line %d\n"):format(i)) end
f:close()
local total = 0
for line in io.lines("lua-out.txt") do total = total + tonumber(line:match("%d+")) end
print("io sum", total)
f = assert(io.open("lua-out.txt", "a+"))
f:write("tail\n")
f:seek("set", 0)
print("io first", f:read("l"), "size", f:seek("end"))
f:close()
print("remove", os.remove("lua-out.txt"), io.open("lua-out.txt") == nil)
print("missing", select(2, io.open("no/such/file")))
