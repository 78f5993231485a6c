/**
 * The Lua scripts of the Redis workflow backend (`redis-backend.ts`). Every step that changes state is
 * one script, so Redis runs it atomically: nothing else interleaves between its reads and writes.
 *
 * Every script gets the app's key prefix as `KEYS[1]` (`weft:wf:{<appId>}:`) and derives the keys it
 * touches from it. All of them share the prefix's hash tag, so they hash to the slot of `KEYS[1]`,
 * which is what Redis Cluster requires of a script's keys.
 *
 * Key layout under the prefix P:
 * - `P i:<id>`   hash: one instance (`id name status exec input output cs failure created updated sched
 *                parent ptask owner exp`; an absent field is null). `exp` is present while a lease is live.
 * - `P h:<id>`   list: its history, one JSON event per element.
 * - `P mb:<id>`  hash seq → JSON event: its inbox; `P mv:<id>` zset seq by visibility time; `P mt:<id>`
 *                set: the seqs that are timers (dropped on continue-as-new).
 * - `P ai:<id>`  hash taskId → JSON activity (`e` execution, `n` name, `i` input, `a` attempt, `c`
 *                created, `o` owner, `x` lease expiry).
 * - `P ch:<id>`  set: its child instances.
 * - `P ready`    zset id by the time it can be locked (its earliest inbox visibility, or its scheduled
 *                start if later); holds only instances that are unlocked, unfinished, unsuspended and have
 *                inbox events. `P leases` zset id by lease expiry.
 * - `P aq`       zset of free activities by creation time; `P al` zset of leased ones by expiry. Members
 *                are `<taskId, 10 digits>|<instanceId>`.
 * - `P own:<owner>` set of `i|<id>` / `a|<member>`: what an owner may hold (lease renewal); it expires a
 *                minute after the last lease it records, so dead sidecars leave nothing behind.
 * - `P all`, `P st:<status>`, `P nm:<name>` zsets id by creation time (list and filtered counts);
 *   `P upd` zset id by last change (recent changes); `P fin` zset of finished ids by last change (purge);
 *   `P counts` hash status → n (exact counts per status); `P seq` the inbox sequence.
 *
 * Times are epoch milliseconds. Lua numbers are doubles, exact for them; they are formatted with
 * `%.0f` before they are stored, never with Lua's default 14-digit `tostring`.
 */

import { PRELUDE } from './redis-script-prelude.js';
import { statusAfterStepLua } from './transitions.js';

