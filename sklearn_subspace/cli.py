"""The ``sklearn-subspace`` command line.

Each subcommand lives next to the code it drives and registers itself with
one function, ``add_parser(subparsers)``, which adds its sub-parser and sets
``handler`` to a function ``handler(args) -> int``. Adding a subcommand means
adding its ``add_parser`` to :data:`SUBCOMMANDS`.

Errors caused by the user's input or environment (a bad argument, a missing
dataset or missing weights) end the command with a one-line message on
stderr and a non-zero exit status, without a traceback; ``--traceback``
shows it.
"""

import argparse
import sys

from . import __version__
from .distill._cli import add_parser as _add_distill_parser
from .study._cli import add_parser as _add_study_parser

#: Functions that each add one subcommand to the parser.
SUBCOMMANDS = [_add_study_parser, _add_distill_parser]

# Exit statuses: 2 for invalid arguments (as argparse uses), 1 for a missing
# dataset, weights or package, 130 for Ctrl-C.
_USAGE_ERRORS = (ValueError, TypeError)
_ENVIRONMENT_ERRORS = (OSError, ImportError, RuntimeError)


def build_parser():
    """Build the argument parser with every registered subcommand.

    Returns
    -------
    argparse.ArgumentParser
        The top-level parser.

    Examples
    --------
    >>> from sklearn_subspace.cli import build_parser
    >>> args = build_parser().parse_args(["study", "--ks", "64,16", "--seeds", "1"])
    >>> args.command, args.ks, args.seeds
    ('study', [64, 16], 1)
    """
    parser = argparse.ArgumentParser(
        prog="sklearn-subspace",
        description=(
            "Compress deep-network features into fixed Johnson-Lindenstrauss "
            "random subspaces and measure what it costs."
        ),
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="show the full Python traceback when the command fails",
    )
    # No metavar: usage and errors then list the subcommands, {study,...}.
    subparsers = parser.add_subparsers(dest="command", title="commands", required=True)
    for add_parser in SUBCOMMANDS:
        add_parser(subparsers)
    return parser


def main(argv=None):
    """Run the command line and return its exit status.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns
    -------
    int
        0 on success, 1 when data, weights or a package are missing, 2 for
        invalid arguments, 130 when interrupted.

    Examples
    --------
    >>> from sklearn_subspace.cli import main
    >>> main(["study", "--ks", "4096"])
    2
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    prefix = f"{parser.prog} {args.command}: error:"
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print(
            f"\n{parser.prog} {args.command}: interrupted. Finished results are "
            "kept; run the same command again to resume.",
            file=sys.stderr,
        )
        return 130
    except (*_USAGE_ERRORS, *_ENVIRONMENT_ERRORS) as exc:
        if args.traceback:
            raise
        status = 2 if isinstance(exc, _USAGE_ERRORS) else 1
        print(f"{prefix} {exc}", file=sys.stderr)
        print("(rerun with --traceback for the full traceback)", file=sys.stderr)
        return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
