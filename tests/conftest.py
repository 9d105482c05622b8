import os

from hypothesis import settings

pytest_plugins = ["wafer_grammar.local.pytest_fixtures"]

# The same examples on every run (`make test` must not pass or fail by chance); set
# HYPOTHESIS_PROFILE=explore to search afresh each run, as when hunting for bugs.
settings.register_profile("repeatable", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
