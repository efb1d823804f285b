"""Turn operator errors into a Dagster failure that reads as one sentence."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import dagster as dg

from dbopt.errors import DboptError

F = TypeVar("F", bound=Callable[..., Any])


def operator_errors(fn: F) -> F:
    """A `DboptError` raised in a step becomes `dg.Failure` with its sentence and no retry."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except DboptError as exc:
                raise dg.Failure(description=str(exc), allow_retries=False) from None

        return gen_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DboptError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None

    return wrapper  # type: ignore[return-value]
