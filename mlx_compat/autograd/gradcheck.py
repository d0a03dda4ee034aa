"""torch.autograd.gradcheck / gradgradcheck: analytical vs central-difference gradients (float64, CPU)."""
from __future__ import annotations

import numpy as np

from .._device_scope import warn as _warn
from .. import _dtype
from .grad_mode import no_grad
from .._tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients differ (as torch's)."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(func, inputs):
    out = func(*inputs)
    return tuple(o for o in _as_tuple(out) if isinstance(o, Tensor))


def _numerical_jacobian(func, inputs, index, eps):
    """d(outputs)/d(inputs[index]) by central differences: one (numel_out, numel_in) array per output."""
    from .._ops.creation import tensor

    x = inputs[index]
    base = np.array(x.detach().tolist(), dtype=np.complex128 if x.dtype.is_complex else np.float64).reshape(tuple(x.shape))
    cols = []
    for j in range(base.size):
        res = []
        for sign in (1, -1):
            pert = base.copy().reshape(-1)
            pert[j] += sign * eps
            xp = tensor(pert.reshape(base.shape), dtype=x.dtype, requires_grad=x.requires_grad)
            args = list(inputs)
            args[index] = xp
            # grad mode stays on: the function may itself differentiate (gradgradcheck)
            res.append([np.array(o.detach().tolist(), dtype=np.float64).reshape(-1) for o in _outputs(func, args)])
        cols.append([(p - m) / (2 * eps) for p, m in zip(res[0], res[1])])
    n_out = len(cols[0]) if cols else len(_outputs(func, inputs))
    return [np.stack([c[k] for c in cols], axis=1) if cols else np.zeros((0, 0)) for k in range(n_out)]


def _analytical_jacobian(func, inputs, index):
    from . import grad as autograd_grad
    from .._ops.creation import zeros_like

    outs = _outputs(func, inputs)
    x = inputs[index]
    jacs = []
    for o in outs:
        rows = []
        flat_n = o.numel()
        for i in range(flat_n):
            go = np.zeros(flat_n)
            go[i] = 1.0
            from .._ops.creation import tensor

            gt = tensor(go.reshape(tuple(o.shape)), dtype=o.dtype)
            if not o.requires_grad:
                rows.append(np.zeros(x.numel()))
                continue
            (g,) = autograd_grad(o, x, gt, retain_graph=True, allow_unused=True)
            if g is None:
                g = zeros_like(x)
            rows.append(np.array(g.detach().tolist(), dtype=np.float64).reshape(-1))
        jacs.append(np.stack(rows, axis=0) if rows else np.zeros((0, x.numel())))
    return jacs


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None):
    """True when every analytical Jacobian (reverse mode) matches the numerical one within atol + rtol * |numerical|."""
    inputs = _as_tuple(inputs)
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype not in (_dtype.float64, _dtype.complex64):
            _warn(f"Input #{i} requires gradient and is not a double precision floating point or complex. "
                  "This check will likely fail if all the inputs are not of double precision floating point "
                  "or complex. ")
    for index, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        numerical = _numerical_jacobian(func, inputs, index, eps)
        analytical = _analytical_jacobian(func, inputs, index)
        for k, (a, n) in enumerate(zip(analytical, numerical)):
            if a.shape != n.shape or not np.allclose(a, n, rtol=rtol, atol=atol):
                if raise_exception:
                    raise GradcheckError(f"Jacobian mismatch for output {k} with respect to input {index},\n"
                                         f"numerical:{n}\nanalytical:{a}\n")
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, gen_non_contig_grad_outputs=False,
                  raise_exception=True, nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """gradcheck of the gradient itself: second derivatives through create_graph=True."""
    from . import grad as autograd_grad
    from .._ops.creation import tensor

    inputs = _as_tuple(inputs)
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype, requires_grad=True)
                             for o in outs)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def new_func(*args):
        xs, gos = args[:n_in], args[n_in:]
        o = _outputs(func, xs)
        gs = autograd_grad(o, [xs[i] for i in diff], gos, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(new_func, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
