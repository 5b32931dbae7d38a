"""The TopGun React bridge: a small JavaScript client and React hooks, with the built
bundle shipped for the server.

Will hold the React bridge: a small JavaScript client and React hooks (an npm package in
this directory) plus a Python distribution shipping the built bundle. Not built yet;
today this package is only its skeleton.
"""

__all__: list[str] = []
