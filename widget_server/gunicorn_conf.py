"""Kept so that deployments started with ``-c python:widget_server.gunicorn_conf`` keep working.

The settings live in ``widget_server.ops.gunicorn_conf``.
"""
from .ops.gunicorn_conf import *  # noqa: F403
