"""torch.func: function transforms over the package's autograd — grad, grad_and_value, vjp, jvp, linearize, jacrev,
jacfwd, hessian, vmap — plus functional_call and stack_module_state for running a module with given weights.

Note [Function transforms over the tape]
torch.func wraps tensors per transform level. Here each transform runs the function on fresh differentiable inputs
(a view of an input that already requires grad, so outer levels and ordinary autograd still see through it; a
detached leaf otherwise) and differentiates with create_graph=True, so transforms nest (grad(grad(f)),
jacfwd(jacrev(f))). A result is detached from the graph exactly when everything it depends on was made by this
level (`_only_level`): what it owes to tensors from outside (an outer transform's inputs, a closed-over weight
that requires grad) stays differentiable, as torch's level unwrapping leaves it.
Forward-mode transforms (jvp, jacfwd, linearize) are computed in reverse mode (jvp by the double-vjp identity), so
they give torch's values at reverse-mode cost. vmap maps the function over the batch dimension one slice at a
time and stacks the results (differentiable, nests with the other transforms); under randomness='error' a random
draw inside raises torch's error, 'same' gives every slice the same draws, 'different' independent ones.
"""
from __future__ import annotations

import functools

from .._tensor import Tensor
from ..utils._pytree import _broadcast_to_and_flatten, tree_flatten, tree_map, tree_unflatten

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd", "hessian", "vmap",
           "functional_call", "stack_module_state", "functionalize", "replace_all_batch_norm_modules_",
           "debug_unwrap"]


def _ops():
    import mlx_compat as torch  # the package's public ops; imported late (this module loads with the package)

    return torch


def _get_name(func):
    return getattr(func, "__name__", repr(func))


# ---------------------------------------------------------------- levels (Note [Function transforms over the tape])
def _create_differentiable(x, fresh):
    if not isinstance(x, Tensor):
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
    if x.requires_grad:
        y = x.view_as(x)
    else:
        y = x.detach().requires_grad_(True)
        fresh.add(id(y))
    return y


