"""Installations: every write. One module per topic; the status machine every step goes
through is ``transitions``."""
