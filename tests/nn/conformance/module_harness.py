"""Runs torch 2.13's `module_db` (torch.testing._internal.common_modules) against mlx_compat.nn.

For every ModuleInfo and each of its float32 CPU module inputs, in training and in eval mode:
  - build torch's module with the entry's constructor arguments (seeded) and ours with the same arguments
    converted (tensors through numpy, dtypes, torch.nn.functional callables, submodule arguments rebuilt);
  - carry torch's state_dict into ours (lazy modules: after one forward on each side materialises them);
  - forward both on the same inputs and compare every output (values, dtype, shape);
  - backward a random cotangent and compare every input's and every parameter's gradient;
  - compare the state_dict after the forward (keys, order, shapes, values: running statistics included).
The entry's error inputs (module_error_inputs_func) must raise torch's exception type at the same stage.

run_entry(name) returns a record {"id", "forward", "errors", "reason", "inputs"}; "forward" is "pass" when every
input passed everything above, "fail" otherwise (reason: the first problem). test_module_db.py drives it.
"""
from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import torch
from torch.testing._internal.common_modules import ModuleErrorEnum, module_db

import mlx_compat as mc

FWD_TOL = dict(rtol=1e-5, atol=1e-5)
GRAD_TOL = dict(rtol=1e-4, atol=1e-5)

# Entries whose float32 results differ from torch's by accumulation order beyond FWD_TOL/GRAD_TOL, each measured:
# ConvTranspose3d's weight gradient (elements up to ~210, each a sum of 480 products): torch's float32 result is
# 4e-5 from the float64 one, ours 8e-5, so an absolute 1e-5 on its smallest elements is float32 noise.
_CONVT3D = (FWD_TOL, dict(rtol=1e-4, atol=1e-4))
ENTRY_TOL = {"nn.ConvTranspose3d": _CONVT3D, "nn.LazyConvTranspose3d": _CONVT3D}

# Entries whose training-mode forward draws random numbers (our streams differ from torch's by design):
# outputs and gradients are compared on shape and dtype only in training mode.
RANDOM_IN_TRAINING = {"nn.FractionalMaxPool2d", "nn.FractionalMaxPool3d"}

# Entries whose inputs torch builds for float64 only (FractionalMaxPool's _random_samples are float64, and a float32
# input with them is refused): run in float64, so the comparison is of results, not of the same refusal.
FLOAT64_ENTRIES = {"nn.FractionalMaxPool2d", "nn.FractionalMaxPool3d"}

ENTRIES = {m.name: m for m in module_db}


class Mismatch(AssertionError):
    pass


# ---- converting torch-side arguments to ours

def _tensor(t):
    d = t.detach()
    if d.dtype == torch.bfloat16:
        m = mc.tensor(d.float().numpy().copy()).to(mc.bfloat16)
    else:
        m = mc.tensor(d.numpy().copy())
    if t.requires_grad:  # a non-leaf of torch's (made from a hidden leaf) becomes a leaf of ours
        m.requires_grad_(True)
    return m


def _mc_attr(path):
    obj = mc
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _function(f):
    """torch callable -> ours with the same name (torch.nn.functional first, then torch)."""
    name = getattr(f, "__name__", None)
    for ns in (mc.nn.functional, mc):
        if name and hasattr(ns, name):
            return getattr(ns, name)
    raise Mismatch(f"no counterpart for callable {f!r}")


def _transformer_layer(layer):
    """Rebuild a torch Transformer{Encoder,Decoder}Layer argument as ours with the same configuration."""
    cls = _mc_attr("nn." + type(layer).__name__)
    act = layer.activation
    if isinstance(act, torch.nn.Module):
        act = convert(act)
    elif callable(act):
        act = _function(act)
    kw = dict(d_model=layer.self_attn.embed_dim, nhead=layer.self_attn.num_heads,
              dim_feedforward=layer.linear1.out_features, dropout=layer.dropout.p, activation=act,
              layer_norm_eps=layer.norm1.eps, batch_first=layer.self_attn.batch_first, norm_first=layer.norm_first,
              bias=layer.linear1.bias is not None)
    return cls(**kw)


