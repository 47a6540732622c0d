"""The error every dataset loader raises when its data cannot be had."""


class DatasetUnavailableError(FileNotFoundError):
    """A dataset could not be found locally and could not be downloaded.

    The message names the dataset, where it was looked for, and how to supply
    it (network access, a local copy, or a different ``data_dir``).

    See Also
    --------
    load_dataset : Raises this error.

    Examples
    --------
    >>> from sklearn_subspace.datasets import DatasetUnavailableError
    >>> issubclass(DatasetUnavailableError, OSError)
    True
    """
