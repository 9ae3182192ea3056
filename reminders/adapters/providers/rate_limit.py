"""Sender rate limits: a token bucket in Redis shared by every worker, or one in-process.

Tokens are granted per chunk (up to n in one call) and a provider that says "slow down"
(429, 5xx, Retry-After) pauses the whole sender, for every worker, not one message.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol, runtime_checkable

# KEYS[1] = bucket; ARGV = rate per second, capacity, tokens wanted. Returns {granted,
# wait in microseconds}: granted >= 1 took that many tokens; 0 = wait that long. Redis
# runs the script atomically on its own microsecond clock, so any number of workers on
# any number of machines share one bucket per sender. A pause (below) leaves the bucket
# in debt: `at` lies in the future, and no token comes before it.
_TAKE = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
if now > at then
  tokens = math.min(capacity, tokens + (now - at) * rate / 1000000)
  at = now
end
local granted = 0
local wait = 0
if tokens >= 1 then
  granted = math.min(want, math.floor(tokens))
  tokens = tokens - granted
else
  -- wait for the whole chunk (at most the burst): one call per chunk, not per token
  wait = math.ceil((math.min(want, capacity) - tokens) * 1000000 / rate) + (at - now)
end
-- %.0f: tostring would round a microsecond clock to 14 digits
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.0f', at))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * 1000 / rate + (at - now) / 1000) + 60000)
return {granted, wait}
"""

# KEYS[1] = bucket; ARGV = seconds. No token for anyone before now + seconds (a later
# pause already in place stays); the tokens saved up are forfeited, so the sender
# resumes at its rate, not with a burst.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_ = now + math.floor(tonumber(ARGV[1]) * 1000000)
local at = tonumber(redis.call('HGET', KEYS[1], 'at')) or 0
if until_ > at then
  redis.call('HSET', KEYS[1], 'tokens', '0', 'at', string.format('%.0f', until_))
  redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1]) * 1000) + 60000)
end
return 0
"""


class RateLimiter(Protocol):
    def acquire(self, sender: str, *, timeout: float) -> bool:
        """Wait for a token for `sender`; False if none came within `timeout` seconds."""
        ...


@runtime_checkable
class ChunkLimiter(RateLimiter, Protocol):
    def acquire_many(self, sender: str, n: int, *, timeout: float) -> int:
        """Wait for 1 to n tokens for `sender`; how many were granted (0: none in time)."""
        ...

    def pause(self, sender: str, seconds: float) -> None:
        """Nobody sends for `sender` for that long (the provider asked us to slow down)."""
        ...


class RedisTokenBucket:
    def __init__(self, redis: Any, *, per_second: float, burst: float = 1.0) -> None:
        self.redis = redis
        self.per_second = per_second
        self.capacity = max(burst, 1.0)
        self._take = redis.register_script(_TAKE)
        self._pause = redis.register_script(_PAUSE)

    def acquire(self, sender: str, *, timeout: float) -> bool:
        return self.acquire_many(sender, 1, timeout=timeout) == 1

    def acquire_many(self, sender: str, n: int, *, timeout: float) -> int:
        give_up = time.monotonic() + timeout
        key = f"reminders:rate:{sender}"
        while True:
            granted, wait_us = self._take(keys=[key], args=[self.per_second, self.capacity, n])
            if int(granted) > 0:
                return int(granted)
            wait = int(wait_us) / 1_000_000
            if time.monotonic() + wait > give_up:
                return 0
            time.sleep(wait)

    def pause(self, sender: str, seconds: float) -> None:
        self._pause(keys=[f"reminders:rate:{sender}"], args=[seconds])


class LocalTokenBucket:
    """For the embedded default (one worker process): the same arithmetic, in memory."""

    def __init__(self, *, per_second: float, burst: float = 1.0) -> None:
        self.per_second = per_second
        self.capacity = max(burst, 1.0)
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, sender: str, *, timeout: float) -> bool:
        return self.acquire_many(sender, 1, timeout=timeout) == 1

    def acquire_many(self, sender: str, n: int, *, timeout: float) -> int:
        give_up = time.monotonic() + timeout
        while True:
            with self._lock:
                now = time.monotonic()
                tokens, at = self._state.get(sender, (self.capacity, now))
                if now > at:
                    tokens, at = min(self.capacity, tokens + (now - at) * self.per_second), now
                if tokens >= 1:
                    granted = min(n, int(tokens))
                    self._state[sender] = (tokens - granted, at)
                    return granted
                self._state[sender] = (tokens, at)
                wait = (min(n, self.capacity) - tokens) / self.per_second + (at - now)
            if time.monotonic() + wait > give_up:
                return 0
            time.sleep(wait)

    def pause(self, sender: str, seconds: float) -> None:
        with self._lock:
            until = time.monotonic() + seconds
            _, at = self._state.get(sender, (0.0, 0.0))
            if until > at:
                self._state[sender] = (0.0, until)
