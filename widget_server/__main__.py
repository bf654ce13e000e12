"""``python -m widget_server`` is the same as the ``widget-server`` command."""
from .cli import main

main()
