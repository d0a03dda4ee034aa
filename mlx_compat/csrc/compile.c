/* compile.c — the host-side helpers of mlx_compat.compile (_compile.py): writing a compiled call's outputs
 * back into the program's tensors in one C loop, and reading the version tags of the dicts a reused plan
 * read (Note [Plan reuse] in _compile.py). */
#include "core.h"

/* Note [Exact write-back]
 * A compiled call's outputs are the new values of the state tensors it wrote (parameters, .grads, optimizer
 * state). Tensor._write casts the array to the tensor's dtype and broadcasts it to its shape (two MLX calls)
 * before the write. _compile.py knows, from the trace, which outputs already have exactly their tensor's
 * dtype and shape: the value the trace ended with was a non-view tensor of the same dtype and shape as the
 * slot's tensor, and the plan's key holds the slot tensor's shape and dtype (Note [Plan reuse]). Those go
 * through `_compile_write`, which is tensor_write itself: a base tensor takes the array as its data, a view
 * (a Parameter aliasing its source, a view state tensor) writes it through to its base, and either way the
 * version counter is bumped as Tensor._write bumps it. Everything else (views written as their base's value,
 * .grads created or set to None) keeps the Python path. */

/* _compile_write(tensors, arrays, offset): for each i, tensors[i] takes arrays[offset + i] as its new value
 * (Note [Exact write-back]); a None in `tensors` is skipped. `tensors` and `arrays` are lists or tuples; the
 * arrays must have their tensor's shape and dtype (the caller's guarantee). Runs the in-place checks of
 * Tensor._write. Returns None (NEW); on an error the writes before it stand. */
PyObject *mod_compile_write(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    State *st = state_of_module(m);
    PyObject *tensors = NULL, *arrays = NULL;
    Py_ssize_t offset;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "_compile_write(tensors, arrays, offset)");
        return NULL;
    }
    offset = PyLong_AsSsize_t(args[2]);
    if (offset == -1 && PyErr_Occurred())
        return NULL;
    tensors = PySequence_Fast(args[0], "_compile_write: tensors must be a list or tuple");
    if (tensors == NULL)
        goto error;
    arrays = PySequence_Fast(args[1], "_compile_write: arrays must be a list or tuple");
    if (arrays == NULL)
        goto error;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(tensors);
    if (offset < 0 || offset + n > PySequence_Fast_GET_SIZE(arrays)) {
        PyErr_SetString(PyExc_IndexError, "_compile_write: fewer arrays than tensors");
        goto error;
    }
    PyObject **ts = PySequence_Fast_ITEMS(tensors), **as = PySequence_Fast_ITEMS(arrays) + offset;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = ts[i], *a = as[i]; /* BORROWED; the sequences hold them for the loop */
        if (t == Py_None)
            continue;
        if (!is_tensor(st, t)) {
            PyErr_Format(PyExc_TypeError, "_compile_write: expected a Tensor, got %.100s", Py_TYPE(t)->tp_name);
            goto error;
        }
        if (!PyObject_TypeCheck(a, (PyTypeObject *)st->array_type)) {
            PyErr_Format(PyExc_TypeError, "_compile_write: expected an mlx array, got %.100s", Py_TYPE(a)->tp_name);
            goto error;
        }
        if (tensor_check_inplace(st, (TensorObject *)t) < 0 || tensor_write(st, (TensorObject *)t, a) < 0)
            goto error;
    }
    Py_DECREF(tensors);
    Py_DECREF(arrays);
    Py_RETURN_NONE;
error:
    Py_XDECREF(tensors);
    Py_XDECREF(arrays);
    return NULL;
}

/* Note [Dict version tags]
 * CPython (3.11 and before) gives every dict a version tag that changes whenever the dict is modified (an
 * item added, removed or rebound to another object; rebinding to the same object leaves it), drawn from one
 * process-wide counter, so no two states of any dicts share a tag. A reused plan (Note [Plan reuse]) read
 * many dicts (every module's __dict__, its _parameters/_buffers/_modules and hook dicts, the optimizers'
 * __dict__ and state dicts); equal tags for the same dict objects mean nothing in them changed, which one
 * memcmp shows instead of an identity pass over their keys and values. From 3.12 the tag is deprecated
 * (PEP 699), so there `_compile_dict_versions` returns None and the plan keeps its identity pass. */

/* _compile_dict_versions(dicts): bytes holding the version tag of each dict of the tuple `dicts`, in order
 * (Note [Dict version tags]), or None where this CPython has no tags. Returns a NEW reference. */
PyObject *mod_compile_dict_versions(PyObject *m, PyObject *dicts)
{
#if PY_VERSION_HEX < 0x030C0000
    PyObject *out = NULL;
    if (!PyTuple_Check(dicts)) {
        PyErr_SetString(PyExc_TypeError, "_compile_dict_versions expects a tuple of dicts");
        goto error;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(dicts);
    out = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(uint64_t));
    if (out == NULL)
        goto error;
    uint64_t *tags = (uint64_t *)PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *d = PyTuple_GET_ITEM(dicts, i);
        if (!PyDict_Check(d)) {
            PyErr_Format(PyExc_TypeError, "_compile_dict_versions: expected a dict, got %.100s", Py_TYPE(d)->tp_name);
            goto error;
        }
        tags[i] = ((PyDictObject *)d)->ma_version_tag;
    }
    return out;
error:
    Py_XDECREF(out);
    return NULL;
#else
    (void)m;
    (void)dicts;
    Py_RETURN_NONE;
#endif
}
