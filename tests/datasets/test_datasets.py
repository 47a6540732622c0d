"""Datasets, the embedded digits task and its teacher, and named study tasks."""

import re
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from sklearn_subspace._param_validation import InvalidParameterError
from sklearn_subspace.datasets import (
    DatasetUnavailableError,
    DigitsCNN,
    _embedded_teacher,
    load_dataset,
    load_embedded_task,
    train_embedded_teacher,
)
from sklearn_subspace.head import SubspaceHeadClassifier
from sklearn_subspace.head._presets import HEAD_PRESETS
from sklearn_subspace.projection import PROJECTION_FAMILIES, make_projection
from sklearn_subspace.study._tasks import TEACHERS, build_task, teacher_spec
from sklearn_subspace.teachers import (
    TorchFeatureExtractor,
    forward_pass_count,
    reset_forward_pass_count,
)


@pytest.fixture(scope="module")
def embedded(digits_teacher_cache):
    return digits_teacher_cache, load_embedded_task(cache_dir=digits_teacher_cache)


# -- the embedded task ----------------------------------------------------------------
@pytest.mark.slow  # the digits CNN (trained once a session)
def test_embedded_task_has_digit_images_shaped_for_the_cnn(embedded):
    _, task = embedded
    assert task.X_train.shape == (1347, 1, 8, 8)
    assert task.X_test.shape == (450, 1, 8, 8)
    assert task.X_train.dtype == np.float32
    assert 0.0 <= task.X_train.min() and task.X_train.max() <= 1.0
    assert sorted(np.unique(task.y_train)) == list(range(10))
    assert task.name == "digits-cnn2048"
    assert task.n_features == 2048


@pytest.mark.slow  # the digits CNN (trained once a session)
def test_embedded_teacher_is_trained_on_the_training_split(embedded):
    _, task = embedded
    with torch.inference_mode():
        logits = task.teacher(torch.from_numpy(task.X_test))
    accuracy = (logits.argmax(1).numpy() == task.y_test).mean()
    assert accuracy > 0.95
    assert not task.teacher.training
    assert not any(p.requires_grad for p in task.teacher.parameters())


@pytest.mark.slow  # the digits CNN (trained once a session)
def test_embedded_extractor_returns_the_2048_d_penultimate_features(embedded):
    _, task = embedded
    reset_forward_pass_count()
    features = task.extractor.set_params(device="cpu").fit_transform(task.X_test[:20])
    assert features.shape == (20, 2048)
    assert features.dtype == np.float32
    with torch.inference_mode():
        x = torch.from_numpy(task.X_test[:20])
        expected = task.teacher.embed(task.teacher.features(x)).numpy()
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-6)
    assert forward_pass_count() == 20


@pytest.mark.slow  # the digits CNN (trained once a session)
def test_embedded_extractor_caches_features_under_the_cache_dir(embedded):
    cache, task = embedded
    extractor = task.extractor.set_params(device="cpu")
    extractor.fit_transform(task.X_test[:8])
    reset_forward_pass_count()
    extractor.fit_transform(task.X_test[:8][::-1])
    assert forward_pass_count() == 0
    assert (cache / "features").is_dir()


@pytest.mark.slow  # the digits CNN (trained once a session)
def test_embedded_teacher_is_reused_from_the_cache(embedded, monkeypatch):
    cache, task = embedded

    def no_training(*args, **kwargs):
        raise AssertionError("the cached teacher should have been loaded")

    monkeypatch.setattr(_embedded_teacher, "_fit_cnn", no_training)
    again = load_embedded_task(cache_dir=cache)
    for name, value in task.teacher.state_dict().items():
        torch.testing.assert_close(
            again.teacher.state_dict()[name], value, rtol=0, atol=0
        )
    assert len(list((cache / "teachers").glob("*.pt"))) == 1


def _small_digits(n=120):
    rng = np.random.default_rng(0)
    return rng.random((n, 1, 8, 8), dtype=np.float32), np.arange(n) % 10


