"""Intentcasting: people broadcast what they want to buy, brands answer anonymously, people
compare the offers and choose who learns who they are."""
