"""Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict against torch: the same container code run
under both libraries gives the same keys, order, repr, indexing results and errors."""
from collections import OrderedDict

import numpy as np
import pytest

from helpers import mc, torch


def leaf(lib):
    class Leaf(lib.nn.Module):
        def __init__(self, k):
            super().__init__()
            self.k = k
            self.w = lib.nn.Parameter(lib.ones(1) * k)

        def forward(self, x):
            return x * self.k + 1

        def extra_repr(self):
            return f"k={self.k}"

    return Leaf


def outcome(fn):
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001
        return (type(e).__name__, str(e).replace("mlx_compat.", "torch."))


def same(run):
    assert run(mc) == run(torch)


@pytest.mark.parametrize("op", [
    "index", "neg_index", "slice", "len", "iter", "setitem", "delitem", "del_slice", "append", "insert", "insert_neg",
    "extend", "pop", "add", "iadd", "mul", "rmul", "imul", "ordered", "out_of_range", "bad_add", "bad_mul",
    "zero_mul", "insert_bad", "forward",
])
def test_sequential(op):
    def run(lib):
        nn, Leaf = lib.nn, leaf(lib)
        s = nn.Sequential(Leaf(1), Leaf(2), Leaf(3))

        def go():
            if op == "index":
                return repr(s[1])
            if op == "neg_index":
                return repr(s[-1])
            if op == "slice":
                r = s[::2]
                return type(r).__name__, repr(r), list(r._modules)
            if op == "len":
                return len(s)
            if op == "iter":
                return [m.k for m in s]
            if op == "setitem":
                s[1] = Leaf(9)
            elif op == "delitem":
                del s[0]
            elif op == "del_slice":
                del s[:2]
            elif op == "append":
                assert s.append(Leaf(4)) is s
            elif op == "insert":
                s.insert(1, Leaf(7))
            elif op == "insert_neg":
                s.insert(-1, Leaf(7))
            elif op == "extend":
                s.extend([Leaf(5), Leaf(6)])
            elif op == "pop":
                return repr(s.pop(1)), repr(s)
            elif op == "add":
                return repr(s + nn.Sequential(Leaf(8)))
            elif op == "iadd":
                s2 = s
                s2 += nn.Sequential(Leaf(8))
                assert s2 is s
            elif op == "mul":
                return repr(s * 2)
            elif op == "rmul":
                return repr(2 * s)
            elif op == "imul":
                s2 = s
                s2 *= 2
                assert s2 is s
            elif op == "ordered":
                return repr(nn.Sequential(OrderedDict([("a", Leaf(1)), ("b", Leaf(2))])))
            elif op == "out_of_range":
                return s[3]
            elif op == "bad_add":
                return s + [Leaf(1)]
            elif op == "bad_mul":
                return s * 1.5
            elif op == "zero_mul":
                return s * 0
            elif op == "insert_bad":
                s.insert(7, Leaf(1))
            elif op == "forward":
                return s(lib.tensor(1.0)).item()
            return repr(s), list(s.state_dict())

        return outcome(go)

    same(run)


@pytest.mark.parametrize("op", [
    "index", "slice", "setitem", "delitem", "del_slice", "append", "insert", "extend", "pop", "add", "iadd", "len",
    "out_of_range", "extend_bad", "empty", "state_dict",
])
def test_module_list(op):
    def run(lib):
        nn, Leaf = lib.nn, leaf(lib)
        ml = nn.ModuleList([Leaf(1), Leaf(2), Leaf(3)])

        def go():
            if op == "index":
                return repr(ml[-2])
            if op == "slice":
                return type(ml[1:]).__name__, repr(ml[1:])
            if op == "setitem":
                ml[0] = Leaf(5)
            elif op == "delitem":
                del ml[1]
            elif op == "del_slice":
                del ml[::2]
            elif op == "append":
                ml.append(Leaf(4))
            elif op == "insert":
                ml.insert(0, Leaf(0))
            elif op == "extend":
                ml.extend(Leaf(i) for i in range(2))
            elif op == "pop":
                return repr(ml.pop(0)), repr(ml)
            elif op == "add":
                return repr(ml + [Leaf(9)])
            elif op == "iadd":
                ml += [Leaf(9)]
            elif op == "len":
                return len(ml)
            elif op == "out_of_range":
                return ml[5]
            elif op == "extend_bad":
                ml.extend(5)
            elif op == "empty":
                return repr(nn.ModuleList()), len(nn.ModuleList())
            elif op == "state_dict":
                return list(ml.state_dict()), [n for n, _ in ml.named_modules()]
            return repr(ml)

        return outcome(go)

    same(run)


@pytest.mark.parametrize("op", ["build_dict", "build_pairs", "setitem", "delitem", "pop", "keys", "contains", "clear",
                                "update_bad", "update_pair_len", "missing"])
