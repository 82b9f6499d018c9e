"""The outbox tables, shared by campaigns (which fill it) and delivery (which empties it).

Kept apart so that neither of those domains has to import the other's package both ways.
"""
