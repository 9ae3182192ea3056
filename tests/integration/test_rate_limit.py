"""The sender's rate limit: one token bucket in Redis shared by every worker process."""

from __future__ import annotations

import threading
import time
import uuid

import redis

from reminders.adapters.providers.rate_limit import LocalTokenBucket, RedisTokenBucket

REDIS_URL = "redis://127.0.0.1:6379/0"


def test_workers_share_one_bucket_so_the_sender_rate_holds():
    sender = f"+1805555{uuid.uuid4().hex[:6]}"
    # Two "workers", each with its own Redis connection, taking 10 tokens at 5 a second.
    buckets = [RedisTokenBucket(redis.Redis.from_url(REDIS_URL), per_second=5.0) for _ in range(2)]
    taken: list[float] = []
    lock = threading.Lock()

    def work(bucket: RedisTokenBucket) -> None:
        for _ in range(5):
            assert bucket.acquire(sender, timeout=10)
            with lock:
                taken.append(time.monotonic())

    start = time.monotonic()
    threads = [threading.Thread(target=work, args=(b,)) for b in buckets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # The first token is free; the other nine need at least 9 / 5 s between them, whoever
    # asks. (A lower bound only: a busy machine can make it slower, never faster.)
    assert len(taken) == 10
    assert max(taken) - start >= 1.75


def test_no_token_in_time_says_so():
    bucket = RedisTokenBucket(redis.Redis.from_url(REDIS_URL), per_second=0.5)
    sender = f"ms-{uuid.uuid4().hex}"
    assert bucket.acquire(sender, timeout=0.1)
    assert not bucket.acquire(sender, timeout=0.2)  # the next token is 2 s away


def test_senders_have_separate_buckets():
    bucket = RedisTokenBucket(redis.Redis.from_url(REDIS_URL), per_second=0.5)
    a, b = (f"s-{uuid.uuid4().hex}" for _ in range(2))
    assert bucket.acquire(a, timeout=0.1)
    assert bucket.acquire(b, timeout=0.1)


def test_the_embedded_bucket_keeps_the_same_rate():
    bucket = LocalTokenBucket(per_second=10.0)
    start = time.monotonic()
    for _ in range(6):
        assert bucket.acquire("x", timeout=5)
    assert time.monotonic() - start >= 0.45
    slow = LocalTokenBucket(per_second=0.1)
    assert slow.acquire("y", timeout=0)
    assert not slow.acquire("y", timeout=0.1)


def test_a_chunk_takes_many_tokens_in_one_call_and_the_rate_still_holds():
    sender = f"chunk-{uuid.uuid4().hex}"
    buckets = [
        RedisTokenBucket(redis.Redis.from_url(REDIS_URL), per_second=20.0, burst=10)
        for _ in range(3)
    ]
    assert buckets[0].acquire_many(sender, 25, timeout=1) == 10  # the burst, no more
    taken: list[int] = []
    lock = threading.Lock()

    def work(bucket: RedisTokenBucket) -> None:
        got = 0
        while got < 20:
            n = bucket.acquire_many(sender, 10, timeout=10)
            assert n >= 1
            got += n
            with lock:
                taken.append(n)

    start = time.monotonic()
    threads = [threading.Thread(target=work, args=(b,)) for b in buckets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 60 more tokens at 20 a second from an empty bucket: at least 3 s whoever asks.
    assert sum(taken) >= 60
    assert time.monotonic() - start >= 2.9
    assert len(taken) < 60  # granted by the chunk, not one by one


def test_a_pause_stops_every_worker_and_forfeits_the_saved_tokens():
    sender = f"pause-{uuid.uuid4().hex}"
    a, b = (
        RedisTokenBucket(redis.Redis.from_url(REDIS_URL), per_second=50.0, burst=20)
        for _ in range(2)
    )
    a.pause(sender, 1.0)
    a.pause(sender, 0.2)  # a shorter pause never cuts a longer one short
    start = time.monotonic()
    assert b.acquire_many(sender, 20, timeout=0.5) == 0
    got = b.acquire_many(sender, 20, timeout=3)
    # No burst after the pause: each token granted was earned at the rate since it ended.
    assert got >= 1 and time.monotonic() - start >= 0.95 + got / 50.0


def test_the_embedded_bucket_grants_chunks_and_pauses_too():
    bucket = LocalTokenBucket(per_second=10.0, burst=5)
    assert bucket.acquire_many("z", 8, timeout=0) == 5
    bucket.pause("z", 0.5)
    start = time.monotonic()
    got = bucket.acquire_many("z", 8, timeout=2)
    assert got >= 1 and time.monotonic() - start >= 0.45 + got / 10.0
