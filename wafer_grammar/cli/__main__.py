"""``python -m wafer_grammar.cli``: the same as the ``wafer-grammar`` script."""

import sys

from wafer_grammar.cli.entry import main

sys.exit(main())
