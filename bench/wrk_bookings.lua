-- The surge's booking wave from wrk (bench/livestream_surge.py, IRS_SURGE_CLIENT=wrk): each request is the
-- next prepared booking, each customer with her own token, read from a file of "token<TAB>body" lines.
-- Each thread takes every n-th line and stops once each of its bookings is answered. A connection that asks
-- for more after the last one is sent has to send something: `{ __typename }` (no sign-in, no statement),
-- once a second (delay()), counted apart; if an answer is lost, the thread gives up after 10 s of that.
-- The summary is one JSON line on stdout: answered, booked, refused, fillers (`replays`), latency (ms),
-- fillers included (they are few: at most one per connection at a time, only at the wave's end).

local threads = {}

function setup(thread)
  thread:set("number", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path, count = args[1], tonumber(args[2])
  connections = tonumber(args[3])  -- of this thread
  prepared, sent, booked, refused, replays = {}, 0, 0, 0, 0
  local line_number = 0
  for line in io.lines(path) do
    if line_number % count == number then
      local token, body = line:match("^([^\t]*)\t(.*)$")
      local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
      table.insert(prepared, wrk.format("POST", "/graphql", headers, body))
    end
    line_number = line_number + 1
  end
  filler = wrk.format("POST", "/graphql", { ["Content-Type"] = "application/json" }, '{"query":"{ __typename }"}')
  -- wrk calls the first thread's request() once before the run to check the request (and never sends it):
  -- give it the filler, or that thread's first customer would never book.
  checked = number ~= 0
end

function request()
  if not checked then
    checked = true
    return filler
  end
  sent = sent + 1
  if sent > #prepared then
    replays = replays + 1
    return filler
  end
  return prepared[sent]
end

function delay()
  return sent >= #prepared and 1000 or 0
end

function response(status, headers, body)
  if body:find('"__typename"', 1, true) then
    if replays > 10 * connections then  -- no answer for 10 s: one was lost
      wrk.thread:stop()
    end
    return
  end
  if status == 200 and body:find('"booking":{"id":', 1, true) then
    booked = booked + 1
  else
    refused = refused + 1
  end
  if booked + refused >= #prepared then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local totals = { booked = 0, refused = 0, replays = 0 }
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do
      totals[key] = totals[key] + thread:get(key)
    end
  end
  io.write(string.format(
    '{"answered": %d, "booked": %d, "refused": %d, "replays": %d, "socket_errors": %d, "seconds": %.3f, '
      .. '"latency_ms": {"p50": %.1f, "p95": %.1f, "p99": %.1f, "max": %.1f}}\n',
    summary.requests, totals.booked, totals.refused, totals.replays,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000
  ))
end
