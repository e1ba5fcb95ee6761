"""Scale data and ``make bench`` (quality.md, "Benchmarks").

- ``benchmarks.generate``: seeded, deterministic generators for the ``tiny``, ``borough`` and
  ``region`` sizes, loaded with PostgreSQL ``COPY`` (``manage.py generate_scale``).
- ``benchmarks.reference``: the bare SQL reference of rule 1 (owed per package, funder and month).
- ``benchmarks.run``: the ``make bench`` driver (separate database, table, ``var/bench.json``).
"""
