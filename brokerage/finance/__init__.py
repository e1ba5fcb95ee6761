"""Finance: recharge runs, invoices and credit notes, payments, disputes and the reports (rules.md
rule 1), the brokerage app's finance sub-domain. Its pages are at /finance/ (URL names ``finance:*``),
its API beside the brokerage API at /api/v1/; its models are ``brokerage.models`` (``finance``), its
pure rule ``brokerage.recharges`` and its Celery tasks ``brokerage.tasks``.

- ``services``: writes (runs, issue, PDFs, payments, disputes);
- ``selectors``: reads (reports, aged debt, agreement of balances, dashboard panels);
- ``forms``, ``filtersets``, ``views``, ``urls``: the pages;
- ``api``: serializers, viewsets and their routes.
"""
