"""What the application loads once at start-up and keeps for its lifetime."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from service.config import Settings
from service.search.base import SearchBackend
from service.security import SessionSigner

if TYPE_CHECKING:
    from service.core.matching import MatchingEngine


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    signer: SessionSigner
    search: SearchBackend
    # Loaded by the worker on its first matching job (seconds): web requests never embed.
    matching: MatchingEngine | None = None
    # Small caches of the process (e.g. the skills in use, for autocomplete).
    extras: dict[str, Any] = field(default_factory=dict)
