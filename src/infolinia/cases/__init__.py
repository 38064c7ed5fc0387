"""Cases: the back office's work items, their escalation ladder and service levels."""
