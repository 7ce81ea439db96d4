-- wrk script: a 4 KiB urlencoded form POST (a typical login/contact form, padded).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local fields = {}
local size = 0
local i = 0
while size < 4096 do
  local field = string.format("field%d=%s", i, string.rep("v", 60))
  table.insert(fields, field)
  size = size + #field + 1
  i = i + 1
end
wrk.body = string.sub(table.concat(fields, "&"), 1, 4096)
