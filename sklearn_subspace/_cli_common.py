"""What the subcommands of ``sklearn-subspace`` share.

Each subcommand (:mod:`sklearn_subspace.cli`) builds its parser and runs
from the pieces here, so that an option means the same, is parsed the same
way and fails with the same one-line message everywhere:

- the parser of a subcommand, with its "what to run" and "where and how"
  groups (:func:`add_subcommand`);
- argument types (:func:`positive_int`, :func:`int_list`, :func:`choice_list`,
  ...) that raise ``argparse.ArgumentTypeError``, which argparse turns into
  a usage error (exit status 2);
- the options common to several subcommands, in :data:`OPTIONS`, added with
  :func:`add_option` (a subcommand may override the help text or the
  default), and list options that accept ``--ks 64 16`` as well as
  ``--ks 64,16`` (:func:`add_list_option`);
- what a run does with them: :func:`check_ks` before anything is loaded,
  :func:`task_options` for the dataset options, :func:`dask_client` for
  ``--scheduler``;
- the end of a run: print the result table and the wall time, then write the
  result's files (:func:`report`).

Errors raised while a subcommand runs are turned into exit statuses in one
place, :func:`sklearn_subspace.cli.main`.
"""

import argparse
import contextlib
import sys


def add_subcommand(
    subparsers, name, *, help, description, epilog, handler, add_what, add_where
):
    """Add a subcommand parser with the two argument groups every one has.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers()`` returned.
    name, help : str
        The subcommand and its one-line summary in ``sklearn-subspace -h``.
    description, epilog : str
        Shown before and after the options by ``--help``, as written.
    handler : callable
        ``handler(args) -> int``, run by :func:`sklearn_subspace.cli.main`.
    add_what, add_where : callable
        ``add_what(group)`` adds the options of the group "what to run",
        ``add_where(group)`` those of "where and how".

    Returns
    -------
    parser : argparse.ArgumentParser
        The subcommand's parser.

    Examples
    --------
    >>> import argparse
    >>> from sklearn_subspace._cli_common import add_subcommand
    >>> subparsers = argparse.ArgumentParser().add_subparsers(dest="command")
    >>> parser = add_subcommand(
    ...     subparsers, "hello", help="say hello", description="Say hello.",
    ...     epilog="", handler=lambda args: 0,
    ...     add_what=lambda group: group.add_argument("--name"),
    ...     add_where=lambda group: None)
    >>> "what to run:" in parser.format_help()
    True
    >>> parser.parse_args(["--name", "x"]).name
    'x'
    """
    parser = subparsers.add_parser(
        name,
        help=help,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    add_what(parser.add_argument_group("what to run"))
    add_where(parser.add_argument_group("where and how"))
    return parser


def positive_int(text):
    """An argparse type: an integer of at least 1.

    Examples
    --------
    >>> from sklearn_subspace._cli_common import positive_int
    >>> positive_int("3")
    3
    >>> positive_int("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a positive integer, got 0
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _number(text):
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def positive_float(text):
    """An argparse type: a number greater than 0."""
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def fraction(text):
    """An argparse type: a number in [0, 1].

    Examples
    --------
    >>> from sklearn_subspace._cli_common import fraction
    >>> fraction("0.25")
    0.25
    >>> fraction("2")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a number in [0, 1], got 2.0
    """
    value = _number(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {value}")
    return value


def split_list(values):
    """Split comma-separated items: ``["64,16", "8"]`` gives ``["64", "16", "8"]``."""
    return [item for value in values for item in value.split(",") if item.strip()]


def int_list(text):
    """An argparse type: comma-separated positive integers, as a list.

    Examples
    --------
    >>> from sklearn_subspace._cli_common import int_list
    >>> int_list("64,16")
    [64, 16]
    """
    return [positive_int(item) for item in split_list([text])]


def choice_list(valid, what):
    """An argparse type: comma-separated names, each one of ``valid``.

    Parameters
    ----------
    valid : sequence of str
        The accepted names, listed in the error message.
    what : str
        What the names are, in the plural (``"projections"``).

    Returns
    -------
    callable
        Parses one argument into a list of names.

    Examples
    --------
    >>> from sklearn_subspace._cli_common import choice_list
    >>> parse = choice_list(["gaussian", "srht"], "projections")
    >>> parse("gaussian,srht")
    ['gaussian', 'srht']
    >>> parse("fourier")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: unknown projections 'fourier'; valid projections: ...
    """

    def parse(text):
        items = [item.strip() for item in split_list([text])]
        unknown = [item for item in items if item not in valid]
        if unknown:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(map(repr, unknown))}; valid {what}: "
                f"{', '.join(valid)}"
            )
        return items

    return parse


class FlatList(argparse.Action):
    """Store ``--opt a,b c`` as one flat list ``[a, b, c]``."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, [item for group in values for item in group])


def add_list_option(group, flag, parse, *, metavar, help, nargs="+"):
    """Add an option that takes several values, space or comma separated.

    Parameters
    ----------
    group : argparse.ArgumentParser or argument group
        Where to add the option.
    flag : str
        The option, e.g. ``"--ks"``.
    parse : callable
        Parses one argument into a list (:func:`int_list`,
        :func:`choice_list`).
    metavar, help : str
        As in ``add_argument``.
    nargs : {"+", "*"}, default="+"
        ``"*"`` lets the flag be given alone, for an empty list.

    Examples
    --------
    >>> import argparse
    >>> from sklearn_subspace._cli_common import add_list_option, int_list
    >>> parser = argparse.ArgumentParser()
    >>> add_list_option(parser, "--ks", int_list, metavar="K", help="values of k")
    >>> parser.parse_args(["--ks", "64,16", "8"]).ks, parser.parse_args([]).ks
    ([64, 16, 8], None)
    """
    group.add_argument(
        flag,
        type=parse,
        nargs=nargs,
        default=None,
        action=FlatList,
        metavar=metavar,
        help=help,
    )


#: Options that mean the same in every subcommand: ``add_argument`` keywords.
OPTIONS = {
    "--seeds": {
        "type": positive_int,
        "default": 3,
        "help": "number of seeds (default: 3)",
    },
    "--random-state": {"type": int, "default": 0, "help": "base seed (default: 0)"},
    "--max-train-samples": {
        "type": positive_int,
        "default": None,
        "help": "use a stratified subsample of the training split",
    },
    "--max-test-samples": {
        "type": positive_int,
        "default": None,
        "help": "use a stratified subsample of the test split",
    },
    "--device": {
        "default": "auto",
        "help": "auto, cpu, cuda, cuda:N or mps (default: auto)",
    },
    "--data-dir": {
        "default": None,
        "help": "where datasets are stored and downloaded (default: CACHE_DIR/data)",
    },
    "--no-download": {
        "action": "store_true",
        "help": "never download datasets; fail if they are not on disk",
    },
    "--quiet": {"action": "store_true", "help": "no progress bars"},
    # The parallel options: each subcommand says what runs in parallel.
    "--n-jobs": {"type": int, "default": None},
    "--threads": {"type": int, "default": 1},
    "--scheduler": {"default": None, "metavar": "ADDRESS"},
    "--no-resume": {"action": "store_true"},
}


def add_option(group, flag, **overrides):
    """Add the shared option ``flag`` from :data:`OPTIONS` to ``group``.

    Parameters
    ----------
    group : argparse.ArgumentParser or argument group
        Where to add the option.
    flag : str
        A key of :data:`OPTIONS`.
    **overrides
        ``add_argument`` keywords that replace the shared ones (a help text
        that names what this subcommand does with the option).

    Examples
    --------
    >>> import argparse
    >>> from sklearn_subspace._cli_common import add_option
    >>> parser = argparse.ArgumentParser()
    >>> add_option(parser, "--seeds")
    >>> parser.parse_args(["--seeds", "2"]).seeds, parser.parse_args([]).seeds
    (2, 3)
    """
    group.add_argument(flag, **{**OPTIONS[flag], **overrides})


def task_options(args):
    """The keywords of ``build_task`` that the shared data options set.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments with ``--cache-dir``, ``--data-dir``,
        ``--no-download``, ``--max-train-samples``, ``--max-test-samples``
        and ``--random-state``.

    Returns
    -------
    dict
        ``cache_dir``, ``data_dir``, ``download``, ``max_train_samples``,
        ``max_test_samples`` and ``random_state``.

    Examples
    --------
    >>> import argparse
    >>> from sklearn_subspace._cli_common import task_options
    >>> args = argparse.Namespace(cache_dir=None, data_dir="data", no_download=True,
    ...     max_train_samples=100, max_test_samples=None, random_state=0)
    >>> task_options(args)["download"]
    False
    """
    return {
        "cache_dir": args.cache_dir,
        "data_dir": args.data_dir,
        "download": not args.no_download,
        "max_train_samples": args.max_train_samples,
        "max_test_samples": args.max_test_samples,
        "random_state": args.random_state,
    }


def check_ks(ks, n_features, teacher):
    """Refuse values of ``--ks`` above the teacher's feature dimension.

    Called before any data or weights are loaded, so that a typo fails at
    once.

    Parameters
    ----------
    ks : list of int or None
        The parsed ``--ks``.
    n_features : int or None
        The teacher's feature dimension ``d``; ``None`` when unknown before
        extraction (nothing is checked).
    teacher : str
        The teacher's name, for the message.

    Raises
    ------
    ValueError
        Naming the values of k that are too large and the valid range.

    Examples
    --------
    >>> from sklearn_subspace._cli_common import check_ks
    >>> check_ks([64, 4096], 2048, "embedded")
    Traceback (most recent call last):
    ...
    ValueError: --ks 4096: k must not exceed the embedded feature dimension d=2048; ...
    """
    too_big = [k for k in ks or () if n_features and k > n_features]
    if too_big:
        raise ValueError(
            f"--ks {' '.join(map(str, too_big))}: k must not exceed the "
            f"{teacher} feature dimension d={n_features}; a projection "
            f"can only compress. Use values of k between 1 and {n_features}."
        )


@contextlib.contextmanager
def dask_client(address):
    """The ``dask.distributed`` client of ``--scheduler``, closed on exit.

    Parameters
    ----------
    address : str or None
        The scheduler's address; ``None`` gives no client.

    Yields
    ------
    distributed.Client or None
        The connected client, or None.

    Raises
    ------
    ImportError
        If ``address`` is given but dask.distributed is not installed; the
        message says how to install it.

    Examples
    --------
    >>> from sklearn_subspace._cli_common import dask_client
    >>> with dask_client(None) as client:
    ...     print(client)
    None
    """
    if address is None:
        yield None
        return
    try:
        from distributed import Client
    except ImportError as exc:
        raise ImportError(
            "--scheduler needs dask.distributed; install it with "
            "`pip install 'dask[distributed]'`."
        ) from exc
    client = Client(address)
    try:
        yield client
    finally:
        client.close()


def report(result, *, timing, out=None, heading=None):
    """Print a result's table and the wall time, then write its files.

    Parameters
    ----------
    result : object
        Has ``to_markdown()`` and ``save(out)``, which returns the written
        paths as a dict (the study's and the distillation's results).
    timing : str
        The line printed after the table.
    out : path-like or None, default=None
        Folder for the result's files; ``None`` writes none.
    heading : str or None, default=None
        A markdown heading printed before the table.

    Returns
    -------
    int
        0, the exit status of a successful run.
    """
    if heading is not None:
        print(f"\n### {heading}\n")
    print(result.to_markdown())
    print(timing)
    if out is not None:
        paths = result.save(out)
        print("Wrote " + ", ".join(str(path) for path in paths.values()))
    sys.stdout.flush()
    return 0
