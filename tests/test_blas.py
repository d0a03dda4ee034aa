"""mlx_compat._blas: MLX's Linux CPU backend on OpenBLAS (scipy-openblas32) through the bridge.

That libmlx.so really calls the bridge (its GOT slots point there and each call is counted), that every
BLAS/LAPACK routine MLX uses gives torch's results through it, that import order, the opt-out variable and
the platform/backend decision behave, and torch's thread controls.
"""
import ctypes
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mc = pytest.importorskip("mlx_compat")
import mlx.core as mx  # noqa: E402

from mlx_compat import _blas  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROUTINES = ["cblas_sgemm", "cblas_dgemm", "cblas_cgemm", "sgetrf_", "dgetrf_", "sgetri_", "dgetri_", "sgeqrf_",
            "dgeqrf_", "sorgqr_", "dorgqr_", "spotrf_", "dpotrf_", "strtri_", "dtrtri_", "ssyevd_", "dsyevd_",
            "cheevd_", "sgesdd_", "dgesdd_", "cgesdd_", "sgeev_", "dgeev_", "cgeev_"]

linux_cpu = pytest.mark.skipif(
    not sys.platform.startswith("linux") or mx.cuda.is_available(),
    reason="the bridge exists only for MLX's Linux CPU backend (macOS uses Accelerate, CUDA is left alone)")


def run_python(code, **env):
    """Runs `code` in a fresh interpreter from the repository root (so it imports this checkout's mlx_compat)
    with `env` added (a None value removes the variable); returns (last stdout line parsed as JSON, stderr)."""
    environ = dict(os.environ)
    for key, value in env.items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


MAPPED = """
def mapped(fragment):
    with open('/proc/self/maps') as f:
        return fragment in f.read()
"""


# ---- the fast library is what libmlx calls ----

@linux_cpu
def test_bridge_active_with_openblas():
    info = _blas.status()
    assert info["active"], info["reason"]
    assert info["provider"] == "scipy_openblas32"
    assert info["config"].startswith("OpenBLAS")
    assert os.path.basename(info["library"]).startswith("libscipy_openblas")


@linux_cpu
@pytest.mark.parametrize("routine", ROUTINES)
def test_libmlx_slot_points_at_bridge(routine):
    # what libmlx.so's import slot holds right now: the bridge, not mlx_cpu.libs' reference libblas/liblapack
    owner = _blas.resolved_library(routine)
    assert owner is not None and os.path.basename(owner).startswith("_bridge"), owner


@linux_cpu
def test_matmul_goes_through_bridge():
    a, b = mc.randn(64, 32), mc.randn(32, 16)
    before = _blas.calls("cblas_sgemm")
    (a @ b).sum().item()
    assert _blas.calls("cblas_sgemm") == before + 1
    with pytest.raises(ValueError):
        _blas.calls("not_a_routine")


@linux_cpu
def test_rebind_is_idempotent_and_reports_what_it_did():
    bridge = _blas._bridge
    assert bridge.mlxc_blas_rebind(b"libmlx.so") == len(ROUTINES)   # one slot per routine, rewritten in place
    assert bridge.mlxc_blas_rebind(b"libnot_loaded_here.so") == 0
    assert _blas.resolved_library("cblas_sgemm").endswith(os.path.basename(_blas._bridge_path()))
    assert _blas.resolved_library("not_a_routine") is None
    a = mc.randn(16, 16)
    np.testing.assert_allclose((a @ a).numpy(), a.numpy() @ a.numpy(), rtol=1e-5, atol=1e-5)


# ---- results unchanged: every routine MLX uses, against torch on the same inputs ----

def _rng():
    return np.random.default_rng(1234)


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-5) if dtype in (np.float32, np.complex64) else dict(rtol=1e-10, atol=1e-10)


def _numpy(out):
    """Evaluates (lazy) results into numpy arrays, keeping tuples."""
    if isinstance(out, (tuple, list)):
        return tuple(_numpy(o) for o in out)
    if isinstance(out, (mc.Tensor, torch.Tensor)):
        return out.numpy()
    return np.array(out)


