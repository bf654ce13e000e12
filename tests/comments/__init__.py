"""Tests of widget_server.comments (one file per module or capability)."""
