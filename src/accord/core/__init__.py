"""Shared plumbing: settings, database, errors, security, web edge, CLI."""
