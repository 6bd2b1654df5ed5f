"""``python -m equiserve`` runs the command-line interface."""

from equiserve.cli import app

app()
