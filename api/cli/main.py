"""The ``lwsk`` entry point: the command tree (click), and how a run ends.

Every failure ends as one line on stderr and ``wsk``'s exit code
(``api.cli.errors``): a command line the parser refuses prints the failing
command's own usage and exits 1, as ``wsk``'s;
nothing ends in a traceback (``-d`` shows one); a closed pipe (``| head``)
ends quietly, as a process killed by SIGPIPE.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback

import click
from click.shell_completion import get_completion_class

from api.cli import (
    actions,
    activations,
    admin,
    admin_invokers,
    admin_limits,
    ledger,
    namespaces,
    packages,
    properties,
    rebuild,
    rules,
    triggers,
)
from api.cli import messages as m
from api.cli.errors import EXIT_BROKEN_PIPE, EXIT_GENERAL, EXIT_INTERRUPTED, CLIError
from api.cli.options import LwskCommand, LwskGroup
from api.cli.session import Session
from api.cli.version import show_version

SHELLS = ("bash", "zsh", "fish")
# Modules that add commands to groups of other modules when imported: `admin invokers`,
# `admin limits`, `activation events|tail|poll|rerun`, `admin rebuild|database`.
ADDING_TO_GROUPS = (admin_invokers, admin_limits, ledger, rebuild)


@click.group("lwsk", cls=LwskGroup, show_globals=True)
def cli() -> None:
    """Ledgerwhisk's command line, in the shape of OpenWhisk's wsk."""


@cli.command("completion", cls=LwskCommand)
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """print a shell completion script: eval "$(lwsk completion bash)" """
    source = get_completion_class(shell)
    assert source is not None
    click.echo(source(cli, {}, "lwsk", "_LWSK_COMPLETE").source())


for group in (
    actions.group,
    activations.group,
    packages.group,
    rules.group,
    triggers.group,
    properties.group,
    namespaces.group,
    admin.group,
):
    cli.add_command(group)
cli.add_command(namespaces.list_all)
cli.add_command(show_version)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    session = Session()
    debug = "-d" in args or "--debug" in args
    if debug:
        logging.basicConfig(level=logging.DEBUG, format="debug: %(name)s: %(message)s")
    else:
        # Libraries' own log lines (aiokafka's, say) would add lines to a one-line error.
        logging.getLogger().addHandler(logging.NullHandler())
    try:
        code = cli.main(args, prog_name="lwsk", obj=session, standalone_mode=False)
        return code if isinstance(code, int) else 0
    except click.UsageError as exc:
        # A command line wsk's parser refuses (a missing or extra argument, an unknown
        # flag, a flag's bad value) exits 1 there: cobra's errors and CheckArgs are
        # general errors (apache/openwhisk-cli commands/util.go ExitOnError, CheckArgs).
        exc.show()
        return EXIT_GENERAL
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        return EXIT_INTERRUPTED
    except CLIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): say nothing more, on a stdout that can't fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as exc:
        if debug:
            traceback.print_exc()
        print(
            f"error: {m.UNEXPECTED.format(error=exc.__class__.__name__, detail=exc)}",
            file=sys.stderr,
        )
        return EXIT_GENERAL
    finally:
        session.close()


if __name__ == "__main__":
    sys.exit(main())
