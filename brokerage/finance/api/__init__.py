"""The finance endpoints of API v1 (api.md), routed by ``brokerage.api.urls``."""