@pytest.mark.slow  # trains three CNNs
def test_teacher_training_is_deterministic_across_fresh_caches(tmp_path):
    X, y = _small_digits()
    first = train_embedded_teacher(X, y, cache_dir=tmp_path / "a", random_state=3)
    second = train_embedded_teacher(X, y, cache_dir=tmp_path / "b", random_state=3)
    other = train_embedded_teacher(X, y, cache_dir=tmp_path / "c", random_state=4)
    for name, value in first.state_dict().items():
        torch.testing.assert_close(second.state_dict()[name], value, rtol=0, atol=0)
    assert not torch.equal(other.classifier.weight, first.classifier.weight)


def test_teacher_training_leaves_the_global_torch_rng_alone(tmp_path):
    X, y = _small_digits(40)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_embedded_teacher(X, y, cache_dir=tmp_path)
    torch.testing.assert_close(torch.rand(3), expected)


@pytest.mark.slow  # trains two CNNs
def test_corrupt_cached_teacher_is_retrained(tmp_path):
    X, y = _small_digits(40)
    net = train_embedded_teacher(X, y, cache_dir=tmp_path)
    (path,) = (tmp_path / "teachers").glob("*.pt")
    path.write_bytes(b"not a checkpoint")
    again = train_embedded_teacher(X, y, cache_dir=tmp_path)
    torch.testing.assert_close(again.classifier.weight, net.classifier.weight)
    assert path.stat().st_size > 1000


@pytest.mark.parametrize("random_state", [None, -1, 1.5, np.random.RandomState(0)])
def test_teacher_needs_a_non_negative_integer_random_state(tmp_path, random_state):
    X, y = _small_digits(20)
    message = (
        "The 'random_state' parameter of train_embedded_teacher must be an int "
        f"in the range [0, inf). Got {random_state!r} instead."
    )
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        train_embedded_teacher(X, y, cache_dir=tmp_path, random_state=random_state)
    assert not (tmp_path / "teachers").exists()  # refused before any training


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("cache_dir", 5, "an instance of 'str', an instance of 'os.PathLike' or None"),
        ("dataset", None, "an instance of 'str'"),
        ("X", "images", "an array-like"),
    ],
)
def test_teacher_rejects_bad_parameters_with_the_standard_message(
    tmp_path, name, value, expected
):
    X, y = _small_digits(20)
    params = {"X": X, "y": y, "cache_dir": tmp_path, name: value}
    message = (
        f"The {name!r} parameter of train_embedded_teacher must be {expected}. "
        f"Got {value!r} instead."
    )
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        train_embedded_teacher(**params)


def test_digits_cnn_has_a_2048_wide_penultimate_layer():
    net = DigitsCNN()
    assert net.classifier.in_features == 2048
    assert net(torch.zeros(3, 1, 8, 8)).shape == (3, 10)


# -- datasets -------------------------------------------------------------------------
def test_digits_dataset_matches_the_embedded_split():
    data = load_dataset("digits")
    assert data.X_train.shape == (1347, 1, 8, 8)
    assert data.modality == "digits"


def test_subsampling_is_stratified_and_bounded():
    data = load_dataset("digits", max_train_samples=100, max_test_samples=50)
    assert len(data.X_train) == len(data.y_train) == 100
    assert len(data.X_test) == 50
    assert sorted(np.unique(data.y_train)) == list(range(10))


def test_unknown_dataset_lists_the_valid_ones():
    with pytest.raises(
        ValueError, match=r"Unknown dataset 'cifar10'.*cifar100.*imagefolder:PATH.*mnli"
    ):
        load_dataset("cifar10")


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("name", 10, "an instance of 'str'"),
        ("data_dir", 3.5, "an instance of 'str', an instance of 'os.PathLike' or None"),
        # numpy 1 names its boolean type 'numpy.bool_'.
        ("download", "no", "an instance of 'bool' or an instance of 'numpy.bool"),
        ("max_train_samples", 0, "an int in the range [1, inf) or None"),
        ("max_test_samples", 2.5, "an int in the range [1, inf) or None"),
        ("random_state", "seed", "an int in the range [0, 4294967295], an "),
    ],
)
def test_load_dataset_rejects_bad_parameters_with_the_standard_message(
    name, value, expected
):
    params = {"name": "digits", name: value}
    prefix = f"The {name!r} parameter of load_dataset must be {expected}"
    with pytest.raises(InvalidParameterError, match=re.escape(prefix)) as info:
        load_dataset(**params)
    assert str(info.value).endswith(f"Got {value!r} instead.")


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("random_state", None, "an int in the range [0, inf)"),
        ("random_state", np.random.RandomState(0), "an int in the range [0, inf)"),
        ("cache_dir", 5, "an instance of 'str', an instance of 'os.PathLike' or None"),
        ("dataset", None, "an instance of 'str'"),
        ("verbose", "loud", "an int in the range [0, inf), an instance of 'bool'"),
    ],
)
def test_load_embedded_task_rejects_bad_parameters_before_any_work(
    tmp_path, name, value, expected
):
    params = {"cache_dir": tmp_path, name: value}
    prefix = f"The {name!r} parameter of load_embedded_task must be {expected}"
    with pytest.raises(InvalidParameterError, match=re.escape(prefix)):
        load_embedded_task(**params)
    assert list(tmp_path.iterdir()) == []  # nothing trained, nothing written


