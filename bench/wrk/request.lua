-- One kind of request, repeated by wrk:
--   wrk … -s bench/wrk/request.lua <url> -- METHOD PATH [BODY]
-- `{customer}` in PATH or BODY becomes a customer of the big store picked at random (never a
-- blocked one, who could not order): cust_<10^12 + n>, n in 1..BENCH_CUSTOMERS, as
-- bench/seed.sql numbers them. The credential comes from BENCH_TOKEN.

local method, template, body_template
local customers = tonumber(os.getenv("BENCH_CUSTOMERS") or "1")
local headers = { ["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "") }
local fixed = nil
threads_started = 0

-- Runs in wrk's main state: gives each thread a number, which seeds its random customers.
function setup(thread)
  threads_started = threads_started + 1
  thread:set("thread_no", threads_started)
end

function init(args)
  method, template, body_template = args[1] or "GET", args[2] or "/", args[3]
  if body_template then
    headers["Content-Type"] = "application/json"
  end
  math.randomseed(1000 + (thread_no or 0))
  if not template:find("{customer}", 1, true)
      and not (body_template and body_template:find("{customer}", 1, true)) then
    fixed = wrk.format(method, template, headers, body_template)
  end
end

-- Blocked customers are numbered 5 mod 211 (bench/seed.sql).
local function customer()
  local n
  repeat
    n = math.random(1, customers)
  until n % 211 ~= 5
  return string.format("cust_%d", 1000000000000 + n)
end

function request()
  if fixed then
    return fixed
  end
  local id = customer()
  local path = (template:gsub("{customer}", id))
  local body = body_template and (body_template:gsub("{customer}", id)) or nil
  return wrk.format(method, path, headers, body)
end
