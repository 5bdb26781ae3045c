"""Where the signing key and the outside checkpoint file live (light: no cryptography imported)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_KEY = "insightlog-keys/provider.key"
DEFAULT_CHECKPOINT_FILE = "insightlog-checkpoints.jsonl"


def key_path(option: str | None = None) -> Path:
    """The provider's private key: ``--key``, else INSIGHTLOG_KEY, else ./insightlog-keys/provider.key."""
    return Path(option or os.environ.get("INSIGHTLOG_KEY") or DEFAULT_KEY)


def checkpoint_file(option: str | None = None) -> Path:
    """The checkpoint file kept outside the database."""
    return Path(option or os.environ.get("INSIGHTLOG_CHECKPOINT_FILE") or DEFAULT_CHECKPOINT_FILE)
