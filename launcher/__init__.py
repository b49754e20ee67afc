"""The local launcher: `python3 dev.py up` runs the whole system in the foreground."""
