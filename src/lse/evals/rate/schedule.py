"""Where a rate budget books call starts: in this process, or in Redis for every process.

A schedule mirrors the provider's token bucket as a GCRA timetable per dimension
(`requests`, `tokens`): `tat` is the theoretical arrival time of the next unit, `unit_s`
the seconds one unit costs at the paced rate, and a call may start once
`tat - tolerance <= now`, where the tolerance lets at most `BURST_S` worth of calls go
back to back. Three operations change it:

- `reserve(tokens)`: book the next start for one call (1 request, `tokens` tokens) and
  return how long to wait for it;
- `hold(wait_s)`: the provider refused a call and said when the next one is allowed:
  nothing starts before then, and the mirror is empty (later starts are paced);
- `cap(dim, remaining)`: the provider reported `remaining` units left: the mirror never
  believes it holds more;
- `configure(dim, unit_s)`: the pace learned from the headers; the first one starts from
  an empty mirror, since the calls that went out unpaced before it may have spent the
  provider's burst.

`LocalSchedule` keeps the timetable in memory (one process); `RedisSchedule` runs the
same arithmetic in one Lua script per operation on the Redis server's clock, so every
process sharing a key books from one timetable. `tests/evals/test_rate_budget.py` drives
both with the same sequence and expects the same waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

DIMENSIONS = ("requests", "tokens")
BURST_S = 1.0  # at most one second's worth of the paced rate back to back: OpenAI may
# enforce a per-minute limit per second ("quantized"), so a minute's budget is no burst allowance
IDLE_TTL_S = 3600  # a shared timetable nobody used for this long is dropped from Redis


class Schedule(Protocol):
    def configure(self, dim: str, unit_s: float | None) -> None: ...
    def reserve(self, tokens: float) -> float: ...
    def hold(self, wait_s: float) -> None: ...
    def cap(self, dim: str, remaining: float, cost: float) -> None: ...


def _tolerance(unit_s: float, cost: float) -> float:
    return max(0.0, BURST_S - cost * unit_s)


class LocalSchedule:
    """The timetable for the runs of one process. Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.unit_s: dict[str, float | None] = dict.fromkeys(DIMENSIONS)
        self.tat: dict[str, float] = dict.fromkeys(DIMENSIONS, 0.0)
        self.hold_until = 0.0

    def configure(self, dim: str, unit_s: float | None) -> None:
        with self._lock:
            if unit_s and not self.unit_s[dim]:  # first pace: what went unpaced before is unknown
                self.tat[dim] = max(self.tat[dim], self._clock() + BURST_S)
            self.unit_s[dim] = unit_s

    def reserve(self, tokens: float) -> float:
        with self._lock:
            now = self._clock()
            costs = {"requests": 1.0, "tokens": tokens}
            start = max(now, self.hold_until)
            paced = [(d, u, costs[d]) for d in DIMENSIONS if (u := self.unit_s[d]) and costs[d] > 0]
            for dim, unit, cost in paced:
                start = max(start, self.tat[dim] - _tolerance(unit, cost))
            for dim, unit, cost in paced:
                self.tat[dim] = max(self.tat[dim], now) + cost * unit
            return start - now

    def hold(self, wait_s: float) -> None:
        with self._lock:
            now = self._clock()
            self.hold_until = max(self.hold_until, now + wait_s)
            unit = self.unit_s["requests"]
            if unit:
                self.tat["requests"] = max(self.tat["requests"], now + wait_s + _tolerance(unit, 1.0))

    def cap(self, dim: str, remaining: float, cost: float) -> None:
        with self._lock:
            unit = self.unit_s[dim]
            if unit:
                now = self._clock()
                self.tat[dim] = max(self.tat[dim], now + _tolerance(unit, cost) + (cost - remaining) * unit)


_LUA = """
local key = KEYS[1]
local op = ARGV[1]
local burst = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function num(field)
  local v = redis.call('HGET', key, field)
  if v then return tonumber(v) end
  return 0
end
local function tol(unit, cost) return math.max(0, burst - cost * unit) end
local result = 0
if op == 'configure' then
  if tonumber(ARGV[5]) > 0 and num('unit_' .. ARGV[4]) == 0 then
    redis.call('HSET', key, 'tat_' .. ARGV[4], tostring(math.max(num('tat_' .. ARGV[4]), now + burst)))
  end
  redis.call('HSET', key, 'unit_' .. ARGV[4], ARGV[5])
elseif op == 'reserve' then
  local costs = {requests = 1, tokens = tonumber(ARGV[4])}
  local start = math.max(now, num('hold'))
  for _, dim in ipairs({'requests', 'tokens'}) do
    local unit = num('unit_' .. dim)
    if unit > 0 and costs[dim] > 0 then start = math.max(start, num('tat_' .. dim) - tol(unit, costs[dim])) end
  end
  for _, dim in ipairs({'requests', 'tokens'}) do
    local unit = num('unit_' .. dim)
    if unit > 0 and costs[dim] > 0 then
      redis.call('HSET', key, 'tat_' .. dim, tostring(math.max(num('tat_' .. dim), now) + costs[dim] * unit))
    end
  end
  result = start - now
elseif op == 'hold' then
  local wait = tonumber(ARGV[4])
  redis.call('HSET', key, 'hold', tostring(math.max(num('hold'), now + wait)))
  local unit = num('unit_requests')
  if unit > 0 then
    redis.call('HSET', key, 'tat_requests', tostring(math.max(num('tat_requests'), now + wait + tol(unit, 1))))
  end
elseif op == 'cap' then
  local dim, remaining, cost = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
  local unit = num('unit_' .. dim)
  if unit > 0 then
    local tat = now + tol(unit, cost) + (cost - remaining) * unit
    redis.call('HSET', key, 'tat_' .. dim, tostring(math.max(num('tat_' .. dim), tat)))
  end
end
redis.call('EXPIRE', key, ttl)
return tostring(result)
"""


class RedisSchedule:
    """The same timetable in one Redis hash, shared by every process that uses this key."""

    def __init__(self, url: str, key: str) -> None:
        import redis

        self.key = key
        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._script = self._redis.register_script(_LUA)

    def _run(self, op: str, *args: str) -> float:
        return float(self._script(keys=[self.key], args=[op, repr(BURST_S), str(IDLE_TTL_S), *args]))

    def configure(self, dim: str, unit_s: float | None) -> None:
        self._run("configure", dim, repr(float(unit_s or 0.0)))

    def reserve(self, tokens: float) -> float:
        return self._run("reserve", repr(float(tokens)))

    def hold(self, wait_s: float) -> None:
        self._run("hold", repr(float(wait_s)))

    def cap(self, dim: str, remaining: float, cost: float) -> None:
        self._run("cap", dim, repr(float(remaining)), repr(float(cost)))
