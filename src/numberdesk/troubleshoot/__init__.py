"""Troubleshooting a number: the guide's checklists, run against its real state (API and dashboard)."""
