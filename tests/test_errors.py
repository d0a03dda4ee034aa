"""Bad input raises PyTorch's exception type and never crashes the process.

Pins: the exception type for ragged / non-numeric data, incompatible shapes,
bad view/reshape sizes, huge sizes, out-of-range dims, wrong argument types,
float indices, matmul mismatches, string dtypes, and more; plus a fuzz test
that calls many Tensor methods with junk arguments in a subprocess (so a
segfault / abort shows up as a failed test, not a dead pytest worker) and
compares exception types with torch.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from helpers import assert_raises_same, mc, torch  # noqa: F401  (mc import = skip if package missing)

ERROR_CASES = {
    "ragged": lambda L: L.tensor([[1, 2], [3]]),
    "ragged_deep": lambda L: L.tensor([[[1], [2]], [[3]]]),
    "ragged_scalar_mix": lambda L: L.tensor([1, [2]]),
    "str": lambda L: L.tensor("a"),
    "str_list": lambda L: L.tensor(["a"]),
    "object_list": lambda L: L.tensor([object()]),
    "none": lambda L: L.tensor(None),
    "dict": lambda L: L.tensor({1: 2}),
    "set": lambda L: L.tensor({1, 2}),
    "binop_shapes": lambda L: L.ones(2, 3) + L.ones(4),
    "binop_shapes_mul": lambda L: L.ones(2, 3) * L.ones(3, 2),
    "view_bad": lambda L: L.ones(6).view(4, -1),
    "view_bad2": lambda L: L.ones(6).view(5),
    "reshape_two_m1": lambda L: L.ones(6).reshape(-1, -1),
    "reshape_bad": lambda L: L.ones(6).reshape(4, 2),
    "reshape_neg2": lambda L: L.ones(6).reshape(-2, 3),
    "zeros_huge": lambda L: L.zeros(2 ** 62),
    "zeros_huge_2d": lambda L: L.zeros(2 ** 40, 2 ** 40),
    "ones_huge": lambda L: L.ones(2 ** 33, 2 ** 33),
    "empty_huge": lambda L: L.empty(2 ** 62),
    "zeros_overflow_int64": lambda L: L.zeros(2 ** 64),
    "neg_size": lambda L: L.ones(-1),
    "neg_size_2d": lambda L: L.zeros(3, -2),
    "float_size": lambda L: L.ones(2.0),
    "str_size": lambda L: L.zeros("3"),
    "sum_dim_oob": lambda L: L.ones(2, 3).sum(2),
    "sum_dim_oob_neg": lambda L: L.ones(2, 3).sum(-3),
    "transpose_oob": lambda L: L.ones(2, 3).transpose(0, 3),
    "unsqueeze_oob": lambda L: L.ones(2).unsqueeze(3),
    "squeeze_oob": lambda L: L.ones(2, 3).squeeze(5),
    "movedim_oob": lambda L: L.ones(2, 3).movedim(0, 5),
    "select_oob_dim": lambda L: L.ones(2, 3).select(2, 0),
    "select_oob_idx": lambda L: L.ones(2, 3).select(1, 5),
    "size_oob": lambda L: L.ones(2, 3).size(2),
    "stride_oob": lambda L: L.ones(2, 3).stride(-3),
    "flatten_oob": lambda L: L.ones(2, 3).flatten(0, 4),
    "view_str": lambda L: L.ones(2).view("a"),
    "sum_str": lambda L: L.ones(3).sum("a"),
    "add_str": lambda L: L.ones(3) + "a",
    "add_none": lambda L: L.ones(3) + None,
    "add_list": lambda L: L.ones(3) + [1, 2, 3],
    "radd_str": lambda L: "a" + L.ones(3),
    "index_float": lambda L: L.ones(3)[1.5],
    "index_float_tuple": lambda L: L.ones(3, 3)[0, 1.0],
    "index_str": lambda L: L.ones(3)["a"],
    "matmul_shapes": lambda L: L.ones(2, 3) @ L.ones(2, 3),
    "matmul_0d": lambda L: L.tensor(1.0) @ L.ones(2),
    "matmul_1d": lambda L: L.ones(3) @ L.ones(4),
    "mm_3d": lambda L: L.mm(L.ones(2, 3, 4), L.ones(4, 5)),
    "bmm_shapes": lambda L: L.bmm(L.ones(2, 3, 4), L.ones(3, 4, 5)),
    "dtype_str": lambda L: L.tensor([1.0], dtype="float32"),
    "zeros_dtype_str": lambda L: L.zeros(2, dtype="float32"),
    "to_dtype_str": lambda L: L.ones(2).to(dtype="float32"),
    "permute_dup": lambda L: L.ones(2, 3).permute(0, 0),
    "permute_len": lambda L: L.ones(2, 3).permute(0),
    "expand_bad": lambda L: L.ones(2, 3).expand(3, 3),
    "expand_fewer": lambda L: L.ones(2, 3).expand(3),
    "cat_shapes": lambda L: L.cat([L.ones(2, 3), L.ones(2, 4)]),
    "cat_empty": lambda L: L.cat([]),
    "cat_dim_oob": lambda L: L.cat([L.ones(2), L.ones(2)], dim=3),
    "stack_shapes": lambda L: L.stack([L.ones(2), L.ones(3)]),
    "narrow_oob": lambda L: L.ones(2, 3).narrow(1, 2, 5),
    "split_zero": lambda L: L.ones(4).split(0),
    "chunk_zero": lambda L: L.ones(4).chunk(0),
    "unfold_too_big": lambda L: L.ones(4).unfold(0, 5, 1),
    "flatten_order": lambda L: L.ones(2, 3).flatten(1, 0),
    "item_empty": lambda L: L.ones(0).item(),
    "item_multi": lambda L: L.ones(2).item(),
    "diagonal_same_dims": lambda L: L.ones(2, 3).diagonal(0, 0, 0),
    "as_strided_neg": lambda L: L.ones(4).as_strided((2,), (-1,)),
    "where_nonbool": lambda L: L.where(L.ones(2), L.ones(2), L.ones(2)),
    "bitwise_float": lambda L: L.ones(2) & L.ones(2),
    "invert_float": lambda L: ~L.ones(2),
    "shift_float": lambda L: L.ones(2) << 1,
    "sub_bool": lambda L: L.tensor([True]) - L.tensor([False]),
    "neg_bool": lambda L: -L.tensor([True]),
    "index_select_float": lambda L: L.ones(3).index_select(0, L.tensor([0.0])),
    "gather_shape": lambda L: L.ones(2, 3).gather(1, L.tensor([[5]])),
    "masked_fill_float_mask": lambda L: L.ones(3).masked_fill(L.ones(3), 0.0),
    "repeat_fewer": lambda L: L.ones(2, 3).repeat(2),
    "full_str": lambda L: L.full((2,), "x"),
    "arange_zero_step": lambda L: L.arange(0, 5, 0),
    "arange_wrong_sign": lambda L: L.arange(0, 5, -1),
    "linspace_neg": lambda L: L.linspace(0, 1, -2),
    "eye_neg": lambda L: L.eye(-1),
    "randint_bad": lambda L: L.randint(5, 2, (3,)),
    "bool_multi": lambda L: bool(L.ones(2)),
    "int_multi": lambda L: int(L.ones(2)),
    "float_multi": lambda L: float(L.ones(2)),
    "len_0d": lambda L: len(L.tensor(1.0)),
    "iter_0d": lambda L: iter(L.tensor(1.0)),
    "index_float_tensor": lambda L: [1, 2][L.tensor(1.0)],
    "tensor_kw_bad": lambda L: L.tensor([1], foo=1),
    "method_kw_bad": lambda L: L.ones(2).sum(foo=1),
    "too_many_args": lambda L: L.ones(2).t(0),
    "t_3d": lambda L: L.ones(2, 3, 4).t(),
    "set_requires_grad_int": lambda L: L.tensor([1]).requires_grad_(),
    "backward_nonscalar": lambda L: (L.ones(2, requires_grad=True) * 2).backward(),
    "softmax_no_dim_int": lambda L: L.tensor([1, 2]).softmax(0),
    "mean_int": lambda L: L.tensor([1, 2]).mean(),
    "setitem_shape": lambda L: L.ones(3).__setitem__(slice(None), L.ones(2)),
    "setitem_str": lambda L: L.ones(3).__setitem__(0, "a"),
    "copy_shape": lambda L: L.ones(3).copy_(L.ones(2)),
    "view_dtype_str": lambda L: L.ones(3).view("float32"),
    # a Python number converted to the type it is used in (torch's checked_convert)
    "clamp_bound_int32": lambda L: L.tensor([1], dtype=L.int32).clamp(max=2**40),
    "clamp_bounds_int8": lambda L: L.tensor([5], dtype=L.int8).clamp(-200, 200),
    "clamp_min_uint8": lambda L: L.tensor([5], dtype=L.uint8).clamp_min(-300),
    "clamp_float32": lambda L: L.tensor([1.0]).clamp(max=1e300),
    "where_int8": lambda L: L.where(L.tensor([True, False]), L.tensor([1], dtype=L.int8), 300),
    "where_uint8": lambda L: L.where(L.tensor([True, False]), L.tensor([1], dtype=L.uint8), -300),
    "where_float32": lambda L: L.where(L.tensor([True, False]), L.tensor([1.0]), 1e300),
    "full_uint8": lambda L: L.full((2,), 300, dtype=L.uint8),
    "full_int32": lambda L: L.full((2,), 2**40, dtype=L.int32),
    "full_nan_int": lambda L: L.full((2,), float("nan"), dtype=L.int64),
    "full_past_int64": lambda L: L.full((2,), 2**63, dtype=L.int64),
    "full_past_uint64": lambda L: L.full((2,), 2**64 + 5, dtype=L.uint8),
    "new_full_int8": lambda L: L.tensor([1, 2], dtype=L.int8).new_full((2,), 300),
    # negative indices where torch takes none
    "scatter_negative": lambda L: L.zeros(2, 3).scatter_(1, L.tensor([[-2]]), 1.0),
    "scatter_add_negative": lambda L: L.zeros(2, 3).scatter_add(1, L.tensor([[-1]]), L.tensor([[5.0]])),
    "index_select_negative": lambda L: L.tensor([10, 20, 30, 40]).index_select(0, L.tensor([-1])),
    "argmax_empty": lambda L: L.tensor([], dtype=L.int64).argmax(),
    "repeat_negative": lambda L: L.tensor([1, 2]).repeat(2, -3),
    # inputs torch refuses that MLX would compute
    "argmax_bool": lambda L: L.tensor([True, False]).argmax(),
    "argmin_bool_dim": lambda L: L.tensor([[True, False]]).argmin(1),
    "multinomial_no_weight": lambda L: L.multinomial(L.tensor([[1.0, 1.0], [0.0, 0.0]]), 1),
    "multinomial_negative": lambda L: L.multinomial(L.tensor([-1.0, 2.0]), 1),
    "multinomial_nan": lambda L: L.multinomial(L.tensor([1.0, float("nan")]), 1, replacement=True),
    "bernoulli_above_one": lambda L: L.bernoulli(L.tensor([1.5])),
    "bernoulli_p_above_one": lambda L: L.bernoulli(L.tensor([0.5]), p=1.5),
}


# Inputs torch's kernels refuse (no kernel for the dtype, or a number the kernel's type cannot hold), where MLX
# computes: the exception's type and message are torch's.
REFUSAL_CASES = {
    "round_bool": lambda L: L.round(L.tensor([True, False])),
    "round_bool_decimals": lambda L: L.round(L.tensor([True]), decimals=1),
    "round_int_decimals": lambda L: L.round(L.tensor([15, 25]), decimals=-1),
    "round_int_decimals_0": lambda L: L.round(L.tensor([15], dtype=L.int16), decimals=0),
    "round__int_decimals": lambda L: L.tensor([3], dtype=L.uint8).round_(decimals=1),
    "kthvalue_bool": lambda L: L.kthvalue(L.tensor([True, False]), 1),
    "cumsum_dtype_bool": lambda L: L.cumsum(L.tensor([1, 0, 2]), 0, dtype=L.bool),
    "cumprod_dtype_bool": lambda L: L.tensor([1, 0]).cumprod(0, dtype=L.bool),
    "arange_bool": lambda L: L.arange(3, dtype=L.bool),
    "arange_bool_bad_bounds": lambda L: L.arange(5, 1, dtype=L.bool),
    "linspace_bool": lambda L: L.linspace(0, 1, 3, dtype=L.bool),
    "logspace_bool": lambda L: L.logspace(0, 1, 3, dtype=L.bool),
    "randperm_bool": lambda L: L.randperm(3, dtype=L.bool),
    "normal__int": lambda L: L.zeros(2, dtype=L.int64).normal_(),
    "normal__bool": lambda L: L.zeros(2, dtype=L.bool).normal_(),
    "pow_int32_scalar_overflow": lambda L: L.pow(L.tensor([2], dtype=L.int32), 2 ** 40),
    "pow_int8_scalar_overflow": lambda L: L.tensor([2], dtype=L.int8) ** 300,
    "pow_uint8_scalar_overflow": lambda L: L.tensor([2], dtype=L.uint8) ** 256,
    "pow_int64_scalar_overflow": lambda L: L.tensor([2]) ** 2 ** 63,
    "pow__int32_scalar_overflow": lambda L: L.tensor([2], dtype=L.int32).pow_(2 ** 40),
    "pow_half_scalar_overflow": lambda L: L.tensor([1.0], dtype=L.half) ** 1e10,
    "pow_half_int_scalar_overflow": lambda L: L.tensor([1.0], dtype=L.half) ** 70000,
    "pow_bfloat16_scalar_overflow": lambda L: L.tensor([1.0], dtype=L.bfloat16) ** 1e39,
    "clamp_half_int_overflow": lambda L: L.tensor([1.0], dtype=L.half).clamp(max=70000),
    "full_float_int_past_uint64": lambda L: L.full((1,), 2 ** 200, dtype=L.float32),
    "full_float_int_below_int64": lambda L: L.full((1,), -2 ** 200, dtype=L.float64),
    "flip_int_dims": lambda L: L.flip(L.tensor([1, 2]), 0),
    "norm_int": lambda L: L.norm(L.tensor([1])),
    "renorm_int": lambda L: L.renorm(L.tensor([[1, 2]]), 2, 0, 1),
    "dist_int": lambda L: L.dist(L.tensor([1]), L.tensor([2])),
    "nanmedian_bool": lambda L: L.nanmedian(L.tensor([True])),
    "nanmedian_bool_dim": lambda L: L.nanmedian(L.tensor([True]), 0),
    "median_bool_dim": lambda L: L.median(L.tensor([True]), 0),
    "floor_divide_bool": lambda L: L.tensor([True]) // L.tensor([True]),
    "inner_bool_vectors": lambda L: L.inner(L.tensor([True]), L.tensor([True])),
    "tensordot_bool_one_by_one": lambda L: L.tensordot(L.ones(1, 3, dtype=L.bool), L.ones(3, 1, dtype=L.bool), 1),
    "tensordot_bool_matrix": lambda L: L.tensordot(L.ones(2, 3, dtype=L.bool), L.ones(3, dtype=L.bool), 1),
    "inner_uint16_vectors": lambda L: L.inner(L.ones(3, dtype=L.uint16), L.ones(3, dtype=L.uint16)),
    "histogram_int_default_bins": lambda L: L.histogram(L.tensor([1, 2])),
    "vander_2d": lambda L: L.vander(L.ones(2, 2)),
    "vander_negative_n": lambda L: L.vander(L.ones(2), N=-1),
    # out-of-range indices: torch's message (and type) depends on the kernel the dim and alpha pick
    "index_select_dim0": lambda L: L.zeros(3, 4).index_select(0, L.tensor([5])),
    "index_select_dim1": lambda L: L.zeros(4, 3).index_select(1, L.tensor([1, 9, -7])),
    "index_select_dim1_3d": lambda L: L.zeros(2, 3, 4).index_select(1, L.tensor([-1])),
    "index_select_last_3d": lambda L: L.zeros(2, 3, 4).index_select(2, L.tensor([5])),
    "index_add_1d": lambda L: L.zeros(3).index_add(0, L.tensor([5]), L.ones(1)),
    "index_add_first": lambda L: L.zeros(3, 4).index_add(0, L.tensor([1, 7, 5]), L.ones(3, 4)),
    "index_add_last": lambda L: L.zeros(2, 3, 4).index_add(2, L.tensor([5]), L.ones(2, 3, 1)),
    "index_add_middle": lambda L: L.zeros(2, 3, 2).index_add(1, L.tensor([5]), L.ones(2, 1, 2)),
    "index_add_alpha": lambda L: L.zeros(3, 4).index_add(0, L.tensor([5]), L.ones(1, 4), alpha=2),
}


@pytest.mark.parametrize("name", list(REFUSAL_CASES))
def test_refusal_matches_torch(name):
    f = REFUSAL_CASES[name]
    with pytest.raises(Exception) as theirs:
        f(torch)
    with pytest.raises(Exception) as ours:
        f(mc)
    assert type(ours.value) is type(theirs.value), (ours.value, theirs.value)
    assert str(ours.value) == str(theirs.value)


# Cases whose API arrives with a later issue: strict xfails, so they fail loudly once it lands.
_LATER = {}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=_LATER[n]))
                                  if n in _LATER else n for n in ERROR_CASES])
def test_error_type_matches_torch(name):
    f = ERROR_CASES[name]
    assert_raises_same(lambda: f(torch), lambda: f(mc))


def test_error_case_types_pinned():
    # a few spelled out: the brief's expectations, checked against torch too
    expected = {"ragged": ValueError, "str": TypeError, "binop_shapes": RuntimeError, "view_bad": RuntimeError,
                "reshape_two_m1": RuntimeError, "zeros_huge": RuntimeError, "sum_dim_oob": IndexError,
                "view_str": TypeError, "index_float": IndexError, "matmul_shapes": RuntimeError,
                "dtype_str": TypeError}
    for name, exc in expected.items():
        with pytest.raises(exc):
            ERROR_CASES[name](torch)
        with pytest.raises(exc):
            ERROR_CASES[name](mc)


def test_ops_still_work_after_errors():
    # failed calls must not leave the library in a broken state
    for f in ERROR_CASES.values():
        try:
            f(mc)
        except Exception:  # noqa: BLE001
            pass
    x = mc.arange(6).reshape(2, 3).float()
    y = torch.arange(6).reshape(2, 3).float()
    assert (x @ x.t()).tolist() == (y @ y.t()).tolist()


# ---------------------------------------------------------------------------
# fuzz in a subprocess
# ---------------------------------------------------------------------------

FUZZ_SCRIPT = textwrap.dedent(r'''
    import json, sys, resource, warnings
    warnings.simplefilter("ignore")
    try:
        resource.setrlimit(resource.RLIMIT_AS, (12 << 30, 12 << 30))
    except Exception:
        pass
    import torch
    import mlx_compat as mc
    out = open(sys.argv[1], "w", buffering=1)

    METHODS = ["view", "reshape", "expand", "permute", "transpose", "squeeze", "unsqueeze", "narrow", "select",
               "sum", "mean", "amax", "add", "mul", "sub", "div", "clamp", "repeat", "flatten", "unflatten", "split",
               "chunk", "index_select", "masked_fill", "fill_", "add_", "mul_", "to", "type", "new_zeros", "new_full",
               "new_ones", "new_tensor", "__getitem__", "__setitem__", "cumsum", "argmax", "flip", "roll", "diagonal",
               "unfold", "as_strided", "expand_as", "view_as", "tile", "movedim", "pow", "matmul", "std", "size",
               "stride", "softmax", "unbind", "topk", "sort", "gather", "eq", "lt", "logical_and", "where", "float",
               "item", "tolist", "numpy", "contiguous", "clone", "t", "abs", "neg", "exp", "sqrt", "copy_", "zero_",
               "requires_grad_", "detach", "cpu", "swapaxes", "max", "min", "prod", "any", "all", "norm", "reciprocal",
               "__add__", "__mul__", "__truediv__", "__floordiv__", "__mod__", "__pow__", "__and__", "__eq__",
               "__lt__", "__matmul__", "__iadd__", "__imul__", "__bool__", "__int__", "__float__", "__len__",
               "__index__", "__contains__", "__repr__"]

    def junk(lib):
        return [None, "a", 2 ** 70, 2 ** 40, 2 ** 62, -1, -5, 1.5, float("nan"), object(), [], [None], (1, "a"),
                True, lib.ones(7), lib.ones(2, 2, dtype=lib.int64), slice(None), Ellipsis, (2 ** 40, 2 ** 40),
                (-1, -1), {}, b"x", 1j, lib.float64, lib.tensor(3)]

    def call(lib, name, args):
        x = lib.arange(6.0).reshape(2, 3)
        try:
            getattr(x, name)(*args)
            return "ok"
        except Exception as e:
            return type(e).__name__

    def ctor(lib, args):
        try:
            lib.tensor(*args)
            return "ok"
        except Exception as e:
            return type(e).__name__

    jt, jm = junk(torch), junk(mc)
    n = len(jt)
    J = lambda i: ("j", i)  # noqa: E731  junk slot; plain ints are literal arguments
    combos = [(J(i),) for i in range(n)] + [(0, J(i)) for i in range(n)] + [(J(i), 0) for i in range(n)] \
        + [(1, J(i), 1) for i in range(n)]

    def build(c, j):
        return tuple(j[a[1]] if isinstance(a, tuple) else a for a in c)

    for name in METHODS:
        for c in combos:
            desc = name + "(" + ", ".join(repr(a) if not isinstance(a, tuple) else repr(jt[a[1]])[:24].replace("\n", " ")
                                          for a in c) + ")"
            print(json.dumps({"start": desc}), file=out)
            try:
                rt = call(torch, name, build(c, jt))
                rm = call(mc, name, build(c, jm))
                print(json.dumps({"call": desc, "torch": rt, "ours": rm, "has": hasattr(mc.Tensor, name)}), file=out)
            except BaseException as e:
                # an exception surfacing outside call(): a C function returned
                # a value with the error indicator still set
                print(json.dumps({"escaped": desc, "exc": type(e).__name__ + ": " + str(e)[:200]}), file=out)
    print(json.dumps({"done": True}), file=out)
''')


@pytest.fixture(scope="module")
def fuzz_result(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    script = d / "fuzz.py"
    script.write_text(FUZZ_SCRIPT)
    log = d / "log.jsonl"
    env = dict(os.environ)
    # the package must be importable the same way it is in this process
    env["PYTHONPATH"] = os.pathsep.join(p for p in [env.get("PYTHONPATH", ""),
                                                    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))] if p)
    env.setdefault("OMP_NUM_THREADS", "1")
    try:
        proc = subprocess.run([sys.executable, str(script), str(log)], env=env, capture_output=True,
                              timeout=240, text=True)
        rc, err = proc.returncode, proc.stderr[-3000:]
    except subprocess.TimeoutExpired:
        rc, err = "timeout", ""
    lines = [json.loads(s) for s in log.read_text().splitlines() if s.strip()] if log.exists() else []
    return rc, err, lines


def test_fuzz_no_crash(fuzz_result):
    rc, err, lines = fuzz_result
    last = next((ln["start"] for ln in reversed(lines) if "start" in ln), None)
    done = any(ln.get("done") for ln in lines)
    assert rc == 0 and done, f"fuzz subprocess died (rc={rc}) during {last!r}\n{err}"
    escaped = [f"{ln['escaped']}: {ln['exc']}" for ln in lines if "escaped" in ln]
    assert not escaped, "exceptions escaped after the call returned (error indicator left set):\n" + "\n".join(escaped[:50])


# Known-divergence budgets (a ratchet): junk-argument calls whose exception type still differs from
# torch's, counted over the methods mlx_compat has (methods that land later join the count when they
# land). Lower the numbers as argument validation improves; a change that raises them fails.
# Measured 2026-11-26 (foundation, autograd, first operator families): most remaining differences are Python-level methods that take
# junk ints/bools without torch's argument-parser checks (chunk, repeat, gather, to, type, ...), and
# two-argument calls of binary dunders (x.__mul__(0, None)), where torch returns NotImplemented.
FUZZ_TYPE_MISMATCH_BUDGET = 547
FUZZ_ACCEPT_MISMATCH_BUDGET = 917


def test_fuzz_exception_types(fuzz_result):
    rc, err, lines = fuzz_result
    calls = [ln for ln in lines if "call" in ln and ln.get("has", True)]
    assert calls, f"fuzz produced no results (rc={rc})\n{err}"
    bad = [f"{c['call']}: torch {c['torch']}, ours {c['ours']}" for c in calls
           if c["torch"] != "ok" and c["ours"] != c["torch"]]
    assert len(bad) <= FUZZ_TYPE_MISMATCH_BUDGET, (
        f"{len(bad)}/{len(calls)} junk calls differ from torch's exception (budget {FUZZ_TYPE_MISMATCH_BUDGET}):\n"
        + "\n".join(bad[:150]))


def test_fuzz_accepts_what_torch_accepts(fuzz_result):
    rc, err, lines = fuzz_result
    calls = [ln for ln in lines if "call" in ln and ln.get("has", True)]
    assert calls, f"fuzz produced no results (rc={rc})\n{err}"
    bad = [f"{c['call']}: torch ok, ours {c['ours']}" for c in calls if c["torch"] == "ok" and c["ours"] != "ok"]
    assert len(bad) <= FUZZ_ACCEPT_MISMATCH_BUDGET, (
        f"{len(bad)}/{len(calls)} calls torch accepts raised in ours (budget {FUZZ_ACCEPT_MISMATCH_BUDGET}):\n"
        + "\n".join(bad[:150]))


@pytest.mark.parametrize("call", [
    lambda L: L.arange(6.).reshape(2, 3).bitwise_and_(1j),
    lambda L: L.arange(6.).reshape(2, 3).__and__(L.ones(7)),
    lambda L: L.arange(6.).reshape(2, 3).bitwise_and(1),
    lambda L: L.arange(6.).reshape(2, 3).bitwise_or_(L.ones(2, 3, dtype=L.complex64)),
    lambda L: L.arange(6).bitwise_and_(L.ones(2, 3)),
    lambda L: L.arange(6.).reshape(2, 3).remainder_(1j),
    lambda L: L.arange(6.).reshape(2, 3).greater_equal_(1j),  # a comparison's bool result casts: the kernel refuses
    lambda L: L.zeros(0).less_(1j),
    lambda L: L.arange(6.).reshape(2, 3).lshift_(L.ones(4)) if hasattr(L.Tensor, "lshift_") else
    L.arange(6.).reshape(2, 3).__ilshift__(L.ones(4)),
])
def test_binary_refusals_in_torchs_order(call):
    """torch checks the operands' shapes, then an in-place result's dtype, before it looks for a kernel of the
    dtype: a mismatched shape or an uncastable in-place result wins over 'not implemented for' (type and message)."""
    outcomes = []
    for L in (torch, mc):
        try:
            call(L)
            outcomes.append("ok")
        except Exception as e:  # noqa: BLE001
            outcomes.append((type(e).__name__, str(e)))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("call", [
    lambda L: L.range(5),
    lambda L: L.range(L.tensor(1.5), dtype=1),
    lambda L: L.range(1, 4),
    lambda L: L.arange(6.).reshape(2, 3).fill_diagonal_(-1, 1),
    lambda L: L.arange(6.).reshape(2, 3).fill_diagonal_(-1, True),
    lambda L: L.as_tensor(L.ones(2), {}),
    lambda L: L.as_tensor(L.ones(2), None),
    lambda L: L.as_tensor([1, 2], dtype=L.float32),
])
def test_python_level_signatures_as_torchs(call):
    """torch.range needs its end, fill_diagonal_'s wrap is a bool, as_tensor's dtype and device are keywords."""
    outcomes = []
    for L in (torch, mc):
        try:
            r = call(L)
            outcomes.append(("ok", str(r.dtype), tuple(r.shape)))
        except Exception as e:  # noqa: BLE001
            outcomes.append((type(e).__name__, str(e)))
    assert outcomes[0] == outcomes[1]
