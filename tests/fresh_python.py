"""Run a snippet in a new Python interpreter: what importing a module loads, or what a new
process holds, without this test process's imports in the way."""

from __future__ import annotations

import subprocess
import sys


def python_stdout(code: str, *args: str) -> str:
    """Run ``python -c code args...`` with this interpreter; its standard output (the test
    fails if it exits non-zero)."""
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    ).stdout