def _only_level(t, fresh):
    """True when every leaf `t`'s graph reaches was created by this level (ids in `fresh`)."""
    fn = t.grad_fn
    if fn is None:
        return id(t) in fresh or not t.requires_grad
    seen, stack = set(), [fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        var = getattr(node, "variable", None)
        if var is not None:
            if id(var) not in fresh:
                return False
            continue
        stack.extend(n for n, _ in node.next_functions)
    return True


def _undo(tree, fresh):
    def undo(x):
        if isinstance(x, Tensor) and x.requires_grad and _only_level(x, fresh):
            return x.detach()
        return x
    return tree_map(undo, tree)


def _autograd_grad(outputs, inputs, grad_outputs=None, retain_graph=True):
    """Gradients of outputs w.r.t. inputs with create_graph=True; zeros where an input is unused."""
    torch = _ops()
    outs, gos, ins = [], [], list(inputs)
    for i, o in enumerate(outputs):
        if o.requires_grad:
            outs.append(o)
            gos.append(None if grad_outputs is None else grad_outputs[i])
    if not outs or not ins:
        return tuple(torch.zeros_like(x) for x in ins)
    gs = torch.autograd.grad(outs, ins, gos, retain_graph=retain_graph, create_graph=True, allow_unused=True)
    return tuple(torch.zeros_like(x) if g is None else g for g, x in zip(gs, ins))


def _split_aux(output, has_aux, api):
    """(output, aux) of a function's result: with has_aux it must be a pair, as torch.func checks."""
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return output


def _check_argnums(argnums, num_args):
    def one(a):
        if not isinstance(a, int) or isinstance(a, bool):
            raise RuntimeError(f"argnum must be int, got: {type(a)}")
        if a >= 0 and a < num_args:
            return a
        if a < 0 and a >= -num_args:
            return a + num_args
        raise RuntimeError(f"Got argnum={a}, but only {num_args} positional inputs")
    if isinstance(argnums, int):
        return one(argnums)
    if isinstance(argnums, tuple):
        if len(argnums) == 0:
            raise RuntimeError("argnums must be non-empty")
        fixed = tuple(one(a) for a in argnums)
        if len(set(fixed)) != len(fixed):
            raise RuntimeError(f"argnums elements must be unique, got {argnums}")
        return fixed
    raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")


def _replace_argnums(args, argnums, new):
    args = list(args)
    if isinstance(argnums, int):
        args[argnums] = new
    else:
        for a, n in zip(argnums, new):
            args[a] = n
    return tuple(args)


def _slice_argnums(args, argnums):
    return args[argnums] if isinstance(argnums, int) else tuple(args[a] for a in argnums)


# ---------------------------------------------------------------- grad
def grad_and_value(func, argnums=0, has_aux=False):
    """func's gradient w.r.t. the positional arguments `argnums` (pytrees of tensors) and func's value."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        torch = _ops()
        argn = _check_argnums(argnums, len(args))
        fresh = set()
        with torch.enable_grad():
            diff = tree_map(lambda x: _create_differentiable(x, fresh), _slice_argnums(args, argn))
            output, aux = _split_aux(func(*_replace_argnums(args, argn, diff), **kwargs), has_aux,
                                     "grad_and_value(f)(*args)")
            if not isinstance(output, Tensor):
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                                   f"{type(output)}")
            if output.dim() != 0:
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                                   f"tensor with {output.dim()} dims. Maybe you wanted to use the vjp or jacrev "
                                   "APIs instead?")
            flat, spec = tree_flatten(diff)
            grads = tree_unflatten(list(_autograd_grad((output,), flat)), spec)
        grads, output = _undo(grads, fresh), _undo(output, fresh)
        if has_aux:
            return grads, (output, _undo(aux, fresh))
        return grads, output
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """func's gradient w.r.t. the positional arguments `argnums` (func returns a scalar tensor)."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


# ---------------------------------------------------------------- vjp / jvp / linearize
def _check_tensors(tree, api, what):
    flat, spec = tree_flatten(tree)
    for x in flat:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"{api}: Expected {what} to only contain Tensors, got {type(x)}")
    return flat, spec


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn[, aux]): vjp_fn(cotangents) is the tuple of gradients w.r.t. each primal."""
    torch = _ops()
    fresh = set()
    with torch.enable_grad():
        diff = tree_map(lambda x: _create_differentiable(x, fresh), primals)
        output, aux = _split_aux(func(*diff), has_aux, "vjp(f, *primals)")
        flat_out, out_spec = _check_tensors(output, "vjp(f, *primals)", "f(*primals)")
    flat_in, in_spec = tree_flatten(diff)

    def vjp_fn(cotangents, *, retain_graph=True, create_graph=None):
        flat_ct, ct_spec = tree_flatten(cotangents)
        if ct_spec != out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree structure of "
                               f"outputs to the function. cotangents: {ct_spec}, primal output: {out_spec}")
        for o, c in zip(flat_out, flat_ct):
            if tuple(o.shape) != tuple(c.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {tuple(c.shape)} and "
                                   f"output[0] has a shape of {tuple(o.shape)}.")
        with torch.enable_grad():
            gs = _autograd_grad(flat_out, flat_in, flat_ct, retain_graph=retain_graph)
        return _undo(tree_unflatten(list(gs), in_spec), fresh)

    out = _undo(output, fresh)
    if has_aux:
        return out, vjp_fn, _undo(aux, fresh)
    return out, vjp_fn


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), the Jacobian of func at primals applied to tangents[, aux])."""
    torch = _ops()
    api = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{api}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    flat_p, p_spec = _check_tensors(primals, api, "primals")
    flat_t, t_spec = _check_tensors(tangents, api, "tangents")
    if p_spec != t_spec:
        raise RuntimeError(f"{api}: Expected primals and tangents to have the same python structure. For example, "
                           f"if primals is a tuple of 3 tensors, tangents also must be. Got primals with structure "
                           f"{p_spec} and tangents with structure {t_spec}")
    for p, t in zip(flat_p, flat_t):
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(f"{api}: Expected primals and tangents to have the same shape, got "
                               f"{tuple(p.shape)} and {tuple(t.shape)}")
    fresh = set()
    with torch.enable_grad():
        diff = [_create_differentiable(x, fresh) for x in flat_p]
        output, aux = _split_aux(func(*tree_unflatten(diff, p_spec)), has_aux, api)
        flat_out, out_spec = _check_tensors(output, api, "f(*primals)")
        # double vjp: u -> J^T u is linear in u, so d/du <J^T u, t> = J t
        us = [torch.zeros_like(o).requires_grad_(True) for o in flat_out]
        for u in us:
            fresh.add(id(u))
        gs = _autograd_grad(flat_out, diff, us)
        jt = _autograd_grad(gs, us, flat_t)
    res = (_undo(output, fresh), _undo(tree_unflatten(list(jt), out_spec), fresh))
    return res + (_undo(aux, fresh),) if has_aux else res


