"""Command-line entry point (placeholder until the GTP module lands)."""

def main() -> int:
    return 0
