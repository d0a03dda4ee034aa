"""torch.return_types: the named tuples of ops returning (values, indices) and friends."""
from collections import namedtuple


def _make(name, fields):
    base = namedtuple(name, fields)

    def __repr__(self):
        body = ",\n".join(f"{f}={getattr(self, f)!r}" for f in fields)
        return f"torch.return_types.{name}(\n{body})"

    cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": "torch.return_types"})
    return cls


max = _make("max", ["values", "indices"])  # noqa: A001
min = _make("min", ["values", "indices"])  # noqa: A001
sort = _make("sort", ["values", "indices"])
topk = _make("topk", ["values", "indices"])
kthvalue = _make("kthvalue", ["values", "indices"])
mode = _make("mode", ["values", "indices"])
median = _make("median", ["values", "indices"])
aminmax = _make("aminmax", ["min", "max"])
cummax = _make("cummax", ["values", "indices"])
cummin = _make("cummin", ["values", "indices"])
nanmedian = _make("nanmedian", ["values", "indices"])
linalg_slogdet = _make("linalg_slogdet", ["sign", "logabsdet"])
linalg_qr = _make("linalg_qr", ["Q", "R"])
linalg_svd = _make("linalg_svd", ["U", "S", "Vh"])
linalg_eigh = _make("linalg_eigh", ["eigenvalues", "eigenvectors"])
linalg_lstsq = _make("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
linalg_lu_factor = _make("linalg_lu_factor", ["LU", "pivots"])
linalg_cholesky_ex = _make("linalg_cholesky_ex", ["L", "info"])
linalg_inv_ex = _make("linalg_inv_ex", ["inverse", "info"])
slogdet = _make("slogdet", ["sign", "logabsdet"])
svd = _make("svd", ["U", "S", "V"])
qr = _make("qr", ["Q", "R"])
frexp = _make("frexp", ["mantissa", "exponent"])
frexp_out = _make("frexp_out", ["mantissa", "exponent"])
histogram = _make("histogram", ["hist", "bin_edges"])
histogram_out = _make("histogram_out", ["hist", "bin_edges"])
histogramdd = _make("histogramdd", ["hist", "bin_edges"])
