"""What the application loads once at start-up and keeps for its lifetime."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from service.config import Settings
from service.security import SessionSigner


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    signer: SessionSigner
    # Filled by later layers (search backend, matcher) when they are configured.
    extras: dict[str, Any] = field(default_factory=dict)