def _mx(a):
    """mx.array of numpy array `a`, keeping float64 (mx.array would make it float32)."""
    return mx.array(a, dtype=mx.float64) if a.dtype == np.float64 else mx.array(a)


def _counted(routines, fn):
    """Calls fn() and evaluates its results to numpy; asserts each routine's forwarder was called meanwhile
    (when the bridge is active)."""
    before = {r: _blas.calls(r) for r in routines}
    out = _numpy(fn())
    if _blas.status()["active"]:
        for r in routines:
            assert _blas.calls(r) > before[r], f"{r} was not called through the bridge"
    return out


@pytest.mark.parametrize("dtype,routine", [(np.float32, "cblas_sgemm"), (np.float64, "cblas_dgemm"),
                                           (np.complex64, "cblas_cgemm")])
def test_matmul_matches_torch(dtype, routine):
    g = _rng()
    a = g.standard_normal((37, 53)).astype(dtype)
    b = g.standard_normal((53, 29)).astype(dtype)
    if dtype == np.complex64:
        a = a + 1j * g.standard_normal(a.shape).astype(np.float32)
        b = b - 1j * g.standard_normal(b.shape).astype(np.float32)
    ours = _counted([routine], lambda: (mc.from_numpy(a) @ mc.from_numpy(b)).numpy())
    ref = (torch.from_numpy(a) @ torch.from_numpy(b)).numpy()
    assert ours.dtype == ref.dtype
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-4 if dtype != np.float64 else 1e-12)


def test_batched_transposed_matmul_matches_torch():
    g = _rng()
    a = g.standard_normal((3, 24, 40)).astype(np.float32)
    b = g.standard_normal((3, 17, 40)).astype(np.float32)
    ours = _counted(["cblas_sgemm"], lambda: mc.matmul(mc.from_numpy(a), mc.from_numpy(b).transpose(1, 2)).numpy())
    ref = torch.matmul(torch.from_numpy(a), torch.from_numpy(b).transpose(1, 2)).numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-4)


# ---- Note [Matrix-vector products as gemv] (bridge.c): products with M or N of 1 go to the provider's gemv ----

_ORDERS = {"row": 101, "col": 102}
_TRANS = {"N": 111, "T": 112}


def _stored(g, rows, cols, ld, order, dtype):
    """(buffer, logical rows x cols matrix): a random matrix stored in `order` with leading dimension `ld` (padding
    filled with NaN, which no product may read)."""
    if order == "row":
        buf = np.full((rows, ld), np.nan, dtype)
        buf[:, :cols] = g.standard_normal((rows, cols))
        return buf, buf[:, :cols]
    buf = np.full((cols, ld), np.nan, dtype)
    buf[:, :rows] = g.standard_normal((cols, rows))
    return buf, buf[:, :rows].T


@linux_cpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["row", "col"])
@pytest.mark.parametrize("ta", ["N", "T"])
@pytest.mark.parametrize("tb", ["N", "T"])
@pytest.mark.parametrize("m,n,k", [(1, 7, 5), (6, 1, 5), (1, 1, 9), (4, 3, 5)])
def test_gemm_forwarder_every_layout(dtype, order, ta, tb, m, n, k):
    """The gemm forwarders on every layout MLX or another caller could pass (MLX passes row-major only): M or N
    of 1 goes to gemv (counted), anything else to gemm; C = alpha op(A) op(B) + beta C against numpy in float64,
    leading dimensions beyond the minimum, and with beta == 0 a NaN-filled C never read."""
    g = _rng()
    fn = _blas._bridge.mlxc_blas_sgemm if dtype == np.float32 else _blas._bridge.mlxc_blas_dgemm
    ctype = ctypes.c_float if dtype == np.float32 else ctypes.c_double
    ar, ac = (m, k) if ta == "N" else (k, m)  # op(A) is M x K
    br, bc = (k, n) if tb == "N" else (n, k)
    lda, ldb = (ac if order == "row" else ar) + 2, (bc if order == "row" else br) + 3
    abuf, amat = _stored(g, ar, ac, lda, order, dtype)
    bbuf, bmat = _stored(g, br, bc, ldb, order, dtype)
    opa = amat if ta == "N" else amat.T
    opb = bmat if tb == "N" else bmat.T
    for alpha, beta in [(1.0, 0.0), (-0.5, 0.25)]:
        ldc = (n if order == "row" else m) + 1
        cbuf, cmat = _stored(g, m, n, ldc, order, dtype)
        if beta == 0:
            cmat[...] = np.nan
        want = alpha * (opa.astype(np.float64) @ opb.astype(np.float64)) + (beta * cmat if beta else 0)
        before = _blas.calls("cblas_sgemv" if dtype == np.float32 else "cblas_dgemv")
        p = ctypes.c_void_p
        fn.argtypes = [ctypes.c_int] * 6 + [ctype, p, ctypes.c_int, p, ctypes.c_int, ctype, p, ctypes.c_int]
        fn(_ORDERS[order], _TRANS[ta], _TRANS[tb], m, n, k, alpha, abuf.ctypes.data, lda, bbuf.ctypes.data, ldb, beta,
           cbuf.ctypes.data, ldc)
        took = _blas.calls("cblas_sgemv" if dtype == np.float32 else "cblas_dgemv") - before
        assert took == (1 if m == 1 or n == 1 else 0)
        np.testing.assert_allclose(cmat, want, **_tol(dtype))
        pad = cbuf[:, n:] if order == "row" else cbuf[:, m:]
        assert np.isnan(pad).all()  # nothing written beyond the matrix


