"""Rollback jobs act only on an explicit confirmation; their defaults are a dry run."""

import dagster as dg
from pydantic import Field

from dbopt.errors import DboptError

CONFIRMATION = "rollback"


class RollbackConfig(dg.Config):
    confirm: str = Field(
        default="",
        description=f'Type "{CONFIRMATION}" to roll back. Left empty, the run is a dry run that lists what would happen.',
    )


def confirmed(config: RollbackConfig, what: str) -> bool:
    """True to roll back, False for a dry run; any other word is refused in one sentence."""
    value = config.confirm.strip()
    if value and value != CONFIRMATION:
        raise DboptError(
            f'confirm is {value!r}; type exactly "{CONFIRMATION}" to roll {what} back, or leave it empty for a dry run.'
        )
    return value == CONFIRMATION
