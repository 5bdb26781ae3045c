"""Run mypy --strict over src/insightlog and cli/ (installed as insightlog.cli).

mypy cannot follow setuptools' package-dir mapping of ``cli/`` to ``insightlog.cli``, so this
lays out the package as it is installed, with symlinks in a temporary folder, and checks that.
The settings are ``[tool.mypy]`` in pyproject.toml.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="insightlog-mypy-") as tmp:
        package = Path(tmp) / "insightlog"
        package.mkdir()
        for item in (ROOT / "src" / "insightlog").iterdir():
            if item.name != "__pycache__":
                (package / item.name).symlink_to(item)
        (package / "cli").symlink_to(ROOT / "cli")
        env = {**os.environ, "MYPYPATH": tmp}
        cmd = [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "-p",
            "insightlog",
            *sys.argv[1:],
        ]
        return subprocess.run(cmd, env=env, cwd=tmp).returncode


if __name__ == "__main__":
    sys.exit(main())
