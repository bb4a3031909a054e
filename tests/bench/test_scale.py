"""The scale benchmark's open book and the queries it times are the ones the docs promise."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.fill import MIX, STEPS, Filler
from bench.scale import stuck_case_queries

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


@pytest.mark.parametrize("n", [100, 1000, 10_000])
def test_the_mix_of_states_holds_at_every_count(n):
    counts = Counter(Filler.state_for(None, i) for i in range(n))  # type: ignore[arg-type]
    for state, share in MIX:
        assert counts[state] / n == pytest.approx(share, abs=0.02), state
    assert set(counts) == set(STEPS)


def test_the_timed_queries_are_the_stuck_case_queries_of_the_operations_guide():
    text = OPERATIONS.read_text(encoding="utf-8")
    queries = stuck_case_queries(datetime(2026, 11, 24, 2, tzinfo=UTC))
    assert len(queries) >= 8
    for name, query in queries.items():
        # the guide writes a literal time and example codes where the benchmark fills its own in
        shown = (
            query.replace("2026-11-24T02:00:00Z", "…")
            .replace("{unit}", "BJ-LIGHTING")
            .replace("{street}", "110105-YAYUNCUN")
        )
        assert shown in text.replace("2026-11-24T02:00:00Z", "…"), name
