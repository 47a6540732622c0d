"""The ``distill`` subcommand: ``sklearn-subspace distill [options]``."""

import argparse
import sys
import time

from ..projection import PROJECTION_FAMILIES
from ._result import METHODS

_DESCRIPTION = """\
Compare subspace-native distillation with a student trained from scratch
(cross-entropy), Hinton knowledge distillation on the teacher's logits and
FitNets-style regression of the full teacher features. Every student has the
same architecture (an MLP on the pixels), budget, data split and batch order;
the best epoch is picked on a validation split of the training data and the
test set is scored once. Prints test accuracy (mean +- std over seeds),
deployed parameter count and training time.

It runs on the embedded task: scikit-learn's digits with the small CNN teacher
(2048-d penultimate features) that the study uses, trained locally once and
cached. For other teachers and data, call
sklearn_subspace.distill.distillation_comparison from Python.
"""

_EPILOG = """\
examples:
  sklearn-subspace distill
  sklearn-subspace distill --ks 16 64 --seeds 5 --max-epochs 50
  sklearn-subspace distill --methods scratch subspace --out distill-results
"""


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {value}")
    return value


def _int_list(text):
    return [_positive_int(item) for item in text.split(",") if item.strip()]


def _method_list(text):
    items = [item.strip() for item in text.split(",") if item.strip()]
    unknown = [item for item in items if item not in METHODS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown methods {', '.join(map(repr, unknown))}; valid methods: "
            f"{', '.join(METHODS)}"
        )
    return items


def _flatten(groups):
    return None if groups is None else [x for group in groups for x in group]


def add_parser(subparsers):
    """Add the ``distill`` subcommand to an ``argparse`` sub-parser collection.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers()`` returned.

    Returns
    -------
    argparse.ArgumentParser
        The ``distill`` parser; its ``handler`` default runs the comparison.

    See Also
    --------
    distillation_comparison : The function the subcommand runs.

    Examples
    --------
    >>> import argparse
    >>> from sklearn_subspace.distill._cli import add_parser
    >>> parser = argparse.ArgumentParser()
    >>> _ = add_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["distill", "--ks", "16,64", "--seeds", "2"])
    >>> args.ks, args.seeds
    ([[16, 64]], 2)
    """
    parser = subparsers.add_parser(
        "distill",
        help="compare subspace-native distillation with scratch, KD and FitNets "
        "students",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = parser.add_argument_group("what to run")
    what.add_argument(
        "--ks",
        type=_int_list,
        nargs="+",
        default=None,
        metavar="K",
        help="subspace dimensions k for the FitNets and subspace students, space "
        "or comma separated (default: 16 64 256)",
    )
    what.add_argument(
        "--methods",
        type=_method_list,
        nargs="+",
        default=None,
        metavar="NAME",
        help=f"methods among {', '.join(METHODS)} (default: all)",
    )
    what.add_argument(
        "--seeds", type=_positive_int, default=3, help="number of seeds (default: 3)"
    )
    what.add_argument(
        "--hidden",
        type=_int_list,
        default=[256],
        metavar="SIZES",
        help="hidden layer sizes of the student MLP, comma separated (default: 256)",
    )
    what.add_argument(
        "--max-epochs",
        type=_positive_int,
        default=30,
        help="student training epochs, the same for every method (default: 30)",
    )
    what.add_argument(
        "--lr",
        type=_positive_float,
        default=3e-3,
        # At 1e-3 the scratch and KD students are still improving after 30
        # epochs on this task; 3e-3 lets every method come close to its best.
        help="student learning rate, the same for every method (default: 0.003)",
    )
    what.add_argument(
        "--batch-size",
        type=_positive_int,
        default=128,
        help="student batch size (default: 128)",
    )
    what.add_argument(
        "--projection",
        default="gaussian",
        choices=list(PROJECTION_FAMILIES),
        help="projection family of the subspace students (default: gaussian)",
    )
    what.add_argument(
        "--temperature",
        type=_positive_float,
        default=4.0,
        help="Hinton KD temperature (default: 4)",
    )
    what.add_argument(
        "--alpha",
        type=_fraction,
        default=0.9,
        help="weight of the soft-target term in Hinton KD (default: 0.9)",
    )
    what.add_argument(
        "--random-state", type=int, default=0, help="base seed (default: 0)"
    )
    where = parser.add_argument_group("where and how")
    where.add_argument(
        "--device",
        default="auto",
        help="auto, cpu, cuda, cuda:N or mps (default: auto)",
    )
    where.add_argument(
        "--cache-dir",
        default=None,
        help="cache for the embedded teacher and its features (default: "
        "$SKLEARN_SUBSPACE_CACHE or ~/.cache/sklearn-subspace)",
    )
    where.add_argument(
        "--out",
        default=None,
        help="also write the CSV, markdown table and learning-curve PNG here",
    )
    where.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(handler=run)
    return parser


def run(args):
    """Run the comparison described by parsed command-line arguments.

    Parameters
    ----------
    args : argparse.Namespace
        As parsed by the ``distill`` parser.

    Returns
    -------
    int
        The exit status, 0 on success.
    """
    from ..head import SubspaceHeadClassifier
    from ..study import load_embedded_task
    from ._baselines import distillation_comparison

    start = time.perf_counter()
    verbose = 0 if args.quiet else 1
    task = load_embedded_task(
        cache_dir=args.cache_dir, random_state=args.random_state, verbose=verbose
    )
    extractor = task.extractor.set_params(device=args.device, progress=verbose > 0)
    result = distillation_comparison(
        task.X_train,
        task.y_train,
        task.X_test,
        task.y_test,
        teacher=extractor,
        teacher_logits=task.teacher,
        student_params={"hidden_layer_sizes": tuple(args.hidden)},
        n_components=_flatten(args.ks) or [16, 64, 256],
        methods=_flatten(args.methods) or list(METHODS),
        seeds=args.seeds,
        projection=args.projection,
        # The head the compression study trains on this task.
        head=SubspaceHeadClassifier(device=args.device),
        lr=args.lr,
        max_epochs=args.max_epochs,
        # --max-epochs is the same fixed budget for every method.
        tol=None,
        batch_size=args.batch_size,
        temperature=args.temperature,
        alpha=args.alpha,
        device=args.device,
        random_state=args.random_state,
        verbose=verbose,
    )
    print(f"\n### Subspace-native distillation on {task.name}\n")
    print(result.to_markdown())
    print(
        f"Wall time: {time.perf_counter() - start:.1f} s (teacher features "
        f"{result.teacher_time:.1f} s, students {result.wall_time:.1f} s)."
    )
    if args.out is not None:
        paths = result.save(args.out)
        print("Wrote " + ", ".join(str(path) for path in paths.values()))
    sys.stdout.flush()
    return 0
