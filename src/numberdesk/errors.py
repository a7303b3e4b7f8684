"""The error tree. Each error knows its HTTP status and stable ``code``.

    NumberdeskError
    ├── Unauthenticated        401 unauthenticated
    ├── Forbidden              403 forbidden
    ├── NotFound               404 not_found
    ├── ValidationFailed       422 validation_error       (errors: [{field, detail}])
    ├── IdempotencyKeyReused   422 idempotency_key_reused
    ├── Conflict               409
    │   ├── NumberUnavailable     number_unavailable
    │   ├── InvalidState          invalid_state
    │   ├── ReleaseBlocked        release_blocked      (blockers: [{code, detail}])
    │   ├── InCooldown            in_cooldown          (cooldown_ends_at)
    │   ├── ReclaimWindowExpired  reclaim_window_expired
    │   ├── NotEligible           not_eligible         (reason)
    │   └── IdempotencyInFlight   idempotency_in_flight
    ├── RateLimited            429 rate_limited        (Retry-After)
    ├── Maintenance            503 maintenance         (Retry-After)
    └── CarrierError           502 carrier_error

Responses are ``application/problem+json`` (RFC 9457).
"""

from __future__ import annotations

from typing import Any, ClassVar


class NumberdeskError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    @property
    def headers(self) -> dict[str, str]:
        return {}

    def problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://numberdesk.dev/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        # Extra members never replace the standard ones (``status`` is the HTTP status).
        body.update({k: v for k, v in self.extra.items() if k not in body})
        return body


class Unauthenticated(NumberdeskError):
    status, code, title = 401, "unauthenticated", "Not signed in"


class Forbidden(NumberdeskError):
    status, code, title = 403, "forbidden", "Your role may not do this"


class NotFound(NumberdeskError):
    status, code, title = 404, "not_found", "Not found"


class ValidationFailed(NumberdeskError):
    status, code, title = 422, "validation_error", "The request is not valid"

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail, errors=errors or [])

    @classmethod
    def field(cls, field: str, detail: str) -> ValidationFailed:
        return cls(f"{field}: {detail}", [{"field": field, "detail": detail}])


class IdempotencyKeyReused(NumberdeskError):
    status, code, title = 422, "idempotency_key_reused", "Idempotency-Key used for another request"


class Conflict(NumberdeskError):
    status, code, title = 409, "conflict", "Conflict"


class NumberUnavailable(Conflict):
    code, title = "number_unavailable", "The number is not available"


class InvalidState(Conflict):
    code, title = "invalid_state", "The action does not apply in this state"


class ReleaseBlocked(Conflict):
    code, title = "release_blocked", "The number cannot be released yet"

    def __init__(self, blockers: list[dict[str, Any]]) -> None:
        detail = "; ".join(b["detail"] for b in blockers)
        super().__init__(detail, blockers=blockers)


class InCooldown(Conflict):
    code, title = "in_cooldown", "The number is still in its cooldown"


class ReclaimWindowExpired(Conflict):
    code, title = "reclaim_window_expired", "The reclaim window has ended"


class NotEligible(Conflict):
    code, title = "not_eligible", "The number is not eligible"


class IdempotencyInFlight(Conflict):
    code, title = "idempotency_in_flight", "The first request with this key is still running"


class _RetryAfter(NumberdeskError):
    def __init__(self, detail: str, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = max(1, int(retry_after))

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class RateLimited(_RetryAfter):
    status, code, title = 429, "rate_limited", "Too many requests"


class Maintenance(_RetryAfter):
    status, code, title = 503, "maintenance", "Maintenance in progress"


class CarrierError(NumberdeskError):
    status, code, title = 502, "carrier_error", "The carrier refused or failed"


class CarrierBusy(CarrierError):
    """The carrier asked us to slow down (HTTP 429); ``retry_after`` is its wait in seconds."""

    def __init__(self, detail: str, retry_after: float | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


ALL_ERRORS: tuple[type[NumberdeskError], ...] = (
    Unauthenticated, Forbidden, NotFound, ValidationFailed, IdempotencyKeyReused,
    NumberUnavailable, InvalidState, ReleaseBlocked, InCooldown, ReclaimWindowExpired,
    NotEligible, IdempotencyInFlight, RateLimited, Maintenance, CarrierError,
)
