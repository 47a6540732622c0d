"""scikit-learn's estimator checks, with a teacher that reads tabular rows."""

from sklearn.utils.estimator_checks import parametrize_with_checks
from teachers_tiny_models import RowwiseMLP

from sklearn_subspace.teachers import TorchFeatureExtractor

EXPECTED_FAILED_CHECKS = {
    "check_estimators_overwrite_params": (
        "joblib.hash of a torch module is not content-based (a deep copy hashes "
        "differently); test_fit_leaves_the_users_module_untouched checks it."
    ),
}


@parametrize_with_checks(
    [TorchFeatureExtractor(RowwiseMLP(), device="cpu")],
    expected_failed_checks=lambda _estimator: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
