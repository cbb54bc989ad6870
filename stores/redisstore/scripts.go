package redisstore

import "github.com/redis/go-redis/v9"

// The Lua scripts. Each store operation runs one of them, once, so that it
// is one atomic step and one round trip (go-redis runs EVALSHA and falls
// back to EVAL when the server has not cached the script yet).
//
// Numbers reach Redis as ARGV strings or as Lua numbers handed to
// redis.call, which Redis converts exactly ("%.17g": integers below 2^53
// keep every digit); a number that Lua itself turns into a string (for a
// concatenation) goes through istr, as Lua's own conversion may print
// large integers in exponent form. Times are core's, passed in ARGV; the
// scripts never read Redis TIME. Every key a script touches, declared or
// found in an index, lies under the store's hash tag, so all of them live
// in one cluster slot.
//
// The counter scripts are the hot path and are written for the server's
// CPU: each redis.call, each closure and each string made costs time on
// the server, so the common Hit (counters that exist) makes two calls per
// key (HMGET, HSET; PEXPIRE only when the TTL needs refreshing), defines
// three functions and builds no string; the index writes and their
// collection run, and are defined, only when a Hit creates a counter.

// luaIstr defines istr, the number to string conversion for Lua
// concatenations.
const luaIstr = `
local function istr(x) return string.format('%.0f', x) end
`

// luaPolicy reads the ARGV head of the counter scripts that Peek needs:
//
//	1 now seconds, 2 now nanoseconds, 3 cool-off seconds, 4 cool-off
//	nanoseconds, 5 tier count, then per tier: failures, seconds,
//	nanoseconds
//
// and defines the Policy functions that read counters (hash fields f
// failures, s and n the last failure's seconds and nanoseconds, x until
// when (ms, core's clock) its TTL keeps it, -1 for no TTL).
const luaPolicy = `
local now_s, now_n = tonumber(ARGV[1]), tonumber(ARGV[2])
local cool_s, cool_n = tonumber(ARGV[3]), tonumber(ARGV[4])
local nt = tonumber(ARGV[5])

-- cooloff is Policy.CoolOffAt as seconds and nanoseconds.
local function cooloff(f)
  local s, n = cool_s, cool_n
  for p = 6, 3 + 3 * nt, 3 do
    if tonumber(ARGV[p]) <= f then s, n = tonumber(ARGV[p + 1]), tonumber(ARGV[p + 2]) end
  end
  return s, n
end

-- read returns a counter's failures, last failure, whether its hash
-- exists and its x (nil when unknown); an expired counter
-- (Policy.Expired, exact to the nanosecond) reads as zero.
local function read(k)
  local v = redis.call('HMGET', k, 'f', 's', 'n', 'x')
  if not v[1] then return 0, 0, 0, false end
  local f, ls, ln, x = tonumber(v[1]), tonumber(v[2]) or 0, tonumber(v[3]) or 0, tonumber(v[4])
  if f <= 0 then return 0, 0, 0, true, x end
  local cs, cn = cooloff(f)
  if cs == 0 and cn == 0 then return f, ls, ln, true, x end
  local ds, dn = now_s - ls, now_n - ln
  if dn < 0 then dn = dn + 1000000000; ds = ds - 1 end
  if ds > cs or (ds == cs and dn > cn) then return 0, 0, 0, true, x end
  return f, ls, ln, true, x
end
`

// luaCounters (after luaPolicy) reads the rest of the ARGV head of the
// scripts that change counters, after the tiers:
//
//	+1 limit, +2 extend ("1"/"0"), +3 idle TTL ms (0: none), +4 GC
//	margin ms
//
// and defines ttl, the TTL a counter needs after a write.
const luaCounters = `
local head = 5 + 3 * nt
local limit = tonumber(ARGV[head + 1])
local extend = ARGV[head + 2] == '1'
local idle = tonumber(ARGV[head + 3])
local margin = tonumber(ARGV[head + 4])
local now_ms = now_s * 1000 + math.floor(now_n / 1000000)

-- ttl is how long (ms) a counter of f failures, the last at ls, ln, is
-- kept: until it stops counting (core's clock) plus the margin; nil when
-- it must stay until reset (no cool-off and locked, or no idle TTL).
local function ttl(f, ls, ln)
  local cs, cn = cooloff(f)
  if cs == 0 and cn == 0 then
    if (limit > 0 and f >= limit) or idle <= 0 then return nil end
    return idle
  end
  return (ls - now_s) * 1000 + math.floor(ln / 1000000) - math.floor(now_n / 1000000)
    + cs * 1000 + math.ceil(cn / 1000000) + margin
end
`

