"""Tests of widget_server.moderation (one file per module or capability)."""
