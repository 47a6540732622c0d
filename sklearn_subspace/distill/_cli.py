"""The ``distill`` subcommand: ``sklearn-subspace distill [options]``."""

import argparse
import time

from .._cli_common import (
    add_list_option,
    add_option,
    add_subcommand,
    check_ks,
    choice_list,
    fraction,
    int_list,
    positive_float,
    positive_int,
    report,
)
from .._device import resolve_device
from ..datasets import EMBEDDED_WIDTH
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

The teacher is the small CNN (2048-d penultimate features) that the study
trains on the same dataset, locally, once, and caches: on scikit-learn's
digits by default, or on --dataset fashion-mnist or torchvision:NAME. Hinton
KD distils the CNN's own logits. The students read the images as float32
pixels in [0, 1], which the MLP flattens. For other teachers and data, call
sklearn_subspace.distill.distillation_comparison from Python.
"""

_EPILOG = """\
examples:
  sklearn-subspace distill
  sklearn-subspace distill --ks 16 64 --seeds 5 --max-epochs 50
  sklearn-subspace distill --methods scratch subspace --out distill-results
  sklearn-subspace distill --dataset fashion-mnist --ks 64 256 --out distill-fashion
  sklearn-subspace distill --dataset torchvision:MNIST --data-dir ~/data --no-download
"""


def _dataset(text):
    # The embedded CNN trains on in-memory images of one size: not on text,
    # nor on folders of image files.
    if text == "mnli" or text.startswith("imagefolder:"):
        raise argparse.ArgumentTypeError(
            f"the distill command trains its CNN teacher on in-memory images of "
            f"one size and cannot use {text!r}; use digits, fashion-mnist, "
            "cifar100 or torchvision:NAME, or call distillation_comparison from "
            "Python with another teacher"
        )
    return text


def add_parser(subparsers):
    """Register the ``distill`` subcommand, as every entry of ``SUBCOMMANDS`` does.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The collection ``sklearn_subspace.cli.build_parser`` adds commands to.

    Returns
    -------
    argparse.ArgumentParser
        The new parser; the handler it sets, :func:`run`, runs the comparison.

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
    ([16, 64], 2)
    """
    parser, what, where = add_subcommand(
        subparsers,
        "distill",
        help="compare subspace-native distillation with scratch, KD and FitNets "
        "students",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        handler=run,
    )
    what.add_argument(
        "--dataset",
        type=_dataset,
        default="digits",
        help="digits, fashion-mnist, cifar100 or torchvision:NAME (a torchvision "
        "classification dataset of small images, e.g. MNIST, CIFAR10); the CNN "
        "teacher is trained on its training split (default: digits)",
    )
    add_list_option(
        what,
        "--ks",
        int_list,
        metavar="K",
        help="subspace dimensions k for the FitNets and subspace students, space "
        "or comma separated (default: 16 64 256)",
    )
    add_list_option(
        what,
        "--methods",
        choice_list(METHODS, "methods"),
        metavar="NAME",
        help=f"methods among {', '.join(METHODS)} (default: all)",
    )
    add_option(what, "--seeds")
    add_option(
        what,
        "--max-train-samples",
        help="train the students on a stratified subsample of the training split "
        "(the teacher trains on all of it)",
    )
    add_option(what, "--max-test-samples")
    what.add_argument(
        "--hidden",
        type=int_list,
        default=[256],
        metavar="SIZES",
        help="hidden layer sizes of the student MLP, comma separated (default: 256)",
    )
    what.add_argument(
        "--max-epochs",
        type=positive_int,
        default=30,
        help="student training epochs, the same for every method (default: 30)",
    )
    what.add_argument(
        "--lr",
        type=positive_float,
        default=3e-3,
        # At 1e-3 the scratch and KD students are still improving after 30
        # epochs on this task; 3e-3 lets every method come close to its best.
        help="student learning rate, the same for every method (default: 0.003)",
    )
    what.add_argument(
        "--batch-size",
        type=positive_int,
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
        type=positive_float,
        default=4.0,
        help="Hinton KD temperature (default: 4)",
    )
    what.add_argument(
        "--alpha",
        type=fraction,
        default=0.9,
        help="weight of the soft-target term in Hinton KD (default: 0.9)",
    )
    add_option(what, "--random-state")
    add_option(where, "--device")
    add_option(where, "--data-dir")
    add_option(where, "--no-download")
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
    add_option(where, "--quiet", help="no progress output")
    return parser


def run(args):
    """The ``distill`` handler: load the task, run the comparison, report it.

    Returns the exit status (0); errors propagate to
    :func:`sklearn_subspace.cli.main`, which turns them into statuses.
    """
    from ..study._tasks import build_task
    from ._baselines import distillation_comparison

    start = time.perf_counter()
    # Argument checks first, so that a typo fails before any training or I/O.
    resolve_device(args.device)
    check_ks(args.ks, EMBEDDED_WIDTH, "embedded")
    verbose = 0 if args.quiet else 1
    # The study's embedded task: the CNN trained (once, cached) on the whole
    # training split, and the splits subsampled for the students.
    task = build_task(
        "embedded",
        args.dataset,
        device=args.device,
        batch_size=256,
        cache_dir=args.cache_dir,
        data_dir=args.data_dir,
        download=not args.no_download,
        max_train_samples=args.max_train_samples,
        max_test_samples=args.max_test_samples,
        random_state=args.random_state,
        progress=verbose > 0,
    )
    result = distillation_comparison(
        task.X_train,
        task.y_train,
        task.X_test,
        task.y_test,
        teacher=task.extractor,
        # The CNN itself maps the students' inputs to its logits.
        teacher_logits=task.extractor.model,
        student_params={"hidden_layer_sizes": tuple(args.hidden)},
        n_components=args.ks or [16, 64, 256],
        methods=args.methods or list(METHODS),
        seeds=args.seeds,
        projection=args.projection,
        # The head the compression study trains on this task.
        head=task.head,
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
    return report(
        result,
        heading=f"Subspace-native distillation on {task.teacher}",
        timing=f"Wall time: {time.perf_counter() - start:.1f} s (teacher features "
        f"{result.teacher_time:.1f} s, students {result.wall_time:.1f} s).",
        out=args.out,
    )
