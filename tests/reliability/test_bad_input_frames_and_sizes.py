"""Bad inputs that used to escape raw from numpy: huge maps, label columns."""

import warnings

import numpy as np
import pytest
from bad_input_cases import frame_with, make_distiller, tiny_mlp

from sklearn_subspace import (
    JLSubspaceTransformer,
    SubspaceHeadClassifier,
    TorchFeatureExtractor,
    distortion_report,
    estimate_intrinsic_dimension,
    recommend_n_components,
)

X = np.random.RandomState(0).rand(12, 16)
Y = np.arange(12) % 2


@pytest.mark.parametrize(
    "projection", ["gaussian", "sparse", "rademacher", "countsketch"]
)
def test_a_map_larger_than_memory_is_refused_with_its_size(projection):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # k > d warns first, as in scikit-learn
        with pytest.raises(ValueError, match=r"n_components=1000000000000") as info:
            JLSubspaceTransformer(10**12, projection=projection).fit(X)
    message = str(info.value)
    assert "TiB" in message and "1000000000000 x 16" in message
    assert "Lower n_components" in message


@pytest.mark.parametrize(
    "kind, says", [("categorical", "categorical"), ("string", "text")]
)
@pytest.mark.parametrize(
    "fit",
    [
        lambda D: JLSubspaceTransformer(4).fit(D),
        lambda D: SubspaceHeadClassifier(max_epochs=1, device="cpu").fit(D, Y),
        lambda D: TorchFeatureExtractor(tiny_mlp(), device="cpu").fit(D),
        lambda D: make_distiller().fit(D, Y),
        estimate_intrinsic_dimension,
        lambda D: distortion_report(D, JLSubspaceTransformer(4)),
        lambda D: recommend_n_components(D, n_repeats=1),
    ],
    ids=[
        "projection",
        "head",
        "extractor",
        "distiller",
        "intrinsic_dimension",
        "distortion_report",
        "recommend_n_components",
    ],
)
def test_a_categorical_or_text_column_is_named_with_the_fix(fit, kind, says):
    # Numbers-as-labels ("1.5", "2") used to be silently read as measurements.
    with pytest.raises(TypeError, match=rf"\['f0'\] of X .*{says}") as info:
        fit(frame_with(kind, X))
    assert "OneHotEncoder" in str(info.value)


def test_numeric_frames_are_still_accepted():
    import pandas as pd

    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(16)])
    assert JLSubspaceTransformer(4, random_state=0).fit_transform(frame).shape == (
        12,
        4,
    )