def linearize(func, *primals):
    """(func(*primals), jvp_fn): jvp_fn(*tangents) is the Jacobian at primals applied to tangents."""
    output = func(*primals)

    def jvp_fn(*tangents):
        return jvp(func, primals, tangents)[1]
    return tree_map(lambda t: t.detach() if isinstance(t, Tensor) else t, output), jvp_fn


# ---------------------------------------------------------------- Jacobians
def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian of func w.r.t. the arguments `argnums`: for each output, a tensor of shape
    output.shape + input.shape (nested per output and per argument like torch)."""
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")
    return _jacobian(func, argnums, has_aux, "jacrev")


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """Forward-mode Jacobian; same values as jacrev (Note [Function transforms over the tape])."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")
    return _jacobian(func, argnums, has_aux, "jacfwd")


def _jacobian(func, argnums, has_aux, api):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        torch = _ops()
        argn = _check_argnums(argnums, len(args))
        fresh = set()
        with torch.enable_grad():
            diff = tree_map(lambda x: _create_differentiable(x, fresh), _slice_argnums(args, argn))
            output, aux = _split_aux(func(*_replace_argnums(args, argn, diff), **kwargs), has_aux,
                                     f"{api}(f, ...)(*args)")
            flat_out, out_spec = _check_tensors(output, f"{api}(f, ...)(*args)", "f(*args)")
            flat_in, in_spec = tree_flatten(diff)
            # per output: rows of d out[k] / d inputs, stacked into out.shape + input.shape
            per_out = []
            for o in flat_out:
                rows = [[] for _ in flat_in]
                flat_o = o.reshape(-1)
                for k in range(flat_o.numel()):
                    gs = _autograd_grad((flat_o[k],), flat_in)
                    for j, g in enumerate(gs):
                        rows[j].append(g)
                jac = []
                for j, x in enumerate(flat_in):
                    if rows[j]:
                        jac.append(torch.stack(rows[j]).reshape(tuple(o.shape) + tuple(x.shape)))
                    else:
                        jac.append(torch.zeros(tuple(o.shape) + tuple(x.shape), dtype=x.dtype, device=x.device))
                per_out.append(tree_unflatten(jac, in_spec))
        result = _undo(tree_unflatten(per_out, out_spec), fresh)
        if has_aux:
            return result, _undo(aux, fresh)
        return result
    return wrapper


def hessian(func, argnums=0):
    """jacfwd(jacrev(func, argnums), argnums)."""
    return jacfwd(jacrev(func, argnums), argnums)


