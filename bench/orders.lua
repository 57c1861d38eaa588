-- `cargo xtask bench`: wrk script for the server figures. Reads from the
-- environment: KASSA_BENCH_AUTH (the Authorization header), KASSA_BENCH_MODE
-- (create: POST /orders with a fresh order id each time; status: GET
-- /orders/KASSA_BENCH_ORDER; txn: POST /txns for KASSA_BENCH_ORDER with its
-- client token KASSA_BENCH_TOKEN), KASSA_BENCH_DELAY_MS (pause between a
-- connection's requests, to hold a rate), KASSA_BENCH_TAG (order id prefix),
-- KASSA_BENCH_PAD (pad each order's udf1..udf10 and description to N characters);
-- get: GET KASSA_BENCH_PATH with the Cookie KASSA_BENCH_COOKIE (the dashboard's order search).
-- Prints one JSON line with the counts and latency percentiles.
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local mode, auth, order, token, tag, pause, extra
function init(args)
  n = 0
  mode = os.getenv("KASSA_BENCH_MODE") or "create"
  auth = os.getenv("KASSA_BENCH_AUTH") or ""
  order = os.getenv("KASSA_BENCH_ORDER") or ""
  token = os.getenv("KASSA_BENCH_TOKEN") or ""
  tag = os.getenv("KASSA_BENCH_TAG") or "b"
  pause = tonumber(os.getenv("KASSA_BENCH_DELAY_MS") or "0")
  -- KASSA_BENCH_PAD=N: udf1..udf10 and the description, N characters each (payload size).
  local pad = tonumber(os.getenv("KASSA_BENCH_PAD") or "0")
  extra = ""
  if pad > 0 then
    local v = string.rep("x", pad)
    for i = 1, 10 do extra = extra .. "&udf" .. i .. "=" .. v end
    extra = extra .. "&description=" .. v
  end
end

function delay()
  return pause
end

function request()
  n = n + 1
  if mode == "status" then
    return wrk.format("GET", "/orders/" .. order, { ["Authorization"] = auth })
  elseif mode == "txn" then
    local body = "order_id=" .. order .. "&payment_method_type=NB&payment_method=NB_SBI"
    return wrk.format("POST", "/txns", { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
  elseif mode == "health" then
    return wrk.format("GET", "/health")
  elseif mode == "get" then
    -- KASSA_BENCH_PATH with the dashboard session KASSA_BENCH_COOKIE (its order search).
    return wrk.format("GET", os.getenv("KASSA_BENCH_PATH"), { ["Cookie"] = os.getenv("KASSA_BENCH_COOKIE") or "" })
  end
  local body = "order_id=" .. tag .. tid .. "x" .. n .. "&amount=499.00&currency=INR&customer_id=bench_user" .. extra
  return wrk.format("POST", "/orders", { ["Authorization"] = auth, ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"socket_errors":%d,"non_2xx":%d,"p50_us":%d,"p90_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99), latency.max))
end
