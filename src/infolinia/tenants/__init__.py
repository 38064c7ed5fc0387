"""Tenants: per-tenant settings such as the business-hours calendar."""