# ---------------------------------------------------------------- vmap
def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """func mapped over dimension `in_dims` of its inputs, results stacked at `out_dims`
    (Note [Function transforms over the tape])."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")
    name = _get_name(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        torch = _ops()
        if not isinstance(in_dims, (int, tuple)):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a "
                             f"(potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}.")
        if len(args) == 0:
            raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are "
                             "trying to vmap over a function with no inputs. The latter is unsupported.")
        flat_args, args_spec = tree_flatten(args)
        flat_dims = _broadcast_to_and_flatten(in_dims, args_spec)
        if flat_dims is None:
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the "
                             f"structure of `inputs`. in_dims has structure {tree_flatten(in_dims)[1]} but inputs "
                             f"has structure {args_spec}.")
        for i, (a, d) in enumerate(zip(flat_args, flat_dims)):
            if d is not None and (not isinstance(d, int) or isinstance(d, bool)):
                raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input but "
                                 "in_dim must be either an integer dimension or None.")
            if d is not None and not isinstance(a, Tensor):
                raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input but "
                                 f"the input is of type {type(a)}. We cannot vmap over non-Tensor arguments, please "
                                 "use None as the respective in_dim")
            if d is not None:
                n = a.dim()
                if not -n <= d < n:
                    raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for some "
                                     f"input, but that input is a Tensor of dimensionality {n} so expected in_dim to "
                                     f"satisfy -{n} <= in_dim < {n}.")
                flat_dims[i] = d % n
        sizes = [a.size(d) for a, d in zip(flat_args, flat_dims) if d is not None]
        if not sizes:
            raise ValueError("vmap: Expected at least one Tensor to vmap over")
        if any(s != sizes[0] for s in sizes):
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                             f"{sizes} for the mapped dimension")
        results = []
        gen = torch.default_generator
        key = gen._key  # compared by identity: every draw replaces it, and nothing is evaluated
        for b in range(sizes[0]):
            if randomness == "same":
                gen._key = key
            sliced = [a if d is None else a.select(d, b) for a, d in zip(flat_args, flat_dims)]
            results.append(func(*tree_unflatten(sliced, args_spec), **kwargs))
            if randomness == "error" and gen._key is not key:
                raise RuntimeError("vmap: called random operation while in randomness error mode. Please either use "
                                   "the 'same' or 'different' randomness flags on vmap or perform the randomness "
                                   "operation out of vmap")
        return _stack_outputs(results, out_dims, name, torch)
    return wrapper


def _stack_outputs(results, out_dims, name, torch):
    flat0, spec = tree_flatten(results[0])
    if isinstance(results[0], Tensor):
        if isinstance(out_dims, int) or out_dims is None:
            flat_od = [out_dims]
        elif isinstance(out_dims, tuple) and len(out_dims) == 1:
            flat_od = list(out_dims)
        else:
            flat_od = None
    else:
        flat_od = _broadcast_to_and_flatten(out_dims, spec)
    if flat_od is None:
        raise ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with the "
                         f"structure of `outputs`. out_dims has structure {tree_flatten(out_dims)[1]} but outputs "
                         f"has structure {spec}.")
    columns = [tree_flatten(r)[0] for r in results]
    out = []
    for j, od in enumerate(flat_od):
        if od is not None and (not isinstance(od, int) or isinstance(od, bool)):
            raise ValueError(f"vmap({name}, ..., out_dims={out_dims}): `out_dims` must be an int, None or a python "
                             "collection of ints representing where in the outputs the vmapped dimension should "
                             f"appear.")
        items = [c[j] for c in columns]
        if od is None:
            out.append(items[0])
            continue
        if not isinstance(items[0], Tensor):
            raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(items[0])}. "
                             "Did you mean to set out_dims= to None for output?")
        n = items[0].dim() + 1
        if not -n <= od < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {od})")
        out.append(torch.stack(items, od))
    return tree_unflatten(out, spec)


# ---------------------------------------------------------------- modules
def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """module(*args, **kwargs) with its parameters and buffers replaced, for the call, by the given tensors."""
    from ..nn.utils.stateless import _functional_call

    if isinstance(parameter_and_buffer_dicts, dict):
        merged = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, (list, tuple)):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
        keys = [k for d in parameter_and_buffer_dicts for k in d]
        seen, dup = set(), []
        for k in keys:
            if k in seen:
                dup.append(k)
            seen.add(k)
        if dup:
            raise ValueError(f"{dup} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        merged = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError(f"Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
                         f"{type(parameter_and_buffer_dicts)}")
    return _functional_call(module, merged, args, kwargs, tie_weights=tie_weights, strict=strict)


def stack_module_state(models):
    """(params, buffers): each name's tensors from `models` stacked along a new first dimension; stacked
    parameters are new leaves that require grad where the originals do."""
    torch = _ops()
    models = list(models)
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    ref = type(models[0])
    if not all(type(m) is ref for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(named, key):
        ts = [named[i][key] for i in range(len(models))]
        s = torch.stack([t.detach() for t in ts])
        return s.requires_grad_(ts[0].requires_grad) if s.dtype.is_floating_point or s.dtype.is_complex else s

    params = [dict(m.named_parameters()) for m in models]
    buffers = [dict(m.named_buffers()) for m in models]
    return ({k: stacked(params, k) for k in params[0]}, {k: stacked(buffers, k) for k in buffers[0]})


def functionalize(func, *, remove="mutations"):
    """func itself: the package's ops already give functionalize's results (mutations are applied eagerly and are
    seen through every alias), so the transform changes nothing observable."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(f"functionalize(f, remove='mutations'): received invalid argument for remove={remove}. "
                           "Valid options are:\n     remove='mutations': all inplace and out= operators will be "
                           "removed from the program, and replaced with their out-of-place equivalents.\n     "
                           "remove='mutations_and_views': In addition to the above, all aliasing operators {view} "
                           "will be replaced with their non-aliasing counterparts, {view}_copy.\n")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)
    return wrapper


def replace_all_batch_norm_modules_(root):
    """Batch-norm modules of `root` stop tracking running statistics (in place), as vmap over them requires."""
    from ..nn.modules.batchnorm import _BatchNorm

    for m in root.modules():
        if isinstance(m, _BatchNorm):
            m.running_mean = None
            m.running_var = None
            m.num_batches_tracked = None
            m.track_running_stats = False
    return root


def debug_unwrap(tensor, *, recurse=True):
    """The tensor itself (no wrapper levels exist here)."""
    return tensor
