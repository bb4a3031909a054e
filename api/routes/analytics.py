"""High-frequency problems, topics and recurring problems (active governance's evidence)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["analytics"])
