"""The grammar layer: XGrammar-dialect EBNF parsed, checked, rendered and accepted (pure)."""
