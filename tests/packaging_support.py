"""Install featviz into a fresh virtual environment outside the checkout, without downloading.

The new environment sees the test environment's packages (torch, plotly, ipykernel, setuptools, ...)
through a ``.pth`` file, and featviz is installed into it with ``pip install --no-deps``, from a copy of
the checkout so the build leaves nothing behind in the repository.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Not part of a source distribution: version control, environments, build and test output.
_IGNORE = shutil.ignore_patterns(
    ".git", ".venv*", "build", "dist", "*.egg-info", "artifacts", "__pycache__", ".*_cache", ".hypothesis", "*.npz"
)


def copy_checkout(dest: Path) -> Path:
    shutil.copytree(ROOT, dest, ignore=_IGNORE)
    return dest


def clean_env() -> dict[str, str]:
    """The environment for the new interpreter: nothing that points it back at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def fresh_venv(where: Path) -> Path:
    """A new virtual environment that also sees this interpreter's site-packages; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120)
    python = where / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
        env=clean_env(),
    ).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site) / "_featviz_test_deps.pth").write_text("".join(f"{p}\n" for p in sorted(ours)))
    return python


def pip_install(python: Path, source: Path, *, editable: bool = False) -> subprocess.CompletedProcess:
    """`pip install [-e] source` into the environment of `python`, with this interpreter's pip."""
    cmd = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet"]
    if importlib.util.find_spec("setuptools") is not None:
        cmd.append("--no-build-isolation")  # build with the setuptools at hand: nothing to download
    cmd += ["-e", str(source)] if editable else [str(source)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=clean_env(), cwd=source.parent)


def install(tmp: Path, *, editable: bool = False) -> Path:
    """Copy the checkout to tmp/src, install it into tmp/venv, return the venv's python."""
    source = copy_checkout(tmp / "src")
    python = fresh_venv(tmp / "venv")
    done = pip_install(python, source, editable=editable)
    if done.returncode != 0:
        raise AssertionError(f"pip install failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return python