@linux_cpu
@pytest.mark.parametrize("case", ["linear", "linear_bias", "vecmat", "matvec", "mv", "batched_query",
                                  "column_out", "float64"])
def test_matrix_vector_products_match_torch(case):
    """Products MLX computes as gemm with M or N of 1 (a batch-1 linear with and without bias, vector-matrix,
    matrix-vector, a batch of one-query attention scores, a one-column output) take gemv and give torch's results."""
    g = _rng()
    dt = np.float64 if case == "float64" else np.float32
    x, w, b = (g.standard_normal(s).astype(dt) for s in [(1, 48), (33, 48), (33,)])
    v = g.standard_normal(48).astype(dt)
    q, keys = g.standard_normal((4, 1, 16)).astype(dt), g.standard_normal((4, 9, 16)).astype(dt)

    def run(L):
        t = L.from_numpy
        return {"linear": lambda: L.nn.functional.linear(t(x), t(w)),
                "linear_bias": lambda: L.nn.functional.linear(t(x), t(w), t(b)),
                "vecmat": lambda: t(v) @ t(w).T,
                "matvec": lambda: t(w) @ t(v),
                "mv": lambda: L.mv(t(w), t(v)),
                "batched_query": lambda: t(q) @ t(keys).transpose(1, 2),
                "column_out": lambda: t(w) @ t(x).T,
                "float64": lambda: L.nn.functional.linear(t(x), t(w), t(b))}[case]()
    routine = "cblas_dgemv" if dt == np.float64 else "cblas_sgemv"
    before = _blas.calls(routine)
    ours = run(mc).numpy()
    assert _blas.calls(routine) > before
    ref = run(torch).numpy()
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    np.testing.assert_allclose(ours, ref, **_tol(dt))


def test_conv2d_matches_torch():
    g = _rng()
    x = g.standard_normal((2, 3, 12, 12)).astype(np.float32)
    w = g.standard_normal((5, 3, 3, 3)).astype(np.float32)
    ours = _counted(["cblas_sgemm"],
                    lambda: mc.nn.functional.conv2d(mc.from_numpy(x), mc.from_numpy(w), padding=1).numpy())
    ref = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-4)


def _square(dtype, n=7, kind="general"):
    g = _rng()
    a = g.standard_normal((n, n))
    if np.dtype(dtype).kind == "c":
        a = a + 1j * g.standard_normal((n, n))
    if kind == "spd":
        a = a @ a.conj().T + n * np.eye(n)
    elif kind == "lower":
        a = np.tril(a) + n * np.eye(n)
    return a.astype(dtype)


REAL = [(np.float32, "s"), (np.float64, "d")]


