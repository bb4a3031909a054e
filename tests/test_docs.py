"""The README stays a newcomer's first screen, and the manual's links lead somewhere.

README.md and docs/*.md link to each other and to files of the project; a file moved or a heading
renamed would leave a dead link that nobody notices until a reader follows it."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

#: Beyond this the README stops being one screen or two; the rest belongs in docs/.
README_MAX_LINES = 200

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^()\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\(([^()\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def _prose(text: str) -> str:
    """The text outside fenced code blocks (a `[x](y)` in a shell example is no link)."""
    kept, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            kept.append(line)
    return "\n".join(kept)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to '-'."""
    text = re.sub(r"`|\*\*|__", "", heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    for line in _prose(page.read_text(encoding="utf-8")).splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        base = slug(m.group(1))
        name, n = base, 0
        while name in found:  # GitHub numbers repeated headings: x, x-1, x-2 …
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


def relative_links(page: Path) -> list[str]:
    links = []
    for m in LINK.finditer(_prose(page.read_text(encoding="utf-8"))):
        target = m.group(1) or m.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto: …
            continue
        links.append(target)
    return links


def test_slug_matches_githubs_anchors():
    assert slug("`make dev`") == "make-dev"
    assert slug("Assessment: the three rates (三率)") == "assessment-the-three-rates-三率"
    assert slug("Active governance (主动治理、未诉先办) and one problem a month (每月一题)") == (
        "active-governance-主动治理未诉先办-and-one-problem-a-month-每月一题"
    )
    assert slug("What the UI's and CLI's buttons do to an appeal") == "what-the-uis-and-clis-buttons-do-to-an-appeal"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_to_an_existing_file_and_heading(page: Path):
    dead = []
    for target in relative_links(page):
        path_part, _, fragment = target.partition("#")
        dest = (page.parent / unquote(path_part)).resolve() if path_part else page
        if not dest.exists():
            dead.append(f"{target}: no file {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest}")
            continue
        if fragment and dest.suffix == ".md" and unquote(fragment) not in anchors(dest):
            dead.append(f"{target}: no heading #{fragment} in {dest.relative_to(ROOT)}")
    assert not dead, f"{page.relative_to(ROOT)} has dead links:\n" + "\n".join(dead)


def test_docs_folder_has_pages():
    assert len(PAGES) > 1, "docs/ holds no pages"


def test_readme_stays_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) < README_MAX_LINES, (
        f"README.md has {len(lines)} lines; keep it under {README_MAX_LINES} and move detail into docs/"
    )


def test_readme_opens_with_the_two_commands():
    lines = [line for line in README.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert lines[0].startswith("# "), "README.md should start with its title"
    assert lines[1].startswith("```"), "the title should be followed by the commands block"
    assert lines[2].split("#")[0].strip() == "make dev", lines[2]
    assert lines[3].split("#")[0].strip() == "make test", lines[3]
    assert lines[4].startswith("```"), "the opening block holds the two commands only"


def test_every_docs_page_is_linked_from_the_readme():
    linked = {
        (README.parent / t.partition("#")[0]).resolve() for t in relative_links(README) if t.partition("#")[0]
    }
    missing = [p.name for p in PAGES[1:] if p.resolve() not in linked]
    assert not missing, f"README.md does not link to docs/{missing}"
