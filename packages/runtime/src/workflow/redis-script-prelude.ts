/**
 * The Lua helpers every script of the Redis workflow backend starts with (`redis-scripts.ts` holds the
 * scripts and the key layout they share): the key names, the ready index, the inbox, activities,
 * status indexes and counters, leases, claims, filters and purge.
 */

/** Helpers every script starts with. */
export const PRELUDE = `
local P = KEYS[1]
local TERMINAL = { COMPLETED = true, FAILED = true, TERMINATED = true }
local function ik(id) return P .. 'i:' .. id end
local function fmt(n) return string.format('%.0f', n) end
local function amember(id, task) return string.format('%010d', task) .. '|' .. id end

-- What an owner holds is only worth keeping while its leases can be renewed: a sidecar that died
-- leaves its set behind, so the set expires a minute after the last lease it was given or renewed
-- would (relative to Redis's clock: lease times are the engine's).
local function holds(owner, member, expiry, t)
  local key = P .. 'own:' .. owner
  redis.call('SADD', key, member)
  redis.call('PEXPIRE', key, fmt(math.max(0, tonumber(expiry) - tonumber(t)) + 60000))
end

local function publish(notifier)
  if notifier and notifier ~= '' then redis.call('PUBLISH', P .. 'work', notifier) end
end

-- Puts an instance in the ready index, or takes it out, from its current state.
local function refresh(id)
  local f = redis.call('HMGET', ik(id), 'status', 'exp', 'sched')
  local status = f[1]
  if not status or TERMINAL[status] or status == 'SUSPENDED' or f[2] then
    redis.call('ZREM', P .. 'ready', id)
    return
  end
  local first = redis.call('ZRANGE', P .. 'mv:' .. id, 0, 0, 'WITHSCORES')
  if #first == 0 then
    redis.call('ZREM', P .. 'ready', id)
    return
  end
  local score = tonumber(first[2])
  if f[3] and tonumber(f[3]) > score then score = tonumber(f[3]) end
  redis.call('ZADD', P .. 'ready', fmt(score), id)
end

local function insertInbox(id, event, visibleAt, timer)
  local seq = redis.call('INCR', P .. 'seq')
  redis.call('HSET', P .. 'mb:' .. id, seq, event)
  redis.call('ZADD', P .. 'mv:' .. id, visibleAt, seq)
  if timer then redis.call('SADD', P .. 'mt:' .. id, seq) end
end

local function dropInbox(id)
  redis.call('DEL', P .. 'mb:' .. id, P .. 'mv:' .. id, P .. 'mt:' .. id)
end

local function dropTimers(id)
  local seqs = redis.call('SMEMBERS', P .. 'mt:' .. id)
  for _, seq in ipairs(seqs) do
    redis.call('HDEL', P .. 'mb:' .. id, seq)
    redis.call('ZREM', P .. 'mv:' .. id, seq)
  end
  redis.call('DEL', P .. 'mt:' .. id)
end

local function dropActivities(id)
  local all = redis.call('HGETALL', P .. 'ai:' .. id)
  for i = 1, #all, 2 do
    local m = amember(id, tonumber(all[i]))
    redis.call('ZREM', P .. 'aq', m)
    redis.call('ZREM', P .. 'al', m)
    local a = cjson.decode(all[i + 1])
    if type(a.o) == 'string' then redis.call('SREM', P .. 'own:' .. a.o, 'a|' .. m) end
  end
  redis.call('DEL', P .. 'ai:' .. id)
end

local function addActivity(id, task, exec, name, input, created, owner, expiry)
  local key = P .. 'ai:' .. id
  if redis.call('HEXISTS', key, task) == 1 then return end
  local m = amember(id, task)
  local a = { e = exec, n = name, i = input, a = 0, c = created }
  if owner then
    a.a = 1
    a.o = owner
    a.x = expiry
    redis.call('ZADD', P .. 'al', expiry, m)
    holds(owner, 'a|' .. m, expiry, created)
  else
    redis.call('ZADD', P .. 'aq', created, m)
  end
  redis.call('HSET', key, task, cjson.encode(a))
end

-- Moves an instance between status indexes and counters.
local function setStatus(id, old, new, created)
  if old == new then return end
  if old then
    redis.call('ZREM', P .. 'st:' .. old, id)
    redis.call('HINCRBY', P .. 'counts', old, -1)
  end
  redis.call('ZADD', P .. 'st:' .. new, created, id)
  redis.call('HINCRBY', P .. 'counts', new, 1)
  redis.call('HSET', ik(id), 'status', new)
end

local function touch(id, t, status)
  redis.call('HSET', ik(id), 'updated', t)
  redis.call('ZADD', P .. 'upd', t, id)
  if TERMINAL[status] then redis.call('ZADD', P .. 'fin', t, id) else redis.call('ZREM', P .. 'fin', id) end
end

local function unlock(id)
  local owner = redis.call('HGET', ik(id), 'owner')
  if owner then redis.call('SREM', P .. 'own:' .. owner, 'i|' .. id) end
  redis.call('HDEL', ik(id), 'owner', 'exp')
  redis.call('ZREM', P .. 'leases', id)
end

local function deleteInstance(id)
  local f = redis.call('HMGET', ik(id), 'status', 'name', 'parent')
  if not f[1] then return end
  unlock(id)
  redis.call('ZREM', P .. 'st:' .. f[1], id)
  redis.call('HINCRBY', P .. 'counts', f[1], -1)
  redis.call('ZREM', P .. 'nm:' .. f[2], id)
  redis.call('ZREM', P .. 'all', id)
  redis.call('ZREM', P .. 'upd', id)
  redis.call('ZREM', P .. 'fin', id)
  redis.call('ZREM', P .. 'ready', id)
  if f[3] then redis.call('SREM', P .. 'ch:' .. f[3], id) end
  dropInbox(id)
  dropActivities(id)
  -- Its own children set stays: unpurged children still name it as their parent.
  redis.call('DEL', ik(id), P .. 'h:' .. id)
end

-- n: { id, name, exec, input?, created, sched?, parent?, ptask?, start }
local function insertInstance(n, status)
  deleteInstance(n.id)
  local key = ik(n.id)
  redis.call('HSET', key, 'id', n.id, 'name', n.name, 'exec', n.exec, 'created', n.created, 'updated', n.created)
  if n.input then redis.call('HSET', key, 'input', n.input) end
  if n.sched then redis.call('HSET', key, 'sched', n.sched) end
  if n.parent then
    redis.call('HSET', key, 'parent', n.parent, 'ptask', n.ptask)
    redis.call('SADD', P .. 'ch:' .. n.parent, n.id)
  end
  setStatus(n.id, false, status, n.created)
  redis.call('ZADD', P .. 'all', n.created, n.id)
  redis.call('ZADD', P .. 'nm:' .. n.name, n.created, n.id)
  touch(n.id, n.created, status)
  if n.start then insertInbox(n.id, n.start, n.created, false) end
  refresh(n.id)
end

local function pushAll(key, values)
  for i = 1, #values, 1000 do
    redis.call('RPUSH', key, unpack(values, i, math.min(i + 999, #values)))
  end
end

-- Instances whose lease ended before t become lockable again (their owner stays, as the contract's
-- reference does: a late commit of the old holder still lands until someone else locks).
local function reclaim(t)
  local expired = redis.call('ZRANGEBYSCORE', P .. 'leases', '-inf', '(' .. t, 'LIMIT', 0, 100)
  for _, id in ipairs(expired) do
    redis.call('HDEL', ik(id), 'exp')
    redis.call('ZREM', P .. 'leases', id)
    refresh(id)
  end
  local tasks = redis.call('ZRANGEBYSCORE', P .. 'al', '-inf', '(' .. t, 'LIMIT', 0, 100)
  for _, m in ipairs(tasks) do
    local id = string.sub(m, 12)
    local task = tonumber(string.sub(m, 1, 10))
    local raw = redis.call('HGET', P .. 'ai:' .. id, task)
    redis.call('ZREM', P .. 'al', m)
    if raw then
      local a = cjson.decode(raw)
      a.x = nil
      redis.call('HSET', P .. 'ai:' .. id, task, cjson.encode(a))
      redis.call('ZADD', P .. 'aq', a.c, m)
    end
  end
end

-- Takes an activity task out of the queue and puts its result in the instance's inbox, visible at
-- t; false when the task is gone (completed already, or its instance finished). The caller refreshes
-- the ready index, or locks the instance.
local function completeTask(id, task, event, t)
  local raw = redis.call('HGET', P .. 'ai:' .. id, task)
  if not raw then return false end
  redis.call('HDEL', P .. 'ai:' .. id, task)
  local m = amember(id, task)
  redis.call('ZREM', P .. 'aq', m)
  redis.call('ZREM', P .. 'al', m)
  local a = cjson.decode(raw)
  if type(a.o) == 'string' then redis.call('SREM', P .. 'own:' .. a.o, 'a|' .. m) end
  insertInbox(id, event, t, false)
  return true
end

-- Whether an instance with visible inbox events may be locked at t: unfinished, not suspended, its
-- lease absent or ended before t (as reclaim sees it), its scheduled start reached.
local function claimable(id, t)
  local f = redis.call('HMGET', ik(id), 'status', 'exp', 'sched')
  if not f[1] or TERMINAL[f[1]] or f[1] == 'SUSPENDED' then return false end
  if f[2] and tonumber(f[2]) >= t then return false end
  return not f[3] or tonumber(f[3]) <= t
end

-- Leases a claimable instance to owner until expiry and returns its work item: { instance hash,
-- history, inbox seqs visible at t (in order), their events, historyFrom }. The history holds the
-- events after the first \`have\` when the caller holds them of execution \`exec\` (historyFrom = have),
-- else all of it (historyFrom = 0).
local function lockInstance(id, owner, expiry, t, exec, have)
  redis.call('HSET', ik(id), 'owner', owner, 'exp', expiry)
  redis.call('ZADD', P .. 'leases', expiry, id)
  redis.call('ZREM', P .. 'ready', id)
  holds(owner, 'i|' .. id, expiry, t)
  local seqs = redis.call('ZRANGEBYSCORE', P .. 'mv:' .. id, '-inf', t)
  table.sort(seqs, function(a, b) return tonumber(a) < tonumber(b) end)
  local events = {}
  if #seqs > 0 then events = redis.call('HMGET', P .. 'mb:' .. id, unpack(seqs)) end
  local from = 0
  if have and have > 0 and exec == redis.call('HGET', ik(id), 'exec') and have <= redis.call('LLEN', P .. 'h:' .. id) then from = have end
  return { redis.call('HGETALL', ik(id)), redis.call('LRANGE', P .. 'h:' .. id, from, -1), seqs, events, from }
end

local function matches(id, f)
  local r = redis.call('HMGET', ik(id), 'status', 'name', 'created', 'updated')
  if not r[1] then return false end
  if f.statuses then
    local ok = false
    for _, s in ipairs(f.statuses) do if s == r[1] then ok = true end end
    if not ok then return false end
  end
  if f.name and r[2] ~= f.name then return false end
  if f.prefix and string.sub(id, 1, #f.prefix) ~= f.prefix then return false end
  local created = tonumber(r[3])
  if f.createdFrom and created < f.createdFrom then return false end
  if f.createdTo and created > f.createdTo then return false end
  if f.updatedTo and tonumber(r[4]) > f.updatedTo then return false end
  return true
end

-- The index that holds every match of the filter, smallest first.
local function indexFor(f)
  if f.statuses and #f.statuses == 1 then return P .. 'st:' .. f.statuses[1] end
  if f.name then return P .. 'nm:' .. f.name end
  return P .. 'all'
end

local function purgeTree(id)
  local status = redis.call('HGET', ik(id), 'status')
  if not status or not TERMINAL[status] then return 0 end
  local count = 0
  for _, child in ipairs(redis.call('SMEMBERS', P .. 'ch:' .. id)) do count = count + purgeTree(child) end
  deleteInstance(id)
  return count + 1
end
`;

