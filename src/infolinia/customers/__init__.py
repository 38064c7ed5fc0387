"""Customers: identities, contact preferences."""
