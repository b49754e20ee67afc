#!/usr/bin/env python3
"""One entry point for a fresh checkout: `python3 dev.py up` and `python3 dev.py test`.

Needs only Python 3.11+. It creates `.venv`, installs the pinned dependencies from
pyproject.toml, generates the gRPC code from `protos/`, then runs the launcher or
pytest inside that environment. The install is skipped while pyproject.toml and
the protos are unchanged, so repeated runs start at once.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("EDITAI_VENV", ROOT / ".venv"))
COMMANDS = {
    "up": ["-m", "launcher"],
    "test": ["-m", "pytest"],
    "bench": ["-m", "bench"],
    "gen": ["-m", "scripts.gen_protos"],
}
USAGE = "usage: python3 dev.py {up|test|bench|gen} [args...]"


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in [ROOT / "pyproject.toml", *sorted((ROOT / "protos").rglob("*.proto"))]:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _run(*args: str | Path) -> None:
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT)


def ensure_environment() -> None:
    stamp = VENV / ".editai-fingerprint"
    fingerprint = _fingerprint()
    if stamp.exists() and stamp.read_text() == fingerprint and _venv_python().exists():
        return
    if not _venv_python().exists():
        print(f"creating virtualenv in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    python = _venv_python()
    print("installing pinned dependencies (first run takes a few minutes)", flush=True)
    _run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", ".[dev]")
    _run(python, "-m", "scripts.gen_protos")
    # The services run from the checkout: make the repository root and the
    # generated code importable from anywhere inside the virtualenv.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "editai-checkout.pth").write_text(f"{ROOT}\n{ROOT / 'gen'}\n")
    stamp.write_text(fingerprint)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(USAGE, file=sys.stderr)
        return 2
    ensure_environment()
    command = [str(_venv_python()), *COMMANDS[argv[0]], *argv[1:]]
    os.chdir(ROOT)
    # exec so that Ctrl-C and SIGTERM reach the launcher or pytest directly.
    os.execv(command[0], command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
