"""Errors an operator can act on.

Every failure a user can cause (a bad URL, a missing table, a changed SQL file) ends in
one `DboptError` whose message is one sentence naming the problem and the fix. The CLI
prints it without a traceback; Dagster steps turn it into a `dg.Failure`.
"""

from __future__ import annotations


class DboptError(Exception):
    """A problem with a clear fix; the message is shown to the user as is."""


class ConnectionProblem(DboptError):
    """A database could not be reached with the configured URL."""


class BaselineMissing(DboptError):
    """The database does not hold the baseline schema of the contract."""


class LockTimeout(DboptError):
    """DDL gave up waiting for a lock after its retries."""


class ChangedMigration(DboptError):
    """A step's SQL changed after it was applied."""
