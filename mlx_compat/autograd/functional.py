"""torch.autograd.functional: jacobian, hessian, vjp, jvp, hvp, vhp — reverse mode over the engine
(jvp by the double-vjp trick)."""
from __future__ import annotations

from .._tensor import Tensor


def _tuple(x):
    return (x,), True if isinstance(x, Tensor) else (tuple(x), False)


def _as_tuple(x):
    if isinstance(x, Tensor):
        return (x,), True
    return tuple(x), False


def _prep(inputs, create_graph):
    from .grad_mode import enable_grad  # noqa: F401

    out = []
    for x in inputs:
        y = x if create_graph and x.requires_grad else x.detach()
        y.requires_grad_(True)
        out.append(y)
    return tuple(out)


def _grad(outputs, inputs, grad_outputs, create_graph, allow_unused=True):
    from . import grad as autograd_grad

    gs = autograd_grad(outputs, inputs, grad_outputs, create_graph=create_graph, retain_graph=True,
                       allow_unused=allow_unused)
    from .._ops.creation import zeros_like

    return tuple(zeros_like(x) if g is None else g for g, x in zip(gs, inputs))


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    from .grad_mode import enable_grad

    xs, single = _as_tuple(inputs)
    with enable_grad():
        xs = _prep(xs, create_graph)
        out = func(*xs)
        outs, out_single = _as_tuple(out)
        vs = _as_tuple(v)[0] if v is not None else (None,) * len(outs)
        gs = _grad(outs, xs, vs, create_graph)
    fix = (lambda t: t) if create_graph else (lambda t: t.detach())
    res_out = fix(outs[0]) if out_single else tuple(fix(o) for o in outs)
    res_g = fix(gs[0]) if single else tuple(fix(g) for g in gs)
    return res_out, res_g


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    from .._ops.creation import zeros_like
    from .grad_mode import enable_grad

    xs, single = _as_tuple(inputs)
    with enable_grad():
        xs = _prep(xs, create_graph)
        out = func(*xs)
        outs, out_single = _as_tuple(out)
        us = tuple(zeros_like(o).requires_grad_(True) for o in outs)
        gs = _grad(outs, xs, us, True)
        vs = _as_tuple(v)[0] if v is not None else tuple(None for _ in xs)
        jv = _grad(gs, us, vs, create_graph)
    fix = (lambda t: t) if create_graph else (lambda t: t.detach())
    res_out = fix(outs[0]) if out_single else tuple(fix(o) for o in outs)
    res = fix(jv[0]) if out_single else tuple(fix(j) for j in jv)
    return res_out, res


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    from .._ops.creation import zeros_like  # noqa: F401
    from .._ops.shape import stack as stack_rows
    from .grad_mode import enable_grad

    xs, single = _as_tuple(inputs)
    with enable_grad():
        xs = _prep(xs, create_graph)
        out = func(*xs)
        outs, out_single = _as_tuple(out)
        result = []
        for o in outs:
            per_input = [[] for _ in xs]
            flat = o.reshape(-1)
            for i in range(flat.numel()):
                gs = _grad((flat[i],), xs, None, create_graph)
                for k, g in enumerate(gs):
                    per_input[k].append(g)
            row = []
            for k, x in enumerate(xs):
                if per_input[k]:
                    j = stack_rows(per_input[k]).reshape(tuple(o.shape) + tuple(x.shape))
                else:
                    from .._ops.creation import zeros

                    j = zeros(tuple(o.shape) + tuple(x.shape), dtype=x.dtype)
                row.append(j if create_graph else j.detach())
            result.append(row[0] if single else tuple(row))
    return result[0] if out_single else tuple(result)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    xs, single = _as_tuple(inputs)

    def grad_fn(*args):
        from .grad_mode import enable_grad

        with enable_grad():
            out = func(*args)
            gs = _grad((out,), args, None, True)
        return gs[0] if single else gs

    return jacobian(grad_fn, inputs, create_graph=create_graph)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    from .grad_mode import enable_grad

    xs, single = _as_tuple(inputs)
    with enable_grad():
        xs = _prep(xs, True)
        out = func(*xs)
        gs = _grad((out,), xs, None, True)
        vs = _as_tuple(v)[0]
        res = _grad(gs, xs, vs, create_graph)
    fix = (lambda t: t) if create_graph else (lambda t: t.detach())
    return fix(out), (fix(res[0]) if single else tuple(fix(r) for r in res))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    # Hessians of scalar functions are symmetric: H v == v^T H
    return vhp(func, inputs, v, create_graph, strict)
