"""Print the version a workspace package declares: `python tools/package_version.py topgun-core`.

Used by the release workflow to check that a tag like ``topgun-core-v0.1.0`` matches
the version in ``packages/core/pyproject.toml`` before anything is published.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def package_versions() -> dict[str, str]:
    """Map every workspace distribution name to its declared version."""
    versions = {}
    for pyproject in sorted(ROOT.glob("packages/*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())["project"]
        versions[project["name"]] = project["version"]
    return versions


def main(argv: list[str]) -> int:
    versions = package_versions()
    if len(argv) != 1 or argv[0] not in versions:
        print(f"usage: package_version.py <{'|'.join(versions)}>", file=sys.stderr)
        return 2
    print(versions[argv[0]])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
