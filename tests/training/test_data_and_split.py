"""The fast skorch integration: slicing loader, stratified holdout, modules."""

import warnings

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_subspace.head._modules import SubspaceHead
from sklearn_subspace.training import (
    SliceLoader,
    TensorData,
    as_float32_tensor,
    n_validation,
    stratified_indices,
    stratify_problem,
)


def _dataset(n, d=3):
    X = torch.arange(n * d, dtype=torch.float32).reshape(n, d)
    return TensorData(X, torch.arange(n))


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 300), batch_size=st.integers(1, 64), seed=st.integers(0, 99))
def test_shuffled_epoch_visits_every_row_once_in_batches(n, batch_size, seed):
    loader = SliceLoader(_dataset(n), batch_size=batch_size, shuffle=True, seed=seed)
    batches = list(loader)
    assert len(batches) == len(loader) == -(-n // batch_size)
    assert all(len(yb) == batch_size for _, yb in batches[:-1])
    rows = torch.cat([yb for _, yb in batches])
    assert sorted(rows.tolist()) == list(range(n))
    # X and y stay aligned through the shuffle.
    for Xb, yb in batches:
        assert torch.equal(Xb[:, 0], yb.float() * 3)


def test_shuffle_order_is_seeded_and_changes_between_epochs():
    def orders(seed):
        loader = SliceLoader(_dataset(50), batch_size=7, shuffle=True, seed=seed)
        return [torch.cat([yb for _, yb in loader]).tolist() for _ in range(3)]

    first = orders(0)
    assert first == orders(0)
    assert first != orders(1)
    assert first[0] != first[1] != first[2]


def test_unshuffled_loader_yields_views_in_order():
    data = _dataset(10)
    batches = list(SliceLoader(data, batch_size=4))
    assert [yb.tolist() for _, yb in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][0].data_ptr() == data.X.data_ptr()  # a view, not a copy


def test_loader_without_targets_yields_none():
    batches = list(SliceLoader(TensorData(torch.zeros(5, 2)), batch_size=2))
    assert [yb for _, yb in batches] == [None, None, None]


def test_shuffling_leaves_global_torch_rng_alone():
    state = torch.get_rng_state()
    list(SliceLoader(_dataset(100), batch_size=8, shuffle=True, seed=0))
    assert torch.equal(torch.get_rng_state(), state)


def test_float32_tensor_shares_memory_with_float32_array():
    X = np.ones((4, 3), dtype=np.float32)
    X_t = as_float32_tensor(X, "cpu")
    X_t[0, 0] = 5.0
    assert X[0, 0] == 5.0


def test_read_only_array_converts_without_warning():
    # joblib hands read-only memmaps to parallel fits.
    X = np.ones((4, 3), dtype=np.float32)
    X.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X_t = as_float32_tensor(X, "cpu")
    assert X_t.dtype == torch.float32
    assert X_t.shape == (4, 3)


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(2, 40), min_size=2, max_size=6),
    fraction=st.floats(0.01, 0.9),
    seed=st.integers(0, 1000),
)
def test_stratified_split_keeps_every_class_on_both_sides(counts, fraction, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    if stratify_problem(y, fraction) is not None:
        return
    train_idx, valid_idx = stratified_indices(y, fraction, seed)
    assert len(valid_idx) == n_validation(y, fraction)
    assert len(valid_idx) >= np.ceil(fraction * len(y))
    assert np.intersect1d(train_idx, valid_idx).size == 0
    assert len(train_idx) + len(valid_idx) == len(y)
    assert set(y[train_idx]) == set(y[valid_idx]) == set(range(len(counts)))
    # Proportional to within one sample whenever the one-per-side floor
    # does not force any class away from its share.
    share = np.array(counts) * len(valid_idx) / len(y)
    got = np.bincount(y[valid_idx], minlength=len(counts))
    if np.all((share >= 1) & (share <= np.array(counts) - 1)):
        assert np.all(np.abs(got - share) < 1)
    again = stratified_indices(y, fraction, seed)
    np.testing.assert_array_equal(again[1], valid_idx)


def test_stratify_problem_names_the_reason():
    assert "single sample" in stratify_problem(np.array([0, 0, 1, 1, 2]), 0.1)
    assert "leaves 1 training samples for 2 classes" in stratify_problem(
        np.array([0, 0, 1, 1]), 0.7
    )
    assert stratify_problem(np.array([0, 0, 1, 1]), 0.5) is None


def test_head_init_is_seeded_locally_and_matches_torch_default_scale():
    state = torch.get_rng_state()
    head_a = SubspaceHead(64, 5, hidden_layer_sizes=(32,), seed=3)
    head_b = SubspaceHead(64, 5, hidden_layer_sizes=(32,), seed=3)
    head_c = SubspaceHead(64, 5, hidden_layer_sizes=(32,), seed=4)
    assert torch.equal(torch.get_rng_state(), state)
    for a, b in zip(head_a.parameters(), head_b.parameters()):
        assert torch.equal(a, b)
    assert not torch.equal(head_a.layers[0].weight, head_c.layers[0].weight)
    # torch's default Linear init draws from U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    weight = head_a.layers[0].weight
    assert weight.abs().max() <= 1 / 8
    assert weight.abs().max() > 0.9 / 8


def test_bottleneck_is_bias_free_and_first():
    head = SubspaceHead(10, 3, bottleneck=4, seed=0)
    assert head.layers[0].bias is None
    assert tuple(head.layers[0].weight.shape) == (4, 10)
    assert head(torch.zeros(2, 10)).shape == (2, 3)
