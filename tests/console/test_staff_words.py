"""Every word the parts inbox, the supervisor's and the administrator's templates use is
registered in both languages (a missing one would show its key)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import console.pages.admin
import console.pages.admin_system
import console.pages.appeal
import console.pages.parts
import console.pages.supervisor  # (each page module registers its words)
from console import i18n

TEMPLATES = Path(__file__).resolve().parents[2] / "console" / "templates"
PAGES = [
    *(TEMPLATES / "admin").glob("*.html"),
    *(TEMPLATES / "supervisor").glob("*.html"),
    *(TEMPLATES / "parts").glob("parts_*.html"),
]


@pytest.mark.parametrize("template", PAGES, ids=[p.name for p in PAGES])
def test_every_word_is_registered(template):
    used = set(re.findall(r"\bt\('([a-z_.\-]+)'", template.read_text(encoding="utf-8")))
    literal = {k for k in used if not k.endswith(".")}  # not 'role.' ~ name
    assert [k for k in sorted(literal) if not i18n.known(k)] == []


def test_each_word_has_both_languages():
    found = 0
    for module in (console.pages.admin, console.pages.admin_system, console.pages.parts, console.pages.supervisor):
        source = Path(module.__file__).read_text(encoding="utf-8")
        for key in re.findall(r'^\s+"([a-z_.\- ]+)": \(', source, flags=re.M):
            zh, en = i18n.text(key, "zh"), i18n.text(key, "en")
            assert zh != key and en != key and zh and en, key
            found += 1
    assert found > 100  # the words were read
