"""Dashboard sessions: a signed cookie (itsdangerous) holding the user id and a CSRF token.

The signing key is ``settings.secret_key``; when that is unset, a random key is
generated once into ``data_dir/secret_key`` (mode 0600) and reused, so sessions
survive restarts and every process of a deployment agrees.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

from numberdesk.config import Settings

COOKIE = "nd_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MAX_AGE_SECONDS = 12 * 3600
_SALT = "numberdesk.dashboard.session"
_lock = threading.Lock()


def secret_key(settings: Settings) -> str:
    """The configured key, else the one kept in ``data_dir/secret_key`` (created once, 0600)."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    with _lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                # O_EXCL: when two processes start at once, exactly one writes the key.
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_urlsafe(48))
        return path.read_text().strip()


@dataclass(frozen=True)
class SessionData:
    csrf: str
    user_id: str | None = None
    # The user's session epoch when they signed in; signing out moves the user's epoch
    # on, so every earlier cookie of theirs (a copy included) stops working.
    epoch: int = 0


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(settings), salt=_SALT)


def new_session(user_id: str | None = None, epoch: int = 0) -> SessionData:
    """A fresh session with a new CSRF token (a new token on every sign-in and sign-out)."""
    return SessionData(csrf=secrets.token_urlsafe(32), user_id=user_id, epoch=epoch)


def dump(settings: Settings, data: SessionData) -> str:
    return _serializer(settings).dumps({"c": data.csrf, "u": data.user_id, "e": data.epoch})


def load(settings: Settings, cookie: str | None) -> SessionData | None:
    """The session in a cookie, or None when it is missing, forged or older than 12 hours."""
    if not cookie:
        return None
    try:
        raw = _serializer(settings).loads(cookie, max_age=MAX_AGE_SECONDS)
    except BadSignature:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("c"), str):
        return None
    user = raw.get("u")
    epoch = raw.get("e")
    return SessionData(csrf=raw["c"], user_id=user if isinstance(user, str) else None,
                       epoch=epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else -1)


def csrf_ok(session: SessionData | None, token: str | None) -> bool:
    """True when ``token`` is this session's CSRF token (constant-time compare)."""
    if session is None or not token:
        return False
    return hmac.compare_digest(session.csrf.encode(), token.encode())
