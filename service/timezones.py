"""Time zones of countries, from the IANA tables shipped in the tzdata package."""

from __future__ import annotations

import importlib.resources
from functools import cache


@cache
def _country_zones() -> dict[str, list[str]]:
    table = importlib.resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text()
    zones: dict[str, list[str]] = {}
    for line in table.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        code, _coordinates, name, *_comment = line.split("\t")
        zones.setdefault(code, []).append(name)
    return zones


def country_timezones(country: str) -> list[str]:
    """Lists the IANA zones of a country (ISO 3166 alpha-2), main one first."""
    return list(_country_zones().get(country.upper(), []))


def default_timezone(country: str) -> str:
    """Gets the main time zone of a country, or UTC when unknown."""
    zones = country_timezones(country)
    return zones[0] if zones else "UTC"


@cache
def country_table_zones() -> frozenset[str]:
    """Gets every zone of the IANA country table: the current names, no legacy alias."""
    return frozenset(zone for zones in _country_zones().values() for zone in zones)
