"""Sender rate limits: a token bucket in Redis shared by every worker, or one in-process."""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

# KEYS[1] = bucket; ARGV = rate per second, capacity. Returns the wait in ms (0 = a
# token was taken). Redis runs the script atomically and on its own clock, so any number
# of workers on any number of machines share one bucket per sender.
_TAKE = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * 1000 / rate) + 60000)
return wait
"""


class RateLimiter(Protocol):
    def acquire(self, sender: str, *, timeout: float) -> bool:
        """Wait for a token for `sender`; False if none came within `timeout` seconds."""
        ...


class RedisTokenBucket:
    def __init__(self, redis: Any, *, per_second: float, burst: float = 1.0) -> None:
        self.redis = redis
        self.per_second = per_second
        self.capacity = max(burst, 1.0)
        self._take = redis.register_script(_TAKE)

    def acquire(self, sender: str, *, timeout: float) -> bool:
        give_up = time.monotonic() + timeout
        while True:
            key = f"reminders:rate:{sender}"
            wait_ms = int(self._take(keys=[key], args=[self.per_second, self.capacity]))
            if wait_ms == 0:
                return True
            if time.monotonic() + wait_ms / 1000 > give_up:
                return False
            time.sleep(wait_ms / 1000)


class LocalTokenBucket:
    """For the embedded default (one worker process): the same arithmetic, in memory."""

    def __init__(self, *, per_second: float, burst: float = 1.0) -> None:
        self.per_second = per_second
        self.capacity = max(burst, 1.0)
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, sender: str, *, timeout: float) -> bool:
        give_up = time.monotonic() + timeout
        while True:
            with self._lock:
                now = time.monotonic()
                tokens, at = self._state.get(sender, (self.capacity, now))
                tokens = min(self.capacity, tokens + (now - at) * self.per_second)
                if tokens >= 1:
                    self._state[sender] = (tokens - 1, now)
                    return True
                self._state[sender] = (tokens, now)
                wait = (1 - tokens) / self.per_second
            if time.monotonic() + wait > give_up:
                return False
            time.sleep(wait)
