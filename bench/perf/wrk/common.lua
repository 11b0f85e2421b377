-- Shared by the workload scripts: the data run.sh generated (organisations with their session
-- cookie, tenant id and sample products), a random organisation per request, and a summary line
-- run.sh parses.
dofile(os.getenv("BENCH_DATA"))

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
end

function init(args)
  math.randomseed(os.time() * 100 + (thread_id or 0))
end

function pick_org()
  return orgs[math.random(#orgs)]
end

function post(org, body)
  return wrk.format("POST", "/graphql", {
    ["Content-Type"] = "application/json",
    ["Cookie"] = "__Host-vaskem_session=" .. org.cookie,
    -- Only the baseline reads this; it has no sessions.
    ["X-Tenant"] = org.tenant,
  }, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
