"""SQL read models of the governance view, kept by a projection over the notification log.

* ``database``: ``engine_for(settings)``, the SQLAlchemy engine on the event store's own database.
* ``tables``: the ``rm_*`` tables (documented in ``docs/read-models.md``).
* ``records``: what the projection and its view exchange (``Tracking``, ``Batch``, a service's
  prepared rows or its failure).
* ``port``: ``GovernanceView``, the view interface (a tracking recorder).
* ``rows``: the table rows built from the analysis, and the documents rebuilt from them.
* ``sql``: ``SqlAlchemyGovernanceView``; rows and the tracking record are written in one
  transaction.
* ``projection``: ``GovernanceProjection``, the pull loop (run, rebuild, refresh, status);
  ``workers``: its worker processes (and ``compute_service``); ``cache``: its entry cache.
* ``readmodels``: ``ReadModels``, what the CLI uses (catch up, then query; read-only aware).

Nothing is imported here, so that importing the package does not import SQLAlchemy.
"""
