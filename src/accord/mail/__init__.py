"""Outgoing e-mail behind one interface: the dev mailbox or a real SMTP server."""
