"""Allow ``python -m sklearn_subspace``, the same as the ``sklearn-subspace`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
