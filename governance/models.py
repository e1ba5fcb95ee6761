"""Models of the governance app arrive with its own issue (see domain.md)."""