// luaIndexes defines C, the all-counters index (KEYS[1], base .. "C"),
// base, and the functions that find and leave a counter's indexes. Keys of
// one parameter are in no index other than C: Reset computes the names of
// their counters.
const luaIndexes = `
local C = KEYS[1]
local base = string.sub(C, 1, -2)

-- indexes returns the IP and username index keys of counter m from its
-- name, base c:v1 then |<tag><length>:<value> per field (core.NewKey);
-- nil for a field the key lacks and for both when it has one field.
local function indexes(m)
  if string.sub(m, #base + 1, #base + 4) ~= 'c:v1' then return nil, nil end
  local p, ip, user, nf = #base + 5, nil, nil, 0
  while p <= #m do
    local c = string.find(m, ':', p + 2, true)
    if string.byte(m, p) ~= 124 or not c then return nil, nil end
    local len = tonumber(string.sub(m, p + 2, c - 1))
    if not len then return nil, nil end
    local tag = string.byte(m, p + 1)
    if tag == 105 then ip = string.sub(m, c + 1, c + len)
    elseif tag == 117 then user = string.sub(m, c + 1, c + len) end
    nf = nf + 1
    p = c + len + 1
  end
  if nf < 2 then return nil, nil end
  return ip and (base .. 'i:' .. ip), user and (base .. 'u:' .. user)
end

-- unindex removes counter m from C and its indexes.
local function unindex(m)
  redis.call('ZREM', C, m)
  local xi, xu = indexes(m)
  if xi then redis.call('ZREM', xi, m) end
  if xu then redis.call('ZREM', xu, m) end
end
`

// luaGC (after luaIstr, luaPolicy, luaCounters and luaIndexes) defines due
// and gc, the collection of C. C scores each counter by when gc should
// look at it again (ms, core's clock): its deadline when it was created
// (or last looked at), or a recheck period (CounterTTL, else a day) later
// when it is kept until reset. Later failures extend a counter's TTL
// without touching C, so a due entry is only a candidate: gc asks Redis
// whether its counter still exists (PTTL) and removes the entry only when
// it does not.
const luaGC = `
-- due is C's score of a counter kept for t ms (nil: until reset).
-- Entries come due a margin after their deadline (which has a margin
-- already): an app instance whose clock runs a little fast does not
-- collect what the others still count.
local function due(t)
  if t == nil then t = idle > 0 and idle or 86400000 end
  return now_ms + t + margin
end

-- gc looks at up to 16 due entries of C: it removes those whose counter
-- is gone (its TTL ran out) from C and their indexes, and schedules the
-- others again from their TTL.
local function gc()
  local ms = redis.call('ZRANGEBYSCORE', C, '-inf', '(' .. istr(now_ms - margin), 'LIMIT', 0, 16)
  for _, m in ipairs(ms) do
    local t = redis.call('PTTL', m)
    if t == -2 then unindex(m)
    elseif t == -1 then redis.call('ZADD', C, due(nil), m)
    else redis.call('ZADD', C, due(t), m) end
  end
end
`

