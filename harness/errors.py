"""Errors the user caused or can fix: one readable line, exit status 2."""


class UserError(Exception):
    """Bad input or an unusable target. The message names the culprit."""

    status = 2
