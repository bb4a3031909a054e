"""Assessment: the three rates (三率), rankings, drill-down, exclusions, frozen months."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["assessment"])
