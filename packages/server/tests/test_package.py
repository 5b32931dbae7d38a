"""The public API is pinned: adding or removing an export is a deliberate change."""

from __future__ import annotations

from importlib import resources

import topgun_server
import topgun_server.testing


def test_package_is_typed() -> None:
    assert resources.files(topgun_server).joinpath("py.typed").is_file()


def test_exports() -> None:
    assert topgun_server.__all__ == [
        "ConfigError",
        "ServerSettings",
        "__version__",
        "build_app",
        "mint_token",
    ]
    for name in topgun_server.__all__:
        assert getattr(topgun_server, name) is not None


def test_testing_kit_exports() -> None:
    assert topgun_server.testing.__all__ == [
        "ProtocolClient",
        "RunningServer",
        "ServerProcess",
        "Stamper",
        "or_add",
        "or_remove",
        "put",
        "remove",
        "running_server",
        "settings_for_tests",
    ]
