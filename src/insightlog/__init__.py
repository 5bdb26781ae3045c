"""insightlog: an immutable, bitemporal audit trail of care-service governance."""

from __future__ import annotations

__version__ = "0.1.0"
