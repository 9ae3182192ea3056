"""kombu's Redis transport, guarded so a Redis restart never stops a worker.

When Redis goes away mid-task, Celery closes the broken connection twice (collect, then
close). The second close finds the connection already detached from its transport and
kombu 5.7 raised AttributeError there, which Celery treats as unrecoverable: the worker
exited and nothing was sent until someone restarted it. Here that case is a connection
error, which Celery already handles by reconnecting. Unacked messages of the dead Redis
are gone either way; their rows' queue lease brings them back (DESIGN.md rule 1).
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        transport = self.connection
        if transport is None or transport.client is None:
            raise RedisConnectionError("the broker connection is already closed")
        params: dict[str, Any] = super()._connparams(asynchronous=asynchronous)
        return params


class Transport(kombu_redis.Transport):
    Channel = Channel
