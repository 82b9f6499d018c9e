"""Conversations: two-way threads between a person and a brand (portal, e-mail, SMS), the
brand's inbox, internal notes, saved replies and the member digest."""