/** One script per operation (each runs with {@link PRELUDE} in front). */
const BODIES = {
  /** ARGV: instance JSON, notifier. Returns 1 when created. */
  wfCreate: `
local n = cjson.decode(ARGV[1])
local st = redis.call('HGET', ik(n.id), 'status')
if st and not TERMINAL[st] then return 0 end
insertInstance(n, 'PENDING')
publish(ARGV[2])
return 1
`,
  /** ARGV: fork JSON, notifier. Returns the id in the way, or false. */
  wfFork: `
local f = cjson.decode(ARGV[1])
if redis.call('EXISTS', ik(f.id)) == 1 then return f.id end
for _, c in ipairs(f.children) do
  if redis.call('EXISTS', ik(c.id)) == 1 then return c.id end
end
insertInstance(f, 'RUNNING')
if #f.history > 0 then pushAll(P .. 'h:' .. f.id, f.history) end
for _, a in ipairs(f.activities) do addActivity(f.id, a.task, f.exec, a.name, a.input, f.created, nil, nil) end
for _, m in ipairs(f.messages) do insertInbox(f.id, m.event, m.at, m.timer) end
refresh(f.id)
for _, c in ipairs(f.children) do insertInstance(c, 'PENDING') end
publish(ARGV[2])
return false
`,
  /** ARGV: instance id, event, visibleAt, timer (1/0), notifier. */
  wfEnqueue: `
local id = ARGV[1]
local st = redis.call('HGET', ik(id), 'status')
if not st or TERMINAL[st] then return 0 end
insertInbox(id, ARGV[2], ARGV[3], ARGV[4] == '1')
refresh(id)
publish(ARGV[5])
return 1
`,
  /**
   * ARGV: owner, lease expiry, now, then the instance ids to pass over (fan-out coalescing).
   * Returns the work item (`lockInstance`: [instance hash, history, seqs, events, 0]) or false.
   */
  wfLockOrchestration: `
local owner, expiry, t = ARGV[1], ARGV[2], tonumber(ARGV[3])
local skip = {}
for i = 4, #ARGV do skip[ARGV[i]] = true end
reclaim(t)
-- Enough candidates that 50 are left after the skipped ones, if there are that many.
local candidates = redis.call('ZRANGEBYSCORE', P .. 'ready', '-inf', t, 'WITHSCORES', 'LIMIT', 0, #ARGV - 3 + 50)
local id, score = nil, nil
local ties = {}
for i = 1, #candidates, 2 do
  local c = candidates[i]
  if not skip[c] then
    if not score then
      id, score = c, candidates[i + 1]
      ties[1] = c
    elseif candidates[i + 1] == score then
      ties[#ties + 1] = c
    else
      break
    end
  end
end
if not id then return false end
-- Ties in visibility time go to the instance whose event came first (the inbox sequence).
if #ties > 1 then
  local best = nil
  for _, candidate in ipairs(ties) do
    local first = redis.call('ZRANGE', P .. 'mv:' .. candidate, 0, 0, 'WITHSCORES')
    if #first == 2 then
      for _, seq in ipairs(redis.call('ZRANGEBYSCORE', P .. 'mv:' .. candidate, first[2], first[2])) do
        if not best or tonumber(seq) < best then
          best = tonumber(seq)
          id = candidate
        end
      end
    end
  end
end
return lockInstance(id, owner, expiry, t, nil, 0)
`,
  /** ARGV: owner, step JSON, now, notifier (empty: no notification). Returns 1 when applied. */
  wfCommit: `
local owner, s, t = ARGV[1], cjson.decode(ARGV[2]), ARGV[3]
local id = s.id
local f = redis.call('HMGET', ik(id), 'status', 'exec', 'owner', 'created')
if not f[1] then return 0 end
if f[3] ~= owner or f[2] ~= s.exec or TERMINAL[f[1]] then
  if f[3] == owner then
    unlock(id)
    refresh(id)
  end
  return 0
end
for _, seq in ipairs(s.consumed) do
  redis.call('HDEL', P .. 'mb:' .. id, seq)
  redis.call('ZREM', P .. 'mv:' .. id, seq)
  redis.call('SREM', P .. 'mt:' .. id, seq)
end
if s.reset then
  redis.call('DEL', P .. 'h:' .. id)
  dropActivities(id)
  dropTimers(id)
end
if TERMINAL[s.status] then
  dropActivities(id)
  dropInbox(id)
end
if #s.history > 0 then pushAll(P .. 'h:' .. id, s.history) end
local exec = s.newExec or s.exec
for i, a in ipairs(s.activities) do
  if s.lockMax and i <= s.lockMax then
    addActivity(id, a.task, exec, a.name, a.input, t, owner, s.lockUntil)
  else
    addActivity(id, a.task, exec, a.name, a.input, t, nil, nil)
  end
end
for _, c in ipairs(s.children) do insertInstance(c, 'PENDING') end
for _, m in ipairs(s.messages) do
  if m.id == id then
    insertInbox(id, m.event, m.at, m.timer)
  else
    local target = redis.call('HGET', ik(m.id), 'status')
    if target and not TERMINAL[target] then
      insertInbox(m.id, m.event, m.at, m.timer)
      refresh(m.id)
    end
  end
end
local status = s.status
${statusAfterStepLua("f[1]", 'status')}
setStatus(id, f[1], status, f[4])
local key = ik(id)
redis.call('HSET', key, 'exec', exec)
if s.setInput then
  if s.input then redis.call('HSET', key, 'input', s.input) else redis.call('HDEL', key, 'input') end
end
if s.output then redis.call('HSET', key, 'output', s.output) else redis.call('HDEL', key, 'output') end
if s.cs then redis.call('HSET', key, 'cs', s.cs) else redis.call('HDEL', key, 'cs') end
if s.failure then redis.call('HSET', key, 'failure', s.failure) else redis.call('HDEL', key, 'failure') end
touch(id, t, status)
unlock(id)
refresh(id)
publish(ARGV[4])
return 1
`,
  /** ARGV: owner, instance id, notifier. */
  wfRelease: `
local id = ARGV[2]
if redis.call('HGET', ik(id), 'owner') ~= ARGV[1] then return 0 end
unlock(id)
refresh(id)
publish(ARGV[3])
return 1
`,
  /** ARGV: owner, lease expiry, now, max. Returns up to max [instance id, task id, activity JSON], oldest first. */
  wfLockActivities: `
local owner, expiry, t, max = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
reclaim(t)
local out = {}
if max <= 0 then return out end
for _, m in ipairs(redis.call('ZRANGE', P .. 'aq', 0, max - 1)) do
  local id = string.sub(m, 12)
  local task = tonumber(string.sub(m, 1, 10))
  redis.call('ZREM', P .. 'aq', m)
  local raw = redis.call('HGET', P .. 'ai:' .. id, task)
  if raw then
    local a = cjson.decode(raw)
    a.a = a.a + 1
    a.o = owner
    a.x = expiry
    raw = cjson.encode(a)
    redis.call('HSET', P .. 'ai:' .. id, task, raw)
    redis.call('ZADD', P .. 'al', expiry, m)
    holds(owner, 'a|' .. m, expiry, t)
    out[#out + 1] = { id, tostring(task), raw }
  end
end
return out
`,
  /** ARGV: instance id, task id, event, now, notifier. Returns 1 when the task was still there. */
  wfCompleteActivity: `
local id = ARGV[1]
if not completeTask(id, tonumber(ARGV[2]), ARGV[3], ARGV[4]) then return 0 end
refresh(id)
publish(ARGV[5])
return 1
`,
  /**
   * ARGV: instance id, task id, event, now, owner, lease expiry, known execution id ('' for none),
   * known history length, notifier. Completes the task as `wfCompleteActivity` does and, when its
   * instance is claimable now, leases it to owner in the same step. Returns 0 when the task was gone,
   * 1 when the result was stored and the instance not locked (other replicas are told: it is theirs
   * once free), or the work item (`lockInstance`) when it was locked (nobody is told: it is the owner's).
   */
  wfCompleteActivityLock: `
local id, t = ARGV[1], tonumber(ARGV[4])
if not completeTask(id, tonumber(ARGV[2]), ARGV[3], ARGV[4]) then return 0 end
if claimable(id, t) then return lockInstance(id, ARGV[5], ARGV[6], t, ARGV[7], tonumber(ARGV[8])) end
refresh(id)
publish(ARGV[9])
return 1
`,
  /** ARGV: owner, instance id, task id, notifier. */
  wfReleaseActivity: `
local owner, id, task = ARGV[1], ARGV[2], tonumber(ARGV[3])
local raw = redis.call('HGET', P .. 'ai:' .. id, task)
if not raw then return 0 end
local a = cjson.decode(raw)
if a.o ~= owner then return 0 end
local m = amember(id, task)
a.o = nil
a.x = nil
redis.call('HSET', P .. 'ai:' .. id, task, cjson.encode(a))
redis.call('SREM', P .. 'own:' .. owner, 'a|' .. m)
redis.call('ZREM', P .. 'al', m)
redis.call('ZADD', P .. 'aq', a.c, m)
publish(ARGV[4])
return 1
`,
  /** ARGV: owner, lease expiry, now. */
  wfRenew: `
local owner, expiry = ARGV[1], ARGV[2]
local key = P .. 'own:' .. owner
for _, held in ipairs(redis.call('SMEMBERS', key)) do
  local kind, rest = string.sub(held, 1, 1), string.sub(held, 3)
  local kept = false
  if kind == 'i' then
    if redis.call('HGET', ik(rest), 'owner') == owner then
      redis.call('HSET', ik(rest), 'exp', expiry)
      redis.call('ZADD', P .. 'leases', expiry, rest)
      redis.call('ZREM', P .. 'ready', rest)
      kept = true
    end
  else
    local id, task = string.sub(rest, 12), tonumber(string.sub(rest, 1, 10))
    local raw = redis.call('HGET', P .. 'ai:' .. id, task)
    if raw then
      local a = cjson.decode(raw)
      if a.o == owner then
        a.x = expiry
        redis.call('HSET', P .. 'ai:' .. id, task, cjson.encode(a))
        redis.call('ZREM', P .. 'aq', rest)
        redis.call('ZADD', P .. 'al', expiry, rest)
        kept = true
      end
    end
  end
  if not kept then redis.call('SREM', key, held) end
end
if redis.call('EXISTS', key) == 1 then redis.call('PEXPIRE', key, fmt(math.max(0, tonumber(expiry) - tonumber(ARGV[3])) + 60000)) end
return 1
`,
  /** ARGV: idleBefore, now. Returns rows [id, status, updated, inbox, activity, queued, lock] ('' for null). */
  wfIdle: `
local idleBefore, t = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
for _, status in ipairs({ 'PENDING', 'RUNNING' }) do
  for _, id in ipairs(redis.call('ZRANGE', P .. 'st:' .. status, 0, -1)) do
    local f = redis.call('HMGET', ik(id), 'updated', 'sched', 'exp')
    local sched = f[2] and tonumber(f[2]) or nil
    if (not sched or sched <= t) and tonumber(f[1]) <= idleBefore then
      local inbox = redis.call('ZRANGEBYSCORE', P .. 'mv:' .. id, '-inf', t, 'WITHSCORES', 'LIMIT', 0, 1)
      local queued = redis.call('ZCARD', P .. 'mv:' .. id)
      local activity = ''
      for _, raw in ipairs(redis.call('HVALS', P .. 'ai:' .. id)) do
        local c = tonumber(cjson.decode(raw).c)
        if activity == '' or c < tonumber(activity) then activity = fmt(c) end
      end
      out[#out + 1] = { id, status, f[1], inbox[2] or '', activity, tostring(queued), f[3] or '' }
    end
  end
end
return out
`,
  /** ARGV: instance id. Returns [status, execution id, parent id, parent task id, 1 when it has history] or false (the facts the lifecycle rules plan from). */
  wfFacts: `
local f = redis.call('HMGET', ik(ARGV[1]), 'status', 'exec', 'parent', 'ptask')
if not f[1] then return false end
f[5] = redis.call('LLEN', P .. 'h:' .. ARGV[1]) > 0 and 1 or 0
return f
`,
  /**
   * ARGV: transition JSON (a planned `Transition`, see `redis-backend.ts`), notifier. Applies it while the
   * instance still has the facts it was planned from: returns { 1, unfinished children (when it
   * finishes the instance) }, or { -1 } when they changed (the caller plans again).
   */
  wfTransition: `
local x, notifier = cjson.decode(ARGV[1]), ARGV[2]
local id, t = x.id, x.at
local f = redis.call('HMGET', ik(id), 'status', 'exec', 'created')
if f[1] ~= x.guard.status or f[2] ~= x.guard.exec or (redis.call('LLEN', P .. 'h:' .. id) > 0) ~= x.guard.started then return { -1 } end
if x.finish then
  dropActivities(id)
  dropInbox(id)
end
if #x.history > 0 then pushAll(P .. 'h:' .. id, x.history) end
setStatus(id, f[1], x.status, f[3])
if x.setOutput then
  if x.output then redis.call('HSET', ik(id), 'output', x.output) else redis.call('HDEL', ik(id), 'output') end
end
touch(id, t, x.status)
if x.finish then unlock(id) end
refresh(id)
local m = x.parent
if m then
  local ps = redis.call('HGET', ik(m.id), 'status')
  if ps and not TERMINAL[ps] then
    insertInbox(m.id, m.event, m.at, m.timer)
    refresh(m.id)
  end
end
local children = {}
if x.finish then
  for _, child in ipairs(redis.call('SMEMBERS', P .. 'ch:' .. id)) do
    local cs = redis.call('HGET', ik(child), 'status')
    if cs and not TERMINAL[cs] then children[#children + 1] = child end
  end
end
if x.wakes then publish(notifier) end
return { 1, children }
`,
  /** ARGV: instance id. Returns how many were deleted. */
  wfPurge: `
return purgeTree(ARGV[1])
`,
  /** ARGV: filter JSON (statuses are terminal ones), limit (0: none). */
  wfPurgeWhere: `
local f, limit = cjson.decode(ARGV[1]), tonumber(ARGV[2])
local maxScore = f.updatedTo and fmt(f.updatedTo) or '+inf'
local picked = {}
local offset = 0
while true do
  local chunk = redis.call('ZRANGEBYSCORE', P .. 'fin', '-inf', maxScore, 'LIMIT', offset, 200)
  if #chunk == 0 then break end
  for _, id in ipairs(chunk) do
    if matches(id, f) then picked[#picked + 1] = id end
    if limit > 0 and #picked >= limit then break end
  end
  if limit > 0 and #picked >= limit then break end
  offset = offset + #chunk
end
local count = 0
for _, id in ipairs(picked) do count = count + purgeTree(id) end
return count
`,
  /**
   * ARGV: filter JSON, page size (0: count only), token created ('' for none), token id. Returns the
   * matching instances' hashes newest first (at most size + 1), or for a count, [status, n] pairs.
   */
  wfList: `
local f, size = cjson.decode(ARGV[1]), tonumber(ARGV[2])
local maxScore = f.createdTo and fmt(f.createdTo) or '+inf'
local afterCreated, afterId = nil, nil
if ARGV[3] ~= '' then
  afterCreated, afterId = tonumber(ARGV[3]), ARGV[4]
  if not f.createdTo or afterCreated < f.createdTo then maxScore = fmt(afterCreated) end
end
local minScore = f.createdFrom and fmt(f.createdFrom) or '-inf'

-- Matches in one index, newest first (created desc, id desc): at most \`limit\` (0: all).
local function walk(index, limit)
  local found = {}
  local offset = 0
  while true do
    local chunk = redis.call('ZREVRANGEBYSCORE', index, maxScore, minScore, 'WITHSCORES', 'LIMIT', offset, 200)
    if #chunk == 0 then break end
    for i = 1, #chunk, 2 do
      local id, created = chunk[i], tonumber(chunk[i + 1])
      local after = not afterCreated or created < afterCreated or (created == afterCreated and id < afterId)
      if after and matches(id, f) then
        found[#found + 1] = { id, created }
        if limit > 0 and #found >= limit then return found end
      end
    end
    offset = offset + #chunk / 2
  end
  return found
end

-- Several statuses: each status's own index, merged, so no other status is read.
local indexes = {}
if f.statuses and #f.statuses > 1 and not f.name then
  for _, st in ipairs(f.statuses) do indexes[#indexes + 1] = P .. 'st:' .. st end
else
  indexes[1] = indexFor(f)
end

if size == 0 then
  local out = {}
  if f.statuses and not f.name and not f.prefix and not f.updatedTo and not afterCreated then
    -- Statuses and a creation range only: the status indexes count it without reading instances.
    for _, st in ipairs(f.statuses) do
      local n = redis.call('ZCOUNT', P .. 'st:' .. st, minScore, maxScore)
      if n > 0 then out[#out + 1] = { st, n } end
    end
    return out
  end
  local counts = {}
  for _, index in ipairs(indexes) do
    for _, hit in ipairs(walk(index, 0)) do
      local st = redis.call('HGET', ik(hit[1]), 'status')
      counts[st] = (counts[st] or 0) + 1
    end
  end
  for st, n in pairs(counts) do out[#out + 1] = { st, n } end
  return out
end

local hits = {}
for _, index in ipairs(indexes) do
  for _, hit in ipairs(walk(index, size + 1)) do hits[#hits + 1] = hit end
end
if #indexes > 1 then
  table.sort(hits, function(a, b) return a[2] > b[2] or (a[2] == b[2] and a[1] > b[1]) end)
end
local out = {}
for i = 1, math.min(#hits, size + 1) do out[i] = redis.call('HGETALL', ik(hits[i][1])) end
return out
`,
  /** ARGV: since. Returns [name, status, created, updated] per instance changed since then. */
  wfRecent: `
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'upd', ARGV[1], '+inf')) do
  local r = redis.call('HMGET', ik(id), 'name', 'status', 'created', 'updated')
  if r[1] then out[#out + 1] = r end
end
return out
`,
} as const;

/** A script's name, as registered with ioredis `defineCommand`. */
export type ScriptName = keyof typeof BODIES;

/** The full Lua source of each script: the prelude's helpers, then its body. */
export const SCRIPTS: Record<ScriptName, string> = Object.fromEntries(
  Object.entries(BODIES).map(([name, body]) => [name, PRELUDE + body]),
) as Record<ScriptName, string>;
