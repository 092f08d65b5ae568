"""Errors shown as one readable line: bad input (exit status 2) or a run
that broke part-way (exit status 1)."""


class UserError(Exception):
    """Bad input or an unusable target. The message names the culprit."""

    status = 2


class RunFailed(UserError):
    """The run broke part-way (a worker process died): not bad input, so
    exit status 1, but still one readable line."""

    status = 1
