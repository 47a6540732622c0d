"""The ``distill`` subcommand: ``sklearn-subspace distill [options]``."""

import argparse
import time
from pathlib import Path

from .. import _cli_common as common
from .._device import resolve_device
from ..datasets import EMBEDDED_WIDTH
from ..projection import PROJECTION_FAMILIES
from ._result import ALL_METHODS, METHODS

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

Runs (one student: a method, k and seed) train in parallel, one worker per
CPU core with one thread each (--n-jobs, --threads); results do not depend on
--n-jobs. With --out, a killed run resumes: finished runs are kept in
OUT/checkpoints and skipped when the same command runs again.
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
    return common.add_subcommand(
        subparsers,
        "distill",
        help="compare subspace-native distillation with scratch, KD and FitNets "
        "students",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        handler=run,
        add_what=_add_what_to_run,
        add_where=_add_where_and_how,
    )


def _add_what_to_run(what):
    """The options of ``distill`` that choose what runs."""
    what.add_argument(
        "--dataset",
        type=_dataset,
        default="digits",
        help="digits, fashion-mnist, cifar100 or torchvision:NAME (a torchvision "
        "classification dataset of small images, e.g. MNIST, CIFAR10); the CNN "
        "teacher is trained on its training split (default: digits)",
    )
    common.add_list_option(
        what,
        "--ks",
        common.int_list,
        metavar="K",
        help="subspace dimensions k for the FitNets and subspace students, space "
        "or comma separated (default: 16 64 256)",
    )
    common.add_list_option(
        what,
        "--methods",
        common.choice_list(ALL_METHODS, "methods"),
        metavar="NAME",
        help=f"methods among {', '.join(ALL_METHODS)} (default: {' '.join(METHODS)})",
    )
    common.add_option(what, "--seeds")
    common.add_option(
        what,
        "--max-train-samples",
        help="train the students on a stratified subsample of the training split "
        "(the teacher trains on all of it)",
    )
    common.add_option(what, "--max-test-samples")
    what.add_argument(
        "--hidden",
        type=common.int_list,
        default=[256],
        metavar="SIZES",
        help="hidden layer sizes of the student MLP, comma separated (default: 256)",
    )
    what.add_argument(
        "--max-epochs",
        type=common.positive_int,
        default=30,
        help="student training epochs, the same for every method (default: 30)",
    )
    what.add_argument(
        "--lr",
        type=common.positive_float,
        default=3e-3,
        # At 1e-3 the scratch and KD students are still improving after 30
        # epochs on this task; 3e-3 lets every method come close to its best.
        help="student learning rate, the same for every method (default: 0.003)",
    )
    what.add_argument(
        "--batch-size",
        type=common.positive_int,
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
        type=common.positive_float,
        default=4.0,
        help="Hinton KD temperature (default: 4)",
    )
    what.add_argument(
        "--alpha",
        type=common.fraction,
        default=0.9,
        help="weight of the soft-target term in Hinton KD (default: 0.9)",
    )
    what.add_argument(
        "--mixed-alpha",
        type=common.fraction,
        default=0.5,
        help="weight of the head's cross-entropy in subspace-mixed (default: 0.5)",
    )
    common.add_option(what, "--random-state")


def _add_where_and_how(where):
    """The options of ``distill`` that choose where and how it runs."""
    common.add_option(where, "--device")
    common.add_option(where, "--data-dir")
    common.add_option(where, "--no-download")
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
    where.add_argument(
        "--checkpoint-dir",
        default=None,
        help="keep each finished run here and skip it when the same command "
        "runs again (default: OUT/checkpoints with --out, else none)",
    )
    common.add_option(
        where, "--no-resume", help="neither read nor write checkpoints of runs"
    )
    common.add_option(
        where,
        "--n-jobs",
        help="runs (a method, k and seed each) trained in parallel with joblib "
        "(default: one worker per CPU core, serial for a small comparison or "
        "on a GPU)",
    )
    common.add_option(
        where,
        "--threads",
        help="CPU threads per run; 0 keeps torch's default (default: 1, best "
        "for small students)",
    )
    common.add_option(
        where, "--scheduler", help="train the runs on this dask.distributed scheduler"
    )
    common.add_option(where, "--quiet", help="no progress output")


def run(args):
    """The ``distill`` handler: load the task, run the comparison, report it."""
    from ..study._tasks import build_task
    from ._baselines import distillation_comparison

    start = time.perf_counter()
    # Argument checks first, so that a typo fails before any training or I/O.
    resolve_device(args.device)
    common.check_ks(args.ks, EMBEDDED_WIDTH, "embedded")
    verbose = 0 if args.quiet else 1
    # The study's embedded task: the CNN trained (once, cached) on the whole
    # training split, and the splits subsampled for the students.
    task = build_task(
        "embedded",
        args.dataset,
        device=args.device,
        batch_size=256,
        **common.task_options(args),
        progress=verbose > 0,
    )
    checkpoint_dir = args.checkpoint_dir
    if checkpoint_dir is None and args.out is not None:
        checkpoint_dir = Path(args.out) / "checkpoints"
    with common.dask_client(args.scheduler) as client:
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
            mixed_alpha=args.mixed_alpha,
            device=args.device,
            random_state=args.random_state,
            verbose=verbose,
            checkpoint_dir=None if args.no_resume else checkpoint_dir,
            n_jobs=args.n_jobs,
            client=client,
            n_threads=args.threads or None,
        )
    return common.report(
        result,
        heading=f"Subspace-native distillation on {task.teacher}",
        timing=f"Wall time: {time.perf_counter() - start:.1f} s (teacher features "
        f"{result.teacher_time:.1f} s, students {result.wall_time:.1f} s).",
        out=args.out,
    )
