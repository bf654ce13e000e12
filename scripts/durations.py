"""Write tests/durations.json (seconds per test module) from a pytest JUnit XML report, for the
order the suite is spread over workers in (tests/conftest.py): `make durations`."""
from __future__ import annotations

import collections
import json
import sys
import xml.etree.ElementTree as ET  # noqa: S405 - our own pytest's report
from pathlib import Path


def main(report: str, out: str) -> None:
    took: collections.Counter = collections.Counter()
    for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314
        parts = [p for p in case.get("classname", "").split(".") if not p.startswith("Test")]
        took["/".join(parts[1:]) + ".py"] += float(case.get("time") or 0)
    ordered = {module: round(seconds, 1) for module, seconds in took.most_common()}
    Path(out).write_text(json.dumps(ordered, indent=0) + "\n", "utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:3])
