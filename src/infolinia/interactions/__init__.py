"""Interactions: one row per contact on any channel."""
