"""Tests of widget_server.accounts (one file per module or capability)."""
