"""The ``study`` subcommand: ``sklearn-subspace study [options]``."""

import time
from pathlib import Path

from .. import _cli_common as common
from .._device import resolve_device
from ..datasets._embedded_teacher import default_cache_dir
from ..projection import PROJECTION_FAMILIES
from ._study import BASELINES, DEFAULT_PROJECTIONS
from ._tasks import teacher_spec

_DESCRIPTION = """\
Run the compression study: extract the teacher's features once, then train a
head on each random projection family and each k, next to the full-d frozen
head, PCA and a learned bottleneck, over several seeds. Prints the table and
writes compression_study.csv, .md and .png to --out.

With no arguments it runs the embedded task: a small CNN with a 2048-d
penultimate layer, trained on scikit-learn's digits (and cached), with
k in {1024, ..., 8} x {gaussian, sparse, srht} and 3 seeds. --dataset
fashion-mnist (or torchvision:NAME) trains the same kind of CNN on that
dataset instead, once, and runs the study on its features.

Configurations run in parallel, one worker per CPU core with one thread
each (--n-jobs, --threads); results do not depend on either.

A killed run resumes: finished configurations are kept in --out/checkpoints
and skipped when the same command runs again.
"""

_EPILOG = """\
examples:
  sklearn-subspace study
  sklearn-subspace study --ks 256 64 16 --projections gaussian srht --seeds 2
  sklearn-subspace study --dataset fashion-mnist --max-train-samples 10000
  sklearn-subspace study --dataset torchvision:MNIST --data-dir ~/data --no-download
  sklearn-subspace study --teacher resnet50 --dataset cifar100 --device cuda
  sklearn-subspace study --teacher vit_b_16 --dataset imagefolder:/data/imagenet100
  sklearn-subspace study --teacher bert-base-uncased --dataset mnli
"""


def add_parser(subparsers):
    """Add the ``study`` subcommand to an ``argparse`` sub-parser collection.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers()`` returned.

    Returns
    -------
    argparse.ArgumentParser
        The ``study`` parser; its ``handler`` default runs the study.

    Examples
    --------
    >>> import argparse
    >>> from sklearn_subspace.study._cli import add_parser
    >>> parser = argparse.ArgumentParser()
    >>> study = add_parser(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["study", "--projections", "gaussian,srht"]).projections
    ['gaussian', 'srht']
    """
    return common.add_subcommand(
        subparsers,
        "study",
        help="run the compression study (accuracy against k, with baselines)",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        handler=run,
        add_what=_add_what_to_run,
        add_where=_add_where_and_how,
    )


def _add_what_to_run(what):
    """The options of ``study`` that choose what runs."""
    what.add_argument(
        "--teacher",
        default="embedded",
        help="embedded (a CNN trained locally on the dataset; the default), the "
        "paper's resnet50, vit_b_16 or bert-base-uncased, or any torchvision "
        "classification model, timm:NAME or hf:NAME",
    )
    what.add_argument(
        "--dataset",
        default=None,
        help="digits, fashion-mnist, torchvision:NAME (any torchvision "
        "classification dataset, e.g. MNIST, CIFAR10, SVHN), cifar100, "
        "imagefolder:PATH or mnli (default: the teacher's: digits, cifar100, "
        "none for vit_b_16, mnli)",
    )
    what.add_argument(
        "--weights",
        default="DEFAULT",
        help="teacher weights: DEFAULT (pretrained), a local file or folder, or "
        "'none' for a random initialisation (default: DEFAULT)",
    )
    common.add_list_option(
        what,
        "--ks",
        common.int_list,
        metavar="K",
        help="values of k, space or comma separated (default: the teacher's "
        "grid; 1024 512 256 128 64 32 16 8 for the embedded teacher)",
    )
    common.add_list_option(
        what,
        "--projections",
        common.choice_list(PROJECTION_FAMILIES, "projections"),
        metavar="NAME",
        help=f"projection families among {', '.join(PROJECTION_FAMILIES)} "
        f"(default: {' '.join(DEFAULT_PROJECTIONS)})",
    )
    common.add_list_option(
        what,
        "--baselines",
        common.choice_list(BASELINES, "baselines"),
        nargs="*",
        metavar="NAME",
        help=f"baselines among {', '.join(BASELINES)}; give the flag alone for "
        "none (default: all three)",
    )
    common.add_option(what, "--seeds")
    what.add_argument(
        "--max-epochs",
        type=common.positive_int,
        default=None,
        help="override the head's maximum number of epochs",
    )
    common.add_option(what, "--max-train-samples")
    common.add_option(what, "--max-test-samples")
    common.add_option(what, "--random-state")


