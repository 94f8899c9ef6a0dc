"""The one error tree of lse. Everything the user can cause or fix is an `LseError`.

    LseError                      exit 1 / HTTP 500 unless a subclass says otherwise
    ├── UsageError                exit 2 / 422   bad arguments, dates, names
    ├── ConfigError               exit 1 / 500   missing key, bad URL, bad settings
    ├── NotFoundError             exit 1 / 404   unknown project, dataset, config, run
    ├── ConflictError             exit 1 / 409   duplicate names, objects in use
    ├── AuthError                 exit 1 / 401   missing or wrong credentials
    ├── ValidationFailed          exit 1 / 422   input that is well-formed but unusable
    │   └── PayloadTooLarge       exit 1 / 413
    ├── BadRequest                exit 1 / 400   refused in the object's present state (in use, unresolvable)
    ├── UpstreamError             exit 1 / 502   a provider (LangSmith, OpenAI, S3) failed
    │   ├── RateLimited                          429 after retries
    │   └── UpstreamRejected                     a 4xx the provider will not change its mind on
    ├── StorageError              exit 1 / 500   database or object store failed
    │   ├── RowRefused                           the database refused one row's values
    │   └── StorageBusy                  503     the database stayed locked: retry shortly
    ├── PartialResult             exit 3         the job finished but something is incomplete
    └── VerificationFailed        exit 3         files and database (or source) disagree

SDK, SQLAlchemy and boto errors are translated where they enter (`langsmith/`,
`providers/`, `store/`, `objects/`); the CLI prints `str(err)` on one line and exits
with `exit_code`; the API maps `http_status` and `code` into the envelope.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes are a contract (README "Exit codes")."""

    OK = 0
    ERROR = 1
    USAGE = 2
    PARTIAL = 3  # the job finished but something is incomplete, or verification found differences
    INTERRUPTED = 130


class LseError(Exception):
    exit_code: int = ExitCode.ERROR
    http_status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, details: object = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details

    def __str__(self) -> str:
        return self.message


class UsageError(LseError):
    exit_code = ExitCode.USAGE
    http_status = 422
    code = "invalid_input"


class ConfigError(LseError):
    code = "configuration_error"


class NotFoundError(LseError):
    http_status = 404
    code = "not_found"


class ConflictError(LseError):
    http_status = 409
    code = "conflict"


class AuthError(LseError):
    http_status = 401
    code = "unauthorized"


class ValidationFailed(LseError):
    http_status = 422
    code = "validation_error"


class PayloadTooLarge(ValidationFailed):
    http_status = 413
    code = "payload_too_large"


class BadRequest(LseError):
    """What Kaapi answers 400: the request is understood but refused in the present state
    (a dataset runs still use, a config version that does not resolve)."""

    http_status = 400
    code = "bad_request"


class UpstreamError(LseError):
    http_status = 502
    code = "upstream_error"


class RateLimited(UpstreamError):
    http_status = 429
    code = "rate_limited"


class UpstreamRejected(UpstreamError):
    code = "upstream_rejected"


class StorageError(LseError):
    code = "storage_error"


class RowRefused(StorageError):
    """The database refused the values of a row (a data, constraint or size error), as
    opposed to the database being unusable (down, schema missing, disk full): a load
    isolates such a row and goes on with the others."""

    code = "row_refused"


class StorageBusy(StorageError):
    """SQLite stayed locked by another writer past the busy timeout and our retries."""

    http_status = 503
    code = "database_busy"


class PartialResult(LseError):
    exit_code = ExitCode.PARTIAL
    code = "partial_result"


class VerificationFailed(LseError):
    exit_code = ExitCode.PARTIAL
    code = "verification_failed"
