"""The ``numberdesk`` command: ``main`` assembles it from one Typer per command module."""
