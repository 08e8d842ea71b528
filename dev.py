#!/usr/bin/env python3
"""The project's commands, needing nothing but Python 3.11+ on the machine.

    python3 dev.py run [digits serve options]   set up, then serve the app on the active model
    python3 dev.py test [pytest options]        set up all (Chromium, Biome, PostgreSQL, MNIST),
                                                then test
    python3 dev.py default-model                retrain the shipped model from its seed
    python3 dev.py audit [pip-audit options]    check the installed packages for known CVEs

Setting up means: a virtual environment in .venv with the project and its dev extra installed
(redone when pyproject.toml changes). The tests also need Debian's Chromium, Debian's
PostgreSQL (its binaries only: the test session starts a throwaway cluster of its own, see
tests/conftest.py), and Biome (the JavaScript formatter and linter) from npm, as pinned in
package-lock.json.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
STAMP = VENV / ".installed"
NODE_MODULES = ROOT / "node_modules"
BIOME = NODE_MODULES / ".bin" / "biome"
NPM_STAMP = NODE_MODULES / ".installed"


def run(*cmd: str | Path, **kwargs) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kwargs)


def setup() -> None:
    """Create .venv and install the project with its dev extra, once per pyproject.toml."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print(f"+ creating {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    STAMP.write_text(wanted)


def apt_install(*packages: str) -> None:
    """Install Debian packages (as root, or through sudo)."""
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(*sudo, "apt-get", "update", "-qq", env=env)
    run(*sudo, "apt-get", "install", "-y", "-qq", *packages, env=env)


def ensure_chromium() -> None:
    """The browser tests drive Debian's Chromium; install it when it is missing."""
    if not shutil.which("chromium"):
        apt_install("chromium")


def ensure_postgres() -> None:
    """The shared-database tests need PostgreSQL's server binaries; install Debian's when they
    are missing. Only the binaries: the test session starts its own throwaway cluster, as an
    unprivileged user in a temporary folder, and removes it at the end (app/db/throwaway.py),
    so nothing is assumed running and nothing is left behind."""
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")) and not shutil.which("initdb"):
        apt_install("postgresql")


def ensure_biome() -> None:
    """Biome checks static/js; install it with npm ci, again whenever package-lock.json changes
    (and Debian's Node.js and npm first, when npm is missing)."""
    wanted = hashlib.sha256((ROOT / "package-lock.json").read_bytes()).hexdigest()
    if BIOME.exists() and NPM_STAMP.exists() and NPM_STAMP.read_text() == wanted:
        return
    if not shutil.which("npm"):
        apt_install("nodejs", "npm")
    run("npm", "ci", "--no-audit", "--no-fund")  # exactly the locked versions, in node_modules/
    NPM_STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    if command == "run":
        setup()
        os.execv(BIN / "digits", [str(BIN / "digits"), "serve", *rest])
    if command == "test":
        setup()
        ensure_chromium()
        ensure_postgres()
        ensure_biome()
        run(BIN / "digits", "data", "fetch")
        run(BIN / "ruff", "check", ".")
        run(BIN / "ruff", "format", "--check", ".")
        run(BIOME, "ci", "--colors=off", "static/js")  # formatting and lint, like the two above
        return subprocess.run([str(BIN / "pytest"), *rest], cwd=ROOT).returncode
    if command == "default-model":
        setup()
        run(BIN / "digits", "data", "fetch")
        run(BIN / "digits", "train", "--seed", "0", "--out", "model/weights/default.npz", *rest)
        return 0
    if command == "audit":
        setup()
        run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[audit]")
        # --strict: a package that cannot be looked up fails the audit instead of passing unseen.
        audit = [BIN / "pip-audit", "--strict", "--skip-editable", "--progress-spinner", "off"]
        return subprocess.run([str(c) for c in [*audit, *rest]], cwd=ROOT).returncode
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
