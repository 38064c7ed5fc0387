"""Authentication and login protection."""
