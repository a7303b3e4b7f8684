"""Picks the carrier named by the settings (one instance per process and configuration)."""

from __future__ import annotations

import threading

from numberdesk.config import Settings
from numberdesk.errors import CarrierError
from numberdesk.providers.base import Carrier
from numberdesk.providers.sandbox.carrier import SandboxCarrier

_carriers: dict[tuple[object, ...], Carrier] = {}
_lock = threading.Lock()


def _key(settings: Settings) -> tuple[object, ...]:
    if settings.provider == "twilio":
        return ("twilio", settings.twilio_account_sid, settings.twilio_auth_token, settings.public_url,
                settings.carrier_api_base_url)
    if settings.provider == "telnyx":
        return ("telnyx", settings.telnyx_api_key, settings.carrier_api_base_url)
    return (
        settings.provider, settings.sandbox_seed, settings.sandbox_inventory_size,
        settings.sandbox_provisioning_seconds, settings.sandbox_aging_days,
    )


def _build(settings: Settings) -> Carrier:
    if settings.provider == "twilio":
        from numberdesk.providers.twilio import TwilioCarrier

        return TwilioCarrier(account_sid=settings.twilio_account_sid, auth_token=settings.twilio_auth_token,
                             public_url=settings.public_url, api_base_url=settings.carrier_api_base_url)
    if settings.provider == "telnyx":
        from numberdesk.providers.telnyx import TelnyxCarrier

        if not settings.telnyx_api_key:
            raise CarrierError("The Telnyx carrier needs an API key: set NUMBERDESK_TELNYX_API_KEY.")
        return TelnyxCarrier(api_key=settings.telnyx_api_key, api_base_url=settings.carrier_api_base_url)
    return SandboxCarrier(
        seed=settings.sandbox_seed,
        size=settings.sandbox_inventory_size,
        provisioning_seconds=settings.sandbox_provisioning_seconds,
        aging_days=settings.sandbox_aging_days,
        cache_dir=settings.data_dir / "sandbox-cache",
    )


def get_carrier(settings: Settings) -> Carrier:
    key = _key(settings)
    carrier = _carriers.get(key)
    if carrier is None:
        with _lock:
            carrier = _carriers.get(key)
            if carrier is None:
                carrier = _carriers[key] = _build(settings)
    return carrier
