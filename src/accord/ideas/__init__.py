"""Co-creation: a brand's ideas boards, where the people who follow it propose ideas, vote and
comment, and the brand answers with a status and a public reply."""
