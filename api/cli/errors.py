"""How ``lwsk`` fails: one line on stderr and ``wsk``'s exit codes.

The codes are those of apache/openwhisk-client-go ``whisk/wskerror.go`` as
the ``wsk`` command exits with them (apache/openwhisk-cli ``commands/util.go``
``ExitOnError``): 1 a general error (also every command line its parser refuses:
a missing or extra argument, an unknown flag, a flag's bad value), 2 a usage
error (a file that cannot be read, a ``--web`` value, a ``.zip`` without
``--kind``, an action's field filter), 3 the API could not be reached, 149
what OpenWhisk does not allow (``--kind`` with ``--docker``), 202 a blocking
invoke that had not finished when the API stopped waiting, and for an error
the API answered, its HTTP status less 256 (404 -> 148, 409 -> 153, 502 -> 246).
"""

from __future__ import annotations

EXIT_GENERAL = 1
EXIT_USAGE = 2
EXIT_NETWORK = 3
EXIT_NOT_ALLOWED = 149
EXIT_TIMED_OUT = 202
# A process killed by SIGPIPE (a closed pipe, as in `lwsk activation list | head`).
EXIT_BROKEN_PIPE = 141
EXIT_INTERRUPTED = 130


def http_exit(status: int) -> int:
    """The exit code of an error answer with HTTP ``status`` (``wsk``: status - 256)."""
    return (status - 256) % 256 or EXIT_GENERAL


class CLIError(Exception):
    """An error the CLI prints in one line (``error: ...``) before exiting with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = EXIT_GENERAL):
        super().__init__(" ".join(message.split()))
        self.exit_code = exit_code


class UsageError(CLIError):
    """The command line itself is wrong (``wsk``'s usage errors exit 2)."""

    def __init__(self, message: str):
        super().__init__(message, EXIT_USAGE)