def convert(o, leaves=None):
    """Our counterpart of a torch-side argument; torch leaf tensors requiring grad and ours are paired in
    `leaves` (a list of (torch, ours)) so their gradients can be compared."""
    if isinstance(o, torch.Tensor):
        m = _tensor(o)
        if leaves is not None and o.requires_grad and o.is_leaf:
            leaves.append((o, m))
        return m
    if isinstance(o, torch.dtype):
        return getattr(mc, str(o).split(".")[-1])
    if isinstance(o, torch.device):
        return mc.device(str(o))
    if isinstance(o, (torch.nn.TransformerEncoderLayer, torch.nn.TransformerDecoderLayer)):
        return _transformer_layer(o)
    if isinstance(o, torch.nn.Module):
        if len(list(o.parameters())) == 0 and not list(o.buffers()):
            return _mc_attr("nn." + type(o).__name__)()
        raise Mismatch(f"no conversion for module argument {type(o).__name__}")
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return _mc_attr("nn." + type(o).__name__)(**{f.name: getattr(o, f.name) for f in dataclasses.fields(o)})
    if isinstance(o, tuple) and hasattr(o, "_fields"):
        return type(o)(*[convert(x, leaves) for x in o])
    if isinstance(o, (list, tuple)):
        return type(o)(convert(x, leaves) for x in o)
    if isinstance(o, dict):
        return {k: convert(v, leaves) for k, v in o.items()}
    if callable(o) and not isinstance(o, type):
        return _function(o)
    return o


# ---- comparing

def _fresh(o):
    """A copy of torch-side forward arguments: leaf tensors cloned (keeping requires_grad), tensors made by
    torch's input builders from other tensors (non-leaves, which deepcopy refuses) kept as they are."""
    if isinstance(o, torch.Tensor):
        return o.detach().clone().requires_grad_(o.requires_grad) if o.is_leaf else o
    if isinstance(o, tuple) and hasattr(o, "_fields"):
        return type(o)(*[_fresh(x) for x in o])
    if isinstance(o, (list, tuple)):
        return type(o)(_fresh(x) for x in o)
    if isinstance(o, dict):
        return {k: _fresh(v) for k, v in o.items()}
    return o


def _flat(r):
    if isinstance(r, (tuple, list)):
        return [x for y in r for x in _flat(y)]
    if r is None:
        return []
    if hasattr(r, "_fields"):  # PackedSequence and other named tuples
        return [x for y in tuple(r) for x in _flat(y)]
    return [r]


def _np(x):
    if isinstance(x, torch.Tensor):
        x = x.detach()
        return (x.float() if x.dtype == torch.bfloat16 else x).numpy()
    x = x.detach()
    return np.asarray((x.float() if str(x.dtype) == "torch.bfloat16" else x).numpy())


def same(ours, theirs, what, rtol, atol, values=True):
    if isinstance(theirs, torch.Tensor):
        if not isinstance(ours, mc.Tensor):
            raise Mismatch(f"{what}: ours is {type(ours).__name__}, torch's a Tensor")
        if str(ours.dtype) != str(theirs.dtype):
            raise Mismatch(f"{what}: dtype {ours.dtype} != {theirs.dtype}")
        if tuple(ours.shape) != tuple(theirs.shape):
            raise Mismatch(f"{what}: shape {tuple(ours.shape)} != {tuple(theirs.shape)}")
        if not values:
            return
        a, b = _np(ours), _np(theirs)
        if b.dtype.kind in "biu":
            if not np.array_equal(a, b):
                raise Mismatch(f"{what}: values differ")
            return
        if not np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True):
            err = np.nanmax(np.abs(a.astype(np.float64) - b) / (atol + rtol * np.abs(b))) if a.size else 0
            raise Mismatch(f"{what}: values differ ({err:.3g}x the tolerance)")
        return
    if isinstance(theirs, float) and isinstance(ours, float):
        if not math.isclose(ours, theirs, rel_tol=rtol, abs_tol=atol) and not (math.isnan(ours) and math.isnan(theirs)):
            raise Mismatch(f"{what}: {ours} != {theirs}")
        return
    if ours != theirs:
        raise Mismatch(f"{what}: {ours!r} != {theirs!r}")


