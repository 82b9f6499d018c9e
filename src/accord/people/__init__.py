"""People: accounts, profiles, sign-in and contact points."""
