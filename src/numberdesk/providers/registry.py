"""Picks the carrier named by the settings (one instance per process)."""

from __future__ import annotations

from numberdesk.config import Settings
from numberdesk.providers.base import Carrier
from numberdesk.providers.sandbox.carrier import SandboxCarrier

_carriers: dict[tuple[object, ...], Carrier] = {}


def get_carrier(settings: Settings) -> Carrier:
    key = (
        settings.provider, settings.sandbox_seed, settings.sandbox_inventory_size,
        settings.sandbox_provisioning_seconds, settings.sandbox_aging_days,
    )
    carrier = _carriers.get(key)
    if carrier is None:
        if settings.provider != "sandbox":
            raise NotImplementedError(
                f"The {settings.provider} adapter is not part of this release; "
                "use NUMBERDESK_PROVIDER=sandbox."
            )
        carrier = SandboxCarrier(
            seed=settings.sandbox_seed,
            size=settings.sandbox_inventory_size,
            provisioning_seconds=settings.sandbox_provisioning_seconds,
            aging_days=settings.sandbox_aging_days,
            cache_dir=settings.data_dir / "sandbox-cache",
        )
        _carriers[key] = carrier
    return carrier
