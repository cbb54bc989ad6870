package redisstore

import "github.com/redis/go-redis/v9"

// The Lua scripts. Each store operation runs one of them, once, so that it
// is one atomic step and one round trip (go-redis runs EVALSHA and falls
// back to EVAL when the server has not cached the script yet).
//
// Numbers reach Redis through istr, never through Lua's own number to
// string conversion, which may print large integers in exponent form.
// Times are core's, passed in ARGV; the scripts never read Redis TIME.
// Every key a script touches, declared or found in an index, lies under
// the store's hash tag, so all of them live in one cluster slot.

// luaIstr defines istr, the number to string conversion; scripts start
// with it.
const luaIstr = `
local function istr(x) return string.format('%.0f', x) end
`

// luaPolicy reads the counter scripts' common ARGV head:
//
//	1 now seconds, 2 now nanoseconds, 3 limit, 4 extend ("1"/"0"),
//	5 idle TTL ms (0: none), 6 GC margin ms, 7 cool-off seconds,
//	8 cool-off nanoseconds, 9 tier count, then per tier: failures,
//	seconds, nanoseconds
//
// and defines the Policy functions that read counters (hash fields f
// failures, s and n the last failure's seconds and nanoseconds, xi and xu
// the IP and username index keys).
const luaPolicy = `
local now_s = tonumber(ARGV[1])
local now_n = tonumber(ARGV[2])
local now_ms = now_s * 1000 + math.floor(now_n / 1000000)
local limit = tonumber(ARGV[3])
local extend = ARGV[4] == '1'
local idle = tonumber(ARGV[5])
local margin = tonumber(ARGV[6])
-- Entries are collected a margin after their deadline (which has a margin
-- already): an app instance whose clock runs a little fast does not delete
-- what the others still count.
local gc_ms = now_ms - margin
local cool_s, cool_n = tonumber(ARGV[7]), tonumber(ARGV[8])
local nt = tonumber(ARGV[9])
local tiers = {}
for i = 1, nt do
  local p = 9 + 3 * (i - 1)
  tiers[i] = {tonumber(ARGV[p + 1]), tonumber(ARGV[p + 2]), tonumber(ARGV[p + 3])}
end

-- cooloff is Policy.CoolOffAt as seconds and nanoseconds.
local function cooloff(f)
  local s, n = cool_s, cool_n
  for i = 1, nt do
    if tiers[i][1] <= f then s, n = tiers[i][2], tiers[i][3] end
  end
  return s, n
end

-- expired is Policy.Expired, exact to the nanosecond.
local function expired(f, ls, ln)
  if f <= 0 then return true end
  local cs, cn = cooloff(f)
  if cs == 0 and cn == 0 then return false end
  local ds, dn = now_s - ls, now_n - ln
  if dn < 0 then dn = dn + 1000000000; ds = ds - 1 end
  return ds > cs or (ds == cs and dn > cn)
end

-- read returns a counter's failures, last failure and whether its hash
-- exists; an expired counter reads as zero.
local function read(k)
  local v = redis.call('HMGET', k, 'f', 's', 'n')
  if not v[1] then return 0, 0, 0, false end
  local f, ls, ln = tonumber(v[1]), tonumber(v[2]) or 0, tonumber(v[3]) or 0
  if expired(f, ls, ln) then return 0, 0, 0, true end
  return f, ls, ln, true
end
`

// luaCounters (after luaPolicy) defines the writes of counters and their
// indexes, for the scripts that change them (Peek only reads, and skips
// defining these).
const luaCounters = `
-- deadline is when (core's clock, ms) a counter stops counting, plus the
-- margin; nil when it must stay until reset: no cool-off and locked.
local function deadline(f, ls, ln)
  local cs, cn = cooloff(f)
  if cs == 0 and cn == 0 then
    if (limit > 0 and f >= limit) or idle <= 0 then return nil end
    return now_ms + idle
  end
  return ls * 1000 + math.floor(ln / 1000000) + cs * 1000 + math.ceil(cn / 1000000) + margin
end

-- settle gives an index key the TTL of its furthest entry, after trimming
-- (when trim) the entries whose deadline passed.
local function settle(idx, trim)
  if trim then redis.call('ZREMRANGEBYSCORE', idx, '-inf', '(' .. istr(gc_ms)) end
  local top = redis.call('ZREVRANGE', idx, 0, 0, 'WITHSCORES')
  if #top == 0 then return end
  if top[2] == 'inf' or top[2] == '+inf' then
    redis.call('PERSIST', idx)
  else
    redis.call('PEXPIRE', idx, istr(math.max(1, tonumber(top[2]) - now_ms)))
  end
end

-- drop deletes counter k and its index entries.
local function drop(all, k, xi, xu)
  redis.call('DEL', k)
  redis.call('ZREM', all, k)
  if xi ~= k then redis.call('ZREM', xi, k) end
  if xu ~= k then redis.call('ZREM', xu, k) end
end

-- keep sets counter k's TTL and index entries after a write.
local function keep(all, k, xi, xu, f, ls, ln)
  local dl = deadline(f, ls, ln)
  local score
  if dl == nil then
    redis.call('PERSIST', k)
    score = '+inf'
  else
    if dl <= now_ms then drop(all, k, xi, xu) return end
    redis.call('PEXPIRE', k, istr(dl - now_ms))
    score = istr(dl)
  end
  redis.call('ZADD', all, score, k)
  if xi ~= k then redis.call('ZADD', xi, score, k); settle(xi, true) end
  if xu ~= k then redis.call('ZADD', xu, score, k); settle(xu, true) end
end

-- gc deletes up to 16 counters whose deadline passed, except those of the
-- call in progress (skip), and keeps the all-counters index's TTL.
local function gc(all, skip)
  local stale = redis.call('ZRANGEBYSCORE', all, '-inf', '(' .. istr(gc_ms), 'LIMIT', 0, 16)
  for _, m in ipairs(stale) do
    if not skip[m] then
      local x = redis.call('HMGET', m, 'xi', 'xu')
      redis.call('DEL', m)
      redis.call('ZREM', all, m)
      if x[1] then redis.call('ZREM', x[1], m) end
      if x[2] then redis.call('ZREM', x[2], m) end
    end
  end
  settle(all, false)
end
`

