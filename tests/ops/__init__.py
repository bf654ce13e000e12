"""Tests of widget_server.ops (one file per module or capability)."""
