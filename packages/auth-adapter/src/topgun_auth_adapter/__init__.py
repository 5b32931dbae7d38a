"""An auth store on TopGun maps and issuing of the JWTs the TopGun server accepts.

Will hold an auth store on TopGun maps (users, sessions, accounts, verification tokens)
and issuing of the JWTs the server accepts. Not built yet; today this package is only
its skeleton.
"""

__all__: list[str] = []
