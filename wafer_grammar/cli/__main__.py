"""``python -m wafer_grammar.cli``: the same as the ``wafer-grammar`` script."""

from wafer_grammar.cli.entry import console_main

console_main()
