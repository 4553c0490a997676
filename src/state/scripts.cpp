#include "state/scripts.hpp"

namespace hydra::state::scripts {

// cjson writes an empty list as {}: readers take {} for an empty list (shared.cpp).
const std::string beat = R"lua(
local p, me, info, ttl, candidate = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local previous = redis.call('GET', p .. 'gw:' .. me)
redis.call('SET', p .. 'gw:' .. me, info, 'PX', ttl)
redis.call('SADD', p .. 'gws', me)
if redis.call('EXISTS', p .. 'held:' .. me) == 1 then redis.call('PEXPIRE', p .. 'held:' .. me, ttl) end
redis.call('SET', p .. 'epoch', candidate, 'NX')
local out = {epoch = redis.call('GET', p .. 'epoch'), previous = previous or '', members = {}, elsewhere = {},
             nodes = {}, ejects = {}}
for _, g in ipairs(redis.call('SMEMBERS', p .. 'gws')) do
  local v = redis.call('GET', p .. 'gw:' .. g)
  if not v then
    redis.call('SREM', p .. 'gws', g)
  else
    table.insert(out.members, {id = g, info = v})
    if g ~= me then
      local h = redis.call('HGETALL', p .. 'held:' .. g)
      for i = 1, #h, 2 do
        if string.sub(h[i], 1, 5) == 'node:' then
          local n = string.sub(h[i], 6)
          out.elsewhere[n] = (out.elsewhere[n] or 0) + tonumber(h[i + 1])
        end
      end
    end
  end
end
for _, n in ipairs(redis.call('SMEMBERS', p .. 'nodes')) do
  local v = redis.call('GET', p .. 'node:' .. n)
  if not v then redis.call('SREM', p .. 'nodes', n)
  else table.insert(out.nodes, {id = n, json = v, ttl = redis.call('PTTL', p .. 'node:' .. n)}) end
end
for _, n in ipairs(redis.call('SMEMBERS', p .. 'ejects')) do
  local v = redis.call('GET', p .. 'eject:' .. n)
  if not v then redis.call('SREM', p .. 'ejects', n)
  else table.insert(out.ejects, {id = n, value = v, ttl = redis.call('PTTL', p .. 'eject:' .. n)}) end
end
return cjson.encode(out)
)lua";

namespace {

// What the live gateways other than `me` hold of `field`, and what `me` holds.
const char* const kHeld = R"lua(
local function held(p, me, field)
  local others, mine = 0, tonumber(redis.call('HGET', p .. 'held:' .. me, field) or '0')
  for _, g in ipairs(redis.call('SMEMBERS', p .. 'gws')) do
    if g ~= me and redis.call('EXISTS', p .. 'gw:' .. g) == 1 then
      others = others + tonumber(redis.call('HGET', p .. 'held:' .. g, field) or '0')
    end
  end
  return others, mine
end
)lua";

}  // namespace

const std::string acquire = std::string(kHeld) + R"lua(
local p, me, node, limit, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local field = 'node:' .. node
local others, mine = held(p, me, field)
if others + mine < limit then
  redis.call('HINCRBY', p .. 'held:' .. me, field, 1)
  redis.call('PEXPIRE', p .. 'held:' .. me, ttl)
  return '1 ' .. others
end
return '0 ' .. others
)lua";

const std::string release = R"lua(
local p, me, field, ttl, channel, message = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local key = p .. 'held:' .. me
if tonumber(redis.call('HINCRBY', key, field, -1)) <= 0 then redis.call('HDEL', key, field) end
if redis.call('EXISTS', key) == 1 then redis.call('PEXPIRE', key, ttl) end
if message ~= '' then redis.call('PUBLISH', channel, message) end
return 1
)lua";

const std::string hold = R"lua(
local p, me, field, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('HINCRBY', p .. 'held:' .. me, field, 1)
redis.call('PEXPIRE', p .. 'held:' .. me, ttl)
return 1
)lua";

const std::string admit_key = std::string(kHeld) + R"lua(
local p, me, name, rpm, conc, member, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], ARGV[7]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = p .. 'rpm:' .. name
if rpm > 0 then
  redis.call('ZREMRANGEBYSCORE', window, '-inf', now - 60000)
  if redis.call('ZCARD', window) >= rpm then
    local oldest = redis.call('ZRANGE', window, 0, 0, 'WITHSCORES')
    return 'rpm ' .. math.max(1, tonumber(oldest[2]) + 60000 - now)
  end
end
if conc > 0 then
  local others, mine = held(p, me, 'key:' .. name)
  if others + mine >= conc then return 'concurrency' end
  redis.call('HINCRBY', p .. 'held:' .. me, 'key:' .. name, 1)
  redis.call('PEXPIRE', p .. 'held:' .. me, ttl)
end
if rpm > 0 then
  redis.call('ZADD', window, now, member)
  redis.call('PEXPIRE', window, 61000)
  return 'ok ' .. redis.call('ZCARD', window)
end
return 'ok'
)lua";

const std::string restore = R"lua(
local p, me, ttl = ARGV[1], ARGV[2], ARGV[3]
local key = p .. 'held:' .. me
redis.call('DEL', key)
for i = 4, #ARGV, 2 do
  if tonumber(ARGV[i + 1]) > 0 then redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
end
if redis.call('EXISTS', key) == 1 then redis.call('PEXPIRE', key, ttl) end
return 1
)lua";

const std::string stats = R"lua(
local p = ARGV[1]
local out = {}
for _, g in ipairs(redis.call('SMEMBERS', p .. 'gws')) do
  if redis.call('EXISTS', p .. 'gw:' .. g) == 1 then
    local s = redis.call('GET', p .. 'stats:' .. g)
    if s then table.insert(out, {id = g, stats = s}) end
  end
end
return cjson.encode(out)
)lua";

const std::string leave = R"lua(
local p, me, instance = ARGV[1], ARGV[2], ARGV[3]
local info = redis.call('GET', p .. 'gw:' .. me)
if not info or not string.find(info, instance, 1, true) then return 0 end
redis.call('DEL', p .. 'gw:' .. me, p .. 'held:' .. me)
redis.call('SREM', p .. 'gws', me)
return 1
)lua";

}  // namespace hydra::state::scripts
