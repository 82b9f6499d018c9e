"""Brands: tenants, their members, roles and API keys."""
