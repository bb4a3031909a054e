"""CSV export: every analytics list can be had as `?format=csv`, with the period in the file
name. The text itself is analytics/export.py's."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi.responses import Response

from analytics.export import CSV_MEDIA_TYPE, to_csv


def csv_response(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], filename: str) -> Response:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in filename)
    return Response(
        to_csv(rows, columns),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{safe}.csv"'},
    )


#: The most rows of a list's CSV in one answer (`GET /appeals?format=csv`, the console's lists).
LIST_CSV_MOST = 5000

#: The OpenAPI declaration of a route that answers JSON, or CSV with `format=csv`.
CSV_RESPONSES: dict[int | str, dict] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "JSON, or CSV with format=csv"}
}
