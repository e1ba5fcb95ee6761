from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    """Scale data and the bench driver: an app only so ``manage.py generate_scale`` lives beside the
    generators it runs, at the top of the dependency graph (it builds every app's data); no models."""

    name = "benchmarks"
    verbose_name = "Benchmarks"
