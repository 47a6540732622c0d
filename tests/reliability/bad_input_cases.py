"""The bad inputs of the reliability tests, shared with the docs table script.

Every public entry point is listed in :data:`ENTRY_POINTS` with the kinds of
bad array input it must reject and the width it expects, and :func:`bad_array` builds one bad input of
a kind from a few parameters (hypothesis draws them in the tests; the table
script uses the defaults). :data:`PATTERNS` says, per kind, what the error
message must mention so that it names the problem.
"""

import tempfile
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

N_FEATURES = 16

#: Kinds of bad arrays, in the order of the docs table.
ARRAY_KINDS = (
    "NaN",
    "inf",
    "empty",
    "1-D",
    "3-D",
    "object",
    "string",
    "complex",
    "sparse NaN",
    "non-numeric DataFrame",
    "wrong width",
)

#: What the message must mention for each kind (a regular expression).
PATTERNS = {
    "NaN": r"NaN",
    "inf": r"infinit|NaN or inf",
    "empty": r"0 sample|empty|at least one|minimum of 1",
    "1-D": r"1D|1-D|2D|2-D",
    "3-D": r"dim 3|3-D|3D|2D|2-D|shape",
    # An object array of non-numbers fails on the first one: None reads as
    # NaN, a list as "an array element with a sequence".
    "object": r"string|float|number|numeric|dtype|NaN|sequence",
    "string": r"string|float|numeric|dtype",
    "complex": r"[Cc]omplex",
    "sparse NaN": r"NaN|[Ss]parse",
    "non-numeric DataFrame": r"string|float|numeric|dtype",
    "wrong width": r"features|columns|width",
}

#: Values that make an object array non-numeric.
OBJECT_VALUES = ({"a": 1}, "seven", [1, 2], None, object())


def bad_array(
    kind,
    n_features=N_FEATURES,
    *,
    n_samples=6,
    row=0,
    col=0,
    seed=0,
    dtype=np.float64,
    sign=1.0,
    extra=2,
    width=None,
    word="x word",
    obj=None,
):
    """One bad input of ``kind`` for an entry point that expects width ``n_features``.

    ``row`` and ``col`` place the bad value; ``extra`` is the size of the
    third axis (3-D) or the imaginary part (complex); ``width`` the wrong
    width; ``word`` the text put in string inputs; ``obj`` the non-numeric
    value of an object array.
    """
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n_samples, n_features)).astype(dtype)
    row, col = row % n_samples, col % n_features
    if kind == "NaN":
        X[row, col] = np.nan
    elif kind == "inf":
        X[row, col] = np.copysign(np.inf, sign)
    elif kind == "empty":
        X = X[:0]
    elif kind == "1-D":
        X = X[row]
    elif kind == "3-D":
        X = np.repeat(X[:, :, None], max(int(extra), 1), axis=2)
    elif kind == "object":
        X = X.astype(object)
        X[row, col] = OBJECT_VALUES[0] if obj is None else obj
    elif kind == "string":
        X = np.full((n_samples, n_features), word)
    elif kind == "complex":
        X = X + 1j * float(extra)
    elif kind == "sparse NaN":
        X[row, col] = np.nan
        X = sp.csr_matrix(X)
    elif kind == "non-numeric DataFrame":
        X = pd.DataFrame(X, columns=[f"f{i}" for i in range(n_features)])
        X[f"f{col}"] = [word] * n_samples
    elif kind == "wrong width":
        width = n_features + 1 if width is None or width == n_features else width
        X = rng.standard_normal((n_samples, width)).astype(dtype)
    else:
        raise KeyError(kind)
    return X


def n_rows(X):
    """Number of samples of a (possibly bad) input, for matching labels."""
    shape = getattr(X, "shape", None)
    return shape[0] if shape else len(X)


def labels(X):
    """Labels of two classes, one per row of ``X``."""
    return np.arange(n_rows(X)) % 2


# -- tiny fitted objects --------------------------------------------------------
def tiny_mlp(n_features=N_FEATURES, n_out=12, seed=0):
    """A seeded MLP teacher on flat vectors."""
    generator = torch.Generator().manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(n_features, 24), torch.nn.ReLU(), torch.nn.Linear(24, n_out)
    )
    with torch.no_grad():
        for param in net.parameters():
            param.copy_(0.3 * torch.randn(param.shape, generator=generator))
    return net


