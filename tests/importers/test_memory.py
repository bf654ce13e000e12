"""Memory stays flat as the file grows: a 0.5 MB and a 4 MB Disqus export, each imported in
its own process (bench/import_memory.py), must peak at nearly the same resident memory.

Holding every post in memory would add well over 10 MB for the larger file; the
bounded caches (SQLite pages, batches of 500 rows) are reached already by the
small one. ``bench/import_memory.py`` runs the same check on 2 MB against 100 MB.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "import_memory.py"


def test_peak_memory_does_not_grow_with_the_file():
    result = subprocess.run([sys.executable, str(BENCH), "--sizes", "0.5,4"], capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["large"]["imported"] > 7 * figures["small"]["imported"]
    grown_kb = figures["large"]["peak_kb"] - figures["small"]["peak_kb"]
    assert figures["ratio"] < 1.15 and grown_kb < 12 * 1024, figures
