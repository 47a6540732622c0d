"""The offline switch: ``SKLEARN_SUBSPACE_OFFLINE=1`` means no network at all.

The switch is read at call time, so it can be turned on inside a running
process. Any of ``SKLEARN_SUBSPACE_OFFLINE``, ``HF_HUB_OFFLINE`` and
``TRANSFORMERS_OFFLINE`` set to ``1`` (or ``true``, ``yes``, ``on``) turns it
on. Offline, the library loads weights and datasets from local files and
caches only, and fails at once, with the usual message on how to provide
them, when they are not there.

Hugging Face's libraries (``huggingface_hub``, ``transformers``, ``datasets``,
and ``timm`` through them) read their own switch, ``HF_HUB_OFFLINE``, once,
when ``huggingface_hub`` is first imported. So that our switch reaches them
too, importing this library with ``SKLEARN_SUBSPACE_OFFLINE=1`` sets
``HF_HUB_OFFLINE=1`` when it is unset and ``huggingface_hub`` is not imported
yet. Where that is too late, the loaders that would go through the Hub check
:func:`hub_offline` and refuse instead of reaching the network.
"""

import os
import sys

#: Environment variables any of which turns the offline mode on.
OFFLINE_VARIABLES = (
    "SKLEARN_SUBSPACE_OFFLINE",
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
)
_TRUE = ("1", "true", "yes", "on")


def _is_true(name):
    return os.environ.get(name, "").strip().lower() in _TRUE


def offline():
    """Whether the user asked for no network access (checked at call time).

    Examples
    --------
    >>> import os
    >>> from sklearn_subspace._offline import offline
    >>> before = os.environ.pop("SKLEARN_SUBSPACE_OFFLINE", None)
    >>> os.environ["SKLEARN_SUBSPACE_OFFLINE"] = "1"
    >>> offline()
    True
    >>> _ = os.environ.pop("SKLEARN_SUBSPACE_OFFLINE")
    >>> if before is not None:
    ...     os.environ["SKLEARN_SUBSPACE_OFFLINE"] = before
    """
    return any(_is_true(name) for name in OFFLINE_VARIABLES)


def hub_offline():
    """Whether the Hugging Face libraries themselves are in offline mode.

    They read ``HF_HUB_OFFLINE`` when first imported; a switch set later
    does not reach them, and they would still try the network.
    """
    from huggingface_hub import is_offline_mode

    return bool(is_offline_mode())


def share_offline_switch():
    """Pass ``SKLEARN_SUBSPACE_OFFLINE`` on to the Hugging Face libraries.

    Only possible before ``huggingface_hub`` is imported; returns whether the
    Hub's switch is (or will be) on.
    """
    if not _is_true("SKLEARN_SUBSPACE_OFFLINE"):
        return _is_true("HF_HUB_OFFLINE")
    if "huggingface_hub" not in sys.modules:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return _is_true("HF_HUB_OFFLINE")


share_offline_switch()