@pytest.mark.parametrize("dtype,p", REAL)
def test_inv_matches_torch(dtype, p):
    a = _square(dtype)
    ours = _counted([p + "getrf_", p + "getri_"], lambda: mc.linalg.inv(mc.from_numpy(a)).numpy())
    np.testing.assert_allclose(ours, torch.linalg.inv(torch.from_numpy(a)).numpy(), **_tol(dtype))


@pytest.mark.parametrize("dtype,p", REAL)
def test_lu_factor_matches_torch(dtype, p):
    a = _square(dtype)
    lu, piv = _counted([p + "getrf_"], lambda: mc.linalg.lu_factor(mc.from_numpy(a)))
    tlu, tpiv = _numpy(torch.linalg.lu_factor(torch.from_numpy(a)))
    np.testing.assert_allclose(lu, tlu, **_tol(dtype))
    np.testing.assert_array_equal(piv, tpiv)


@pytest.mark.parametrize("dtype,p", REAL)
def test_qr_matches_torch(dtype, p):
    a = _square(dtype)[:, :5]
    q, r = _counted([p + "geqrf_", p + "orgqr_"], lambda: mc.linalg.qr(mc.from_numpy(a)))
    tq, tr = _numpy(torch.linalg.qr(torch.from_numpy(a)))
    np.testing.assert_allclose(q, tq, **_tol(dtype))
    np.testing.assert_allclose(r, tr, **_tol(dtype))


@pytest.mark.parametrize("dtype,p", REAL)
def test_cholesky_matches_torch(dtype, p):
    a = _square(dtype, kind="spd")
    ours = _counted([p + "potrf_"], lambda: mc.linalg.cholesky(mc.from_numpy(a)).numpy())
    np.testing.assert_allclose(ours, torch.linalg.cholesky(torch.from_numpy(a)).numpy(), **_tol(dtype))


@pytest.mark.parametrize("dtype,p", REAL)
def test_triangular_inverse_matches_torch(dtype, p):
    # mx.linalg.tri_inv is MLX's only trtri caller; torch's inverse of the same lower-triangular matrix
    a = _square(dtype, kind="lower")
    ours = _counted([p + "trtri_"], lambda: np.array(mx.linalg.tri_inv(_mx(a), upper=False, stream=mx.cpu)))
    np.testing.assert_allclose(ours, torch.linalg.inv(torch.from_numpy(a)).numpy(), **_tol(dtype))


def _assert_same_columns_up_to_phase(ours, ref, tol):
    # eigen/singular vectors are unique up to a unit factor per column
    overlap = np.abs(np.sum(np.conj(ours) * ref, axis=0))
    np.testing.assert_allclose(overlap, np.ones_like(overlap), atol=tol)


@pytest.mark.parametrize("dtype,routine", [(np.float32, "ssyevd_"), (np.float64, "dsyevd_")])
def test_eigh_matches_torch(dtype, routine):
    a = _square(dtype, kind="spd")
    w, v = _counted([routine], lambda: mc.linalg.eigh(mc.from_numpy(a)))
    tw, tv = _numpy(torch.linalg.eigh(torch.from_numpy(a)))
    np.testing.assert_allclose(w, tw, **_tol(dtype))
    _assert_same_columns_up_to_phase(v, tv, 1e-4 if dtype == np.float32 else 1e-10)


def test_complex_eigh_matches_torch():
    a = _square(np.complex64, kind="spd")
    w, v = _counted(["cheevd_"], lambda: mx.linalg.eigh(_mx(a), stream=mx.cpu))
    tw, tv = _numpy(torch.linalg.eigh(torch.from_numpy(a)))
    np.testing.assert_allclose(w, tw, rtol=1e-5, atol=1e-4)
    _assert_same_columns_up_to_phase(v, tv, 1e-4)


@pytest.mark.parametrize("dtype,routine", [(np.float32, "sgesdd_"), (np.float64, "dgesdd_")])
def test_svd_matches_torch(dtype, routine):
    a = _square(dtype)[:, :5]
    u, s, vh = _counted([routine], lambda: mc.linalg.svd(mc.from_numpy(a), full_matrices=False))
    tu, ts, tvh = _numpy(torch.linalg.svd(torch.from_numpy(a), full_matrices=False))
    np.testing.assert_allclose(s, ts, **_tol(dtype))
    tol = 1e-4 if dtype == np.float32 else 1e-10
    _assert_same_columns_up_to_phase(u, tu, tol)
    _assert_same_columns_up_to_phase(vh.T, tvh.T, tol)


