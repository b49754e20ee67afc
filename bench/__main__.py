"""`python3 dev.py bench NAME|all`: run benchmark modules `bench/NAME.py` (each has `main()`)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    names = available() if argv[:1] == ["all"] else argv
    if not names:
        print(f"usage: python3 dev.py bench {{all|{'|'.join(available())}}}", file=sys.stderr)
        return 2
    for name in names:
        print(f"== bench {name} ==", flush=True)
        importlib.import_module(f"bench.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
