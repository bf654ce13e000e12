"""``python -m widget_server`` is the same as the ``widget-server`` command."""
from .ops.cli import main

main()
