"""numberdesk's numbers kept in step with the carrier's: reconciliation and configuration reports."""