def save_tiny_bert(path):
    """A 1-layer BERT (hidden size 16) and its tokenizer saved to ``path``."""
    import transformers

    path = Path(path)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "dog"]
    (path / "vocab.txt").write_text("\n".join(vocab))
    tokenizer = transformers.BertTokenizerFast(vocab=str(path / "vocab.txt"))
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        transformers.BertModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def build_fitted(workdir=None):
    """Fit one of every estimator on tiny data; return them in a namespace."""
    from sklearn.pipeline import Pipeline

    from sklearn_subspace import (
        JLSubspaceTransformer,
        SubspaceHeadClassifier,
        TorchFeatureExtractor,
        export_torch,
    )

    rng = np.random.RandomState(0)
    y = np.arange(60) % 3
    centers = rng.normal(scale=3.0, size=(3, N_FEATURES))
    X = (centers[y] + rng.normal(size=(60, N_FEATURES))).astype(np.float32)
    jl = JLSubspaceTransformer(4, random_state=0).fit(X)
    head = SubspaceHeadClassifier(max_epochs=2, device="cpu", random_state=0)
    head.fit(X, y)
    extractor = TorchFeatureExtractor(tiny_mlp(), device="cpu").fit(X)
    images = rng.randint(0, 256, size=(2, 8, 8, 3)).astype(np.uint8)
    image_extractor = TorchFeatureExtractor("resnet18", weights=None, device="cpu")
    image_extractor.fit(images)
    workdir = Path(workdir or tempfile.mkdtemp(prefix="tiny-bert-"))
    bert_dir = save_tiny_bert(workdir)
    text_extractor = TorchFeatureExtractor(f"hf:{bert_dir}", device="cpu")
    text_extractor.fit(["the cat", "the dog"])
    pipe_head = SubspaceHeadClassifier(max_epochs=2, device="cpu", random_state=0)
    pipe = Pipeline(
        [("jl", JLSubspaceTransformer(4, random_state=0)), ("head", pipe_head)]
    )
    module = export_torch(pipe.fit(X, y))
    distiller = make_distiller().fit(X, y)
    return SimpleNamespace(
        distiller=distiller,
        X=X,
        y=y,
        jl=jl,
        head=head,
        extractor=extractor,
        image_extractor=image_extractor,
        images=images,
        text_extractor=text_extractor,
        module=module,
    )


def make_distiller(**params):
    """A distiller that trains in milliseconds (the identity teacher)."""
    from sklearn_subspace import SubspaceHeadClassifier
    from sklearn_subspace.distill import StudentMLP, SubspaceDistiller

    head = SubspaceHeadClassifier(max_epochs=1, early_stopping=False)
    defaults = {
        "student_params": {"hidden_layer_sizes": (8,)},
        "n_components": 4,
        "max_epochs": 1,
        "device": "cpu",
        "random_state": 0,
        "head": head,
    }
    return SubspaceDistiller(StudentMLP, **{**defaults, **params})


# -- the entry points and the bad array kinds each must reject -------------------
_ALL = ARRAY_KINDS
_NO_WIDTH = tuple(k for k in ARRAY_KINDS if k != "wrong width")
# A plain torch module may take n-D arrays (images for a CNN): 3-D input
# reaches the module, which then names the shape it cannot take.
_MODULE_FIT = tuple(k for k in _NO_WIDTH if k != "3-D")


def _study(X_train, y_train, X_test, y_test, **params):
    from sklearn_subspace import SubspaceHeadClassifier
    from sklearn_subspace.study import compression_study

    head = SubspaceHeadClassifier(max_epochs=1, device="cpu")
    return compression_study(
        X_train,
        y_train,
        X_test,
        y_test,
        **{
            "n_components": [2],
            "projections": ["gaussian"],
            "baselines": ["full"],
            "seeds": 1,
            "head": head,
            "intrinsic_dimension": False,
            "progress": False,
            **params,
        },
    )


def _distortion_projected(fx, X):
    from sklearn_subspace import distortion_report

    # Good X with as many rows as the bad projection, so only it is at fault.
    return distortion_report(fx.X[: max(n_rows(X), 2)], X)


