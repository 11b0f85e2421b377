-- W1 (w1.graphql) for a random organisation.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
request = function()
  return post(pick_org(), w1_body)
end
