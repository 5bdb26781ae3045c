"""SQL read models of the governance view, kept by a projection over the notification log.

* ``engine``: ``engine_for(settings)``, the SQLAlchemy engine on the event store's own database.
* ``tables``: the ``rm_*`` tables (documented in ``docs/read-models.md``).
* ``view``: ``GovernanceView`` (the port) and ``SqlAlchemyGovernanceView``; rows and the
  tracking record are written in one transaction.
* ``projection``: ``GovernanceProjection``, the pull loop (run, rebuild, refresh, status).
* ``readmodels``: ``ReadModels``, what the CLI uses (catch up, then query; read-only aware).

Nothing is imported here, so that importing the package does not import SQLAlchemy.
"""
