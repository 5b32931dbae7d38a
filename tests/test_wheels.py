"""Every package builds on its own and installs on its own, the way users install it.

For each workspace package: ``uv build --package <name>`` produces a wheel and an
sdist; the wheel is then installed into a fresh virtual environment together with
only the wheels of the TopGun packages it depends on (third-party dependencies come
from the package index) and imported there. This catches a package that works only
because the workspace happens to have a sibling installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv must be available to build wheels"
    return uv


def _packages() -> dict[str, tuple[str, list[str]]]:
    """distribution name -> (import name, TopGun distributions it depends on)."""
    found = {}
    for pyproject in sorted(ROOT.glob("packages/*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())["project"]
        deps = [re.split(r"[<>=!~\[ ;]", d, maxsplit=1)[0] for d in project["dependencies"]]
        import_name = next(p.parent.name for p in (pyproject.parent / "src").glob("*/py.typed"))
        found[project["name"]] = (import_name, [d for d in deps if d.startswith("topgun-")])
    return found


def _closure(name: str, packages: dict[str, tuple[str, list[str]]]) -> list[str]:
    seen: list[str] = []
    stack = [name]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.append(current)
            stack.extend(packages[current][1])
    return seen


@pytest.fixture(scope="module")
def dist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    for name in _packages():
        subprocess.run(
            [_uv(), "build", "--package", name, "--out-dir", str(out), "--quiet"],
            cwd=ROOT,
            check=True,
        )
    return out


def _wheel(dist_dir: Path, name: str) -> Path:
    wheels = list(dist_dir.glob(f"{name.replace('-', '_')}-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_every_package_builds_wheel_and_sdist(dist_dir: Path) -> None:
    for name in _packages():
        assert _wheel(dist_dir, name).exists()
        sdists = list(dist_dir.glob(f"{name.replace('-', '_')}-*.tar.gz"))
        assert len(sdists) == 1, f"{name}: no sdist in {sorted(p.name for p in dist_dir.iterdir())}"


def _new_venv(tmp_path: Path) -> Path:
    """A fresh virtual environment; returns its python."""
    venv = tmp_path / "venv"
    subprocess.run([_uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    return venv / "bin" / "python"


def _install(python: Path, *wheels: Path) -> None:
    subprocess.run(
        [_uv(), "pip", "install", "--quiet", "--python", str(python), *map(str, wheels)],
        check=True,
    )


@pytest.mark.parametrize("name", sorted(_packages()))
def test_wheel_installs_alone_and_imports(name: str, dist_dir: Path, tmp_path: Path) -> None:
    packages = _packages()
    python = _new_venv(tmp_path)
    _install(python, *(_wheel(dist_dir, dep) for dep in _closure(name, packages)))
    import_name = packages[name][0]
    probe = f"import {import_name}; print({import_name}.__name__)"
    result = subprocess.run([str(python), "-c", probe], check=True, capture_output=True, text=True)
    assert result.stdout.strip() == import_name
    installed = subprocess.run(
        [_uv(), "pip", "list", "--python", str(python)], check=True, capture_output=True, text=True
    ).stdout
    for other in set(packages) - set(_closure(name, packages)):
        assert other not in installed, f"{other} was installed alongside {name}"


def test_core_alone_falls_back_to_python_hash(dist_dir: Path, tmp_path: Path) -> None:
    python = _new_venv(tmp_path)
    _install(python, _wheel(dist_dir, "topgun-core"))
    probe = (
        "import topgun_core as c; assert c.hash_backend() == 'python'; "
        "assert c.partition_for('key1') == 268"
    )
    subprocess.run([str(python), "-c", probe], check=True)
    _install(python, _wheel(dist_dir, "topgun-native"))
    probe = "import topgun_core as c; assert c.hash_backend() == 'native'"
    subprocess.run([str(python), "-c", probe], check=True)
