"""An MCP server that lets AI agents use a TopGun grid.

Will hold an MCP server (official `mcp` SDK) letting AI agents list maps, query, mutate,
search and subscribe. Not built yet; today this package is only its skeleton.
"""

__all__: list[str] = []