def test_load_dataset_takes_a_random_state_instance():
    first = load_dataset("digits", random_state=np.random.RandomState(3))
    second = load_dataset("digits", random_state=3)
    np.testing.assert_array_equal(first.y_train, second.y_train)


def test_missing_cifar100_offline_says_where_and_how_to_supply_it(tmp_path):
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset("cifar100", data_dir=tmp_path, download=False)
    message = str(info.value)
    assert "CIFAR-100 was not found under" in message
    assert str(tmp_path) in message
    assert "cifar-100-python" in message
    assert "--data-dir" in message


def _write_images(folder, classes, n_per_class, size=12):
    rng = np.random.default_rng(0)
    for name in classes:
        (folder / name).mkdir(parents=True)
        for i in range(n_per_class):
            pixels = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / name / f"{i}.png")


def test_image_folder_is_split_stratified_with_class_name_labels(tmp_path):
    _write_images(tmp_path, ["cat", "dog"], 10)
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    data = load_dataset(f"imagefolder:{tmp_path}")
    assert len(data.X_train) == 16 and len(data.X_test) == 4
    assert sorted(np.unique(data.y_test)) == ["cat", "dog"]
    assert all(str(p).endswith(".png") for p in data.X_train + data.X_test)
    assert data.modality == "image"


def test_image_folder_with_train_and_val_uses_them(tmp_path):
    _write_images(tmp_path / "train", ["a", "b", "c"], 4)
    _write_images(tmp_path / "val", ["a", "c"], 2)
    data = load_dataset(f"imagefolder:{tmp_path}")
    assert len(data.X_train) == 12 and len(data.X_test) == 4
    # Labels are folder names, so they agree although val lacks class "b".
    assert sorted(np.unique(data.y_test)) == ["a", "c"]


def test_missing_image_folder_says_how_to_lay_it_out(tmp_path):
    with pytest.raises(DatasetUnavailableError, match="does not exist.*sub-folder"):
        load_dataset(f"imagefolder:{tmp_path / 'nope'}")


def test_empty_image_folder_is_a_clear_error(tmp_path):
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(DatasetUnavailableError, match="No usable images"):
        load_dataset(f"imagefolder:{tmp_path}")


def test_image_folder_too_small_to_split_says_how_many_images_it_needs(tmp_path):
    _write_images(tmp_path, ["a", "b"], 2)
    with pytest.raises(ValueError, match="too small to split.*at least 5 per class"):
        load_dataset(f"imagefolder:{tmp_path}")


def test_mnli_without_hugging_face_datasets_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(ImportError, match="pip install datasets"):
        load_dataset("mnli")


def _fake_glue(*args, **kwargs):
    """A two-split stand-in for ``datasets.load_dataset("nyu-mll/glue", "mnli")``."""
    datasets = pytest.importorskip("datasets")
    assert args == ("nyu-mll/glue", "mnli")

    def split(n, offset):
        return datasets.Dataset.from_dict(
            {
                "premise": [f"premise {offset + i}" for i in range(n)],
                "hypothesis": [f"hypothesis {offset + i}" for i in range(n)],
                "label": [i % 3 for i in range(n)],
                "idx": list(range(n)),
            }
        )

    return datasets.DatasetDict(
        train=split(30, 0),
        validation_matched=split(12, 100),
        validation_mismatched=split(12, 200),
    )


