"""Accord: a customer-managed relationship platform."""

__version__ = "0.1.0"
