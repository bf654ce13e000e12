"""The README a new user reads first: its commands, its configuration table, its links."""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")


def test_readme_opens_with_the_two_commands():
    opening = "\n".join(README.splitlines()[:8])
    assert "make run" in opening and "make test" in opening


def test_configuration_table_matches_the_code():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import config_table
    finally:
        sys.path.pop(0)
    assert config_table.replace_in(README) == README, "run: .venv/bin/python scripts/config_table.py --write"


def test_every_linked_document_exists():
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), target


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text("utf-8")
