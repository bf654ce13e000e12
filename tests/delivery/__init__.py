"""Tests of widget_server.delivery (one file per module or capability)."""
