"""One exception tree for personae, with messages a user can act on.

::

    PersonaeError                  base of everything personae raises on purpose
    ├── InputError(ValueError)     a file, option or value the user gave is wrong
    │   ├── MissingColumnsError    a file lacks required columns (nothing was written)
    │   └── FormatError            a file cannot be read in the format given
    ├── StoreError                 the database cannot be opened or used
    │   ├── SchemaVersionError     the database was written by a newer personae
    │   └── JournalBusy            a running server holds the database's journal
    ├── NotFoundError(LookupError) a customer, segment, playbook … does not exist
    ├── RuleError                  a segment rule is invalid (carries position, suggestions)
    ├── ModelError                 a model cannot be fitted or used
    │   └── NotFittedError         a model was used before ``fit``
    ├── ConsentError               an action would break a customer's consent
    ├── AuthError                  an API key is missing, unknown or lacks the role (carries status)
    │   └── RateLimited            an API key is over its rate limit
    └── Overloaded                 the server's write queue is full: retry later

Every class personae raises on purpose is defined here and drawn above
(``tests/unit/test_errors.py`` checks both), so one ``except PersonaeError`` catches them all
and a reader sees every failure mode in one place.

The CLI turns any ``PersonaeError`` into a one-line message and exits with its ``exit_code``
(``InputError``/``RuleError`` 2, ``NotFoundError`` 3, ``ConsentError`` 4, others 1). The API
turns it into a JSON ``{code, message, hint}`` response whose status comes from one table,
:func:`personae.api.errors.status_for`.

:func:`check_is_fitted` is the one "is this model fitted?" check every model runs before it
predicts (scikit-learn's convention: fitted state lives in attributes ending in ``_``). It
lives here, beside :class:`NotFittedError`, so the domain packages need only this foundation.
"""

from __future__ import annotations

from collections.abc import Iterable


class PersonaeError(Exception):
    """Base class of every error personae raises on purpose.

    The hint, when there is one, follows the message in parentheses: the line the CLI prints.

    Example:
        >>> err = PersonaeError("no database at shop.duckdb", hint="run `personae ingest` first")
        >>> print(err)
        no database at shop.duckdb (run `personae ingest` first)
        >>> err.message, err.hint, err.exit_code
        ('no database at shop.duckdb', 'run `personae ingest` first', 1)
        >>> str(PersonaeError("nothing to do"))
        'nothing to do'
    """

    #: process exit code the CLI uses for this error
    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InputError(PersonaeError, ValueError):
    """Something the user gave (file, option, value) is wrong."""

    exit_code = 2


class MissingColumnsError(InputError):
    """A file lacks required canonical columns; raised before anything is written."""

    def __init__(self, source: str, missing: list[str], found: list[str]) -> None:
        self.source = source
        self.missing = missing
        self.found = found
        super().__init__(
            f"{source}: missing required column(s) {', '.join(missing)}; "
            f"found columns: {', '.join(found) or '(none)'}",
            hint="rename them in the file or map them with --map CANONICAL=SOURCE",
        )


class FormatError(InputError):
    """A file cannot be read in the format given (or guessed from its extension)."""


class StoreError(PersonaeError):
    """The database cannot be opened or used."""


class SchemaVersionError(StoreError):
    """The database was written by a newer version of personae."""


class JournalBusy(StoreError):
    """Another open journal object (a running server) holds the journal.

    A ``StoreError`` because the database cannot be written while another server holds it; a
    class of its own because :func:`personae.store.journal.replay_at_open` catches it to leave
    the journal to its owner. Exit code 1, as every ``StoreError`` (and as before it moved here).
    """

    exit_code = 1


class NotFoundError(PersonaeError, LookupError):
    """A customer, segment, playbook or other named thing does not exist."""

    exit_code = 3


class RuleError(PersonaeError):
    """A segment rule is invalid.

    Attributes:
        position: 0-based character offset in the rule where the problem is, if known.
        suggestions: close valid names for an unknown one.

    Example:
        Suggestions become the hint when no other hint is given:

        >>> err = RuleError("unknown trait `frequncy`", position=0, suggestions=["frequency"])
        >>> print(err)
        unknown trait `frequncy` (did you mean `frequency`?)
        >>> err.exit_code
        2
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        rule: str | None = None,
        position: int | None = None,
        suggestions: list[str] | None = None,
        hint: str | None = None,
    ) -> None:
        self.rule = rule
        self.position = position
        self.suggestions = suggestions or []
        if self.suggestions and hint is None:
            hint = "did you mean " + " or ".join(f"`{s}`" for s in self.suggestions) + "?"
        super().__init__(message, hint=hint)


class ModelError(PersonaeError):
    """A model cannot be fitted or used (e.g. too little data)."""


class NotFittedError(ModelError):
    """A model was used before it was fitted (raised by :func:`check_is_fitted`)."""

    def __init__(self, model: str) -> None:
        super().__init__(f"{model} is not fitted yet", hint=f"call {model}.fit(...) first")


def is_fitted(model: object, attributes: str | Iterable[str]) -> bool:
    """Whether ``model`` holds every one of its fitted ``attributes`` (present and not ``None``).

    personae's models follow scikit-learn's convention: what ``fit`` learns lives in attributes
    whose names end in ``_``, which ``fit`` sets; the constructor sets only hyperparameters.
    Fitted means "those attributes are there", not a flag beside them, so a model restored
    from storage (``from_params``, ``from_state``, ``from_dict``) is fitted as soon as its
    attributes are, with nothing else to keep in step. ``None`` counts as absent because the
    dataclass models (``ClusterModel``, ``Preprocessor``) declare their fitted fields with a
    ``None`` default, so that ``from_dict`` can pass them in.
    """
    names = (attributes,) if isinstance(attributes, str) else tuple(attributes)
    return all(getattr(model, name, None) is not None for name in names)


def check_is_fitted(model: object, attributes: str | Iterable[str]) -> None:
    """Raise :class:`NotFittedError` unless ``model`` is fitted (see :func:`is_fitted`).

    The one check every model runs before predicting, transforming or saving, so each says
    the same thing when used too early: which model, and that ``fit`` comes first. Name the
    attributes the method needs, e.g. ``check_is_fitted(self, "components_")``.
    """
    if not is_fitted(model, attributes):
        raise NotFittedError(type(model).__name__)


class ConsentError(PersonaeError):
    """An action would contact or profile a customer without their consent."""

    exit_code = 4


class AuthError(PersonaeError):
    """An API request's key is missing, malformed, unknown or revoked (401) or lacks the role (403).

    Unlike the other errors it carries its HTTP ``status`` and JSON ``code`` itself: one check
    (:mod:`personae.api.auth`) tells these cases apart, so the API answers with what it says.
    Only the API raises it; ``exit_code`` stays 1 ("other") should a command ever meet one.
    """

    exit_code = 1

    def __init__(self, status: int, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code


class RateLimited(AuthError):
    """An API key made requests faster than its token bucket allows (429 with ``Retry-After``)."""

    def __init__(self) -> None:
        super().__init__(429, "rate_limited", "too many requests for this key", "slow down and retry")


class Overloaded(PersonaeError):
    """The write queue is full, or the server is shutting down: retry later.

    Back-pressure of :class:`personae.live.writer.Writer`; the API answers 429 with
    ``Retry-After``. Only the server raises it, so ``exit_code`` stays 1 ("other").
    """

    exit_code = 1
