"""Relationships: each person's relationship with each brand, and every preference in it."""
