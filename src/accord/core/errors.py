"""Framework-free domain errors. Services raise these; the web edge maps them to HTTP."""

from __future__ import annotations


class AccordError(Exception):
    """Base of every error a service may raise on purpose."""

    status = 400

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        errors: list[dict[str, str | None]] | None = None,
    ) -> None:
        """`errors`: every problem as `{"field", "detail"}` when there are several (the API
        lists them all); `detail` and `field` are the first."""
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.errors = errors

    @property
    def name(self) -> str:
        return type(self).__name__


class InvalidInput(AccordError):
    status = 422


class NotFound(AccordError):
    status = 404


class Conflict(AccordError):
    status = 409


class NotAuthenticated(AccordError):
    status = 401


class PermissionDenied(AccordError):
    status = 403


class RateLimited(AccordError):
    status = 429

    def __init__(
        self, detail: str, *, field: str | None = None, retry_after: int | None = None
    ) -> None:
        """`retry_after`: seconds until a new try can work (the Retry-After header)."""
        super().__init__(detail, field=field)
        self.retry_after = retry_after


class PayloadTooLarge(AccordError):
    status = 413


class SchemaBehind(Exception):
    """The database schema is older than the code; the message says what to run."""
