"""Fixtures the integration tests share with the app test suites (re-exported, not redefined)."""

from tests.brokerage.finance.conftest import (  # noqa: F401 - pytest fixtures
    broker,
    ccg,
    council,
    example_one,
    finance,
    make_package,
)
from tests.governance.conftest import scene, secretary  # noqa: F401 - pytest fixtures
from tests.integration.test_celery_worker import (  # noqa: F401 - pytest fixtures
    shared_broker,
    worker_queue,
    worker_var_dir,
)
