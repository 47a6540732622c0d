"""The head training settings of the paper, by teacher name.

Kalyoncuoglu & Miftachov train the linear head on projected features with
one optimizer setting per teacher, for a fixed number of epochs. The presets
keep that protocol exactly (``tol=None``: no early stop, no convergence
check), with one correction: the epoch whose weights are kept is picked on a
validation split carved from the training data, not on the test set as in
the paper.
"""

from types import MappingProxyType

HEAD_PRESETS = MappingProxyType(
    {
        "resnet50": MappingProxyType(
            {
                "optimizer": "sgd",
                "lr": 1e-2,
                "momentum": 0.9,
                "weight_decay": 5e-4,
                "max_epochs": 5,
                "batch_size": 128,
                "tol": None,
            }
        ),
        "vit_b_16": MappingProxyType(
            {
                "optimizer": "adamw",
                "lr": 1e-3,
                "weight_decay": 1e-4,
                "max_epochs": 3,
                "batch_size": 32,
                "tol": None,
            }
        ),
        "bert-base-uncased": MappingProxyType(
            {
                "optimizer": "adamw",
                "lr": 1e-3,
                "weight_decay": 1e-2,
                "max_epochs": 3,
                "batch_size": 32,
                "tol": None,
            }
        ),
    }
)


def preset_params(name):
    """Return the constructor arguments of the preset ``name`` as a new dict.

    Raises
    ------
    ValueError
        If ``name`` is not a known preset; the message lists the valid names.
    """
    if not isinstance(name, str) or name not in HEAD_PRESETS:
        raise ValueError(
            f"Unknown head preset {name!r}. Valid presets: "
            f"{', '.join(repr(k) for k in HEAD_PRESETS)}."
        )
    return dict(HEAD_PRESETS[name])