def test_mnli_becomes_premise_hypothesis_pairs_with_matched_validation(monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setattr(datasets, "load_dataset", _fake_glue)
    data = load_dataset("mnli", max_train_samples=15)
    assert data.modality == "text-pair" and data.name == "mnli"
    assert len(data.X_train) == 15 and len(data.y_train) == 15
    assert np.bincount(data.y_train).tolist() == [5, 5, 5]  # stratified
    assert data.X_test[0] == ("premise 100", "hypothesis 100")
    assert data.y_test.tolist() == [i % 3 for i in range(12)]
    premise, hypothesis = data.X_train[0]
    assert premise.replace("premise", "hypothesis") == hypothesis


# -- named tasks ----------------------------------------------------------------------
@pytest.mark.parametrize("name", list(TEACHERS))
def test_every_k_of_a_teachers_grid_is_valid_for_every_projection(name):
    spec = teacher_spec(name)
    grid = spec.n_components
    assert list(grid) == sorted(set(grid), reverse=True)
    # The orthogonal family needs k <= d (its QR takes seconds at this size);
    # srht needs k <= d rounded up to a power of two.
    assert grid[0] <= spec.n_features
    for family in [f for f in PROJECTION_FAMILIES if f != "orthogonal"]:
        # The largest k is the hardest case.
        projection = make_projection(family, grid[0], spec.n_features, seed=0)
        Z = projection.apply(np.ones((1, spec.n_features), np.float32))
        assert Z.shape == (1, grid[0])


@pytest.mark.slow  # builds ResNet-50 and ViT-B/16 with random weights
@pytest.mark.parametrize("name", ["resnet50", "vit_b_16"])
def test_a_named_image_teacher_gives_features_of_its_stated_width(name):
    images = np.random.default_rng(0).integers(0, 256, (2, 40, 48, 3), np.uint8)
    extractor = TorchFeatureExtractor(name, weights=None, device="cpu")
    features = extractor.fit_transform(images)
    assert features.shape == (2, teacher_spec(name).n_features)


def test_other_zoo_names_are_accepted_with_unknown_width():
    assert teacher_spec("resnet18").n_features is None
    assert teacher_spec("timm:resnet10t").modality == "image"
    assert teacher_spec("hf:prajjwal1/bert-tiny").modality is None


def test_unknown_teacher_lists_what_is_valid():
    with pytest.raises(
        ValueError, match=r"Unknown teacher 'resnet5O'.*'resnet50'.*timm:<name>"
    ):
        teacher_spec("resnet5O")


@pytest.mark.parametrize(
    "teacher, dataset, message",
    [
        ("bert-base-uncased", "digits", "takes text-pair inputs"),
        ("embedded", "mnli", "cannot run on dataset 'mnli'"),
        ("embedded", "imagefolder:photos", "in-memory images of one size"),
        ("vit_b_16", None, "no default dataset"),
    ],
)
def test_mismatched_teacher_and_dataset_are_rejected(teacher, dataset, message):
    with pytest.raises(ValueError, match=message):
        build_task(teacher, dataset)


def test_paper_task_uses_the_paper_head_preset(tmp_path):
    task = build_task(
        "resnet50", "digits", weights=None, cache_dir=tmp_path, max_train_samples=20
    )
    preset = HEAD_PRESETS["resnet50"]
    assert {key: task.head.get_params()[key] for key in preset} == dict(preset)
    assert task.extractor.get_params()["model"] == "resnet50"
    assert task.extractor.get_params()["cache_dir"] == str(tmp_path / "features")
    assert task.n_components == teacher_spec("resnet50").n_components
    assert len(task.X_train) == 20
    assert task.learned_head is None  # the learned baseline uses the preset too


@pytest.mark.slow  # trains the digits CNN
def test_embedded_digits_task_gives_the_learned_baseline_a_fixed_budget(embedded):
    cache, _ = embedded
    task = build_task("embedded", cache_dir=cache, progress=False)
    default = SubspaceHeadClassifier(device="auto").get_params()
    assert task.head.get_params() == default
    learned = task.learned_head.get_params()
    assert (learned["optimizer"], learned["batch_size"]) == ("adamw", 64)
    assert (learned["max_epochs"], learned["tol"]) == (30, None)
