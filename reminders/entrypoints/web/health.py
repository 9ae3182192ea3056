"""Liveness, readiness and Prometheus metrics for operators."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from reminders.bootstrap import Container
from reminders.domain.staff.accounts import ApiToken, Scope
from reminders.entrypoints.web.deps import ContainerDep, MetricsCaller, optional_token
from reminders.entrypoints.web.outcome_metrics import OutcomesCollector
from reminders.services.replies import inbox
from reminders.services.staff import monitoring

router = APIRouter(tags=["operations"])


@router.get("/healthz", operation_id="healthz")
def healthz() -> dict[str, str]:
    """The process is up (it does not look at the database)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="readyz",
    responses={503: {"description": "The database or the broker is not reachable."}},
    # open to anyone (load balancers); a token only adds the details
    openapi_extra={"security": [{}, {"token": []}]},
)
def readyz(
    c: ContainerDep, token: Annotated[ApiToken | None, Depends(optional_token)]
) -> JSONResponse:
    """The database and the broker are reachable: ready to take traffic.

    Anyone may ask (load balancers do); only a token with the `metrics` scope is told
    which check failed and why, since the details name hosts and errors.
    """
    checks = {
        "database": monitoring.database_check(uow=c.uow()),
        "broker": monitoring.broker_check(
            broker_url=c.settings.broker_url, var_dir=c.settings.var_dir
        ),
    }
    ok = all(check.ok for check in checks.values())
    body: dict[str, object] = {"status": "ready" if ok else "not ready"}
    if token is not None and token.allows(Scope.METRICS):
        body["checks"] = {name: {"ok": ch.ok, "detail": ch.detail} for name, ch in checks.items()}
    return JSONResponse(body, status_code=200 if ok else 503)


class MessageCollector(Collector):
    """Reads the numbers from the database at each scrape, so every web process agrees."""

    def __init__(self, container: Container) -> None:
        self.container = container

    def collect(self) -> Iterator[GaugeMetricFamily]:
        c = self.container
        numbers = monitoring.message_numbers(uow=c.uow(), now=c.clock())
        messages = GaugeMetricFamily(
            "reminders_messages",
            "Scheduled messages by status and channel.",
            labels=["status", "channel"],
        )
        for (state, channel), count in sorted(numbers.by_status_and_channel.items()):
            messages.add_metric([state, channel], count)
        yield messages
        yield GaugeMetricFamily(
            "reminders_dispatch_lag_seconds",
            "How long the oldest due message has waited to be handed to a worker.",
            value=numbers.dispatch_lag_seconds,
        )
        open_escalations = GaugeMetricFamily(
            "reminders_open_escalations",
            "Escalations staff have not resolved yet, by kind (red_flag, no_answer).",
            labels=["kind"],
        )
        counts = inbox.open_counts(uow=c.uow())
        for kind in sorted({"red_flag", "no_answer", *counts}):
            open_escalations.add_metric([kind], counts.get(kind, 0))
        yield open_escalations


def metrics_registry(container: Container) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MessageCollector(container))
    registry.register(OutcomesCollector(container))
    return registry


@router.get(
    "/metrics",
    operation_id="metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus text format."},
        401: {"description": "No valid API token."},
        403: {"description": "The token lacks the `metrics` scope."},
    },
)
def metrics(request: Request, caller: MetricsCaller) -> Response:
    """Prometheus metrics (scrape with a token that has the `metrics` scope)."""
    registry: CollectorRegistry = request.app.state.metrics
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
