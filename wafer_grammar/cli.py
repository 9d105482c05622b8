"""The ``wafer-grammar`` command."""

def main() -> int:
    return 0
