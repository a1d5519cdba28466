"""Errors shared across the command line: one class, whichever way the CLI was started."""


class UserError(Exception):
    """A mistake by the user (bad flag value, missing file, bad config): printed as one line, exit 2."""
