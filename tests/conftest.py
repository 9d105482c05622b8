pytest_plugins = ["wafer_grammar.local.pytest_fixtures"]
