"""domain/ and workflows/ pass `mypy --strict` (the configuration is pyproject.toml's
[tool.mypy]): an Optional read unchecked or a function left unannotated fails here, with
mypy's report. The cache (.mypy_cache) makes a run after the first about a second."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_domain_and_workflows_pass_mypy_strict() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"mypy failed:\n{result.stdout}{result.stderr}"
