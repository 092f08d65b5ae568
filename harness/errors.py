"""Errors shown as one readable line: bad input (exit status 2) or a run
that broke part-way (exit status 1)."""

import os


class UserError(Exception):
    """Bad input or an unusable target. The message names the culprit."""

    status = 2


class RunFailed(UserError):
    """The run broke part-way (a worker process died): not bad input, so
    exit status 1, but still one readable line."""

    status = 1


def describe(error: BaseException) -> str:
    """A failure of a run's process or thread, for its report: a UserError
    as its message alone; anything else is a bug, so with its type and the
    file and line it came from."""
    if isinstance(error, UserError):
        return str(error)
    import traceback  # only for a bug: most commands never need it

    frames = traceback.extract_tb(error.__traceback__)
    where = f" ({os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    return f"{type(error).__name__}: {error}{where}"