def _entry_points():
    from sklearn_subspace import (
        JLSubspaceTransformer,
        SubspaceHeadClassifier,
        TorchFeatureExtractor,
        distortion_report,
        estimate_intrinsic_dimension,
        recommend_n_components,
    )

    entries = {
        "JLSubspaceTransformer.fit": (
            lambda fx, X: JLSubspaceTransformer(4, random_state=0).fit(X),
            _NO_WIDTH,
        ),
        "JLSubspaceTransformer.transform": (lambda fx, X: fx.jl.transform(X), _ALL),
        "JLSubspaceTransformer.inverse_transform": (
            lambda fx, X: fx.jl.inverse_transform(X),
            tuple(k for k in _ALL if k != "sparse NaN"),
        ),
        "SubspaceHeadClassifier.fit": (
            lambda fx, X: SubspaceHeadClassifier(max_epochs=1, device="cpu").fit(
                X, labels(X)
            ),
            _NO_WIDTH,
        ),
        "SubspaceHeadClassifier.predict": (lambda fx, X: fx.head.predict(X), _ALL),
        "SubspaceHeadClassifier.predict_proba": (
            lambda fx, X: fx.head.predict_proba(X),
            _ALL,
        ),
        "TorchFeatureExtractor.fit": (
            lambda fx, X: TorchFeatureExtractor(tiny_mlp(), device="cpu").fit(X),
            _MODULE_FIT,
        ),
        "TorchFeatureExtractor.transform": (
            lambda fx, X: fx.extractor.transform(X),
            _ALL,
        ),
        "SubspaceDistiller.fit": (
            lambda fx, X: make_distiller().fit(X, labels(X)),
            _MODULE_FIT,
        ),
        "SubspaceDistiller.fit(teacher_features)": (
            lambda fx, X: make_distiller().fit(
                fx.X[: n_rows(X)], fx.y[: n_rows(X)], teacher_features=X
            ),
            _NO_WIDTH,
        ),
        "SubspaceDistiller.transform": (
            lambda fx, X: fx.distiller.transform(X),
            _ALL,
        ),
        "SubspaceDistiller.predict": (lambda fx, X: fx.distiller.predict(X), _ALL),
        "estimate_intrinsic_dimension": (
            lambda fx, X: estimate_intrinsic_dimension(X),
            _NO_WIDTH,
        ),
        "distortion_report(X)": (
            lambda fx, X: distortion_report(X, JLSubspaceTransformer(4)),
            _NO_WIDTH,
        ),
        "distortion_report(X_projected)": (_distortion_projected, _NO_WIDTH),
        "recommend_n_components": (
            lambda fx, X: recommend_n_components(X, n_pairs=20, n_repeats=1),
            _NO_WIDTH,
        ),
        "compression_study(X_train)": (
            lambda fx, X: _study(X, labels(X), fx.X, fx.y),
            _NO_WIDTH,
        ),
        "compression_study(X_test)": (
            lambda fx, X: _study(fx.X, fx.y, X, labels(X)),
            _ALL,
        ),
    }
    # inverse_transform reads projected data: its width is n_components.
    widths = {"JLSubspaceTransformer.inverse_transform": 4}
    return {
        name: (call, kinds, widths.get(name, N_FEATURES))
        for name, (call, kinds) in entries.items()
    }


ENTRY_POINTS = _entry_points()


# -- bad parameters: one representative each, for the docs table ----------------
def _load_embedded_task(**params):
    from sklearn_subspace.study import load_embedded_task

    with tempfile.TemporaryDirectory() as tmp:
        return load_embedded_task(cache_dir=tmp, **params)


def _export_torch(estimator):
    from sklearn_subspace import export_torch

    return export_torch(estimator)


def _save_exported(module):
    from sklearn_subspace import save_exported

    with tempfile.TemporaryDirectory() as tmp:
        return save_exported(module, Path(tmp) / "head.safetensors")


def _student_instance():
    from sklearn_subspace.distill import StudentMLP

    return StudentMLP(4)


def _reused_relu():
    relu = torch.nn.ReLU()
    return torch.nn.Sequential(
        torch.nn.Linear(N_FEATURES, 8), relu, torch.nn.Linear(8, 8), relu
    )


