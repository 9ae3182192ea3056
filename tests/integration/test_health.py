"""Operations endpoints: liveness, readiness (database and broker) and Prometheus metrics."""

from __future__ import annotations

from test_api import ANA
from webtools import client, token

from reminders.adapters.db.engine import make_engine
from reminders.bootstrap import bootstrap
from reminders.domain.staff.accounts import Scope


def test_healthz_and_readyz(container):
    c = client(container)
    assert c.get("/healthz").json() == {"status": "ok"}
    ready = c.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}
    detailed = c.get("/readyz", headers=token(container, scopes=[Scope.METRICS]))
    assert detailed.json()["checks"]["database"]["ok"]


def test_readyz_says_what_is_down_only_to_a_metrics_token(container):
    container.settings = container.settings.model_copy(
        update={"broker_url": "redis://127.0.0.1:1/0"}
    )
    c = client(container)
    anonymous = c.get("/readyz")
    assert anonymous.status_code == 503 and anonymous.json() == {"status": "not ready"}
    assert "127.0.0.1" not in anonymous.text
    enroller = c.get("/readyz", headers=token(container, "epic", scopes=[Scope.ENROLL]))
    assert enroller.json() == {"status": "not ready"}
    r = c.get("/readyz", headers=token(container, "prometheus", scopes=[Scope.METRICS]))
    assert r.status_code == 503
    assert not r.json()["checks"]["broker"]["ok"] and r.json()["checks"]["database"]["ok"]


def test_metrics_count_messages_and_lag(container):
    c = client(container)
    headers = token(container)
    assert c.get("/metrics").status_code == 401
    c.post("/api/v1/enrollments", json=ANA, headers=headers)
    container.clock.advance(days=1)
    text = c.get("/metrics", headers=headers).text
    assert 'reminders_messages{channel="sms",status="scheduled"}' in text
    assert 'reminders_messages{channel="email",status="scheduled"}' in text
    lag = next(
        line for line in text.splitlines() if line.startswith("reminders_dispatch_lag_seconds")
    )
    assert float(lag.split()[1]) > 3600  # nothing was dispatched for a day


def test_readyz_with_a_token_and_the_database_down_says_not_ready(settings, clock):
    down = make_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/nothing", connect_args={"connect_timeout": 2}
    )
    c = client(bootstrap(settings, engine=down, clock=clock))
    r = c.get("/readyz", headers={"Authorization": "Bearer rr_" + "x" * 43})
    assert r.status_code == 503 and r.json() == {"status": "not ready"}


def test_the_api_document_says_readyz_is_open_to_anyone(container):
    schema = client(container).get("/openapi.json", headers=token(container)).json()
    assert {} in schema["paths"]["/readyz"]["get"]["security"]
