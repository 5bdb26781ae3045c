"""The web application: server-rendered pages and a JSON API over the ledger (ADR 14).

``create_app`` (``insightlog.web.app``) takes already-built objects: the accounts, the use cases
(``insightlog.web.usecases``, the one module that calls into the ledger) and the configuration.
``insightlog.web.factory (over insightlog.bootstrap)`` builds them from the environment for ``insightlog serve``.
"""