def parameter_cases():
    """``(entry point, input, call(fx))`` for bad parameters and modalities."""
    from sklearn_subspace import (
        JLSubspaceTransformer,
        SubspaceHeadClassifier,
        TorchFeatureExtractor,
        distortion_report,
        estimate_intrinsic_dimension,
        johnson_lindenstrauss_min_dim,
        make_projection,
        recommend_n_components,
    )
    from sklearn_subspace.projection import pair_distortion_band

    return [
        (
            "JLSubspaceTransformer.fit",
            "n_components=0",
            lambda fx: JLSubspaceTransformer(0).fit(fx.X),
        ),
        (
            "JLSubspaceTransformer.fit",
            "n_components=-3",
            lambda fx: JLSubspaceTransformer(-3).fit(fx.X),
        ),
        (
            "JLSubspaceTransformer.fit",
            "n_components=32 > d=16, projection='orthogonal'",
            lambda fx: JLSubspaceTransformer(32, projection="orthogonal").fit(fx.X),
        ),
        (
            "JLSubspaceTransformer.fit",
            "eps=1.5 (n_components='auto')",
            lambda fx: JLSubspaceTransformer(eps=1.5).fit(fx.X),
        ),
        (
            "JLSubspaceTransformer.fit",
            "projection='gauss'",
            lambda fx: JLSubspaceTransformer(4, projection="gauss").fit(fx.X),
        ),
        (
            "JLSubspaceTransformer.transform",
            "finite float32 values near 3e38",
            lambda fx: fx.jl.transform(np.full((2, N_FEATURES), 3e38, np.float32)),
        ),
        (
            "johnson_lindenstrauss_min_dim",
            "eps=0",
            lambda fx: johnson_lindenstrauss_min_dim(100, eps=0),
        ),
        (
            "johnson_lindenstrauss_min_dim",
            "eps='0.1'",
            lambda fx: johnson_lindenstrauss_min_dim(100, eps="0.1"),
        ),
        (
            "johnson_lindenstrauss_min_dim",
            "n_samples=0",
            lambda fx: johnson_lindenstrauss_min_dim(0),
        ),
        (
            "pair_distortion_band",
            "n_pairs=0",
            lambda fx: pair_distortion_band(10, n_pairs=0),
        ),
        (
            "make_projection",
            "'srht', n_components=32 > padded d=16",
            lambda fx: make_projection("srht", 32, 16, seed=0),
        ),
        (
            "distortion_report",
            "eps=1.0",
            lambda fx: distortion_report(fx.X, fx.jl, eps=1.0),
        ),
        (
            "distortion_report",
            "X with values near 1e200",
            lambda fx: distortion_report(fx.X * 1e200, fx.jl),
        ),
        (
            "recommend_n_components",
            "n_components_grid=[32] > d=16",
            lambda fx: recommend_n_components(fx.X, n_components_grid=[32]),
        ),
        (
            "recommend_n_components",
            "projection='gauss'",
            lambda fx: recommend_n_components(fx.X, projection="gauss"),
        ),
        (
            "SubspaceHeadClassifier.fit",
            "optimizer='adam'",
            lambda fx: SubspaceHeadClassifier(optimizer="adam").fit(fx.X, fx.y),
        ),
        (
            "SubspaceHeadClassifier.fit",
            "device='tpu'",
            lambda fx: SubspaceHeadClassifier(device="tpu").fit(fx.X, fx.y),
        ),
        (
            "SubspaceHeadClassifier.fit",
            "device='cuda' without CUDA",
            lambda fx: SubspaceHeadClassifier(device="cuda").fit(fx.X, fx.y),
        ),
        (
            "SubspaceHeadClassifier.fit",
            "a single sample",
            lambda fx: SubspaceHeadClassifier(device="cpu").fit(fx.X[:1], fx.y[:1]),
        ),
        (
            "TorchFeatureExtractor.fit",
            "model='resnet5O' (unknown name)",
            lambda fx: TorchFeatureExtractor("resnet5O").fit(fx.images),
        ),
        (
            "TorchFeatureExtractor.fit",
            "model='resnet50', pretrained weights not on disk (offline)",
            lambda fx: TorchFeatureExtractor("resnet50", device="cpu").fit(fx.images),
        ),
        (
            "TorchFeatureExtractor.fit",
            "layer='layer9'",
            lambda fx: TorchFeatureExtractor(
                "resnet18", weights=None, layer="layer9", device="cpu"
            ).fit(fx.images),
        ),
        (
            "TorchFeatureExtractor.fit",
            "layer='1', a ReLU module the forward pass uses twice",
            lambda fx: TorchFeatureExtractor(
                _reused_relu(), layer="1", device="cpu"
            ).fit(fx.X),
        ),
        (
            "TorchFeatureExtractor.fit_transform (text model)",
            "layer='embeddings.position_embeddings' (one row per batch)",
            lambda fx: TorchFeatureExtractor(
                fx.text_extractor.get_params()["model"],
                layer="embeddings.position_embeddings",
                device="cpu",
            ).fit_transform(["the cat", "the dog dog"]),
        ),
        (
            "TorchFeatureExtractor.fit",
            "model=functools.partial(dict), a callable that builds no module",
            lambda fx: TorchFeatureExtractor(partial(dict), device="cpu").fit(fx.X),
        ),
        (
            "TorchFeatureExtractor.fit",
            "pooling='sum'",
            lambda fx: TorchFeatureExtractor(tiny_mlp(), pooling="sum").fit(fx.X),
        ),
        (
            "TorchFeatureExtractor.fit",
            "device='cuda' without CUDA",
            lambda fx: TorchFeatureExtractor(tiny_mlp(), device="cuda").fit(fx.X),
        ),
        (
            "TorchFeatureExtractor.transform",
            "finite inputs near 3e38 (features overflow)",
            lambda fx: fx.extractor.transform(
                np.full((2, N_FEATURES), 3e38, np.float32)
            ),
        ),
        (
            "TorchFeatureExtractor.transform (image model)",
            "images with 2 channels, shape (2, 8, 8, 2)",
            lambda fx: fx.image_extractor.transform(np.zeros((2, 8, 8, 2), np.uint8)),
        ),
        (
            "TorchFeatureExtractor.transform (image model)",
            "texts ['a cat', 'a dog']",
            lambda fx: fx.image_extractor.transform(["a cat", "a dog"]),
        ),
        (
            "TorchFeatureExtractor.transform (text model)",
            "uint8 images of shape (2, 8, 8, 3)",
            lambda fx: fx.text_extractor.transform(fx.images),
        ),
        (
            "TorchFeatureExtractor.transform (text model)",
            "['the cat', None]",
            lambda fx: fx.text_extractor.transform(["the cat", None]),
        ),
        (
            "SubspaceDistiller.fit",
            "n_components=0",
            lambda fx: make_distiller(n_components=0).fit(fx.X, fx.y),
        ),
        (
            "SubspaceDistiller.fit",
            "loss='l1'",
            lambda fx: make_distiller(loss="l1").fit(fx.X, fx.y),
        ),
        (
            "SubspaceDistiller.fit",
            "student=StudentMLP(4) (an instance, not a class)",
            lambda fx: (
                make_distiller().set_params(student=_student_instance()).fit(fx.X, fx.y)
            ),
        ),
        (
            "compression_study",
            "n_components=[32] > d=16",
            lambda fx: _study(fx.X, fx.y, fx.X, fx.y, n_components=[32]),
        ),
        (
            "compression_study",
            "projections=['gauss']",
            lambda fx: _study(fx.X, fx.y, fx.X, fx.y, projections=["gauss"]),
        ),
        (
            "compression_study",
            "head=SubspaceHeadClassifier(device='cuda') without CUDA",
            lambda fx: _study(
                fx.X, fx.y, fx.X, fx.y, head=SubspaceHeadClassifier(device="cuda")
            ),
        ),
        (
            "load_embedded_task",
            "random_state=None",
            lambda fx: _load_embedded_task(random_state=None),
        ),
        (
            "load_embedded_task",
            "random_state='x'",
            lambda fx: _load_embedded_task(random_state="x"),
        ),
        (
            "export_torch",
            "an unfitted JLSubspaceTransformer",
            lambda fx: _export_torch(JLSubspaceTransformer(4)),
        ),
        (
            "save_exported",
            "torch.nn.Linear(2, 2) instead of an exported module",
            lambda fx: _save_exported(torch.nn.Linear(2, 2)),
        ),
        (
            "TorchFeatureExtractor.fit",
            "batch_size=0",
            lambda fx: TorchFeatureExtractor(tiny_mlp(), batch_size=0).fit(fx.X),
        ),
        (
            "estimate_intrinsic_dimension",
            "method='pca'",
            lambda fx: estimate_intrinsic_dimension(fx.X, method="pca"),
        ),
        (
            "SubspaceClassifierModule (exported)",
            "a tensor of width 5 instead of 16",
            lambda fx: fx.module(torch.zeros(2, 5)),
        ),
        (
            "JLSubspaceTransformer.fit",
            "n_components=10**12 (a map larger than memory)",
            lambda fx: JLSubspaceTransformer(10**12).fit(fx.X),
        ),
        *(
            (entry, f"DataFrame with a pandas {kind} column", call)
            for kind in ("categorical", "string")
            for entry, call in _frame_calls(kind)
        ),
        (
            "TorchFeatureExtractor.fit",
            "cached torchvision checkpoint of another model",
            _mismatched_hub_checkpoint,
        ),
    ]


