"""Privacy: a person's export of everything Accord holds about them, and erasure."""
