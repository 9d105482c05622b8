"""Adapters to grammar engines other than our own (XGrammar, the server's engine)."""
