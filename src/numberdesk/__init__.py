"""numberdesk: the control plane for the phone numbers of teams that run AI voice agents."""

__version__ = "0.1.0"
