"""The tree passes ruff with the project's rule set (pyproject.toml's [tool.ruff]): an unused
import, an import out of order or a bug-prone pattern fails here, with ruff's report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_tree_passes_ruff() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--output-format", "concise", "."],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, f"ruff found:\n{result.stdout}{result.stderr}"
