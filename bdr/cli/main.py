"""The `bdr` command: the root group, lazy subcommands, and the one exit path.

Subcommand modules are imported only when invoked, so `bdr --help` stays fast.
"""

from __future__ import annotations

import importlib
import logging
import signal
import sys
from types import FrameType
from typing import Any

import click

from bdr import __version__
from bdr.cli.app import Abort, App
from bdr.errors import BdrError, ConfigError, ExitCode, Interrupted

# name -> (module, attribute, one-line help); the help is here so --help imports nothing.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "config": ("bdr.cli.config_cmd", "config", "Check, show or describe the configuration."),
    "init": ("bdr.cli.init_cmd", "init", "Create the configured repositories that do not exist."),
    "backup": ("bdr.cli.backup_cmd", "backup", "Back up plans, copy them to their tiers, prune."),
    "copy": ("bdr.cli.copy_cmd", "copy", "Copy plans to their other tiers now."),
    "snapshots": ("bdr.cli.snapshots_cmd", "snapshots", "List the snapshots of plans."),
    "status": ("bdr.cli.status_cmd", "status", "Show the last backup and RPO of every plan."),
    "ls": ("bdr.cli.browse_cmd", "ls", "List a folder of a plan's snapshot."),
    "find": ("bdr.cli.browse_cmd", "find", "Find files by name in a plan's snapshots."),
    "diff": ("bdr.cli.browse_cmd", "diff", "What changed in a plan between two snapshots."),
    "restore": ("bdr.cli.restore_cmd", "restore", "Restore a plan's snapshot into a directory."),
    "demo": ("bdr.cli.demo_cmd", "demo", "Run a self-contained demo appliance under ./demo."),
    "drill": ("bdr.cli.drill_cmd", "drill", "Run restore drills; list them and their history."),
    "check": ("bdr.cli.check_cmd", "check", "Check repositories, reading every pack once a cycle."),
    "prune": ("bdr.cli.prune_cmd", "prune", "Free forgotten snapshots' data (as scheduled)."),
    "daemon": ("bdr.cli.daemon_cmd", "daemon", "Run the appliance service (for systemd)."),
    "metrics": ("bdr.cli.metrics_cmd", "metrics", "Print the Prometheus metrics once."),
    "evidence": (
        "bdr.cli.evidence_cmd",
        "evidence",
        "The signed chain of every run: key, verify, export, upload.",
    ),
    "report": ("bdr.cli.report_cmd", "report", "Write the monthly restore-test report; list them."),
    "notify": ("bdr.cli.notify_cmd", "notify", "Notifications: open problems, outbox, a test."),
    "steward": (
        "bdr.cli.steward_cmd",
        "steward",
        "On the MSP's host: keep the appliances' clouds, audit their evidence.",
    ),
    "suspect": (
        "bdr.cli.suspect_cmd",
        "suspect",
        "Backups judged suspect of ransomware: list, show, clear, confirm.",
    ),
}


def _set_json(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(App).json_output = True


def _with_json(command: click.Command) -> click.Command:
    """Give `command`, or each command of a group, a `--json` of its own: scripts write
    `bdr snapshots --json` as often as `bdr --json snapshots`, and both mean the same."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _with_json(sub)
        return command
    if not any("--json" in getattr(param, "opts", ()) for param in command.params):
        command.params.append(
            click.Option(
                ["--json"],
                is_flag=True,
                expose_value=False,
                callback=_set_json,
                help="Print data as JSON (as `bdr --json COMMAND`).",
            )
        )
    return command


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(entry[0])
        command: click.Command = getattr(module, entry[1])
        return _with_json(command)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_option",
    metavar="PATH",
    envvar="BDR_CONFIG",
    help="Config file (default /etc/bdr/bdr.toml, or $BDR_CONFIG).",
)
@click.option("--json", "json_output", is_flag=True, help="Print data as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Log what bdr does (to stderr).")
@click.option("--debug", is_flag=True, help="Show tracebacks and restic command lines.")
@click.version_option(__version__, prog_name="bdr")
@click.pass_context
def cli(
    ctx: click.Context, config_option: str | None, json_output: bool, verbose: bool, debug: bool
) -> None:
    """bdr: backups that prove, every week, that they restore."""
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    ctx.obj = App(
        config_option=config_option, json_output=json_output, debug=debug, verbose=verbose
    )


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(f"interrupted by {signal.Signals(signum).name}")


def main(argv: list[str] | None = None) -> Any:
    """Run bdr; every outcome leaves through here with an exit code from bdr/errors.py."""
    signal.signal(signal.SIGTERM, _terminate)
    # A file name that is not UTF-8 is printed with its bytes escaped (caf\xe9.doc), never
    # turned into a crash at the last step of an otherwise good command.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    debug = "--debug" in (argv if argv is not None else sys.argv)
    try:
        cli.main(args=argv, prog_name="bdr", standalone_mode=False)
    except Abort as abort:
        if abort.message:
            _error(abort.message, abort.hint)
        sys.exit(abort.code)
    except ConfigError as error:
        _error(error.message, None, error.problems)
        sys.exit(error.exit_code)
    except BdrError as error:
        if debug:
            raise
        _error(error.message, error.hint)
        sys.exit(error.exit_code)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(ExitCode.USAGE)
    except (KeyboardInterrupt, click.exceptions.Abort):
        print("bdr: interrupted", file=sys.stderr)
        sys.exit(ExitCode.INTERRUPTED)
    except BaseException as error:
        if isinstance(error, Interrupted):
            print("bdr: stopped by SIGTERM", file=sys.stderr)
            sys.exit(ExitCode.TERMINATED)
        if isinstance(error, SystemExit) or debug:
            raise
        _error(f"internal error: {error!r} (run with --debug for the traceback)", None)
        sys.exit(ExitCode.FAILED)


def _error(message: str, hint: str | None, problems: list[str] | None = None) -> None:
    """Print an error: the only place bdr does, so every error looks the same."""
    print(f"bdr: error: {message}", file=sys.stderr)
    for problem in problems or []:
        print(f"  {problem}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
