"""Models of the brokerage app arrive with its own issue (see domain.md)."""
