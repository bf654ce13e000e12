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


EXPORT_BENCH = BENCH.parent / "export_memory.py"


def test_a_complete_export_and_its_restore_do_not_grow_with_the_data():
    """500 against 4,000 comments (with likes, accounts, audit entries): holding the rows would add
    megabytes to the large run; streaming keeps both peaks where the small run's are."""
    result = subprocess.run([sys.executable, str(EXPORT_BENCH), "--sizes", "500,4000"], capture_output=True,
                            text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["large"]["restore"]["comments"] == 8 * figures["small"]["restore"]["comments"] == 4000
    assert figures["large"]["file_mb"] > 2.5
    for step in ("export", "restore"):
        grown_kb = figures["large"][step]["peak_kb"] - figures["small"][step]["peak_kb"]
        # Holding the rows would cost more than the file's own bytes (Python objects are larger
        # than their JSON); streaming stays well under it, whatever else the machine is doing.
        assert figures[f"{step}_ratio"] < 1.1 and grown_kb < figures["large"]["file_mb"] * 1024, figures
