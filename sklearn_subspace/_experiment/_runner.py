"""Run an experiment's configurations: serially, in joblib workers or on dask.

Every configuration runs through one picklable function,
``run_one(config, data)``, under :func:`~sklearn_subspace.training.fixed_threads`
(``n_threads`` CPU threads, one by default). Small models gain nothing from
more threads, and a fixed count makes each result independent of where it
runs, so a parallel run equals a serial one bit for bit.
"""

import os
import signal
import threading
from contextlib import closing, contextmanager, nullcontext

from joblib import Parallel, cpu_count, delayed, parallel_config
from tqdm.auto import tqdm

from ..training import fixed_threads

#: Below this much work in all (see :func:`default_n_jobs`), an experiment
#: takes a few seconds, less than starting worker processes costs.
PARALLEL_WORK = 10**8


def default_n_jobs(n_configs, work_per_config):
    """``n_jobs=None``: one worker per usable core, unless the work is tiny.

    Parameters
    ----------
    n_configs : int
        Number of configurations to run.
    work_per_config : int
        A rough size of one configuration's work (for the study, the number
        of training feature values a fit reads).

    Returns
    -------
    int
        1 when ``n_configs * work_per_config`` is below
        :data:`PARALLEL_WORK`, else the number of usable CPU cores (as joblib
        counts them, honouring affinity and container quotas), at most one
        per configuration.

    Examples
    --------
    >>> from sklearn_subspace._experiment import default_n_jobs
    >>> default_n_jobs(40, 180 * 32)
    1
    """
    if n_configs * work_per_config < PARALLEL_WORK:
        return 1
    return max(1, min(cpu_count(), n_configs))


class _Terminated(SystemExit):
    """SIGTERM, turned into an exception so that joblib can stop its workers."""


@contextmanager
def workers_stop_on_sigterm():
    """Make SIGTERM unwind through joblib, then terminate the process as asked.

    By default SIGTERM ends the process at once, and the loky workers it
    started keep running, orphaned. Raising instead lets joblib's clean-up
    terminate them; afterwards the previous handler is restored and the
    signal raised again, so the process still ends as ``kill`` expects.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum, frame):
        raise _Terminated(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, previous)
        os.kill(os.getpid(), signal.SIGTERM)  # ends here with the default
        raise  # a handler that returns (SIG_IGN or the user's) lands here
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_one(run_one, config, n_threads, data_type, *fields):
    """One configuration in a worker, under the thread rule."""
    # A NamedTuple is rebuilt field by field; a plain tuple from its items.
    data = data_type._make(fields) if hasattr(data_type, "_make") else fields
    with fixed_threads(n_threads):
        return run_one(config, data)


def iter_results(run_one, configs, data, *, n_jobs=1, client=None, n_threads=1):
    """Yield one result per configuration, as each finishes.

    ``data`` is a ``NamedTuple`` (or a tuple); its fields travel as separate arguments,
    so that joblib memory-maps large arrays for worker processes and its
    dask backend ships each to the workers once, however many
    configurations read it. Close the generator (``contextlib.closing``)
    when stopping early: its parallel workers are terminated then, and on
    SIGTERM too.
    """
    args = (n_threads, type(data), *data)
    if client is None and n_jobs in (None, 1):
        for config in configs:
            yield _run_one(run_one, config, *args)
        return
    if client is not None:
        backend = parallel_config(backend="dask", client=client)
        n_jobs = -1 if n_jobs is None else n_jobs
    else:
        backend = nullcontext()
    with workers_stop_on_sigterm(), backend:
        yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(_run_one)(run_one, config, *args) for config in configs
        )


class Experiment:
    """Configurations to run, and the rows a checkpoint already holds.

    Parameters
    ----------
    configs : list of tuple
        The configurations, in the order results are reported; usually
        ``NamedTuple`` records.
    key : callable
        Maps a result row to its configuration.
    checkpoint : RowCheckpoint, default=None
        Where finished rows are kept. Rows found there are not run again.

    Attributes
    ----------
    done : dict
        ``config -> row`` read back from the checkpoint, with
        ``resumed=True``.
    todo : list
        The configurations left to run, in order.

    Examples
    --------
    >>> from sklearn_subspace._experiment import Experiment
    >>> def square(config, data):
    ...     return {"x": config[0], "y": config[0] ** 2 + data[0]}
    >>> experiment = Experiment([(1,), (2,)], key=lambda row: (row["x"],))
    >>> [row["y"] for row in experiment.run(square, (10,), progress=False)]
    [11, 14]
    """

    def __init__(self, configs, *, key, checkpoint=None):
        self.configs = list(configs)
        self.key = key
        self.checkpoint = checkpoint
        found = {}
        if checkpoint is not None:
            found = {key(row): row for row in checkpoint.load()}
        self.done = {
            c: dict(found[c], resumed=True) for c in self.configs if c in found
        }
        self.todo = [c for c in self.configs if c not in self.done]

    def run(
        self,
        run_one,
        data,
        *,
        n_jobs=1,
        work_per_config=0,
        client=None,
        n_threads=1,
        progress=True,
        desc="experiment",
        describe=None,
        on_row=None,
    ):
        """Run the configurations left to do; return every row in order.

        Parameters
        ----------
        run_one : callable
            ``run_one(config, data) -> dict``, picklable (a module-level
            function) for worker processes.
        data : NamedTuple
            What every configuration reads.
        n_jobs : int or None, default=1
            Worker processes. ``None``: with a ``client``, all its workers;
            without, :func:`default_n_jobs` of the configurations left to
            run and ``work_per_config``.
        work_per_config : int, default=0
            A rough size of one configuration's work, for ``n_jobs=None``.
        client : dask.distributed.Client, default=None
            Run on this dask cluster through joblib's dask backend.
        n_threads : int or None, default=1
            CPU threads for each configuration (``None``: as they are).
        progress : bool, default=True
            Show a tqdm bar over all configurations.
        desc : str, default="experiment"
            The bar's label.
        describe : callable, default=None
            ``describe(row) -> str``, shown next to the bar.
        on_row : callable, default=None
            Called with each new row, as it arrives.

        Returns
        -------
        list of dict
            One row per configuration, in the order of ``configs``; each has
            ``resumed`` (True when read back from the checkpoint).
        """
        if n_jobs is None and client is None:
            n_jobs = default_n_jobs(len(self.todo), work_per_config)
        new = {}
        with tqdm(
            total=len(self.configs),
            initial=len(self.done),
            desc=desc,
            unit="fit",
            disable=not progress,
        ) as bar:
            results = iter_results(
                run_one,
                self.todo,
                data,
                n_jobs=n_jobs,
                client=client,
                n_threads=n_threads,
            )
            with closing(results):
                for row in results:
                    if self.checkpoint is not None:
                        self.checkpoint.append(row)
                    new[self.key(row)] = row = dict(row, resumed=False)
                    if on_row is not None:
                        on_row(row)
                    if describe is not None:
                        bar.set_postfix_str(describe(row), refresh=False)
                    bar.update()
        return [self.done.get(c) or new[c] for c in self.configs]
