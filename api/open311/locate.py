"""Where a point is: the street (街道/乡镇) whose office area is nearest.

No boundaries of Beijing's streets are available to jiesu, so this is NOT a point-in-polygon
test: the point goes to the nearest of the approximate centres in
seed/data/street_centroids.yaml (the seed's sample of streets). Near a boundary, or where the
sample has no street, the nearest centre can be a neighbour's; answers say how the place was
decided, and a channel that knows the street sends it instead."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

CENTROIDS = Path(__file__).resolve().parents[2] / "seed" / "data" / "street_centroids.yaml"
#: Beijing's extent (WGS 84), with a margin: a point outside it is not ours to place
BOUNDS = ((39.40, 41.10), (115.40, 117.55))
#: farther than this from every known centre, the nearest one says nothing about the place
MAX_KM = 25.0
METHOD = "nearest_street_office"


@dataclass(frozen=True)
class Place:
    street: str
    distance_km: float
    method: str = METHOD


class OutsideBeijing(ValueError):
    pass


@lru_cache(maxsize=1)
def centres() -> dict[str, tuple[float, float]]:
    return {code: (lat, lon) for code, (lat, lon) in yaml.safe_load(CENTROIDS.read_text(encoding="utf-8")).items()}


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine) in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def nearest_street(lat: float, lon: float, known: set[str] | None = None) -> Place:
    """The nearest street centre among `known` streets (all when None)."""
    (lat_lo, lat_hi), (lon_lo, lon_hi) = BOUNDS
    if not (lat_lo <= lat <= lat_hi and lon_lo <= lon <= lon_hi):
        raise OutsideBeijing(f"({lat}, {lon}) is outside Beijing")
    candidates = [(km((lat, lon), at), code) for code, at in centres().items() if known is None or code in known]
    if not candidates:
        raise OutsideBeijing("no street office is known")
    distance, code = min(candidates)
    if distance > MAX_KM:
        raise OutsideBeijing(f"({lat}, {lon}) is {distance:.0f} km from the nearest street office jiesu knows")
    return Place(code, round(distance, 2))
