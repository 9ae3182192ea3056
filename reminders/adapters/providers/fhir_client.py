"""A FHIR R4 client for the write-back: conditional create, with a bearer token or SMART backend services.

`create` POSTs a resource with `If-None-Exist: identifier=<system>|<value>`, so a resource
the server already holds (sent before a crash, or twice by a retry) is not made again:
the server answers 200 (found) instead of 201. A 412 (the identifier matches more than
one resource) also means it is there already. Every other answer, a timeout or a refused
connection is a failure the caller retries later. Access is a fixed bearer token, or SMART
backend services (client_credentials with a JWT signed RS384 by the client's key), whose
access token is fetched when needed and kept until a minute before it expires.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

import certifi
import urllib3
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from urllib3.exceptions import HTTPError

from reminders.settings import Settings

FHIR_JSON = "application/fhir+json"
WRITE_SCOPES = (
    "system/Communication.write system/QuestionnaireResponse.write"
    " system/Flag.write system/Task.write"
)


@dataclass(frozen=True)
class Answer:
    """What a create came to: in the chart (`stored`), or a failure to retry, and why."""

    stored: bool
    status: int | None  # the HTTP status, None when there was no answer
    detail: str


class Auth(Protocol):
    def header(self, http: urllib3.PoolManager) -> str: ...

    def forget(self) -> None: ...


class BearerToken:
    """A fixed token the EHR issued."""

    def __init__(self, token: str) -> None:
        self.token = token

    def header(self, http: urllib3.PoolManager) -> str:
        return f"Bearer {self.token}"

    def forget(self) -> None:
        return None


class SmartBackendServices:
    """SMART backend services: a client_credentials grant with a signed JWT assertion."""

    def __init__(
        self, *, token_url: str, client_id: str, private_key: bytes, key_id: str, timeout: float
    ) -> None:
        key = serialization.load_pem_private_key(private_key, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the SMART backend-services key must be an RSA private key (RS384)")
        self.key = key
        self.token_url, self.client_id, self.key_id = token_url, client_id, key_id
        self.timeout = timeout
        self._token: str | None = None
        self._until = 0.0
        self._lock = threading.Lock()

    def header(self, http: urllib3.PoolManager) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._until:
                self._token, lifetime = self._fetch(http)
                self._until = time.monotonic() + max(lifetime - 60, 0)
            return f"Bearer {self._token}"

    def forget(self) -> None:
        with self._lock:
            self._token = None

    def assertion(self, now: float) -> str:
        header = {"alg": "RS384", "typ": "JWT", **({"kid": self.key_id} if self.key_id else {})}
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.token_url,
            "exp": int(now) + 300,
            "jti": uuid.uuid4().hex,
        }
        signing_input = f"{_b64(json.dumps(header))}.{_b64(json.dumps(claims))}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA384())
        return f"{signing_input}.{_b64(signature)}"

    def _fetch(self, http: urllib3.PoolManager) -> tuple[str, float]:
        body = urlencode(
            {
                "grant_type": "client_credentials",
                "scope": WRITE_SCOPES,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": self.assertion(time.time()),
            }
        )
        r = http.request(
            "POST",
            self.token_url,
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=self.timeout,
            retries=False,
            redirect=False,
        )
        if r.status != 200:
            raise TokenRefused(f"the token endpoint answered {r.status}")
        answer = json.loads(r.data)
        return str(answer["access_token"]), float(answer.get("expires_in", 300))


class TokenRefused(Exception):
    """The SMART token endpoint did not issue a token."""


class FhirClient:
    """Creates resources on one FHIR R4 server, once each."""

    def __init__(self, base_url: str, auth: Auth, *, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.timeout = timeout
        self.http = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=certifi.where())

    def create(self, resource: dict[str, Any], *, identifier: str) -> Answer:
        """POST the resource unless one with this identifier (`system|value`) exists."""
        kind = resource["resourceType"]
        try:
            headers = {
                "Content-Type": FHIR_JSON,
                "Accept": FHIR_JSON,
                "If-None-Exist": f"identifier={identifier}",
                "Authorization": self.auth.header(self.http),
            }
            r = self.http.request(
                "POST",
                f"{self.base_url}/{kind}",
                body=json.dumps(resource).encode(),
                headers=headers,
                timeout=self.timeout,
                retries=False,
                redirect=False,
            )
        except TokenRefused as exc:
            return Answer(False, None, str(exc))
        except (HTTPError, OSError) as exc:
            return Answer(False, None, f"no answer from the FHIR server ({exc.__class__.__name__})")
        if r.status in (200, 201):
            return Answer(True, r.status, "created" if r.status == 201 else "already there")
        if r.status == 412:
            return Answer(True, r.status, "already there (the identifier matches more than one)")
        if r.status in (401, 403):
            self.auth.forget()  # a token that expired early is fetched again next time
        return Answer(False, r.status, f"the FHIR server answered {r.status}: {_issue(r.data)}")


def client_from(settings: Settings) -> FhirClient | None:
    """The configured write-back client, or None when no FHIR endpoint is set."""
    if not settings.fhir_writeback_url:
        return None
    auth: Auth
    if settings.fhir_writeback_token_url:
        if settings.fhir_writeback_private_key is None or not settings.fhir_writeback_client_id:
            raise ValueError(
                "SMART backend services need REMINDERS_FHIR_WRITEBACK_CLIENT_ID and"
                " REMINDERS_FHIR_WRITEBACK_PRIVATE_KEY (a PEM file) with the token URL"
            )
        auth = SmartBackendServices(
            token_url=settings.fhir_writeback_token_url,
            client_id=settings.fhir_writeback_client_id,
            private_key=Path(settings.fhir_writeback_private_key).read_bytes(),
            key_id=settings.fhir_writeback_key_id,
            timeout=settings.fhir_writeback_timeout,
        )
    else:
        auth = BearerToken(settings.fhir_writeback_token)
    return FhirClient(settings.fhir_writeback_url, auth, timeout=settings.fhir_writeback_timeout)


def _b64(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _issue(data: bytes) -> str:
    """The first OperationOutcome diagnostics, or the start of the body."""
    try:
        issues = json.loads(data).get("issue") or []
        return str(issues[0].get("diagnostics") or issues[0].get("code"))[:300]
    except (ValueError, AttributeError, IndexError, TypeError):
        return data[:200].decode("utf-8", "replace")