// hitScript is Store.Hit. KEYS: 1 the all-counters index, then per key:
// counter, IP index, username index (an absent index is the counter key
// again: keys of one parameter are in none). Replies {locked, then
// failures, seconds, nanoseconds per key}.
//
// A Hit that creates a counter (its hash did not exist) enters it in C
// and its indexes and runs gc once; other Hits leave the indexes alone.
var hitScript = redis.NewScript(luaPolicy + luaCounters + `
local n = (#KEYS - 1) / 3
local out = {0}
local locked = false
-- out gets each key's counter, -1 failures for a repeated key after its
-- first; made[i] is whether the hash of key i did not exist, then whether
-- this Hit created it, with its TTL (-1: none); xs[i] is its x.
local made, xs = {}, {}
for i = 1, n do
  local k = KEYS[3 * i - 1]
  local f, ls, ln, ex = 0, 0, 0, true
  for j = 1, i - 1 do
    if KEYS[3 * j - 1] == k then f = -1; break end
  end
  if f == 0 then
    f, ls, ln, ex, xs[i] = read(k)
    if limit > 0 and f >= limit then locked = true end
  end
  made[i] = not ex
  out[3 * i - 1], out[3 * i], out[3 * i + 1] = f, ls, ln
end
local created = false
if extend or not locked then
  for i = 1, n do
    local f = out[3 * i - 1]
    if f >= 0 then
      local k = KEYS[3 * i - 1]
      f = f + 1
      out[3 * i - 1], out[3 * i], out[3 * i + 1] = f, now_s, now_n
      -- The TTL is refreshed only when it would end before the counter
      -- stops counting plus the margin (x < now + t), and then to a margin
      -- beyond: repeated failures skip the PEXPIRE for a margin's time.
      local t, x = ttl(f, now_s, now_n), xs[i]
      if t and (x == nil or x < now_ms + t) then
        t = math.max(t, 1) + margin
        redis.call('HSET', k, 'f', f, 's', ARGV[1], 'n', ARGV[2], 'x', now_ms + t)
        redis.call('PEXPIRE', k, t)
      elseif t == nil and x ~= -1 then
        redis.call('HSET', k, 'f', f, 's', ARGV[1], 'n', ARGV[2], 'x', -1)
        if not made[i] then redis.call('PERSIST', k) end
      else
        redis.call('HSET', k, 'f', f, 's', ARGV[1], 'n', ARGV[2])
      end
      if made[i] then created = true; made[i] = t or -1 end
    else
      made[i] = false
    end
  end
end
if created then
` + luaIstr + luaIndexes + luaGC + `
  for i = 1, n do
    if made[i] then
      local k, xi, xu, t = KEYS[3 * i - 1], KEYS[3 * i], KEYS[3 * i + 1], made[i]
      local score = due(t >= 0 and t or nil)
      redis.call('ZADD', C, score, k)
      if xi ~= k then redis.call('ZADD', xi, score, k) end
      if xu ~= k then redis.call('ZADD', xu, score, k) end
    end
  end
  gc()
end
if locked then out[1] = 1 end
-- a repeated key reports the counter of its first occurrence
for i = 2, n do
  if out[3 * i - 1] == -1 then
    for j = 1, i - 1 do
      if KEYS[3 * j - 1] == KEYS[3 * i - 1] then
        out[3 * i - 1], out[3 * i], out[3 * i + 1] = out[3 * j - 1], out[3 * j], out[3 * j + 1]
        break
      end
    end
  end
end
return out
`)

// luaRelease (after luaCounters) defines release(n): Store.Release on the
// n keys of KEYS laid out as hitScript's. A counter released to zero is
// deleted with its entries in C and its indexes; otherwise its TTL changes
// only when it must (C's score is a hint that gc checks).
const luaRelease = `
local function release(n)
  for i = 1, n do
    local k = KEYS[3 * i - 1]
    local dup = false
    for j = 1, i - 1 do
      if KEYS[3 * j - 1] == k then dup = true; break end
    end
    if not dup then
      local f, ls, ln, exists, x = read(k)
      local t
      if f > 1 then t = ttl(f - 1, ls, ln) end
      if f <= 1 or (t and t <= 0) then
        if exists then
          local xi, xu = KEYS[3 * i], KEYS[3 * i + 1]
          redis.call('DEL', k)
          redis.call('ZREM', KEYS[1], k)
          if xi ~= k then redis.call('ZREM', xi, k) end
          if xu ~= k then redis.call('ZREM', xu, k) end
        end
      elseif t and (x == nil or x < now_ms + t) then
        -- as in Hit: the TTL changes only when it would not cover t (a
        -- longer one left by a higher tier only delays the collection)
        redis.call('HSET', k, 'f', f - 1, 'x', now_ms + t)
        redis.call('PEXPIRE', k, t)
      elseif t == nil and x ~= -1 then
        redis.call('HSET', k, 'f', f - 1, 'x', -1)
        redis.call('PERSIST', k)
      else
        redis.call('HSET', k, 'f', f - 1)
      end
    end
  end
end
`

// releaseScript is Store.Release; KEYS and ARGV as hitScript's.
var releaseScript = redis.NewScript(luaPolicy + luaCounters + luaRelease + `
release((#KEYS - 1) / 3)
return 0
`)

