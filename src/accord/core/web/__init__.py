"""The web edge: app factory, dependencies, error mapping, CSRF, templates."""
