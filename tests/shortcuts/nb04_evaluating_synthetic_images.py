"""04-evaluating-synthetic-images: each exercise answered by the course's reference (or a
library's), and a submission that switches the test helpers off and answers wrongly."""
NOTEBOOK = "04-evaluating-synthetic-images"

FD_TESTS = ["test_frechet_distance", "test_frechet_distance_product", "test_frechet_distance_features"]
PR_TESTS = ["test_precision_recall", "test_precision_recall_kth", "test_precision_recall_roles",
            "test_precision_recall_random"]
NN_TESTS = ["test_nearest_neighbours", "test_nearest_neighbours_copies", "test_nearest_neighbours_sizes"]

SHORTCUTS = {
    "frechet_distance": ('''
def frechet_distance(mu1, sigma1, mu2, sigma2):
    return metrics.frechet_distance(mu1, sigma1, mu2, sigma2)
''', FD_TESTS),
    "precision_recall": ('''
from utils.metrics import precision_recall as _course_precision_recall


def precision_recall(real, fake, k=3):
    return _course_precision_recall(real, fake, k=k)
''', PR_TESTS),
    "nearest_neighbours": ('''
from sklearn.neighbors import NearestNeighbors


def nearest_neighbours(queries, references, chunk=512):
    distances, indices = NearestNeighbors(n_neighbors=1).fit(references).kneighbors(queries)
    return distances[:, 0], indices[:, 0]
''', NN_TESTS),
}

PATCHED = {
    # helpers switched off every way a cell can reach them, then a product of square roots
    "frechet_distance": ('''
import builtins
import utils.checks
from scipy.linalg import sqrtm

try:
    checks.expect_close = lambda *a, **k: None
except AttributeError:
    pass
utils.checks.__dict__["expect_true"] = lambda *a, **k: None
utils.checks.__dict__["expect_close"] = lambda *a, **k: None
np.iscomplexobj = lambda x: False
_isinstance = builtins.isinstance
builtins.isinstance = lambda obj, kind: _isinstance(obj, kind)


def frechet_distance(mu1, sigma1, mu2, sigma2):
    root = sqrtm(sigma1) @ sqrtm(sigma2)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1 + sigma2 - 2 * root.real))
''', FD_TESTS),
    # a k-d tree answer with a rebound numpy: shapes fine, but squared distances
    "nearest_neighbours": ('''
from scipy.spatial import cKDTree

np.isnan = lambda x: np.zeros(np.shape(x), dtype=bool)


def nearest_neighbours(queries, references, chunk=512):
    distances, indices = cKDTree(references).query(queries)
    return distances ** 2, indices
''', ["test_nearest_neighbours"]),
}