// peekScript is Store.Peek. KEYS: the counters. ARGV: luaPolicy's head.
// Replies failures, seconds, nanoseconds per key.
var peekScript = redis.NewScript(luaPolicy + `
local out = {}
for i = 1, #KEYS do
  out[3 * i - 2], out[3 * i - 1], out[3 * i] = read(KEYS[i])
end
return out
`)

// clearScript is Store.Clear; KEYS as hitScript's, no ARGV.
var clearScript = redis.NewScript(`
local all = KEYS[1]
for i = 1, (#KEYS - 1) / 3 do
  local k, xi, xu = KEYS[3 * i - 1], KEYS[3 * i], KEYS[3 * i + 1]
  redis.call('DEL', k)
  redis.call('ZREM', all, k)
  if xi ~= k then redis.call('ZREM', xi, k) end
  if xu ~= k then redis.call('ZREM', xu, k) end
end
return 0
`)

// luaRecords defines the removal of an attempt record (hash fields u, ip,
// ua, ac, p, g, po, n failures, fa and la first and last attempt, xi and xu
// its IP and username index keys) and of a log row.
const luaRecords = `
local function delrecord(rall, m)
  local x = redis.call('HMGET', m, 'xi', 'xu')
  local n = redis.call('DEL', m)
  redis.call('ZREM', rall, m)
  if x[1] then redis.call('ZREM', x[1], m) end
  if x[2] then redis.call('ZREM', x[2], m) end
  return n
end
-- dellog removes log row id of index idx; hp and up are the key prefixes
-- of the row hashes and of the per-username indexes.
local function dellog(idx, hp, up, id)
  local hk = hp .. id
  local u = redis.call('HGET', hk, 'u')
  local n = redis.call('DEL', hk)
  redis.call('ZREM', idx, id)
  if u then redis.call('ZREM', up .. u, id) end
  return n
end
-- trimlogs removes the rows older than cutoff (a few per call) and the
-- oldest beyond max, never row keep.
local function trimlogs(idx, hp, up, cutoff, max, keep)
  if cutoff ~= '' then
    local old = redis.call('ZRANGEBYSCORE', idx, '-inf', '(' .. cutoff, 'LIMIT', 0, 32)
    for _, id in ipairs(old) do
      if id ~= keep then dellog(idx, hp, up, id) end
    end
  end
  local excess = redis.call('ZCARD', idx) - max
  if excess > 0 then
    local ids = redis.call('ZRANGE', idx, 0, excess)
    for _, id in ipairs(ids) do
      if excess <= 0 then break end
      if id ~= keep then dellog(idx, hp, up, id); excess = excess - 1 end
    end
  end
end
`

// resetScript is Store.Reset. KEYS: 1 all counters, 2 counter IP index,
// 3 counter username index, 4 all records, 5 record IP index, 6 record
// username index, 7 the "records kept" flag, 8 the counter of the IP
// alone, 9 the counter of the username alone (unused ones repeat 1 or 4).
// ARGV: 1 counter mode, 2 record mode: all, ip, user, and, or, none. Replies
// {counters removed, records removed, records kept}.
var resetScript = redis.NewScript(luaIstr + luaIndexes + luaRecords + `
local xi, xu, rall, ri, ru = KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local counters, records = 0, 0
local function delcounter(m)
  counters = counters + redis.call('DEL', m)
  unindex(m)
end
local function delrec(m) records = records + delrecord(rall, m) end
-- each calls fn on the members of idx (that are also in also, when
-- given) and removes them from the indexes, stale ones included.
local function each(idx, fn, also)
  local ms = redis.call('ZRANGE', idx, 0, -1)
  for _, m in ipairs(ms) do
    if also == nil then
      fn(m)
    elseif redis.call('ZSCORE', also, m) then
      fn(m)
      redis.call('ZREM', idx, m)
      redis.call('ZREM', also, m)
    end
  end
  if also == nil then redis.call('DEL', idx) end
end
-- run selects by mode; ic and uc are the counters of the IP and the
-- username alone (nil for records), which no index but C holds.
local function run(mode, a, i, u, fn, ic, uc)
  if mode == 'none' then return
  elseif mode == 'all' then each(a, fn)
  elseif mode == 'ip' then each(i, fn); if ic then fn(ic) end
  elseif mode == 'user' then each(u, fn); if uc then fn(uc) end
  elseif mode == 'and' then each(i, fn, u)
  else
    each(i, fn); each(u, fn)
    if ic then fn(ic) end
    if uc then fn(uc) end
  end
end
run(ARGV[1], C, xi, xu, delcounter, KEYS[8], KEYS[9])
run(ARGV[2], rall, ri, ru, delrec, nil, nil)
return {counters, records, redis.call('EXISTS', KEYS[7])}
`)

