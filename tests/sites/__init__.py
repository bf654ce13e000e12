"""Tests of widget_server.sites (one file per module or capability)."""
