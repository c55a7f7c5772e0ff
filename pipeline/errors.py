"""What a failure is called: the most specific message in an exception chain, for the one-line
error of the `flowers` command and the failed-run line of `flowers report`."""
from __future__ import annotations

_PROJECT_PACKAGES = ("components", "pipeline", "data", "models")
MAX_FOREIGN_CHARS = 300  # a library's message can hold kilobytes (a record's bytes in hex)


def chain(error: BaseException) -> list[BaseException]:
    """The error and the ones it was raised from or while handling, outermost first."""
    found = []
    while error is not None and error not in found:
        found.append(error)
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return found


def most_specific(error: BaseException) -> BaseException:
    """The project's own error nearest the fault when there is one (it names the file, flag or
    record); else the innermost error raised while handling another, a library's reading of the
    bare fault beneath it (TFX's "Cannot find span number from .../span-x/..." over int()'s
    "invalid literal"); else the error itself."""
    errors = chain(error)
    ours = [e for e in errors if type(e).__module__.split(".")[0] in _PROJECT_PACKAGES]
    if ours:
        return ours[-1]
    return errors[-2] if len(errors) > 1 else errors[0]


def describe(error: BaseException) -> str:
    """`Type: message` of the most specific error. A project message is kept whole (it may list
    several records); another library's is cut to its first line and MAX_FOREIGN_CHARS."""
    chosen = most_specific(error)
    text = str(chosen)
    if type(chosen).__module__.split(".")[0] not in _PROJECT_PACKAGES:
        first = text.splitlines()[0] if text else ""
        text = first if len(first) <= MAX_FOREIGN_CHARS else first[:MAX_FOREIGN_CHARS] + " ..."
    return f"{type(chosen).__name__}: {text}"