// hitScript is Store.Hit. KEYS: 1 the all-counters index, then per key:
// counter, IP index, username index (an absent index is the counter key
// again). Replies {locked, then failures, seconds, nanoseconds per key}.
var hitScript = redis.NewScript(luaIstr + luaPolicy + luaCounters + `
local all = KEYS[1]
local n = (#KEYS - 1) / 3
local seen, st = {}, {}
local locked = false
for i = 1, n do
  local k = KEYS[3 * i - 1]
  if not seen[k] then
    seen[k] = i
    local f, ls, ln = read(k)
    st[i] = {f, ls, ln}
    if limit > 0 and f >= limit then locked = true end
  end
end
if extend or not locked then
  for i = 1, n do
    local k = KEYS[3 * i - 1]
    if seen[k] == i then
      local c = st[i]
      c[1], c[2], c[3] = c[1] + 1, now_s, now_n
      local xi, xu = KEYS[3 * i], KEYS[3 * i + 1]
      redis.call('HSET', k, 'f', istr(c[1]), 's', istr(now_s), 'n', istr(now_n))
      if c[1] == 1 then
        if xi ~= k then redis.call('HSET', k, 'xi', xi) end
        if xu ~= k then redis.call('HSET', k, 'xu', xu) end
      end
      keep(all, k, xi, xu, c[1], now_s, now_n)
    end
  end
end
gc(all, seen)
local out = {locked and 1 or 0}
for i = 1, n do
  local c = st[seen[KEYS[3 * i - 1]]]
  out[#out + 1] = c[1]
  out[#out + 1] = c[2]
  out[#out + 1] = c[3]
end
return out
`)

// luaRelease (after luaCounters) defines release(n): Store.Release on the
// n keys of KEYS laid out as hitScript's.
const luaRelease = `
local function release(n)
  local all = KEYS[1]
  local seen = {}
  for i = 1, n do
    local k = KEYS[3 * i - 1]
    if not seen[k] then
      seen[k] = true
      local xi, xu = KEYS[3 * i], KEYS[3 * i + 1]
      local f, ls, ln, exists = read(k)
      if f <= 1 then
        if exists then drop(all, k, xi, xu) end
      else
        redis.call('HSET', k, 'f', istr(f - 1))
        keep(all, k, xi, xu, f - 1, ls, ln)
      end
    end
  end
end
`

// releaseScript is Store.Release; KEYS and ARGV as hitScript's.
var releaseScript = redis.NewScript(luaIstr + luaPolicy + luaCounters + luaRelease + `
release((#KEYS - 1) / 3)
return 0
`)

// peekScript is Store.Peek. KEYS: the counters. Replies failures,
// seconds, nanoseconds per key.
var peekScript = redis.NewScript(luaIstr + luaPolicy + `
local out = {}
for i = 1, #KEYS do
  local f, ls, ln = read(KEYS[i])
  out[#out + 1] = f
  out[#out + 1] = ls
  out[#out + 1] = ln
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
// username index, 7 the "records kept" flag (unused indexes repeat 1 or
// 4). ARGV: 1 counter mode, 2 record mode: all, ip, user, and, or.
// Replies {counters removed, records removed, records kept}.
var resetScript = redis.NewScript(luaIstr + luaRecords + `
local all, xi, xu, rall, ri, ru = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local counters, records = 0, 0
local function delcounter(m)
  local x = redis.call('HMGET', m, 'xi', 'xu')
  counters = counters + redis.call('DEL', m)
  redis.call('ZREM', all, m)
  if x[1] then redis.call('ZREM', x[1], m) end
  if x[2] then redis.call('ZREM', x[2], m) end
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
local function run(mode, a, i, u, fn)
  if mode == 'all' then each(a, fn)
  elseif mode == 'ip' then each(i, fn)
  elseif mode == 'user' then each(u, fn)
  elseif mode == 'and' then each(i, fn, u)
  else each(i, fn); each(u, fn) end
end
run(ARGV[1], all, xi, xu, delcounter)
run(ARGV[2], rall, ri, ru, delrec)
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
