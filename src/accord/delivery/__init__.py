"""Delivery: the outbox, workers, channels, one-click unsubscribe, bounces and complaints."""
