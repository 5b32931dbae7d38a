"""The package is installed as a typed, importable skeleton with no public API yet.

When the package gains its features this file becomes the export-pinning test.
"""

from __future__ import annotations

from importlib import resources

import topgun_mcp_server


def test_package_is_typed() -> None:
    assert resources.files(topgun_mcp_server).joinpath("py.typed").is_file()


def test_no_public_api_before_it_is_built() -> None:
    assert topgun_mcp_server.__all__ == []
