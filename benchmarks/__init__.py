"""Scale data and ``make bench`` (quality.md, "Benchmarks").

- ``benchmarks.generate``: seeded, deterministic generators for the ``tiny``, ``borough`` and
  ``region`` sizes, loaded with PostgreSQL ``COPY`` (``manage.py generate_scale``), one module per
  part of the office (core, people and packages, boards, budgets, invoices).
- ``benchmarks.reference``: the bare SQL reference of rule 1 (owed per package, funder and month).
- ``benchmarks.run``: the ``make bench`` driver and its table; ``database`` (the bench's own
  database), ``measure`` (in-process figures), ``server`` (gunicorn on loopback, pages under load,
  the region in a fresh process), ``governance`` (the members' pack), ``region`` (the region's runs
  one after another in one process), ``fanout`` (the same month as one region run fanned out across
  ``celery worker -c 1`` and ``-c 2``), ``common``.
"""
