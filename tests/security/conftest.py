"""The security tests' shared scene (``world``) comes from ``tests/security/world.py``."""

from tests.security.world import world_fixture

world = world_fixture("world")
