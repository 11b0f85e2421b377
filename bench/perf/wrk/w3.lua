-- W3: add one unit of a random product at one of its locations, in a random organisation (a
-- movement, its balance and its audit event, in one transaction).
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
request = function()
  local org = pick_org()
  local item = org.items[math.random(#org.items)]
  return post(org, '{"operationName":"W3","query":"mutation W3($p: ID!, $l: ID!) { adjustStock('
    .. 'input: {productId: $p, locationId: $l, change: 1, reason: \\"found\\"}) '
    .. '{ movements { id } userErrors { message } } }","variables":{"p":"' .. item[1]
    .. '","l":"' .. item[2] .. '"}}')
end
