"""``python -m topgun_server`` runs the ``topgun`` command."""

from topgun_server.cli import main

main()
