"""Configuration: one typed Config read from SERVICEMAP_* environment variables."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def default_seeds_dir() -> Path:
    """The seeds/ folder: beside the package in a checkout, inside it in a wheel."""
    checkout = PACKAGE_DIR.parent / "seeds"
    return checkout if checkout.is_dir() else PACKAGE_DIR / "_seeds"


def default_instance_dir() -> Path:
    """instance/ beside the package in a checkout, else under the working directory."""
    checkout = PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file():
        return checkout / "instance"
    return Path.cwd() / "instance"


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {text!r}")


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _json_object(text: str) -> dict:
    value = json.loads(text or "{}")
    if not isinstance(value, dict):
        raise ValueError(f"not a JSON object: {text!r}")
    return value


# Field annotations are strings here (postponed evaluation), so parsers are keyed by name.
_PARSERS = {"bool": _bool, "int": int, "str": str, "list": _list, "Path": Path,
            "float": float, "dict": _json_object, "bool | None": _bool}


@dataclass
class Config:
    """Every setting, its type and default; the README lists each with its variable."""

    database_url: str = ""
    secret_key: str = ""
    per_page_default: int = 20
    per_page_max: int = 100
    # A list's `total` is exact up to this many rows, estimated past it (paging.count_rows).
    count_exact_max: int = 10_000
    # Public reads may be cached this long (caching.py); answers of this size or more are
    # compressed when the client accepts gzip, brotli or zstd.
    cache_max_age: int = 60
    compress_min_bytes: int = 1024
    max_body_bytes: int = 1_048_576
    max_import_bytes: int = 52_428_800
    max_import_rows: int = 100_000  # fits gunicorn --timeout 120 (README, Operations)
    cors_origins: list = field(default_factory=list)
    auto_init: bool = True
    seeds_dir: Path = field(default_factory=default_seeds_dir)
    instance_dir: Path = field(default_factory=default_instance_dir)
    # seeds/holidays.csv unless set: the holidays and make-up workdays the package lacks.
    holiday_table: str = ""
    log_level: str = "INFO"
    testing: bool = False
    # Geocoding (geo/geocoding.py): "offline" (the gazetteer) or any geopy service by name.
    geocoder: str = "offline"
    geocoder_options: dict = field(default_factory=dict)
    geocoder_min_delay: float = 0.0
    geocoder_coordsys: str = ""
    gazetteer_dirs: list = field(default_factory=list)
    # Operations (limits.py, observability.py). Rate limits are per API key or client address,
    # in Flask-Limiter's notation; unset `rate_limit_enabled` means on, except when testing.
    redis_url: str = ""
    rate_limit_enabled: bool | None = None
    rate_limit_search: str = "60/second"
    rate_limit_eligibility: str = "20/second"
    rate_limit_write: str = "10/second"
    rate_limit_key_prefix: str = "servicemap"
    # Proxies (load balancers) in front whose X-Forwarded-For/-Proto are trusted; 0 = none.
    proxy_hops: int = 0
    # PostgreSQL cancels any statement running longer (milliseconds; 0 means no limit).
    statement_timeout_ms: int = 30_000
    # Facilities kept rendered for nearest answers per worker (renderings.py; 0: none kept).
    rendering_cache_size: int = 10_000
    # The pages' optional map (pages/maps.py): a tile URL template ({z}/{x}/{y}, maybe {s}),
    # the datum its tiles are drawn in, and the attribution they require. All three, or no map.
    map_tiles: str = ""
    map_coordsys: str = ""
    map_attribution: str = ""

    def __post_init__(self) -> None:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.instance_dir / 'servicemap.sqlite3'}"
        if self.map_tiles and not self.map_tiles.startswith(("https://", "http://")):
            raise ValueError(f"map_tiles: {self.map_tiles!r} is not an http(s) URL template")
        # Baidu's tiles (BD-09) are cut on a projection of Baidu's own, which Leaflet's
        # standard {z}/{x}/{y} grid does not draw: only WGS-84 and GCJ-02 tile sets fit it.
        if self.map_coordsys not in ("", "wgs84", "gcj02"):
            raise ValueError(f"map_coordsys: {self.map_coordsys!r} is not wgs84 or gcj02")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Config:
        """Build a Config from SERVICEMAP_<FIELD> variables; bad values fail loudly."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in dataclasses.fields(cls):
            name = f"SERVICEMAP_{f.name.upper()}"
            if name in environ and f.name not in overrides:
                try:
                    values[f.name] = _PARSERS[f.type](environ[name])
                except ValueError as exc:
                    raise ValueError(f"{name}: {exc}") from None
        values.update(overrides)
        return cls(**values)
