"""``layer=`` never silently reads the wrong tensor.

A plain module whose output is a Linear layer's (a classifier's logits) gets
a warning naming the layer to pass; a module that runs several times in one
forward pass is refused, and each call can be read by its fx graph node
name, as can functional ops.
"""

import warnings

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from torch import nn
from torch.nn import functional as F

from sklearn_subspace.teachers import TorchFeatureExtractor


class SmallClassifier(nn.Module):
    """A custom 10-class model: features, then a Linear classifier."""

    def __init__(self):
        super().__init__()
        self.body = nn.Linear(8, 32)
        self.act = nn.ReLU()
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc(self.act(self.body(x)).flatten(1))


class SharedReLU(nn.Module):
    """One ReLU module used twice in the forward pass."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.first = nn.Linear(8, 6)
        self.relu = nn.ReLU()
        self.second = nn.Linear(6, 5)

    def forward(self, x):
        return self.relu(self.second(self.relu(self.first(x)) - 0.1))


class Untraceable(SharedReLU):
    """Data-dependent control flow: torch.fx cannot trace it."""

    def forward(self, x):
        hidden = self.relu(self.first(x))
        if hidden.sum() > -1:
            hidden = self.relu(self.second(hidden))
        return hidden


class Functional(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.linear = nn.Linear(8, 4)

    def forward(self, x):
        return F.relu(self.linear(x)) * 3.0


@pytest.fixture
def X(rng):
    return rng.rand(6, 8).astype(np.float32)


def _fit(model, X, **params):
    return TorchFeatureExtractor(model, device="cpu", **params).fit_transform(X)


def test_logits_of_a_custom_classifier_are_not_returned_silently(X):
    with pytest.warns(UserWarning, match="nn.Linear layer 'fc' \\(d=10\\)") as info:
        features = _fit(SmallClassifier(), X)
    message = str(info[0].message)
    assert "pass layer='act'" in message and "pass layer='fc'" in message
    assert features.shape == (6, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the named fixes are silent
        assert _fit(SmallClassifier(), X, layer="act").shape == (6, 32)
        assert _fit(SmallClassifier(), X, layer="fc").shape == (6, 10)


def test_a_sequential_ending_in_linear_names_its_last_layers(X):
    net = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3))
    with pytest.warns(UserWarning, match="layer '2'.*pass layer='1'"):
        _fit(net, X)


@pytest.mark.parametrize("method", ["fit", "fit_transform"])
def test_the_logits_warning_points_at_the_line_that_called_fit(X, method):
    extractor = TorchFeatureExtractor(SmallClassifier(), device="cpu")
    with pytest.warns(UserWarning, match="nn.Linear layer 'fc'") as info:
        getattr(extractor, method)(X)
    assert info[0].filename == __file__


def test_a_module_ending_in_a_nonlinearity_gets_no_warning(X):
    net = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _fit(net, X).shape == (6, 16)


@pytest.mark.parametrize("layer", ["relu", "node:relu"])
def test_a_module_run_twice_is_refused_with_its_graph_node_names(X, layer):
    if layer == "relu":
        with pytest.raises(ValueError, match="'relu' runs 2 times") as info:
            _fit(SharedReLU(), X, layer=layer)
        assert "'node:relu', 'node:relu_1'" in str(info.value)
        return
    # The first call, read by its node name.
    net = SharedReLU()
    with torch.no_grad():
        expected = torch.relu(net.first(torch.from_numpy(X))).numpy()
    assert_allclose(_fit(net, X, layer=layer), expected, rtol=1e-6)


def test_each_call_of_a_reused_module_is_read_by_its_node_name(X):
    net = SharedReLU()
    with torch.no_grad():
        x = torch.from_numpy(X)
        second = torch.relu(net.second(torch.relu(net.first(x)) - 0.1)).numpy()
    assert_allclose(_fit(net, X, layer="relu_1"), second, rtol=1e-6)


def test_a_functional_op_is_read_by_its_node_name(X):
    net = Functional()
    with torch.no_grad():
        expected = F.relu(net.linear(torch.from_numpy(X))).numpy()
    assert_allclose(_fit(net, X, layer="relu"), expected, rtol=1e-6)


def test_a_reused_module_of_an_untraceable_model_is_refused(X):
    with pytest.raises(ValueError, match="runs 2 times.*cannot trace"):
        _fit(Untraceable(), X, layer="relu")


def test_a_hugging_face_task_model_gives_its_base_models_features(tiny_bert_dir):
    transformers = pytest.importorskip("transformers")
    texts = ["the cat sat", "a big red dog"]
    classifier = transformers.BertForSequenceClassification.from_pretrained(
        tiny_bert_dir, num_labels=3
    )
    features = _fit(classifier, texts)
    base = _fit(f"hf:{tiny_bert_dir}", texts)
    assert features.shape == (2, 32)
    assert_allclose(features, base, rtol=1e-5, atol=1e-6)