// recordFailureScript is RecordStore.RecordFailure. KEYS: 1 all records,
// 2 the record, 3 record IP index, 4 record username index, 5 the
// "records kept" flag, 6 all failure logs, 7 failure log ID sequence, 8
// failure log username index. ARGV: 1 key base, 2 username, 3 ip, 4 user
// agent, 5 accept, 6 path, 7 GET data, 8 POST data, 9 first attempt, 10
// last attempt, 11 last attempt µs, 12 record TTL ms (0: none), 13 record
// cutoff µs ("": none), 14 max records, 15 failure log ("1"/"0"), 16
// locked out, 17 per-user cap, 18 max logs, 19 log TTL ms, 20 log cutoff
// µs.
var recordFailureScript = redis.NewScript(luaIstr + luaRecords + `
local rall, rk, ri, ru = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local base = ARGV[1]
redis.call('SET', KEYS[5], '1')
if redis.call('HSETNX', rk, 'fa', ARGV[9]) == 1 then
  redis.call('HSET', rk, 'u', ARGV[2], 'ip', ARGV[3], 'ua', ARGV[4], 'xi', ri, 'xu', ru)
end
redis.call('HINCRBY', rk, 'n', 1)
redis.call('HSET', rk, 'ac', ARGV[5], 'p', ARGV[6], 'g', ARGV[7], 'po', ARGV[8], 'la', ARGV[10])
for _, z in ipairs({rall, ri, ru}) do
  redis.call('ZADD', z, ARGV[11], rk)
  if ARGV[12] ~= '0' then redis.call('PEXPIRE', z, ARGV[12]) end
end
if ARGV[12] ~= '0' then
  redis.call('PEXPIRE', rk, ARGV[12])
  local old = redis.call('ZRANGEBYSCORE', rall, '-inf', '(' .. ARGV[13], 'LIMIT', 0, 32)
  for _, m in ipairs(old) do
    if m ~= rk then delrecord(rall, m) end
  end
  redis.call('ZREMRANGEBYSCORE', ri, '-inf', '(' .. ARGV[13])
  redis.call('ZREMRANGEBYSCORE', ru, '-inf', '(' .. ARGV[13])
end
local excess = redis.call('ZCARD', rall) - tonumber(ARGV[14])
if excess > 0 then
  local ms = redis.call('ZRANGE', rall, 0, excess)
  for _, m in ipairs(ms) do
    if excess <= 0 then break end
    if m ~= rk then delrecord(rall, m); excess = excess - 1 end
  end
end
if ARGV[15] == '1' then
  local fall, fu = KEYS[6], KEYS[8]
  local hp, up = base .. 'f:', base .. 'fu:'
  local id = istr(redis.call('INCR', KEYS[7]))
  local fk = hp .. id
  redis.call('HSET', fk, 'u', ARGV[2], 'ip', ARGV[3], 'ua', ARGV[4], 'p', ARGV[6], 't', ARGV[10], 'lo', ARGV[16])
  redis.call('ZADD', fall, ARGV[11], id)
  redis.call('ZADD', fu, id, id)
  if ARGV[19] ~= '0' then
    redis.call('PEXPIRE', fk, ARGV[19])
    redis.call('PEXPIRE', fu, ARGV[19])
    redis.call('PEXPIRE', fall, ARGV[19])
  end
  local per = tonumber(ARGV[17])
  if per > 0 then
    local c = redis.call('ZCARD', fu)
    if c > per then
      local ids = redis.call('ZRANGE', fu, 0, c - per - 1)
      for _, x in ipairs(ids) do
        redis.call('DEL', hp .. x)
        redis.call('ZREM', fall, x)
      end
      redis.call('ZREMRANGEBYRANK', fu, 0, c - per - 1)
    end
  end
  trimlogs(fall, hp, up, ARGV[20], tonumber(ARGV[18]), id)
end
return 0
`)

