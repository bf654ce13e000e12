"""Tests of widget_server.importers (one file per module or capability)."""
