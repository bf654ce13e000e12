"""The W3C Nu HTML checker (vnu.jar from the npm registry, run on Java): is this HTML valid?

scripts/install-test-tools.sh installs it into tests/support/npm (`make test` runs that); with
CI=true a missing jar or Java fails the test instead of skipping it (``need_binary``).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from support.processes import need_binary

JAR = Path(__file__).resolve().parent / "npm" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
HOW = "scripts/install-test-tools.sh (Java from Debian, vnu-jar from the npm registry)"


def errors(documents: dict[str, str]) -> dict[str, list[str]]:
    """The checker's errors for each named document (one Java start for them all)."""
    java = need_binary(shutil.which("java"), "Java", HOW)
    jar = need_binary(str(JAR) if JAR.exists() else None, "vnu.jar", HOW)
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for name, html in documents.items():
            paths[name] = Path(folder) / f"{name}.html"
            paths[name].write_text(html, "utf-8")
        command = [java, "-jar", jar, "--errors-only", "--format", "json", *map(str, paths.values())]
        result = subprocess.run(command, capture_output=True, text=True, timeout=180)
        messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    found: dict[str, list[str]] = {name: [] for name in documents}
    for message in messages:
        name = Path(message.get("url", "")).stem
        found.setdefault(name, []).append(f"{message.get('lastLine')}: {message['message']}")
    return found
