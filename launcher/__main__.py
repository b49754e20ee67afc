"""Start Postgres and Redis (given, local or embedded), then progress, tts, render
and gateway; wait until each serves; print the URLs; stop everything on Ctrl-C
or SIGTERM, leaving no process behind.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from editai_common.embedded import resolve_backends
from launcher.supervisor import Supervisor


def main() -> int:
    parser = argparse.ArgumentParser(prog="python3 dev.py up", description=__doc__)
    parser.add_argument("--data-dir", default=os.environ.get("EDITAI_DATA_DIR", "./.editai"))
    args = parser.parse_args()
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    print(f"EditAI: data in {data_dir}", flush=True)
    with resolve_backends(data_dir, os.environ) as backends:
        print(f"  postgres ({backends.database_source}) and redis ({backends.redis_source}) ready", flush=True)
        env = {
            **os.environ,
            "EDITAI_DATA_DIR": str(data_dir),
            "EDITAI_DATABASE_URL": backends.database_url,
            "EDITAI_REDIS_URL": backends.redis_url,
            "EDITAI_AUTH": os.environ.get("EDITAI_AUTH", "dev"),
            "PYTHONUNBUFFERED": "1",
        }
        supervisor = Supervisor(env, data_dir / "logs")
        try:
            if not supervisor.start_all(stop):
                return 1
            supervisor.print_banner()
            supervisor.watch(stop)
        finally:
            supervisor.stop_all()
    print("EditAI stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
