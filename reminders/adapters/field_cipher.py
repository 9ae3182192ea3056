"""Fields encrypted at rest (staff TOTP secrets): Fernet, with keys from a setting or HKDF.

Stored form: "fernet:" + a Fernet token. A value without the prefix was written before
encryption existed (a base32 TOTP secret); it is read as it is and rewritten encrypted
at its next successful use, so nothing is lost on upgrade.

Keys: REMINDERS_FIELD_KEY holds one or more Fernet keys, comma-separated, newest first;
the first encrypts, every one decrypts (rotation: put the new key first, keep the old
one until every secret was used once or re-enrolled). Unset, one key is derived with
HKDF-SHA256 from REMINDERS_SECRET_KEY, so changing the session key then makes stored
secrets unreadable (their users set up the factor again). docs/security.md says more.
"""

from __future__ import annotations

import base64
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger(__name__)
PREFIX = "fernet:"
_INFO = b"recovery-reminders field encryption v1"


class UnreadableField(Exception):
    """A stored value no configured key opens (the key was changed or lost)."""


def derived_key(secret_key: str) -> bytes:
    """A Fernet key from the session secret: HKDF-SHA256, fixed salt and purpose label."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"reminders-fields", info=_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


class FieldCipher:
    """Encrypts with the newest key; decrypts with any; says when a value needs rewriting."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("a field cipher needs at least one key")
        try:
            self._fernets = [Fernet(k) for k in keys]
        except (ValueError, TypeError) as exc:
            raise ValueError(
                "REMINDERS_FIELD_KEY must be Fernet keys (comma-separated); make one with:"
                ' python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
            ) from exc
        self._all = MultiFernet(self._fernets)

    @classmethod
    def from_settings(cls, field_key: str, secret_key: str) -> FieldCipher:
        keys = [k.strip().encode() for k in field_key.split(",") if k.strip()]
        return cls(keys or [derived_key(secret_key)])

    def encrypt(self, plain: str) -> str:
        return PREFIX + self._fernets[0].encrypt(plain.encode()).decode()

    def decrypt(self, stored: str) -> tuple[str, bool]:
        """The plain value and whether it should be rewritten (plaintext, or an older key)."""
        if not stored.startswith(PREFIX):
            return stored, True  # written before encryption: still good, rewrite it
        token = stored[len(PREFIX) :].encode()
        try:
            return self._fernets[0].decrypt(token).decode(), False
        except InvalidToken:
            pass
        try:
            return self._all.decrypt(token).decode(), True
        except InvalidToken:
            raise UnreadableField(
                "a stored secret opens with none of the configured keys (was"
                " REMINDERS_FIELD_KEY or REMINDERS_SECRET_KEY changed?)"
            ) from None