// luaLogin (after luaRecords) defines login(a, o): RecordStore.RecordLogin
// with its KEYS from a and its ARGV after o. KEYS: a all access logs, a+1
// ID sequence, a+2 username index. ARGV: o+1 key base, o+2 username, o+3
// ip, o+4 user agent, o+5 path, o+6 login time, o+7 logout time, o+8
// login µs, o+9 log TTL ms, o+10 log cutoff µs, o+11 max logs. Returns the
// row's ID.
const luaLogin = `
local function login(a, o)
  local aall, au = KEYS[a], KEYS[a + 2]
  local hp, up = ARGV[o + 1] .. 'a:', ARGV[o + 1] .. 'au:'
  local id = istr(redis.call('INCR', KEYS[a + 1]))
  local hk = hp .. id
  redis.call('HSET', hk, 'u', ARGV[o + 2], 'ip', ARGV[o + 3], 'ua', ARGV[o + 4], 'p', ARGV[o + 5],
    'li', ARGV[o + 6], 'lo', ARGV[o + 7])
  redis.call('ZADD', aall, ARGV[o + 8], id)
  redis.call('ZADD', au, id, id)
  if ARGV[o + 9] ~= '0' then
    redis.call('PEXPIRE', hk, ARGV[o + 9])
    redis.call('PEXPIRE', au, ARGV[o + 9])
    redis.call('PEXPIRE', aall, ARGV[o + 9])
  end
  trimlogs(aall, hp, up, ARGV[o + 10], tonumber(ARGV[o + 11]), id)
  return tonumber(id)
end
`

// recordLoginScript is RecordStore.RecordLogin: KEYS and ARGV as login's
// from 1 and after 0.
var recordLoginScript = redis.NewScript(luaIstr + luaRecords + luaLogin + `
return login(1, 0)
`)

// releaseLoginScript is Store.ReleaseAndRecordLogin: release, then login.
// KEYS: hitScript's, then login's three. ARGV: hitScript's (the policy
// head), then login's.
var releaseLoginScript = redis.NewScript(luaIstr + luaPolicy + luaCounters + luaRelease + luaRecords + luaLogin + `
release((#KEYS - 4) / 3)
return login(#KEYS - 2, 9 + 3 * nt)
`)

// recordLogoutScript is RecordStore.RecordLogout. KEYS: 1 the username's
// access log index. ARGV: 1 key base, 2 ip ("" any), 3 logout time.
var recordLogoutScript = redis.NewScript(`
local au = KEYS[1]
local ids = redis.call('ZREVRANGE', au, 0, -1)
for _, id in ipairs(ids) do
  local v = redis.call('HMGET', ARGV[1] .. 'a:' .. id, 'ip', 'lo')
  if not v[1] then
    redis.call('ZREM', au, id)
  elseif (ARGV[2] == '' or v[1] == ARGV[2]) and (not v[2] or v[2] == '') then
    redis.call('HSET', ARGV[1] .. 'a:' .. id, 'lo', ARGV[3])
    return 1
  end
end
return 0
`)

// deleteLogsScript is DeleteAccessLogs and DeleteFailureLogs. KEYS: 1 the
// log index. ARGV: 1 row hash prefix, 2 username index prefix, 3 time
// field, 4 before µs ("": all), 5 before as stored. Replies rows removed.
var deleteLogsScript = redis.NewScript(luaIstr + luaRecords + `
local idx, hp, up, tf = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local ids
if ARGV[4] == '' then
  ids = redis.call('ZRANGE', idx, 0, -1, 'WITHSCORES')
else
  ids = redis.call('ZRANGEBYSCORE', idx, '-inf', ARGV[4], 'WITHSCORES')
end
local n = 0
for i = 1, #ids, 2 do
  local id = ids[i]
  local rm = true
  if ARGV[4] ~= '' and tonumber(ids[i + 1]) >= tonumber(ARGV[4]) then
    -- the same microsecond as before: compare the stored times, which
    -- then have the same seconds and nine nanosecond digits.
    local t = redis.call('HGET', hp .. id, tf)
    rm = (not t) or t < ARGV[5]
  end
  if rm then n = n + dellog(idx, hp, up, id) end
end
return n
`)

// listScript reads the rows of an index. KEYS: 1 the index. ARGV: 1 the
// row hash prefix ("" when members are keys). Replies {member, field,
// value, ...} per existing row, oldest first.
var listScript = redis.NewScript(`
local out = {}
local ms = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, m in ipairs(ms) do
  local h = redis.call('HGETALL', ARGV[1] .. m)
  if #h > 0 then
    table.insert(h, 1, m)
    out[#out + 1] = h
  end
end
return out
`)
