"""Campaigns: audiences, the gate, previews by reason, scheduling."""