def _add_where_and_how(where):
    """The options of ``study`` that choose where and how it runs."""
    common.add_option(where, "--device")
    where.add_argument(
        "--batch-size",
        type=common.positive_int,
        default=64,
        help="teacher batch size for feature extraction (default: 64)",
    )
    where.add_argument(
        "--cache-dir",
        default=None,
        help="cache for features and the embedded teacher (default: "
        f"{default_cache_dir()})",
    )
    common.add_option(
        where,
        "--data-dir",
        help="where datasets are stored and downloaded (default: "
        "CACHE_DIR/data; the Hugging Face cache for mnli)",
    )
    common.add_option(
        where,
        "--no-download",
        help="never download datasets; fail if they are not on disk (for "
        "mnli, Hugging Face decides: set HF_DATASETS_OFFLINE=1)",
    )
    where.add_argument(
        "--out",
        default="subspace-study",
        help="output folder for the CSV, markdown and PNG (default: ./subspace-study/)",
    )
    common.add_option(
        where,
        "--no-resume",
        help="neither read nor write checkpoints of finished configurations",
    )
    common.add_option(
        where,
        "--n-jobs",
        help="configurations fitted in parallel with joblib (default: one "
        "worker per CPU core; serial for a study of a few seconds)",
    )
    common.add_option(
        where,
        "--threads",
        help="CPU threads per configuration fit; 0 keeps torch's default "
        "(default: 1, best for small heads; raise it for large CPU heads)",
    )
    common.add_option(
        where,
        "--scheduler",
        help="run configurations on this dask.distributed scheduler",
    )
    common.add_option(where, "--quiet")


def run(args):
    """The ``study`` handler: build the task, run the study, report it."""
    from ._study import compression_study
    from ._tasks import build_task

    start = time.perf_counter()
    # Argument checks first, so that a typo fails before any training or I/O.
    resolve_device(args.device)
    spec = teacher_spec(args.teacher)
    ks = args.ks or spec.n_components
    common.check_ks(ks, spec.n_features, args.teacher)
    projections = args.projections or list(DEFAULT_PROJECTIONS)
    baselines = list(BASELINES) if args.baselines is None else args.baselines
    weights = None if str(args.weights).lower() == "none" else args.weights
    progress = not args.quiet
    out = Path(args.out)

    task = build_task(
        args.teacher,
        args.dataset,
        weights=weights,
        device=args.device,
        batch_size=args.batch_size,
        **common.task_options(args),
        progress=progress,
    )
    head, learned_head = task.head, task.learned_head
    if args.max_epochs is not None:
        for estimator in (head, learned_head):
            if estimator is not None:
                estimator.set_params(max_epochs=args.max_epochs)

    with common.dask_client(args.scheduler) as client:
        result = compression_study(
            task.X_train,
            task.y_train,
            task.X_test,
            task.y_test,
            extractor=task.extractor,
            n_components=ks,
            projections=projections,
            baselines=baselines,
            seeds=args.seeds,
            head=head,
            learned_head=learned_head,
            teacher=task.teacher,
            checkpoint_dir=None if args.no_resume else out / "checkpoints",
            n_jobs=args.n_jobs,
            client=client,
            n_threads=args.threads or None,
            random_state=args.random_state,
            progress=progress,
        )
    return common.report(
        result,
        timing=f"Wall time: {time.perf_counter() - start:.1f} s "
        f"(study {result.wall_time:.1f} s, dataset {task.dataset}).",
        out=out,
    )
