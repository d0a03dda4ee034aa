"""functional_call: run a module with some of its parameters and buffers replaced by given tensors (swapped in
for the call, restored after), tied weights following one another (torch.nn.utils.stateless and
torch.func.functional_call)."""
import contextlib
import warnings

from ..._tensor import Tensor

__all__ = ["functional_call"]

_MISSING = object()


def _split(module, name):
    """(submodule owning dotted `name`, attribute name)."""
    prefix, _, attr = name.rpartition(".")
    return (module.get_submodule(prefix) if prefix else module), attr


def _swap_tensor(module, name, tensor):
    """Put `tensor` (or _MISSING: delete) at `name` on `module`, bypassing Parameter checks as torch does;
    return what was there (or _MISSING)."""
    if name in module._parameters:
        orig = module._parameters[name]
    elif name in module._buffers:
        orig = module._buffers[name]
    elif hasattr(module, name):
        orig = getattr(module, name)
    else:
        orig = _MISSING
    if orig is not _MISSING and orig is not None and not isinstance(orig, Tensor):
        raise TypeError(f"attribute `{name}`: {orig} is not an instance of torch.Tensor")
    if tensor is _MISSING:
        if hasattr(module, name):
            delattr(module, name)
    elif name in module._parameters:
        module._parameters[name] = tensor
    elif name in module._buffers:
        module._buffers[name] = tensor
    else:
        setattr(module, name, tensor)
    return orig


def _check_keys(module, keys):
    own = {k for k, _ in module.named_parameters(remove_duplicate=False)}
    own |= {k for k, _ in module.named_buffers(remove_duplicate=False)}
    keys = set(keys)
    return sorted(own - keys), sorted(keys - own)


def _untie_named_tensors_map(module, parameters_and_buffers):
    all_named_tensors = {}
    all_named_tensors.update(module.named_parameters(remove_duplicate=False))
    all_named_tensors.update(module.named_buffers(remove_duplicate=False))
    tensor_to_tied_names = {}
    for name, tensor in all_named_tensors.items():
        tensor_to_tied_names.setdefault(id(tensor), set()).add(name)
    tied_names_map = {}
    for tied_names in tensor_to_tied_names.values():
        if len(tied_names) > 1:
            for tied_name in tied_names:
                tied_names_map[tied_name] = tied_names
    given_names = set(parameters_and_buffers.keys())
    given_for_tied = {name for name in given_names if name in tied_names_map}
    for given_name in given_for_tied:
        tied_names = tied_names_map[given_name]
        if len(tied_names & given_for_tied) > 1 and \
                len({id(parameters_and_buffers[n]) for n in tied_names if n in parameters_and_buffers}) != 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(tied_names)}, which are tied. "
                             "Consider using tie_weights=False")
    untied = dict(parameters_and_buffers)
    for given_name in given_for_tied:
        for tied_name in tied_names_map[given_name]:
            untied[tied_name] = parameters_and_buffers[given_name]
    return untied


@contextlib.contextmanager
def _reparametrize_module(module, parameters_and_buffers, tie_weights=False, strict=False):
    untied = _untie_named_tensors_map(module, parameters_and_buffers) if tie_weights else parameters_and_buffers
    if strict:
        missing_keys, unexpected_keys = _check_keys(module, untied.keys())
        error_msgs = []
        if len(unexpected_keys) > 0:
            error_msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected_keys))}.")
        if len(missing_keys) > 0:
            error_msgs.append(f"Missing key(s): {', '.join(map(repr, missing_keys))}.")
        if len(error_msgs) > 0:
            raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(module._get_name(),
                                                                                 "\n\t".join(error_msgs)))
    originals = {}
    try:
        for name, tensor in untied.items():
            owner, attr = _split(module, name)
            originals[name] = _swap_tensor(owner, attr, tensor)
        yield
    finally:
        for name, orig in reversed(list(originals.items())):
            owner, attr = _split(module, name)
            _swap_tensor(owner, attr, orig)


def _functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True, strict=False):
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize_module(module, parameters_and_buffers, tie_weights=tie_weights, strict=strict):
        return module(*args, **kwargs)


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """module(*args, **kwargs) with the named parameters/buffers replaced for the call (deprecated spelling of
    torch.func.functional_call)."""
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be removed in "
                  "a future version of PyTorch. Please use `torch.func.functional_call` instead which is a drop-in "
                  "replacement.", FutureWarning, stacklevel=2)
    return _functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)


def func_functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True,
                         strict=False):
    """torch.func.functional_call: like the above, also taking a sequence of dicts (merged; a key in two of
    them is an error)."""
    if isinstance(parameter_and_buffer_dicts, dict):
        parameters_and_buffers = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, (list, tuple)):
        all_keys = [k for d in parameter_and_buffer_dicts for k in d.keys()]
        all_keys_counter = {}
        for k in all_keys:
            all_keys_counter[k] = all_keys_counter.get(k, 0) + 1
        repeated_keys = [key for key, n in all_keys_counter.items() if n > 1]
        if len(repeated_keys) > 0:
            raise ValueError(f"{repeated_keys} appeared in multiple dictionaries; behavior of functional call is "
                             "ambiguous")
        parameters_and_buffers = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError(f"Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
                         f"{type(parameter_and_buffer_dicts)}")
    return _functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)
