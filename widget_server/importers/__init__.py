"""Moving comments in: ``widget-server import FORMAT FILE``.

One module per format reads its file as a stream of records (see ``base``);
``loader`` stages them on disk, plans, and writes everything in one
transaction. ``run_import`` is what the command line calls.
"""
from __future__ import annotations

import os
from importlib import import_module

from ..dataset import FORMAT as EXPORT_FORMAT
from ..dataset import VERSION
from . import restore
from .base import ImportFailed, ProgressFile, Summary, progress_bar
from .detect import check
from .loader import Options, run

__all__ = ["FORMATS", "ImportFailed", "Summary", "run_import"]

# command-line name -> module; "generic" is Isso's own name for its JSON format.
FORMATS = {
    "disqus": "disqus",
    "wordpress": "wordpress",
    "isso": "isso",
    "isso-json": "isso_json",
    "generic": "isso_json",
    "commento": "commento",
    "comentario": "commento",  # Comentario exports Commento's format (gzipped)
    "remark42": "remark42",
    "artalk": "artalk",
    "waline": "waline",
    "twikoo": "twikoo",
    "cusdis": "cusdis",
    "json": "json",
}


def run_import(fmt: str, path: str, *, map_urls: list[tuple[str, str]] | None = None, site: str | None = None,
               dry_run: bool = False, progress: bool = False, with_secrets: bool = False) -> Summary:
    """Import ``path`` (in ``fmt``) into the app's database; needs an app context.

    A complete export (version 2) into an empty server is restored whole (``restore``)."""
    if fmt not in FORMATS:
        raise ImportFailed(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    module = import_module(f".{FORMATS[fmt]}", __name__)
    if not os.path.isfile(path):
        raise ImportFailed(f"{path}: no such file")
    check(module.FORMAT, path)  # a file of another format is refused before anything is read or written
    options = Options(fmt=module.FORMAT, path=path, map_urls=list(map_urls or []), site=site, dry_run=dry_run,
                      progress=progress, keep_numbers=getattr(module, "KEEP_NUMBERS", False))
    summary = Summary(fmt=module.FORMAT, path=path, dry_run=dry_run)
    if getattr(module, "BINARY", False):
        return run(module.read(None, path, summary), options, summary)
    head = restore.peek(path) if module.FORMAT == "json" else {}
    whole = head.get("format") == EXPORT_FORMAT and head.get("version") == VERSION
    bar = progress_bar(progress, os.path.getsize(path), "B", "reading")
    try:
        with open(path, "rb") as raw:
            if whole and not map_urls and restore.server_is_empty():
                return restore.restore(ProgressFile(raw, bar), path, head, summary, with_secrets=with_secrets,
                                       dry_run=dry_run)
            if whole:
                restore.check_secret(head, summary, with_secrets=False)
                restore.merge_note(summary)
            return run(module.read(ProgressFile(raw, bar), path, summary), options, summary)
    finally:
        if bar is not None:
            bar.close()


def parse_mapping(value: str) -> tuple[str, str]:
    """``OLD=NEW`` for ``--map-url``."""
    old, sep, new = value.partition("=")
    if not sep or not old.strip() or not new.strip():
        raise ValueError("must be OLD=NEW, e.g. http://old.example/blog/=https://new.example/")
    return old.strip(), new.strip()
