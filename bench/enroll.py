"""Enrollment throughput: the audited use case on PostgreSQL and SQLite, and the REST API.

    .venv/bin/python bench/enroll.py                 # 1,000 each
    .venv/bin/python bench/enroll.py --count 300

Each enrollment is a new patient after a kyphoplasty with SMS and email consent: the
patient, consent, its ~30 planned messages and the hash-chained audit entry in one
transaction. The use case is `services/enrollment.enroll`, called one at a time. REST
is measured twice, one request at a time, on PostgreSQL: through the whole web app in
process (FastAPI's TestClient kept open: routing, bearer token check, validation, JSON;
the test client's own thread hops and cookie handling are in the figure), and over
HTTP to the app in its own uvicorn process (keep-alive; the CPU column is the server
process's, its SQL is not counted here: the same statements as in process). Each phase first runs 20 enrollments that are not timed (compile
caches warm). SQL statements are counted with a `before_cursor_execute` listener (the
pool's pre-ping is not a statement and not counted); CPU is this process's own time per
enrollment (the database server's is not in it). Then the throughput with work in
parallel, as a clinic's EHR feed, staff and imports give it: the use case from 2 processes
at once (each warmed up first, timed from a common start), and REST with 8 requests in
flight to uvicorn with 2 workers (as docker compose runs it), sent by a lean asyncio client
that leaves the cores to the server. The audit chain is verified at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "integration")]

import httpx  # noqa: E402
from sqlalchemy import Engine, event, text  # noqa: E402
from webtools import client, token  # noqa: E402

from bench.stack import ADMIN_URL  # noqa: E402
from reminders.adapters.db.engine import make_engine  # noqa: E402
from reminders.adapters.db.migrate import upgrade  # noqa: E402
from reminders.bootstrap import Container, bootstrap  # noqa: E402
from reminders.domain.enrollment.commands import EnrollPatient, GiveConsent  # noqa: E402
from reminders.domain.model import Channel  # noqa: E402
from reminders.services import audit  # noqa: E402
from reminders.services import enrollment as enroll_svc  # noqa: E402
from reminders.settings import Settings  # noqa: E402
from support.smtp import free_port  # noqa: E402

WARM = 20
PERFORMED = datetime.now(UTC) - timedelta(hours=2)


def command(n: int, performed: datetime = PERFORMED) -> EnrollPatient:
    return EnrollPatient(
        first_name="Pat",
        last_name=f"Bench{n}",
        phone=f"+1805{6000000 + n:07d}",
        email=f"pat{n}@example.org",
        procedure="kyphoplasty",
        performed_at=performed,
        timezone="America/Los_Angeles",
        consents=(GiveConsent(Channel.SMS), GiveConsent(Channel.EMAIL)),
        enrolled_by="bench",
        external_id=f"BENCH-{n}",
    )


def body(n: int) -> dict[str, Any]:
    return {
        "first_name": "Pat",
        "last_name": f"Bench{n}",
        "phone": f"+1805{6000000 + n:07d}",
        "email": f"pat{n}@example.org",
        "procedure": "kyphoplasty",
        "performed_at": PERFORMED.isoformat(),
        "timezone": "America/Los_Angeles",
        "external_id": f"BENCH-{n}",
        "consents": [{"channel": "sms"}, {"channel": "email"}],
    }


class Statements:
    """Counts the SQL statements an engine sends while `on` is set."""

    def __init__(self, engine: Engine) -> None:
        self.count, self.on = 0, False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        if self.on:
            self.count += 1


def run(
    name: str,
    engine: Engine | None,
    first: int,
    count: int,
    one: Callable[[int], None],
    cpu_clock: Callable[[], float] = time.process_time,
) -> None:
    """Warm up, then time `count` calls of one(n); print rate, p50, p99, SQL and CPU.

    `engine` None: the statements run in another process and are not counted here.
    """
    for n in range(first, first + WARM):
        one(n)
    statements = Statements(engine) if engine is not None else None
    latencies: list[float] = []
    if statements:
        statements.on = True
    cpu, start = cpu_clock(), time.perf_counter()
    for n in range(first + WARM, first + WARM + count):
        t = time.perf_counter()
        one(n)
        latencies.append(time.perf_counter() - t)
    wall, cpu = time.perf_counter() - start, cpu_clock() - cpu
    sql = f"{statements.count / count:4.1f}" if statements else "   -"
    latencies.sort()
    p99 = latencies[max(int(len(latencies) * 0.99) - 1, 0)] * 1000
    print(
        f"  {name:36} {count / wall:6.0f} /s   p50 {statistics.median(latencies) * 1000:5.1f} ms"
        f"  p99 {p99:5.1f} ms   {sql} SQL   {cpu / count * 1000:4.2f} ms CPU  ({count})"
    )


def cpu_seconds(pid: int) -> Callable[[], float]:
    """A clock of another process's CPU time (user + system), from /proc."""

    def clock() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return clock


def use_case(c: Container) -> Callable[[int], None]:
    def one(n: int) -> None:
        enroll_svc.enroll(command(n), uow=c.uow(), planning=c.planning, now=c.clock(), via="bench")

    return one


@contextlib.contextmanager
def uvicorn_server(url: str, workers: int = 1) -> Iterator[tuple[str, int]]:
    """The web app in its own uvicorn process (one worker, as `reminders run` starts it)."""
    port = free_port()
    env = {**os.environ, "REMINDERS_DATABASE_URL": url}
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("uvicorn")),
            *("--factory", "--port", str(port), "--log-level", "warning", "--no-access-log"),
            *("--workers", str(workers)),
            "reminders.entrypoints.web.app:create_app",
        ],
        env=env,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


