/**
 * The Lua script behind every `state.redis` write. Redis runs a script atomically, so the etag checks
 * and the writes they guard cannot interleave with another client, and a transaction is one script:
 * every check runs before any write, so one failed check applies nothing.
 *
 * Storage layout is Dapr's: one hash per key with `data` (the value bytes) and `version` (the etag).
 * Weft adds an optional `contentType` field. Versions come from one store-wide counter rather than
 * Dapr's per-key `HINCRBY`, so a key that is deleted and written again never reuses an etag a client
 * may still hold (the ABA problem); the counter is only ever raised, and a new version always
 * exceeds the key's previous one, so hashes written by Dapr keep working.
 */

/**
 * The counter key. It ends with `||`, which no stored state key can: a stored key is a prefix plus a
 * non-empty user key, and user keys may not contain `||`.
 */
export const VERSION_COUNTER_KEY = 'weft-state-version||';

/** Number of ARGV entries per operation. */
export const ARGS_PER_OP = 6;

/**
 * KEYS[1] is {@link VERSION_COUNTER_KEY}; KEYS[i+1] is the key of operation i.
 * ARGV per operation: kind (`s` set, `d` delete), etag (`''` for none), first-write (`1`/`0`),
 * data, ttl seconds (`''` or `-1` for none), content type (`''` for none).
 * Returns 0 on success, or the 1-based index of the first operation whose check failed.
 */
export const APPLY_SCRIPT = `
local n = #KEYS - 1
local staged = {}
local function current(key)
  local s = staged[key]
  if s ~= nil then return s end
  if redis.call('EXISTS', key) == 0 then return false end
  return redis.call('HGET', key, 'version') or ''
end
for i = 1, n do
  local key = KEYS[i + 1]
  local base = (i - 1) * ${ARGS_PER_OP}
  local kind, etag, fw = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3]
  local cur = current(key)
  -- As Dapr's Lua scripts: an etag is checked only against a key that exists, so a save or a delete
  -- with an etag on a missing key goes through.
  if etag ~= '' then
    if cur ~= false and cur ~= etag then return i end
  elseif kind == 's' and fw == '1' and cur ~= false then
    return i
  end
  -- A version written earlier in this script is unknown to the client, so no etag can match it.
  if kind == 'd' then staged[key] = false else staged[key] = '\\0' end
end
for i = 1, n do
  local key = KEYS[i + 1]
  local base = (i - 1) * ${ARGS_PER_OP}
  if ARGV[base + 1] == 'd' then
    redis.call('DEL', key)
  else
    local previous = tonumber(redis.call('HGET', key, 'version')) or 0
    local version = redis.call('INCR', KEYS[1])
    if version <= previous then
      version = previous + 1
      redis.call('SET', KEYS[1], version)
    end
    redis.call('HSET', key, 'data', ARGV[base + 4], 'version', version)
    if ARGV[base + 6] ~= '' then
      redis.call('HSET', key, 'contentType', ARGV[base + 6])
    else
      redis.call('HDEL', key, 'contentType')
    end
    local ttl = ARGV[base + 5]
    if ttl == '' or tonumber(ttl) < 0 then
      redis.call('PERSIST', key)
    else
      redis.call('EXPIRE', key, ttl)
    end
  end
end
return 0
`;
