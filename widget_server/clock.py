"""The service's clock. Tests replace ``now`` to freeze or move time."""
from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
