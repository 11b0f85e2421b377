-- W2: one random product of a random organisation, by id.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
request = function()
  local org = pick_org()
  local item = org.items[math.random(#org.items)]
  return post(org, '{"operationName":"W2","query":"query W2($id: ID!) { product(id: $id) '
    .. '{ id sku name } }","variables":{"id":"' .. item[1] .. '"}}')
end
