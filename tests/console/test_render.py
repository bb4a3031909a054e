"""Time left on a limit, as the inbox colours it: green while running, amber past the 75 %
reminder, red once missed; and Beijing time with its offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.render import bj, left, more_after

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


def limit(started_h: float, due_h: float, **over) -> dict:
    return {"started_at": (NOW + timedelta(hours=started_h)).isoformat(),
            "due": (NOW + timedelta(hours=due_h)).isoformat(), "met_at": None, "missed": False} | over


def test_running_then_amber_past_the_reminder_then_red():
    assert left(limit(-1, 23), "zh", NOW) == {"text": "23小时0分", "cls": "ok"}
    assert left(limit(-20, 4), "zh", NOW)["cls"] == "amber"  # 20 of 24 hours gone
    assert left(limit(-25, -1), "zh", NOW) == {"text": "已超时", "cls": "red"}
    assert left(limit(-1, 49), "en", NOW)["text"] == "2 d 1 h"


def test_a_met_limit_says_whether_it_was_met_in_time():
    assert left(limit(-5, 5, met_at=NOW.isoformat()), "zh", NOW)["cls"] == "met"
    assert left(limit(-5, -1, met_at=NOW.isoformat()), "zh", NOW)["cls"] == "red"


def test_times_are_beijing_time_with_the_offset():
    assert bj("2026-12-03T02:00:00Z") == "2026-12-03 10:00 +08:00"
    assert bj(NOW) == "2026-12-03 10:00 +08:00"
    assert bj(None) == ""


def test_a_list_has_a_next_page_while_its_count_says_so_or_past_a_capped_count_while_pages_come_full():
    full, short = [{}] * 50, [{}] * 10
    assert more_after({"total": 120, "items": full}, 0, 50)
    assert not more_after({"total": 120, "items": short}, 100, 50)
    # counted up to the cap (1,000): beyond it, a full page says there may be more
    assert more_after({"total": 1000, "total_exact": False, "items": full}, 1000, 50)
    assert not more_after({"total": 1000, "total_exact": False, "items": short}, 1050, 50)
    assert not more_after({"total": 1000, "total_exact": True, "items": full}, 950, 50)