def frame_with(kind, X):
    """``X`` as a DataFrame whose first column is categorical or text."""
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    values = np.where(np.arange(len(frame)) % 2, "1.5", "2")
    dtype = "category" if kind == "categorical" else "string"
    frame["f0"] = pd.Series(values, dtype=dtype)
    return frame


def _frame_calls(kind):
    from sklearn_subspace import (
        JLSubspaceTransformer,
        SubspaceHeadClassifier,
        TorchFeatureExtractor,
        distortion_report,
        estimate_intrinsic_dimension,
        recommend_n_components,
    )

    return [
        (
            "JLSubspaceTransformer.fit",
            lambda fx: JLSubspaceTransformer(4).fit(frame_with(kind, fx.X)),
        ),
        (
            "SubspaceHeadClassifier.fit",
            lambda fx: SubspaceHeadClassifier(max_epochs=1, device="cpu").fit(
                frame_with(kind, fx.X), fx.y
            ),
        ),
        (
            "TorchFeatureExtractor.fit",
            lambda fx: TorchFeatureExtractor(tiny_mlp(), device="cpu").fit(
                frame_with(kind, fx.X)
            ),
        ),
        (
            "SubspaceDistiller.fit",
            lambda fx: make_distiller().fit(frame_with(kind, fx.X), fx.y),
        ),
        (
            "estimate_intrinsic_dimension",
            lambda fx: estimate_intrinsic_dimension(frame_with(kind, fx.X)),
        ),
        (
            "distortion_report",
            lambda fx: distortion_report(frame_with(kind, fx.X), fx.jl),
        ),
        (
            "recommend_n_components",
            lambda fx: recommend_n_components(frame_with(kind, fx.X), n_repeats=1),
        ),
    ]


