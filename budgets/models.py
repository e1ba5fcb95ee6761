"""Models of the budgets app arrive with its own issue (see domain.md)."""
