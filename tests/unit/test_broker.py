"""The guarded Redis transport: closing a channel whose connection is gone is a connection
error (the worker reconnects), not an AttributeError (the worker stopped)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from kombu import Connection
from redis.exceptions import ConnectionError as RedisConnectionError

from reminders.adapters.broker import Channel, Transport
from reminders.entrypoints.celery_app import make_celery
from reminders.settings import Settings


def test_a_channel_of_a_detached_transport_raises_a_connection_error():
    channel = Channel.__new__(Channel)
    channel.connection = SimpleNamespace(client=None)  # what kombu leaves after collect()
    with pytest.raises(RedisConnectionError):
        channel._connparams()
    assert RedisConnectionError in Transport.connection_errors  # what Celery recovers from


def test_a_connected_channel_reads_its_url_as_kombu_does():
    conn = Connection("redis://:pw@example.org:6390/3", transport=Transport)
    channel = Channel.__new__(Channel)
    channel.connection = SimpleNamespace(client=conn, default_port=6379)
    channel.max_connections = 10
    for name in ("socket_timeout", "socket_connect_timeout", "socket_keepalive"):
        setattr(channel, name, None)
    channel.socket_keepalive_options = channel.health_check_interval = None
    channel.retry_on_timeout = channel.client_name = None
    channel.connection_class = Channel.connection_class
    params = channel._connparams()
    assert (params["host"], params["port"], params["db"], params["password"]) == (
        "example.org",
        6390,
        3,
        "pw",
    )


def test_the_celery_app_uses_it_for_redis_only(tmp_path):
    redis = make_celery(Settings(broker_url="redis://127.0.0.1:6379/0", var_dir=tmp_path))
    assert redis.conf.broker_transport == "reminders.adapters.broker:Transport"
    assert redis.connection_for_write().transport_cls.endswith("adapters.broker:Transport")
    files = make_celery(Settings(var_dir=tmp_path))
    assert files.conf.broker_url.startswith("filesystem://") and not files.conf.broker_transport
    assert (tmp_path / "broker" / "queue").is_dir()
    control = files.conf.broker_transport_options["control_folder"]
    assert control == str(tmp_path / "broker" / "control")


def test_rediss_keeps_tls_and_verifies_the_certificate(tmp_path):
    import ssl

    tls = make_celery(Settings(broker_url="rediss://:pw@redis.clinic:6380/0", var_dir=tmp_path))
    conn = tls.connection_for_write()
    assert conn.ssl == {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    assert (conn.hostname, conn.port) == ("redis.clinic", 6380)
    plain = make_celery(Settings(broker_url="redis://127.0.0.1:6379/0", var_dir=tmp_path))
    assert not plain.connection_for_write().ssl


def test_the_folder_for_beats_schedule_exists_with_any_broker(tmp_path):
    var = tmp_path / "fresh" / "var"
    app = make_celery(Settings(broker_url="redis://127.0.0.1:6379/0", var_dir=var))
    assert var.is_dir()
    assert app.conf.beat_schedule_filename == str(var / "celerybeat-schedule")


def test_no_beat_task_can_be_dropped_by_a_worker_whose_clock_runs_ahead(tmp_path: Path) -> None:
    """Celery stamps `expires` as an absolute time from beat's clock; a worker minutes ahead
    would revoke every such task on arrival, and dispatch would stop without a sound."""
    app = make_celery(Settings(var_dir=tmp_path))
    beat_now = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)
    for name, entry in app.conf.beat_schedule.items():
        message = app.amqp.as_task_v2("id", entry["task"], now=beat_now, **entry.get("options", {}))
        expires = message.headers["expires"]
        assert expires is None, f"{name} expires at {expires} by beat's clock"
    assert "drain-inbound-spool" in app.conf.beat_schedule
