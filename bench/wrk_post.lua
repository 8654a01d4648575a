-- One GraphQL request over and over from wrk (bench/graphql_throughput.py, IRS_BENCH_CLIENT=wrk): the body
-- is read from the file given as the first argument, the bearer token is the second. wrk's own summary
-- is turned into one JSON line on stdout: requests, non-200 answers, seconds, latency percentiles (ms).

function init(args)
  local file = assert(io.open(args[1], "r"))
  wrk.method, wrk.body = "POST", file:read("*a")
  file:close()
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. args[2]
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "non_2xx": %d, "socket_errors": %d, "seconds": %.3f, '
      .. '"latency_ms": {"p50": %.2f, "p95": %.2f, "p99": %.2f}}\n',
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000
  ))
end
