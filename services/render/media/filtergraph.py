"""Escaping values placed inside an ffmpeg filtergraph.

A filtergraph has two quoting levels (ffmpeg-filters, "Notes on filtergraph
escaping"): option values, where `:` separates options, and the graph, where
`[ ] , ;` separate filters. File paths go through both, so a path holding a colon,
a quote or a comma cannot break out of its option.
"""

from __future__ import annotations

from pathlib import Path

_LEVEL1 = {"\\": "\\\\", "'": "\\'", ":": "\\:"}
_LEVEL2 = {"\\": "\\\\", "'": "\\'", "[": "\\[", "]": "\\]", ",": "\\,", ";": "\\;"}


def _escape(value: str, table: dict[str, str]) -> str:
    return "".join(table.get(char, char) for char in value)


def escape_option_value(value: str) -> str:
    """`value` escaped for use as one filter option inside a filtergraph."""
    return _escape(_escape(value, _LEVEL1), _LEVEL2)


def escape_path(path: Path) -> str:
    return escape_option_value(str(path))