def _enroll_range(url: str, first: int, count: int, ready: Any, go: Any) -> None:
    """One process's share of the parallel phase: its own engine and container, warmed up,
    then the timed enrollments once every process is ready."""
    engine = make_engine(url)
    c = bootstrap(Settings(REMINDERS_DATABASE_URL=url), engine=engine)
    one = use_case(c)
    for n in range(first - WARM, first):
        one(n)
    ready.release()
    go.wait()
    for n in range(first, first + count):
        one(n)
    engine.dispose()


def parallel_use_case(url: str, first: int, count: int, processes: int) -> None:
    """The audited use case from several processes at once (EHR feeds, staff, imports)."""
    ctx = multiprocessing.get_context("spawn")
    share = count // processes
    ready, go = ctx.Semaphore(0), ctx.Event()
    procs = [
        ctx.Process(
            target=_enroll_range, args=(url, first + WARM + i * (share + WARM), share, ready, go)
        )
        for i in range(processes)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    start = time.perf_counter()
    go.set()
    for p in procs:
        p.join()
    wall = time.perf_counter() - start
    assert all(p.exitcode == 0 for p in procs)
    name = f"audited use case, PG, {processes} processes"
    print(f"  {name:36} {share * processes / wall:6.0f} /s   ({share * processes})")


def parallel_http(base: str, tok: dict[str, str], first: int, count: int, clients: int) -> None:
    """REST over HTTP with `clients` requests in flight at once, from a lean client.

    An EHR sends from another machine; httpx here cost ~1.4 ms of CPU a request on the
    server's own 2 cores. This client writes prebuilt requests on keep-alive sockets and
    reads the status line and Content-Length body, so the cores go to the server.
    """
    import asyncio
    import json

    host, port = base.removeprefix("http://").split(":")

    def request(n: int) -> bytes:
        payload = json.dumps(body(n)).encode()
        head = (
            f"POST /api/v1/enrollments HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: {tok['Authorization']}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        return head.encode() + payload

    prepared = [request(n) for n in range(first, first + count)]

    async def go() -> list[float]:
        latencies: list[float] = []
        queue = iter(prepared)

        async def worker(k: int) -> None:
            # Connections opened one after another, as a client's pool grows: opened all
            # at once, asyncio's accept loop hands every one to the same uvicorn process.
            await asyncio.sleep(0.05 * k)
            reader, writer = await asyncio.open_connection(host, int(port))
            for raw in queue:
                t = time.perf_counter()
                writer.write(raw)
                head = await reader.readuntil(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 201"), head[:200]
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - t)
            writer.close()

        await asyncio.gather(*(worker(k) for k in range(clients)))
        return latencies

    start = time.perf_counter()
    latencies = sorted(asyncio.run(go()))
    wall = time.perf_counter() - start
    p99 = latencies[max(int(len(latencies) * 0.99) - 1, 0)] * 1000
    name = f"REST over HTTP, {clients} in flight"
    print(
        f"  {name:36} {count / wall:6.0f} /s   p50 {statistics.median(latencies) * 1000:5.1f} ms"
        f"  p99 {p99:5.1f} ms"
    )


def check_chain(c: Container) -> None:
    result = audit.verify(uow=c.uow())
    assert result.broken is None, f"audit chain broken: {result.broken}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1000)
    args = ap.parse_args()
    load = os.getloadavg()
    print(f"bench/enroll.py: {args.count} each, {os.cpu_count()} cores, load {load[0]:.2f}")
    admin = make_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    dbname = f"reminders_enroll_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{dbname}"'))
    url = admin.url.set(database=dbname).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        upgrade(engine)
        c = bootstrap(Settings(REMINDERS_DATABASE_URL=url), engine=engine)
        run("audited use case, PostgreSQL", engine, 0, args.count, use_case(c))
        with client(c) as api:
            api.headers.update(token(c))

            def post(n: int) -> None:
                r = api.post("/api/v1/enrollments", json=body(n))
                assert r.status_code == 201, r.text

            run("REST in process (TestClient), PG", engine, 100_000, args.count, post)
        with uvicorn_server(url) as (base, pid), httpx.Client(base_url=base, timeout=30) as http:
            http.headers.update(token(c, name="bench-http"))

            def post_http(n: int) -> None:
                r = http.post("/api/v1/enrollments", json=body(n))
                assert r.status_code == 201, r.text

            server = cpu_seconds(pid)
            run("REST over HTTP (uvicorn), PG", None, 200_000, args.count, post_http, server)
        parallel_use_case(url, 300_000, args.count, processes=2)
        with uvicorn_server(url, workers=2) as (base, _):
            parallel_http(base, token(c, name="bench-par"), 400_000, args.count, clients=8)
        check_chain(c)
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
    with tempfile.TemporaryDirectory() as tmp:
        lite = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(lite)
        c = bootstrap(Settings(REMINDERS_DATABASE_URL=str(lite.url)), engine=lite)
        run("audited use case, SQLite", lite, 0, args.count, use_case(c))
        check_chain(c)
        lite.dispose()
    print(f"  load average after: {os.getloadavg()[0]:.2f}; the audit chain verified on both")


if __name__ == "__main__":
    main()