def test_complex_svd_matches_torch():
    a = _square(np.complex64)[:, :5]
    u, s, vh = _counted(["cgesdd_"], lambda: mx.linalg.svd(_mx(a), stream=mx.cpu))
    tu, ts, tvh = _numpy(torch.linalg.svd(torch.from_numpy(a)))
    np.testing.assert_allclose(s, ts, rtol=1e-5, atol=1e-4)
    _assert_same_columns_up_to_phase(u[:, :5], tu[:, :5], 1e-4)
    _assert_same_columns_up_to_phase(vh.conj().T, tvh.conj().T, 1e-4)


@pytest.mark.parametrize("dtype,routine", [(np.float32, "sgeev_"), (np.float64, "dgeev_"),
                                           (np.complex64, "cgeev_")])
def test_eig_matches_torch(dtype, routine):
    # mlx_compat has no linalg.eig yet (README); MLX's own eig is geev's only caller
    a = _square(dtype)
    w, v = _counted([routine], lambda: mx.linalg.eig(_mx(a), stream=mx.cpu))
    tw, tv = _numpy(torch.linalg.eig(torch.from_numpy(a)))
    order, torder = np.lexsort((w.imag, w.real)), np.lexsort((tw.imag, tw.real))
    tol = 1e-4 if dtype != np.float64 else 1e-6   # float64 eig's results are complex64 (MLX's only complex)
    np.testing.assert_allclose(w[order], tw[torder], rtol=tol, atol=tol)
    if dtype != np.complex64:
        _assert_same_columns_up_to_phase(v[:, order], tv[:, torder], tol)
    # else: MLX 0.32.4's complex eig returns eigenvectors with A v != v w already on its reference LAPACK
    # (an MLX bug, same numbers with and without the bridge); only its eigenvalues are right to compare


# ---- import order, opt-out, platform and backend ----

@linux_cpu
def test_mlx_imported_and_used_first():
    # MLX loaded and its reference BLAS already bound and called (Python dlopens with RTLD_NOW) before
    # mlx_compat: the bridge still takes over every slot
    out, err = run_python("""
        import json, os
        import mlx.core as mx
        a = mx.ones((64, 64))
        mx.eval(a @ a)
        import mlx_compat
        from mlx_compat import _blas
        before = _blas.calls('cblas_sgemm')
        mx.eval(a @ a)
        owners = {os.path.basename(_blas.resolved_library(r)).split('.')[0] for r in %r}
        print(json.dumps([_blas.status()['active'], _blas.calls('cblas_sgemm') - before, sorted(owners)]))
    """ % ROUTINES)
    assert out == [True, 1, ["_bridge"]]
    assert "RuntimeWarning" not in err


@linux_cpu
def test_opt_out_variable():
    code = MAPPED + """
import json, warnings
warnings.simplefilter('error')
import mlx_compat
from mlx_compat import _blas
print(json.dumps([_blas.status()['active'], mapped('_bridge'), mapped('scipy_openblas32'),
                  mlx_compat.get_num_threads()]))
"""
    out, err = run_python(code, MLX_COMPAT_BLAS="0", OMP_NUM_THREADS="1")
    assert out == [False, False, False, 1]
    out, _ = run_python(code, MLX_COMPAT_BLAS="off", OMP_NUM_THREADS=None)
    assert out[:3] == [False, False, False]
    out, _ = run_python(code, MLX_COMPAT_BLAS="1")   # anything but an opt-out value keeps it on
    assert out[:3] == [True, True, True]


@pytest.mark.parametrize("platform,cuda,env,skipped", [
    ("linux", False, {}, False),
    ("linux", False, {"MLX_COMPAT_BLAS": "1"}, False),
    ("linux", False, {"MLX_COMPAT_BLAS": "0"}, True),
    ("linux", False, {"MLX_COMPAT_BLAS": " OFF "}, True),
    ("linux", True, {}, True),
    ("darwin", False, {}, True),
    ("win32", False, {}, True),
])
def test_skip_reason(platform, cuda, env, skipped):
    reason = _blas.skip_reason(platform, cuda, env)
    assert (reason is not None) == skipped