def _mismatched_hub_checkpoint(fx):
    """A file named like resnet18's official checkpoint, holding other weights."""
    import os

    from sklearn_subspace import TorchFeatureExtractor, clear_model_cache

    previous = os.environ.get("TORCH_HOME")
    with tempfile.TemporaryDirectory() as home:
        folder = Path(home) / "hub" / "checkpoints"
        folder.mkdir(parents=True)
        checkpoint = folder / "resnet18-f37072fd.pth"
        torch.save(torch.nn.Linear(2, 2).state_dict(), checkpoint)
        os.environ["TORCH_HOME"] = home
        clear_model_cache()
        try:
            TorchFeatureExtractor("resnet18", device="cpu").fit(fx.images)
        finally:
            clear_model_cache()
            if previous is None:
                del os.environ["TORCH_HOME"]
            else:
                os.environ["TORCH_HOME"] = previous


#: Command lines that must exit non-zero with a one-line error.
CLI_CASES = (
    ["study", "--ks", "0"],
    ["study", "--ks", "4096"],
    ["study", "--projections", "gauss"],
    ["study", "--baselines", "lda"],
    ["study", "--seeds", "0"],
    ["study", "--device", "cuda"],
    ["study", "--device", "tpu"],
    ["study", "--teacher", "resnet5O"],
)
