"""Time-zone names people are offered: canonical IANA zones only.

``zoneinfo.available_timezones()`` also returns ``Factory``, ``localtime``,
``posixrules``, the ``Etc/GMT+5`` family (whose sign is the reverse of what
people expect) and the deprecated aliases (``US/Eastern``, ``GB``, ``Japan``).
A picker that offers those invites mistakes, so pickers offer the zones of
``zone.tab`` (one or more per country, the names tzdata recommends) plus UTC.
Validation stays lenient: any zone Python can load is accepted where typed, so a
setting saved before this list existed keeps working."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from zoneinfo import available_timezones

_CONTINENTS = ("Africa/", "America/", "Antarctica/", "Arctic/", "Asia/", "Atlantic/", "Australia/", "Europe/")
_OCEANS = ("Indian/", "Pacific/")


def _zone_tab() -> str | None:
    try:  # the tzdata package (a dependency) ships the table with the zones
        return (resources.files("tzdata") / "zoneinfo" / "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        pass
    system = Path("/usr/share/zoneinfo/zone.tab")
    return system.read_text(encoding="utf-8") if system.is_file() else None


@lru_cache(maxsize=1)
def canonical_zones() -> tuple[str, ...]:
    """Sorted canonical zone names, UTC first. Scanning tzdata is slow: once per process."""
    loadable = available_timezones()
    table = _zone_tab()
    if table is not None:
        names = {
            line.split("\t")[2].strip()
            for line in table.splitlines()
            if line and not line.startswith("#") and line.count("\t") >= 2
        }
    else:  # no table: keep Area/Location names, which drops the aliases and Etc/
        names = {name for name in loadable if name.startswith(_CONTINENTS + _OCEANS)}
    return ("UTC", *sorted(name for name in names if name in loadable))


@lru_cache(maxsize=1)
def _loadable() -> frozenset[str]:
    return frozenset(available_timezones())


def is_zone(name: str) -> bool:
    """Whether ``name`` is a zone Python can load (aliases included, for old settings)."""
    return name == "UTC" or name in _loadable()
