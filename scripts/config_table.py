"""Print the README's configuration table from widget_server.config.SETTINGS.

    .venv/bin/python scripts/config_table.py            # print it
    .venv/bin/python scripts/config_table.py --write    # replace it in README.md

tests/test_docs.py fails when the README's table and the code disagree.
"""
from __future__ import annotations

import sys
from pathlib import Path

from widget_server.config import PREFIX, SETTINGS

BEGIN = "<!-- config-table:begin -->"
END = "<!-- config-table:end -->"


def table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, (default, _parse, meaning) in SETTINGS.items():
        shown = "unset" if default is None else ("empty" if default == "" else f"`{default}`")
        rows.append(f"| `{PREFIX}{name}` | {shown} | {meaning.replace('|', '/')} |")
    return "\n".join(rows)


def replace_in(text: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n" + table() + "\n" + text[end:]


if __name__ == "__main__":
    if "--write" in sys.argv:
        readme = Path(__file__).resolve().parent.parent / "README.md"
        readme.write_text(replace_in(readme.read_text("utf-8")), "utf-8")
    else:
        print(table())
