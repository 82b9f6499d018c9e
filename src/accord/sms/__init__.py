"""SMS: brand numbers, gateways, inbound keywords and replies, delivery receipts, the dev phone."""
