"""Accounts of the web application: users, rights, passwords, sessions, API tokens, the access log.

Pure rules live in ``rights``, ``passwords``, ``totp`` and ``chain``; ``store`` keeps everything in
``web_*`` SQL tables in the ledger's own database (SQLite or PostgreSQL) and is the only module
here that knows SQL.
"""
