"""Active governance: governance tasks with scheduled inspections, and one problem a month."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["governance"])
