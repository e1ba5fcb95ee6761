"""The shape of the house (conventions.md), checked on every run beside the import contracts that
``lint-imports`` checks in ``make lint`` (pyproject.toml, ``[tool.importlinter]``).

- no app reaches another app's models by name (``apps.get_model("budgets", ...)`` outside budgets):
  that is an import the import contracts cannot see;
- views hold no ``transaction.atomic``: writes run in services, inside the generic layer's one
  transaction (``commissioning.generic.edit.write_in_scope``);
- no product module is over 600 lines (migrations aside): a newcomer can hold each in their head.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("commissioning", "budgets", "brokerage", "governance", "benchmarks")
MAX_LINES = 600


def product_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            yield app, path


def _get_model_targets(tree: ast.AST):
    """The app labels named by ``apps.get_model(...)`` calls (first argument, or ``"app.Model"``)."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get_model"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value.split(".")[0]


def test_no_app_reaches_another_apps_models_by_name():
    found = [
        f"{path.relative_to(ROOT)}:{line} names {label}"
        for app, path in product_modules()
        for line, label in _get_model_targets(ast.parse(path.read_text()))
        if label in APPS and label != app
    ]

    assert found == []


def test_views_open_no_transactions_of_their_own():
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for _app, path in product_modules()
        if "views" in path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "transaction.atomic" in line
    ]

    assert found == []


@pytest.mark.parametrize("app", APPS)
def test_no_product_module_is_over_600_lines(app):
    long = {
        path.relative_to(ROOT).as_posix(): count
        for owner, path in product_modules()
        if owner == app and (count := len(path.read_text().splitlines())) > MAX_LINES
    }

    assert long == {}