def test_module_dict(op):
    def run(lib):
        nn, Leaf = lib.nn, leaf(lib)
        md = nn.ModuleDict({"b": Leaf(1), "a": Leaf(2)})

        def go():
            if op == "build_pairs":
                return repr(nn.ModuleDict([("z", Leaf(1)), ("y", Leaf(2))]))
            if op == "setitem":
                md["c"] = Leaf(3)
            elif op == "delitem":
                del md["b"]
            elif op == "pop":
                return repr(md.pop("a")), repr(md)
            elif op == "keys":
                return list(md.keys()), list(md), [k for k, _ in md.items()], len(md.values())
            elif op == "contains":
                return "a" in md, "q" in md
            elif op == "clear":
                md.clear()
            elif op == "update_bad":
                md.update(3)
            elif op == "update_pair_len":
                md.update([("x", Leaf(1), 3)])
            elif op == "missing":
                return md["q"]
            return repr(md), list(md.state_dict())

        return outcome(go)

    same(run)


@pytest.mark.parametrize("op", ["repr", "index", "slice", "setitem", "append", "extend", "iter", "state_dict",
                                "extend_tensor", "call", "mixed_objects", "out_of_range"])
def test_parameter_list(op):
    def run(lib):
        nn = lib.nn
        pl = nn.ParameterList([nn.Parameter(lib.ones(2, 3)), lib.zeros(4)])

        def go():
            if op == "index":
                return type(pl[1]).__name__, tuple(pl[-1].shape), pl[1].requires_grad
            if op == "slice":
                return type(pl[1:]).__name__, repr(pl[1:])
            if op == "setitem":
                pl[0] = lib.ones(1, dtype=lib.float64)
            elif op == "append":
                pl.append(lib.ones(5))
            elif op == "extend":
                pl.extend([lib.ones(1), lib.ones(2)])
            elif op == "iter":
                return [tuple(p.shape) for p in pl]
            elif op == "state_dict":
                return list(pl.state_dict()), [n for n, _ in pl.named_parameters()]
            elif op == "extend_tensor":
                pl.extend(lib.ones(3))
            elif op == "call":
                pl(1)
            elif op == "mixed_objects":
                pl.append("hello")
                return repr(pl), len(pl), pl[2]
            elif op == "out_of_range":
                return pl[2]
            return repr(pl), len(pl)

        return outcome(go)

    same(run)


@pytest.mark.parametrize("op", ["repr", "get", "setitem", "delitem", "keys", "pop", "popitem", "setdefault", "copy",
                                "fromkeys", "or", "update_sorted", "update_pairs", "non_str_key", "clear",
                                "reversed", "call", "state_dict"])
def test_parameter_dict(op):
    def run(lib):
        nn = lib.nn
        pd = nn.ParameterDict(OrderedDict([("w", nn.Parameter(lib.ones(2))), ("b", lib.zeros(3))]))

        def go():
            if op == "get":
                return type(pd["b"]).__name__, pd.get("nope", 5)
            if op == "setitem":
                pd["c"] = lib.ones(1, 2)
            elif op == "delitem":
                del pd["w"]
            elif op == "keys":
                return list(pd.keys()), [k for k, _ in pd.items()], [tuple(v.shape) for v in pd.values()], "w" in pd
            elif op == "pop":
                return tuple(pd.pop("w").shape), repr(pd)
            elif op == "popitem":
                return pd.popitem()[0], repr(pd)
            elif op == "setdefault":
                return tuple(pd.setdefault("z", lib.ones(7)).shape), tuple(pd.setdefault("w").shape)
            elif op == "copy":
                c = pd.copy()
                return repr(c), c["w"] is pd["w"]
            elif op == "fromkeys":
                return repr(pd.fromkeys(["x", "y"], lib.ones(1)))
            elif op == "or":
                other = nn.ParameterDict({"q": lib.ones(1)})
                return repr(pd | other), repr(other | pd)
            elif op == "update_sorted":
                pd.update({"zz": lib.ones(1), "aa": lib.ones(2)})
            elif op == "update_pairs":
                pd.update([("zz", lib.ones(1)), ("aa", lib.ones(2))])
            elif op == "non_str_key":
                return pd[1]
            elif op == "clear":
                pd.clear()
            elif op == "reversed":
                return list(reversed(pd))
            elif op == "call":
                pd(1)
            elif op == "state_dict":
                return list(pd.state_dict())
            return repr(pd), len(pd)

        return outcome(go)

    same(run)


def test_sequential_gradients_flow():
    Leaf = leaf(mc)
    s = mc.nn.Sequential(Leaf(2), Leaf(3))
    x = mc.tensor(np.float32(1.5), requires_grad=True)
    s(x).backward()
    assert float(x.grad) == 6.0