@linux_cpu
@pytest.mark.parametrize("fake", ["import sys; sys.platform = 'darwin'",
                                  "import mlx.core as mx; mx.cuda.is_available = lambda: True"])
def test_not_loaded_on_macos_or_cuda(fake):
    # install() asks the real sys.platform / mx.cuda; faking them shows the bridge never gets loaded there
    out, err = run_python(MAPPED + fake + """
import json, warnings
warnings.simplefilter('error')
import mlx_compat
from mlx_compat import _blas
print(json.dumps([_blas.status()['active'], mapped('_bridge'), mapped('scipy_openblas32')]))
""")
    assert out == [False, False, False]


@linux_cpu
def test_warns_once_naming_the_cost_when_provider_missing():
    out, err = run_python("""
        import importlib.util, json, warnings
        find_spec = importlib.util.find_spec
        importlib.util.find_spec = lambda name, *a: None if name == 'scipy_openblas32' else find_spec(name, *a)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            import mlx_compat
            import mlx_compat._blas
            mlx_compat._blas.install()
        msgs = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
        print(json.dumps([mlx_compat._blas.status()['active'], msgs]))
    """)
    active, msgs = out
    assert not active
    assert len(msgs) == 1 and "scipy-openblas32" in msgs[0] and "slower" in msgs[0] and "MLX_COMPAT_BLAS" in msgs[0]


# ---- threads ----

def test_thread_controls_match_torch_errors():
    for bad in (0, -3, 1.5, "2", True, None):
        with pytest.raises(Exception) as theirs:
            torch.set_num_threads(bad)
        with pytest.raises(Exception) as ours:
            mc.set_num_threads(bad)
        assert type(ours.value) is type(theirs.value), bad
        assert str(ours.value) == str(theirs.value), bad
    for bad in (0, -1):
        with pytest.raises(RuntimeError):
            mc.set_num_interop_threads(bad)


def test_set_num_threads_drives_openblas():
    old = mc.get_num_threads()
    try:
        mc.set_num_threads(1)
        assert mc.get_num_threads() == 1
        assert _blas.status()["num_threads"] == 1
        mc.set_num_threads(np.int64(3))
        assert mc.get_num_threads() == 3
        if _blas.status()["active"]:   # OpenBLAS itself reports the new count
            assert _blas._bridge.mlxc_blas_get_num_threads() == 3
        a = mc.randn(128, 128)
        np.testing.assert_allclose((a @ a).numpy(), a.numpy() @ a.numpy(), rtol=1e-4, atol=1e-3)
    finally:
        mc.set_num_threads(old)


@pytest.mark.parametrize("env", [{"OMP_NUM_THREADS": "1"}, {"OMP_NUM_THREADS": None}])
def test_default_threads_match_torch(env):
    code = """
        import json, mlx_compat, torch
        print(json.dumps([mlx_compat.get_num_threads(), torch.get_num_threads(),
                          mlx_compat.get_num_interop_threads(), torch.get_num_interop_threads()]))
    """
    out, _ = run_python(code, OPENBLAS_NUM_THREADS=None, **env)
    assert out[0] == out[1] and out[2] == out[3]


@linux_cpu
def test_openblas_num_threads_variable():
    out, _ = run_python("""
        import json, mlx_compat
        print(json.dumps([mlx_compat._blas.status()['active'], mlx_compat.get_num_threads()]))
    """, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS=None)
    assert out == [True, 1]


def test_set_num_interop_threads_only_once_like_torch():
    out, _ = run_python("""
        import json, mlx_compat, torch
        res = []
        for lib in (mlx_compat, torch):
            lib.set_num_interop_threads(1)
            first = lib.get_num_interop_threads()
            try:
                lib.set_num_interop_threads(2)
                res.append([first, None])
            except Exception as e:
                res.append([first, type(e).__name__ + ': ' + str(e)])
        print(json.dumps(res))
    """)
    assert out[0] == out[1] and out[0][1] is not None