def _carry_state(theirs, ours):
    sd = {k: _tensor(v) for k, v in theirs.state_dict().items()}
    res = ours.load_state_dict(sd)
    if res.missing_keys or res.unexpected_keys:
        raise Mismatch(f"state_dict: missing {res.missing_keys}, unexpected {res.unexpected_keys}")


def _state_same(ours, theirs, tol, what):
    so, st = ours.state_dict(), theirs.state_dict()
    if list(so) != list(st):
        raise Mismatch(f"{what}: state_dict keys {list(so)} != {list(st)}")
    for k in st:
        same(so[k], st[k], f"{what}: state_dict[{k!r}]", **tol)


def _raises_like(theirs, fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        if not isinstance(e, type(theirs)):
            raise Mismatch(f"ours raised {type(e).__name__}: {e}; torch {type(theirs).__name__}: {theirs}") from e
        return
    raise Mismatch(f"ours returned; torch raised {type(theirs).__name__}: {theirs}")


def check_input(mi, module_input, training):
    """One module input in one mode; raises Mismatch (or anything ours raised) on the first difference."""
    name = mi.name
    fwd_tol, grad_tol = ENTRY_TOL.get(name, (FWD_TOL, GRAD_TOL))
    random_out = training and name in RANDOM_IN_TRAINING
    ci = module_input.constructor_input
    torch.manual_seed(0)
    try:
        theirs = mi.module_cls(*ci.args, **ci.kwargs)
    except Exception as e:  # noqa: BLE001  (the input is one torch refuses: ours must refuse it alike)
        _raises_like(e, lambda: _mc_attr("nn." + mi.module_cls.__name__)(*convert(ci.args), **convert(ci.kwargs)))
        return
    ours = _mc_attr("nn." + mi.module_cls.__name__)(*convert(ci.args), **convert(ci.kwargs))
    theirs.train(training)
    ours.train(training)
    fi = module_input.forward_input
    if fi is None:
        return
    if mi.is_lazy:  # materialise the parameters on both sides, then carry torch's values over
        with torch.no_grad():
            theirs(*_fresh(fi.args), **_fresh(fi.kwargs))
        with mc.no_grad():
            ours(*convert(fi.args), **convert(fi.kwargs))
    _carry_state(theirs, ours)
    _state_same(ours, theirs, fwd_tol, "before forward")
    t_args, t_kwargs = _fresh(fi.args), _fresh(fi.kwargs)
    leaves = []
    m_args, m_kwargs = convert(t_args, leaves), convert(t_kwargs, leaves)
    try:
        t_out = _flat(theirs(*t_args, **t_kwargs))
    except Exception as e:  # noqa: BLE001
        _raises_like(e, lambda: ours(*m_args, **m_kwargs))
        return
    m_out = _flat(ours(*m_args, **m_kwargs))
    if len(t_out) != len(m_out):
        raise Mismatch(f"forward: {len(m_out)} outputs, torch {len(t_out)}")
    for i, (m, t) in enumerate(zip(m_out, t_out)):
        same(m, t, f"output {i}", values=not random_out, **fwd_tol)
    _state_same(ours, theirs, fwd_tol, "after forward")
    # backward through a random cotangent of every differentiable output
    r = np.random.default_rng(1)
    tl = ml = None
    for m, t in zip(m_out, t_out):
        if isinstance(t, torch.Tensor) and t.requires_grad and t.dtype.is_floating_point:
            c = r.standard_normal(tuple(t.shape)).astype(np.float32)
            tl = (t * torch.tensor(c)).sum() if tl is None else tl + (t * torch.tensor(c)).sum()
            ml = (m * mc.tensor(c)).sum() if ml is None else ml + (m * mc.tensor(c)).sum()
    if tl is None:
        return
    tl.backward()
    ml.backward()
    for i, (t, m) in enumerate(leaves):
        if (t.grad is None) != (m.grad is None):
            raise Mismatch(f"input {i}: grad is None for {'ours' if m.grad is None else 'torch'} only")
        if t.grad is not None:
            same(m.grad, t.grad, f"input {i} grad", values=not random_out, **grad_tol)
    tp, mp = dict(theirs.named_parameters()), dict(ours.named_parameters())
    if list(tp) != list(mp):
        raise Mismatch(f"parameters {list(mp)} != {list(tp)}")
    for k, t in tp.items():
        m = mp[k]
        if (t.grad is None) != (m.grad is None):
            raise Mismatch(f"{k}.grad is None for {'ours' if m.grad is None else 'torch'} only")
        if t.grad is not None:
            same(m.grad, t.grad, f"{k}.grad", values=not random_out, **grad_tol)


def check_errors(mi):
    """The entry's error inputs: ours raises torch's exception type at the same stage. Returns None (pass),
    "n/a" or a reason."""
    if mi.module_error_inputs_func is None:
        return "n/a"
    for training in (True, False):
        for ei in mi.module_error_inputs_func(mi, device="cpu", dtype=torch.float32, requires_grad=False,
                                              training=training):
            mod_in = ei.module_error_input
            ci = mod_in.constructor_input
            stage = "construction"
            try:
                ours = _mc_attr("nn." + mi.module_cls.__name__)(*convert(ci.args), **convert(ci.kwargs))
                if ei.error_on == ModuleErrorEnum.FORWARD_ERROR:
                    stage = "forward"
                    fi = mod_in.forward_input
                    ours(*convert(fi.args), **convert(fi.kwargs))
            except Exception as e:  # noqa: BLE001
                want = ei.error_on == ModuleErrorEnum.CONSTRUCTION_ERROR and stage == "construction" \
                    or ei.error_on == ModuleErrorEnum.FORWARD_ERROR and stage == "forward"
                if not want or not isinstance(e, ei.error_type):
                    return f"{mod_in.desc or 'error input'}: ours raised {type(e).__name__} at {stage}: {e}; " \
                           f"torch raises {ei.error_type.__name__}"
                continue
            return f"{mod_in.desc or 'error input'}: ours raised nothing; torch raises {ei.error_type.__name__}"
    return None


def run_entry(name):
    mi = ENTRIES[name]
    rec = {"id": name, "forward": "pass", "errors": "pass", "reason": "", "inputs": 0}
    if not hasattr(mc.nn, mi.module_cls.__name__):
        rec.update(forward="missing", errors="missing", reason=f"mlx_compat.nn.{mi.module_cls.__name__} missing")
        return rec
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for training in (True, False):
            try:
                dtype = torch.float64 if name in FLOAT64_ENTRIES else torch.float32
                inputs = mi.module_inputs_func(mi, device="cpu", dtype=dtype, requires_grad=True, training=training)
            except Exception as e:  # noqa: BLE001
                rec.update(forward="skip", reason=f"torch's inputs failed: {e}")
                return rec
            for k, module_input in enumerate(inputs):
                rec["inputs"] += 1
                try:
                    check_input(mi, module_input, training)
                except Exception as e:  # noqa: BLE001
                    mode = "train" if training else "eval"
                    rec.update(forward="fail", reason=f"[{mode} #{k} {module_input.desc}] {type(e).__name__}: {e}")
                    break
            if rec["forward"] != "pass":
                break
        try:
            err = check_errors(mi)
        except Exception as e:  # noqa: BLE001
            err = f"{type(e).__name__}: {e}"
    if err == "n/a":
        rec["errors"] = "n/a"
    elif err is not None:
        rec["errors"] = "fail"
        rec["reason"] = (rec["reason"] + " | " if rec["reason"] else "") + "errors: " + err
    return rec


if __name__ == "__main__":
    import sys

    names = sys.argv[1:] or list(ENTRIES)
    n_pass = 0
    for n in names:
        rec = run_entry(n)
        n_pass += rec["forward"] == "pass"
        print(f"{n:40s} {rec['forward']:8s} {rec['errors']:8s} {rec['inputs']:5d} {rec['reason'][:300]}", flush=True)
    print(f"{n_pass} of {len(names)} entries pass")
