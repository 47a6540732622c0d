"""Helpers of the reliability tests that run work in child processes."""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: The tiny teachers and the kill-test worker live with the teacher tests.
TEACHERS_TESTS = HERE.parent / "teachers"


def add_test_helpers_to_path():
    """Make the helper modules importable whatever pytest collected first."""
    for path in (str(HERE), str(TEACHERS_TESTS)):
        if path not in sys.path:
            sys.path.insert(0, path)


def subprocess_env():
    """Environment for child Python processes: offline, same thread count.

    The same thread count as the parent keeps BLAS and torch on the same
    kernels, so that bit-for-bit comparisons across processes are fair.
    """
    env = dict(os.environ)
    env["SKLEARN_SUBSPACE_OFFLINE"] = "1"
    env.setdefault("OMP_NUM_THREADS", "1")  # as tests/conftest.py sets it
    paths = [str(HERE), str(TEACHERS_TESTS), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env
