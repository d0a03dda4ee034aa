/* compile.c — the host-side helpers of mlx_compat.compile (_compile.py): writing a compiled call's outputs
 * back into the program's tensors in one C loop, and reading the version tags of the dicts a reused plan
 * read (Note [Plan reuse] in _compile.py). */
#include "core.h"
#include <math.h>

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
 * memcmp shows instead of an identity pass over their keys and values. PEP 699 deprecated the field in 3.12,
 * but 3.12 and 3.13 still assign it from that counter on every modification (their dict watchers keep the low
 * bits, which only ever change with the tag), so there it is read with the deprecation warning silenced; 3.14
 * removed it, so from 3.14 `_compile_dict_versions` returns None and the plan keeps its identity pass (and the
 * call program its snapshots, Note [Dict snapshots]). tests/test_compile*.py cover every change kind on each
 * Python the suite runs on (CI: 3.11; the GPU machine: 3.12), and test_compile_no_dict_tags.py the tag-less path. */

#define HAVE_DICT_TAGS (PY_VERSION_HEX < 0x030E0000)

#if HAVE_DICT_TAGS
/* The version tag of dict `d` (Note [Dict version tags]). */
static inline uint64_t dict_tag(PyObject *d)
{
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
    return ((PyDictObject *)d)->ma_version_tag;
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
}
#endif

/* _compile_dict_versions(dicts): bytes holding the version tag of each dict of the tuple `dicts`, in order
 * (Note [Dict version tags]), or None where this CPython has no tags. Returns a NEW reference. */
PyObject *mod_compile_dict_versions(PyObject *m, PyObject *dicts)
{
#if HAVE_DICT_TAGS
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
        tags[i] = dict_tag(d);
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

/* Note [Compiled call program]
 * A compiled function called again on the same plan and entry (Note [Plan reuse], Note [Host scalars] in
 * _compile.py) does the same host work every call: check that nothing the plan read changed, compute the host
 * scalars, gather the input arrays, call the mx.compile'd function, rebind the outputs to the real tensors and
 * evaluate once (asynchronously, the host writes and the next call's host scalars made meanwhile: Note [Host
 * scalars ahead]). _compile.py describes that work once per (plan, entry) as a "call program", a tuple (the P_*
 * indices below), and `_compile_call(prog, args)` runs it in one C function. Everything it checks is what
 * `_Reach.still_valid` and `_Plan.reuse` check, in the same order of cost; when any check fails it returns
 * NotImplemented before any side effect, and the caller takes the Python path (which re-plans and builds a new
 * program). Only what cannot be a C-level comparison is Python: the host scalars' sources, guards and arrays
 * (P_PRE, returns None when a guard fails, before any side effect), the host writes and scheduler steps
 * (P_POST), the group checks identity cannot make (P_EXTRA), the facts the graph assumes of the arguments'
 * values (P_ARGCHECK, Note [Argument facts] in _compile.py) and a groups' identity pass when a group dict's tag
 * moved (P_GCHECK, Note [Dict version tags]; a scheduler rebinding lr every step moves it every call); where
 * CPython has no tags, P_VTAGS and P_GTAGS hold the dicts' snapshots instead (Note [Dict snapshots]). A program
 * is built only for an entry whose write-back is all exact (Note [Exact write-back]) but for .grads it leaves None
 * that the checks find None (no write at all), that creates no state and needs no autograd, called with
 * positional tensor arguments only; anything else keeps the Python path. The program holds strong references to
 * everything it compares by identity, so a freed object's id cannot pass for it. The derived inputs (P_DERIVED,
 * Note [Derived inputs in C]) are the one thing it compares through weak references. */
enum {
    P_MODDICT, P_REACH, P_EPOCH_FN, P_EPOCH, P_GRAD, P_ARGSPECS, P_STATE_IDS, P_VDICTS, P_VTAGS, P_GDICTS, P_GTAGS,
    P_GCHECK, P_LISTS, P_LENS, P_LISTOBJS, P_PARAMS, P_GRADS, P_RGT, P_RGV, P_EXTRA, P_PRE, P_FN, P_SLOTS,
    P_PLACEHOLDER, P_GENS, P_NOUT, P_EXACT, P_DEV, P_POST, P_SPEC, P_S_KEY, P_S_TRACE, P_MISSING, P_HOST,
    P_DERIVED, P_DCACHE, P_ARGCHECK, P_COUNT
};

/* Note [Inputs released before evaluation]
 * A call program drops its lists of input arrays (arguments, slot arrays, keys, host scalars, derived inputs)
 * after the write-back and before the one evaluation. The state tensors then hold the new arrays, so an old
 * parameter or optimizer-state array that nothing else holds is referenced by the compiled graph alone, and MLX
 * may donate its buffer to the output computed from it (an in-place update) instead of allocating a new one.
 * Native MLX's compiled step gets the same: its state trees are rebound before evaluation. Measured on the CPU,
 * a compiled 2-layer GPT-2 (d256, vocab 4096) AdamW step: peak memory 54.8 -> 43.8 MiB (native 45.8). */

/* Note [Derived inputs in C]
 * A compiled inference call of a convolutional model takes one derived input per convolution weight and two per
 * eval batch norm (Note [Derived inputs] in _compile.py), each fn(slot arrays) through nn/_layout.py's caches: a
 * ResNet-18 call made 57 such Python calls. P_DERIVED, when not None, is the entry's requests as a tuple of
 * (slot indices, fn), and the list P_DCACHE keeps per request the weak references (sources..., value) of its
 * last computation. While every source weak reference still gives the array the slot holds now and the value
 * is alive, the value is fn's for these very arrays (fn is a pure function of them, and a live weak referent
 * is never a reused address), so it is taken without calling fn; any write to a source (an optimizer step,
 * load_state_dict, `w.data.mul_`) gives the slot another array, and fn runs again. Weak references only: the
 * program keeps no old weight, nor its form, alive after a write; the value lives as long as fn's own cache
 * keeps it (weight_last's and cached_form's: while the source array lives), and a fn that caches nothing
 * simply runs at every call, as on the Python path. */
enum { D_SLOTS, D_FN, D_COUNT };

/* Note [Host scalars in C]
 * The host scalar work of a call program (Note [Host scalars] in _compile.py) in its common cases runs here
 * instead of through P_PRE and P_POST: P_HOST, when not None, is a tuple (the H_* indices) that _compile.py builds
 * only for an entry alone in its cache list, whose sources are all of the four kinds below, and (for the host
 * writes) whose host-written tensors are exact (Note [Exact write-back]) with no scheduler steps. Each source is
 * (kind, owner, key): 0 a scalar state tensor's host copy (`_item`: only while `_host_values` holds the array the
 * tensor still holds), 1/2 the group dict's item `key` (`_group_lr`, `operator.getitem`), 3 the `key`th of the
 * group's "betas" tuple; a value must be an exact float or int (bool) that a double holds exactly. The guards and
 * the expressions stay the trace's generated Python evaluators (one call each). The 0-d scalar arrays are made as
 * `_scalar_vecs` makes them (mx.array(float(x), dtype)), equal nonzero values of one dtype sharing one array, and
 * each position keeps its last (value, array) in H_CACHE, so an unchanged lr or beta is not rebuilt. The host
 * writes are `_write_host`'s: mx.array(v, float32), equal nonzero values sharing one, written by tensor_write and
 * remembered in `_host_values` (a tensor not yet remembered goes through `_remember_host_value`, which makes its
 * weak reference). On any doubt (another value type, an entry list that grew, a stale host copy, a guard that no
 * longer holds, a float32 overflow) the C part steps aside before any side effect and the Python callback
 * (P_PRE / P_POST) does the work, so the answers are the Python path's. H_NEXT is a list holding the next call's
 * predicted (source values, arrays) (Note [Host scalars ahead]). */
enum {
    H_ENTRIES, H_ENTRY, H_SOURCES, H_HOST_VALUES, H_GUARD_FN, H_GUARD_RESULTS, H_SCALAR_FN, H_LAYOUT, H_CACHE,
    H_WRITE_FN, H_WRITES, H_F32, H_KWNAMES, H_REMEMBER, H_NEXT, H_COUNT
};

/* Whether the dicts of tuple `dicts` still have the version tags `tags` (bytes-like, Note [Dict version tags]);
 * 1 / 0 (always 0 where CPython has no tags: there the program holds snapshots, Note [Dict snapshots]). */
static int dict_tags_equal(PyObject *dicts, const char *tags, Py_ssize_t len)
{
#if HAVE_DICT_TAGS
    Py_ssize_t n = PyTuple_GET_SIZE(dicts);
    if (len != n * (Py_ssize_t)sizeof(uint64_t))
        return 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint64_t v;
        memcpy(&v, tags + i * sizeof(uint64_t), sizeof v);
        if (dict_tag(PyTuple_GET_ITEM(dicts, i)) != v)
            return 0;
    }
    return 1;
#else
    (void)dicts;
    (void)tags;
    (void)len;
    return 0;
#endif
}

/* Note [Dict snapshots]
 * Where CPython has no dict version tags (3.14 on, Note [Dict version tags]), a plan's
 * dicts are checked by a snapshot instead: `_Plan` keeps, per dict of P_VDICTS, the tuple of its items flattened
 * (key, value, key, value, ...) as it read them, when it read everything else, and `dict_items_same` finds every
 * dict with as many items, the identical keys and values in the same (insertion) order. That is what an unchanged
 * version tag says (no item added, removed or rebound to another object), by identity, as the Python path's
 * identity pass (`_Plan._unchanged`) compares; a dict that changed and changed back to the same objects passes
 * both. It runs no Python and holds the snapshot's objects, so a freed object's address cannot pass for it. */

/* Whether each dict of tuple `dicts` holds exactly the items of its snapshot, the tuple of the same index of `snaps`
 * (Note [Dict snapshots]): 1 / 0. Never an exception. */
static int dict_items_same(PyObject *dicts, PyObject *snaps)
{
    Py_ssize_t n = PyTuple_GET_SIZE(dicts);
    if (PyTuple_GET_SIZE(snaps) != n)
        return 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *d = PyTuple_GET_ITEM(dicts, i), *snap = PyTuple_GET_ITEM(snaps, i), *k, *v; /* BORROWED */
        if (!PyDict_Check(d) || !PyTuple_Check(snap) || PyTuple_GET_SIZE(snap) != 2 * PyDict_GET_SIZE(d))
            return 0;
        Py_ssize_t pos = 0, j = 0;
        while (PyDict_Next(d, &pos, &k, &v)) {
            if (j + 1 >= PyTuple_GET_SIZE(snap) || PyTuple_GET_ITEM(snap, j) != k || PyTuple_GET_ITEM(snap, j + 1) != v)
                return 0;
            j += 2;
        }
    }
    return 1;
}

/* Whether every read of a reach walk gives the same object now (`_Reach.still_valid`): `checks` is a tuple of
 * (kind, owner, name, value), kind 0 a dict item (`missing` standing for an absent key), 1 a closure cell's
 * contents, 2 an attribute. 1 / 0 / -1. */
static int reach_still_valid(PyObject *checks, PyObject *missing)
{
    Py_ssize_t n = PyTuple_GET_SIZE(checks);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *c = PyTuple_GET_ITEM(checks, i); /* BORROWED */
        if (!PyTuple_Check(c) || PyTuple_GET_SIZE(c) != 4)
            return 0;
        long kind = PyLong_AsLong(PyTuple_GET_ITEM(c, 0));
        PyObject *owner = PyTuple_GET_ITEM(c, 1), *name = PyTuple_GET_ITEM(c, 2), *value = PyTuple_GET_ITEM(c, 3);
        if (kind == -1 && PyErr_Occurred())
            return -1;
        if (kind == 0) {
            if (!PyDict_Check(owner))
                return 0;
            PyObject *v = PyDict_GetItemWithError(owner, name); /* BORROWED; NULL: missing */
            if (v == NULL && PyErr_Occurred())
                return -1;
            if ((v == NULL ? missing : v) != value)
                return 0;
        } else if (kind == 1) {
            if (!PyCell_Check(owner) || PyCell_GET(owner) != value)
                return 0;
        } else {
            PyObject *v = PyObject_GetAttr(owner, name); /* NEW; may run Python: nothing borrowed is held but
                                                           * `checks`' items, which the caller's program holds */
            if (v == NULL) {
                if (!PyErr_ExceptionMatches(PyExc_AttributeError))
                    return -1;
                PyErr_Clear();
                return value == missing;
            }
            int same = v == value;
            Py_DECREF(v);
            if (!same)
                return 0;
        }
    }
    return 1;
}

/* Whether tensor t matches the key of an argument: spec = (dtype object, requires_grad, device code, shape
 * tuple), what `_spec` gives (Note [Plan reuse]). 1 / 0 / -1. */
static int arg_matches(State *st, TensorObject *t, PyObject *spec)
{
    if (!PyTuple_Check(spec) || PyTuple_GET_SIZE(spec) != 4 || !PyTuple_Check(PyTuple_GET_ITEM(spec, 3)))
        return 0;
    if (t->dtype < 0 || t->dtype >= DT_COUNT || st->dtype[t->dtype] != PyTuple_GET_ITEM(spec, 0))
        return 0;
    if ((t->requires_grad || tensor_grad_fn(t) != NULL) != (PyTuple_GET_ITEM(spec, 1) == Py_True))
        return 0;
    long dev = PyLong_AsLong(PyTuple_GET_ITEM(spec, 2));
    if (dev == -1 && PyErr_Occurred())
        return -1;
    if (t->device != dev)
        return 0;
    if (t->sizes == NULL && tensor_ensure_sizes(st, t) < 0)
        return -1;
    PyObject *shape = PyTuple_GET_ITEM(spec, 3);
    if (PyTuple_GET_SIZE(shape) != t->ndim)
        return 0;
    for (int k = 0; k < t->ndim; k++) {
        Py_ssize_t v = PyLong_AsSsize_t(PyTuple_GET_ITEM(shape, k));
        if (v == -1 && PyErr_Occurred())
            return -1;
        if (v != t->sizes[k])
            return 0;
    }
    return 1;
}

/* Whether nothing the plan read changed (Note [Plan reuse]) by the program's C-level checks: the reach walk,
 * the meta epoch, the dicts' version tags, the lists' items, the .grads and requires_grad flags. 1 / 0 / -1. */
static int program_unchanged(State *st, PyObject *prog)
{
#define P(i) PyTuple_GET_ITEM(prog, i)
    PyObject *epoch = PyObject_CallNoArgs(P(P_EPOCH_FN)); /* NEW */
    if (epoch == NULL)
        return -1;
    int same = PyObject_RichCompareBool(epoch, P(P_EPOCH), Py_EQ);
    Py_DECREF(epoch);
    if (same <= 0)
        return same;
    PyObject *vtags = P(P_VTAGS); /* the tags (bytes), or where CPython has none the snapshots (a tuple) */
    if (!(PyBytes_Check(vtags) || PyTuple_Check(vtags)) || !PyTuple_Check(P(P_VDICTS)) || !PyTuple_Check(P(P_REACH)))
        return 0;
    same = reach_still_valid(P(P_REACH), P(P_MISSING));
    if (same <= 0)
        return same;
    if (PyBytes_Check(vtags) ? !dict_tags_equal(P(P_VDICTS), PyBytes_AS_STRING(vtags), PyBytes_GET_SIZE(vtags))
                             : !dict_items_same(P(P_VDICTS), vtags)) /* Note [Dict snapshots] */
        return 0;
    PyObject *lists = P(P_LISTS), *lens = P(P_LENS), *objs = P(P_LISTOBJS);
    if (!PyTuple_Check(lists) || !PyTuple_Check(lens) || !PyTuple_Check(objs) ||
        PyTuple_GET_SIZE(lens) != PyTuple_GET_SIZE(lists))
        return 0;
    Py_ssize_t pos = 0, nobjs = PyTuple_GET_SIZE(objs);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(lists); i++) {
        PyObject *l = PyTuple_GET_ITEM(lists, i);
        if (!PyList_Check(l))
            return 0;
        Py_ssize_t n = PyList_GET_SIZE(l), want = PyLong_AsSsize_t(PyTuple_GET_ITEM(lens, i));
        if (want == -1 && PyErr_Occurred())
            return -1;
        if (n != want || pos + n > nobjs)
            return 0;
        for (Py_ssize_t k = 0; k < n; k++)
            if (PyList_GET_ITEM(l, k) != PyTuple_GET_ITEM(objs, pos + k))
                return 0;
        pos += n;
    }
    PyObject *params = P(P_PARAMS), *grads = P(P_GRADS);
    if (!PyTuple_Check(params) || !PyTuple_Check(grads) || PyTuple_GET_SIZE(params) != PyTuple_GET_SIZE(grads))
        return 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(params); i++) {
        PyObject *p = PyTuple_GET_ITEM(params, i);
        if (!is_tensor(st, p))
            return 0;
        PyObject *g = ((TensorObject *)p)->grad;
        if ((g ? g : Py_None) != PyTuple_GET_ITEM(grads, i))
            return 0;
    }
    PyObject *rgt = P(P_RGT), *rgv = P(P_RGV);
    if (!PyTuple_Check(rgt) || !PyTuple_Check(rgv) || PyTuple_GET_SIZE(rgt) != PyTuple_GET_SIZE(rgv))
        return 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(rgt); i++) {
        PyObject *o = PyTuple_GET_ITEM(rgt, i);
        if (!is_tensor(st, o))
            return 0;
        TensorObject *t = (TensorObject *)o;
        if ((t->requires_grad || tensor_grad_fn(t) != NULL) != (PyTuple_GET_ITEM(rgv, i) == Py_True))
            return 0;
    }
    return 1;
#undef P
}

/* NEW tuple: the snapshot of each dict of tuple `dicts` (Note [Dict snapshots]), as _Plan makes them. */
static PyObject *dict_snapshots(PyObject *dicts)
{
    Py_ssize_t n = PyTuple_GET_SIZE(dicts);
    PyObject *out = PyTuple_New(n);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *d = PyTuple_GET_ITEM(dicts, i), *k, *v; /* BORROWED */
        if (!PyDict_Check(d)) {
            PyErr_SetString(PyExc_TypeError, "_compile_call: a plan's dict is no dict");
            goto error;
        }
        PyObject *snap = PyTuple_New(2 * PyDict_GET_SIZE(d)); /* NEW, given to out at once */
        if (snap == NULL)
            goto error;
        PyTuple_SET_ITEM(out, i, snap);
        Py_ssize_t pos = 0, j = 0;
        while (PyDict_Next(d, &pos, &k, &v) && j + 1 < PyTuple_GET_SIZE(snap)) { /* no Python runs in between */
            PyTuple_SET_ITEM(snap, j, Py_NewRef(k));
            PyTuple_SET_ITEM(snap, j + 1, Py_NewRef(v));
            j += 2;
        }
    }
    return out;
error:
    Py_DECREF(out);
    return NULL;
}

/* Whether the param groups are unchanged (Note [Plan reuse]): their dicts' tags as the program last saw them,
 * else the Python identity pass P_GCHECK, after which the bytearray P_GTAGS takes the tags afresh (a scheduler
 * rebinds lr every step). Where CPython has no tags, P_GTAGS is a list holding the groups' snapshots, compared
 * and taken afresh alike (Note [Dict snapshots]). 1 / 0 / -1. */
static int groups_unchanged(PyObject *prog)
{
#define P(i) PyTuple_GET_ITEM(prog, i)
    PyObject *gdicts = P(P_GDICTS), *gtags = P(P_GTAGS);
    int snaps = PyList_Check(gtags);
    if (!PyTuple_Check(gdicts) || !(PyByteArray_Check(gtags) || snaps))
        return 0;
    if (snaps) {
        if (PyList_GET_SIZE(gtags) != 1 || !PyTuple_Check(PyList_GET_ITEM(gtags, 0)))
            return 0;
        if (dict_items_same(gdicts, PyList_GET_ITEM(gtags, 0)))
            return 1;
    } else if (dict_tags_equal(gdicts, PyByteArray_AS_STRING(gtags), PyByteArray_GET_SIZE(gtags)))
        return 1;
    PyObject *ok = PyObject_CallNoArgs(P(P_GCHECK)); /* NEW */
    if (ok == NULL)
        return -1;
    int same = PyObject_IsTrue(ok);
    Py_DECREF(ok);
    if (same <= 0)
        return same;
    if (snaps) {
        PyObject *now = dict_snapshots(gdicts); /* NEW */
        if (now == NULL || PyList_SetItem(gtags, 0, now) < 0) /* steals now */
            return -1;
        return 1;
    }
    PyObject *now = mod_compile_dict_versions(NULL, gdicts); /* NEW bytes (or None without tags) */
    if (now == NULL)
        return -1;
    if (PyBytes_Check(now) && PyBytes_GET_SIZE(now) == PyByteArray_GET_SIZE(gtags))
        memcpy(PyByteArray_AS_STRING(gtags), PyBytes_AS_STRING(now), (size_t)PyBytes_GET_SIZE(now));
    Py_DECREF(now);
    return 1;
#undef P
}

/* Whether v is a host value the C part takes (Note [Host scalars in C]): an exact float, or an int (bool) that a
 * double holds exactly, stored in *d. 1 / 0 (never an exception). */
static int host_number(PyObject *v, double *d)
{
    if (PyFloat_CheckExact(v)) {
        *d = PyFloat_AS_DOUBLE(v);
        return 1;
    }
    if (PyLong_CheckExact(v) || PyBool_Check(v)) {
        int overflow;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (x == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        if (overflow || x > (1LL << 53) || x < -(1LL << 53))
            return 0;
        *d = (double)x;
        return 1;
    }
    return 0;
}

/* The value of host source `src` = (kind, owner, key) now (Note [Host scalars in C]): NEW, or NULL: with an
 * exception an error, without one a doubt (the Python callback reads it). */
static PyObject *host_source(State *st, PyObject *src, PyObject *host_values)
{
    double d;
    if (!PyTuple_Check(src) || PyTuple_GET_SIZE(src) != 3 || !PyLong_CheckExact(PyTuple_GET_ITEM(src, 0)))
        return NULL;
    long kind = PyLong_AsLong(PyTuple_GET_ITEM(src, 0));
    PyObject *owner = PyTuple_GET_ITEM(src, 1), *key = PyTuple_GET_ITEM(src, 2), *v = NULL; /* BORROWED */
    if (kind == 0) { /* `_item`: the host copy, while the tensor holds the array it was made for */
        if (!is_tensor(st, owner) || !PyDict_Check(host_values))
            return NULL;
        PyObject *id = PyLong_FromVoidPtr(owner); /* NEW */
        if (id == NULL)
            return NULL;
        PyObject *hv = PyDict_GetItemWithError(host_values, id); /* BORROWED */
        Py_DECREF(id);
        if (hv == NULL || !PyTuple_Check(hv) || PyTuple_GET_SIZE(hv) != 3 || !PyWeakref_Check(PyTuple_GET_ITEM(hv, 0)))
            return NULL;
        if (PyWeakref_GetObject(PyTuple_GET_ITEM(hv, 0)) != owner)
            return NULL;
        PyObject *now = tensor_value(st, (TensorObject *)owner); /* BORROWED */
        if (now == NULL)
            return NULL;
        if (now != PyTuple_GET_ITEM(hv, 1))
            return NULL;
        v = PyTuple_GET_ITEM(hv, 2);
    } else if (kind == 1 || kind == 2 || kind == 3) { /* a group's item, or the key'th of its betas */
        if (!PyDict_Check(owner))
            return NULL;
        if (kind == 3 && (!PyTuple_Check(key) || PyTuple_GET_SIZE(key) != 2))
            return NULL;
        v = PyDict_GetItemWithError(owner, kind == 3 ? PyTuple_GET_ITEM(key, 0) : key);
        if (v == NULL)
            return NULL;
        if (kind == 3) {
            Py_ssize_t i = PyLong_AsSsize_t(PyTuple_GET_ITEM(key, 1));
            if (i == -1 && PyErr_Occurred())
                return NULL;
            if (!PyTuple_CheckExact(v) || i < 0 || i >= PyTuple_GET_SIZE(v))
                return NULL;
            v = PyTuple_GET_ITEM(v, i);
        }
    } else
        return NULL;
    if (!host_number(v, &d))
        return NULL;
    return Py_NewRef(v);
}

/* NEW 0-d array mx.array(d, dtype=dt) (`kwnames`: the tuple ("dtype",)). */
static PyObject *host_array(State *st, double d, PyObject *dt, PyObject *kwnames)
{
    PyObject *args[2] = {PyFloat_FromDouble(d), dt};
    if (args[0] == NULL)
        return NULL;
    PyObject *a = PyObject_Vectorcall(st->array_type, args, 1, kwnames);
    Py_DECREF(args[0]);
    return a;
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* The array of H_CACHE entry `e` = (value, array) if its value is d (BORROWED), else NULL. */
static PyObject *cached_array(PyObject *e, double d)
{
    if (!PyTuple_Check(e) || PyTuple_GET_SIZE(e) != 2 || !PyFloat_CheckExact(PyTuple_GET_ITEM(e, 0)))
        return NULL;
    return same_bits(PyFloat_AS_DOUBLE(PyTuple_GET_ITEM(e, 0)), d) ? PyTuple_GET_ITEM(e, 1) : NULL;
}

/* Note [Host scalars ahead]
 * On the CPU a call program's evaluation is asynchronous: it schedules the step (mx.async_eval: MLX's CPU stream
 * runs it on its own thread), does the host work that needs no result meanwhile, and then waits (mx.eval of the
 * same arrays, which only waits on scheduled arrays). That work is the host writes (Note [Host scalars in C]) and
 * the next call's host scalars: host_pre run for the sources as this call's writes left them (Adam's step counts
 * one higher, lr and betas as they are), its (source values, arrays) kept in H_NEXT. The next call reads its
 * sources as always, and when they are the same values (the same objects, or numbers of the same bits) it takes
 * the kept arrays without calling the guard and scalar evaluators or making arrays: both are pure functions of
 * the source values (Note [Host scalars]), so they would give the same answers. Anything else (an lr set between
 * calls, a scheduler, betas rebound, a step count written from outside) gives other values, and the call computes
 * its own; H_NEXT holds at most one prediction and every call empties it. An error while predicting is dropped
 * (the call that needs those values raises it itself); an interrupt is not.
 * On MLX's CUDA backend the same order gained nothing (an H100, the MLP Adam step, 1.14-1.18x native's time
 * either way): the evaluation's own host work (encoding and launching every kernel) runs on the calling thread
 * inside mx.async_eval, so there is no device time left to hide the host work in; a GPU call program evaluates
 * synchronously, its host writes after the wait, and predicts nothing. On this 2-core CPU the compiled MLP Adam
 * step went from 0.954x to 0.934x and from 1.018x to 1.002x native MLX's time (two runs, alternated). */

/* Whether the source values of lists a and b are the same: the same objects, or floats of the same bits, or equal
 * ints (host_number's kinds). 1 / 0, never an exception. */
static int same_values(PyObject *a, PyObject *b)
{
    if (!PyList_Check(a) || !PyList_Check(b) || PyList_GET_SIZE(a) != PyList_GET_SIZE(b))
        return 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(a); i++) {
        PyObject *x = PyList_GET_ITEM(a, i), *y = PyList_GET_ITEM(b, i);
        double dx, dy;
        if (x == y)
            continue;
        if (Py_TYPE(x) != Py_TYPE(y) || !host_number(x, &dx) || !host_number(y, &dy) || !same_bits(dx, dy))
            return 0;
    }
    return 1;
}

/* Whether a program's Python check holds: fn() (arg NULL) or fn(arg) is true; 1 also where fn is None. 1 / 0 /
 * -1 (an exception). */
static int check_holds(PyObject *fn, PyObject *arg)
{
    if (fn == Py_None)
        return 1;
    PyObject *r = arg == NULL ? PyObject_CallNoArgs(fn) : PyObject_CallOneArg(fn, arg); /* NEW */
    if (r == NULL)
        return -1;
    int ok = PyObject_IsTrue(r);
    Py_DECREF(r);
    return ok;
}

/* The host scalar part of a call before the call (Note [Host scalars in C]): *pre becomes (source values,
 * host scalar arrays per dtype) (NEW), as P_PRE gives it. 1 done / 0 a doubt (*pre NULL, nothing done that the
 * Python callback would not redo) / -1 an error. */
static int host_pre(State *st, PyObject *hp, PyObject **pre)
{
#define H(i) PyTuple_GET_ITEM(hp, i)
    PyObject *vals = NULL, *g = NULL, *exprs = NULL, *vecs = NULL;
    int rc = 0;
    *pre = NULL;
    PyObject *entries = H(H_ENTRIES), *sources = H(H_SOURCES), *layout = H(H_LAYOUT), *cache = H(H_CACHE);
    if (!PyList_Check(entries) || PyList_GET_SIZE(entries) != 1 || PyList_GET_ITEM(entries, 0) != H(H_ENTRY) ||
        !PyTuple_Check(sources) || !PyTuple_Check(layout) || !PyList_Check(cache) || !PyTuple_Check(H(H_KWNAMES)) ||
        PyTuple_GET_SIZE(H(H_KWNAMES)) != 1 || !PyUnicode_Check(PyTuple_GET_ITEM(H(H_KWNAMES), 0)))
        return 0;
    Py_ssize_t n_src = PyTuple_GET_SIZE(sources);
    if ((vals = PyList_New(n_src)) == NULL)
        goto error;
    for (Py_ssize_t i = 0; i < n_src; i++) {
        PyObject *v = host_source(st, PyTuple_GET_ITEM(sources, i), H(H_HOST_VALUES)); /* NEW */
        if (v == NULL)
            goto doubt;
        PyList_SET_ITEM(vals, i, v);
    }
    if (PyList_Check(H(H_NEXT)) && PyList_GET_SIZE(H(H_NEXT)) == 1) { /* Note [Host scalars ahead] */
        PyObject *next = PyList_GET_ITEM(H(H_NEXT), 0); /* BORROWED */
        int same = PyTuple_Check(next) && PyTuple_GET_SIZE(next) == 2 && same_values(vals, PyTuple_GET_ITEM(next, 0));
        if (same)
            *pre = Py_NewRef(next);
        if (PyList_SetSlice(H(H_NEXT), 0, 1, NULL) < 0)
            goto error;
        if (same) {
            rc = 1;
            goto doubt;
        }
    }
    if (H(H_GUARD_FN) != Py_None) {
        if ((g = PyObject_CallOneArg(H(H_GUARD_FN), vals)) == NULL)
            goto error;
        int same = PyObject_RichCompareBool(g, H(H_GUARD_RESULTS), Py_EQ);
        if (same < 0)
            goto error;
        if (!same)
            goto doubt;
    }
    if ((vecs = PyList_New(PyTuple_GET_SIZE(layout))) == NULL)
        goto error;
    if (PyTuple_GET_SIZE(layout) > 0) {
        if ((exprs = PyObject_CallOneArg(H(H_SCALAR_FN), vals)) == NULL)
            goto error;
        if (!PyTuple_Check(exprs) || PyTuple_GET_SIZE(exprs) != PyList_GET_SIZE(cache))
            goto doubt;
    }
    Py_ssize_t pos = 0;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(layout); k++) {
        PyObject *l = PyTuple_GET_ITEM(layout, k);
        if (!PyTuple_Check(l) || PyTuple_GET_SIZE(l) != 2)
            goto doubt;
        PyObject *dt = PyTuple_GET_ITEM(l, 0);
        Py_ssize_t n = PyLong_AsSsize_t(PyTuple_GET_ITEM(l, 1));
        if (n == -1 && PyErr_Occurred())
            goto error;
        if (n < 0 || pos + n > PyTuple_GET_SIZE(exprs))
            goto doubt;
        PyObject *arrays = PyList_New(n); /* NEW, given to vecs at once */
        if (arrays == NULL)
            goto error;
        PyList_SET_ITEM(vecs, k, arrays);
        for (Py_ssize_t j = 0; j < n; j++) {
            double d;
            PyObject *a = NULL; /* BORROWED until stored */
            if (!host_number(PyTuple_GET_ITEM(exprs, pos + j), &d))
                goto doubt;
            if (d != 0) /* equal nonzero values of one dtype share one array, also with the last call */
                for (Py_ssize_t q = 0; q <= j && a == NULL; q++)
                    a = cached_array(PyList_GET_ITEM(cache, pos + q), d);
            if (a != NULL)
                Py_INCREF(a);
            else if ((a = host_array(st, d, dt, H(H_KWNAMES))) == NULL)
                goto error;
            PyList_SET_ITEM(arrays, j, a);
            PyObject *e = d != 0 ? Py_BuildValue("(dO)", d, a) : Py_NewRef(Py_None); /* NEW */
            if (e == NULL || PyList_SetItem(cache, pos + j, e) < 0)
                goto error;
        }
        pos += n;
    }
    if ((*pre = PyTuple_Pack(2, vals, vecs)) == NULL)
        goto error;
    rc = 1;
    goto doubt;
error:
    rc = -1;
doubt:
    Py_XDECREF(vals);
    Py_XDECREF(g);
    Py_XDECREF(exprs);
    Py_XDECREF(vecs);
    return rc;
#undef H
}

/* The host writes after the call (Note [Host scalars in C]), `_host_post` without scheduler steps for the source
 * values `vals`. 1 done / 0 a doubt (nothing written: the Python callback writes) / -1 an error. */
static int host_post(State *st, PyObject *hp, PyObject *vals)
{
#define H(i) PyTuple_GET_ITEM(hp, i)
    PyObject *hw = NULL, *seq = NULL, *arrays = NULL;
    double *ds = NULL;
    int rc = 0;
    PyObject *writes = H(H_WRITES), *host_values = H(H_HOST_VALUES);
    if (!PyTuple_Check(writes) || !PyDict_Check(host_values) || !PyTuple_Check(H(H_KWNAMES)) ||
        PyTuple_GET_SIZE(H(H_KWNAMES)) != 1 || !PyUnicode_Check(PyTuple_GET_ITEM(H(H_KWNAMES), 0)))
        return 0;
    Py_ssize_t n = PyTuple_GET_SIZE(writes);
    if ((hw = PyObject_CallOneArg(H(H_WRITE_FN), vals)) == NULL)
        goto error;
    if ((seq = PySequence_Fast(hw, "host writes")) == NULL)
        goto error;
    if (PySequence_Fast_GET_SIZE(seq) < n)
        goto doubt;
    if ((ds = PyMem_Malloc(sizeof(double) * (size_t)(n ? n : 1))) == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!host_number(PySequence_Fast_GET_ITEM(seq, i), &ds[i]) || !is_tensor(st, PyTuple_GET_ITEM(writes, i)))
            goto doubt;
        if (isfinite(ds[i]) && isinf((float)ds[i])) /* no float32 value: _as_float32's None */
            goto doubt;
    }
    if ((arrays = PyList_New(n)) == NULL)
        goto error;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *a = NULL;
        for (Py_ssize_t q = 0; q < i && ds[i] != 0 && a == NULL; q++)
            if (same_bits(ds[q], ds[i]))
                a = PyList_GET_ITEM(arrays, q);
        if (a != NULL)
            Py_INCREF(a);
        else if ((a = host_array(st, ds[i], H(H_F32), H(H_KWNAMES))) == NULL)
            goto error;
        PyList_SET_ITEM(arrays, i, a);
    }
    rc = 1;
    int prev_disabled = grad_mode_disabled;
    grad_mode_disabled = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        TensorObject *t = (TensorObject *)PyTuple_GET_ITEM(writes, i);
        if (tensor_check_inplace(st, t) < 0 || tensor_write(st, t, PyList_GET_ITEM(arrays, i)) < 0) {
            rc = -1;
            break;
        }
    }
    grad_mode_disabled = prev_disabled;
    if (rc < 0)
        goto error;
    PyObject *last_f = NULL; /* equal values share one float, as `_write_host`'s (Note [Shared host scalars]) */
    for (Py_ssize_t i = 0; i < n; i++) { /* `_remember_host_value` */
        PyObject *t = PyTuple_GET_ITEM(writes, i), *id = NULL, *f = NULL, *e = NULL;
        PyObject *now = tensor_value(st, (TensorObject *)t); /* BORROWED */
        int ok = 0;
        if (now == NULL || (id = PyLong_FromVoidPtr(t)) == NULL)
            goto next;
        if (last_f != NULL && ds[i] != 0 && same_bits(ds[i - 1], ds[i]))
            f = Py_NewRef(last_f);
        else if ((f = PyFloat_FromDouble((double)(float)ds[i])) == NULL)
            goto next;
        Py_XSETREF(last_f, Py_NewRef(f));
        PyObject *hv = PyDict_GetItemWithError(host_values, id); /* BORROWED */
        if (hv == NULL && PyErr_Occurred())
            goto next;
        if (hv != NULL && PyTuple_Check(hv) && PyTuple_GET_SIZE(hv) == 3 && PyWeakref_Check(PyTuple_GET_ITEM(hv, 0)) &&
            PyWeakref_GetObject(PyTuple_GET_ITEM(hv, 0)) == t) {
            if ((e = PyTuple_Pack(3, PyTuple_GET_ITEM(hv, 0), now, f)) == NULL)
                goto next;
            ok = PyDict_SetItem(host_values, id, e) == 0;
        } else {
            PyObject *r = PyObject_CallFunctionObjArgs(H(H_REMEMBER), t, f, NULL); /* NEW */
            ok = r != NULL;
            Py_XDECREF(r);
        }
    next:
        Py_XDECREF(id);
        Py_XDECREF(f);
        Py_XDECREF(e);
        if (!ok) {
            Py_XDECREF(last_f);
            goto error;
        }
    }
    Py_XDECREF(last_f);
    goto doubt;
error:
    rc = -1;
doubt:
    PyMem_Free(ds);
    Py_XDECREF(hw);
    Py_XDECREF(seq);
    Py_XDECREF(arrays);
    return rc;
#undef H
}

/* The derived value of request `req` = (slot indices, fn) for the slot arrays `slot_arrays` (a list), from its
 * weak-reference entry in list `cache` at `i` while that still holds, else fn(*sources), after which the entry is
 * made afresh (Note [Derived inputs in C]). Returns a NEW reference, or NULL with an exception. */
static PyObject *derived_value(PyObject *req, PyObject *cache, Py_ssize_t i, PyObject *slot_arrays)
{
    PyObject *srcs[8], *v = NULL, *entry = NULL;
    if (!PyTuple_Check(req) || PyTuple_GET_SIZE(req) != D_COUNT || !PyTuple_Check(PyTuple_GET_ITEM(req, D_SLOTS))) {
        PyErr_SetString(PyExc_TypeError, "_compile_call: malformed derived input request");
        return NULL;
    }
    PyObject *slots = PyTuple_GET_ITEM(req, D_SLOTS);
    Py_ssize_t k = PyTuple_GET_SIZE(slots), n_slots = PyList_GET_SIZE(slot_arrays);
    if (k < 1 || k > (Py_ssize_t)(sizeof srcs / sizeof *srcs)) {
        PyErr_SetString(PyExc_ValueError, "_compile_call: a derived input of 1 to 8 slot arrays expected");
        return NULL;
    }
    for (Py_ssize_t j = 0; j < k; j++) {
        Py_ssize_t s = PyLong_AsSsize_t(PyTuple_GET_ITEM(slots, j));
        if (s == -1 && PyErr_Occurred())
            return NULL;
        if (s < 0 || s >= n_slots) {
            PyErr_SetString(PyExc_IndexError, "_compile_call: a derived input's slot out of range");
            return NULL;
        }
        srcs[j] = PyList_GET_ITEM(slot_arrays, s); /* BORROWED; slot_arrays holds them */
    }
    if (i >= PyList_GET_SIZE(cache)) { /* an earlier fn may have run code that shrank it */
        PyErr_SetString(PyExc_RuntimeError, "_compile_call: the derived input cache changed size");
        return NULL;
    }
    PyObject *c = PyList_GET_ITEM(cache, i); /* BORROWED; used before anything runs Python */
    if (PyTuple_Check(c) && PyTuple_GET_SIZE(c) == k + 1) {
        int hit = 1;
        for (Py_ssize_t j = 0; j < k && hit; j++)
            hit = PyWeakref_Check(PyTuple_GET_ITEM(c, j)) && PyWeakref_GetObject(PyTuple_GET_ITEM(c, j)) == srcs[j];
        PyObject *cv = hit && PyWeakref_Check(PyTuple_GET_ITEM(c, k)) ? PyWeakref_GetObject(PyTuple_GET_ITEM(c, k))
                                                                       : Py_None; /* BORROWED */
        if (cv != Py_None)
            return Py_NewRef(cv);
    }
    v = PyObject_Vectorcall(PyTuple_GET_ITEM(req, D_FN), srcs, (size_t)k, NULL);
    if (v == NULL)
        return NULL;
    if ((entry = PyTuple_New(k + 1)) == NULL)
        goto error;
    for (Py_ssize_t j = 0; j <= k; j++) {
        PyObject *r = PyWeakref_NewRef(j < k ? srcs[j] : v, NULL); /* NEW */
        if (r == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_TypeError))
                goto error;
            PyErr_Clear(); /* no weak reference to it: no entry, fn runs at every call */
            Py_CLEAR(entry);
            entry = Py_NewRef(Py_None);
            break;
        }
        PyTuple_SET_ITEM(entry, j, r);
    }
    if (PyList_SetItem(cache, i, entry) < 0) { /* steals entry */
        entry = NULL;
        goto error;
    }
    return v;
error:
    Py_XDECREF(entry);
    Py_DECREF(v);
    return NULL;
}

/* NEW list: the derived inputs of the program's requests P_DERIVED (None: none) for the slot arrays
 * `slot_arrays` (Note [Derived inputs in C]). */
static PyObject *derived_inputs(PyObject *reqs, PyObject *cache, PyObject *slot_arrays)
{
    if (reqs == Py_None)
        return PyList_New(0);
    if (!PyTuple_Check(reqs) || !PyList_Check(cache) || PyList_GET_SIZE(cache) != PyTuple_GET_SIZE(reqs)) {
        PyErr_SetString(PyExc_TypeError, "_compile_call: malformed derived inputs");
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(reqs);
    PyObject *out = PyList_New(n);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = derived_value(PyTuple_GET_ITEM(reqs, i), cache, i, slot_arrays); /* NEW */
        if (v == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, v);
    }
    return out;
}

/* NEW list: the current value of each tensor of tuple `tensors` (`placeholder` for None). */
static PyObject *values_of(State *st, PyObject *tensors, PyObject *placeholder)
{
    Py_ssize_t n = PyTuple_GET_SIZE(tensors);
    PyObject *out = PyList_New(n);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PyTuple_GET_ITEM(tensors, i), *v; /* BORROWED */
        if (t == Py_None)
            v = placeholder;
        else if (is_tensor(st, t)) {
            v = tensor_value(st, (TensorObject *)t); /* BORROWED */
            if (v == NULL)
                goto error;
        } else {
            PyErr_Format(PyExc_TypeError, "_compile_call: expected a Tensor, got %.100s", Py_TYPE(t)->tp_name);
            goto error;
        }
        PyList_SET_ITEM(out, i, Py_NewRef(v));
    }
    return out;
error:
    Py_DECREF(out);
    return NULL;
}

/* _compile_call(prog, args): run the call program `prog` (Note [Compiled call program]) for the positional
 * arguments tuple `args`: the compiled function's result (NEW), or NotImplemented (NEW) when the program does
 * not apply to this call and nothing was done. */
PyObject *mod_compile_call(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    State *st = state_of_module(m);
    PyObject *prog, *call_args, *pre = NULL, *ins[5] = {NULL, NULL, NULL, NULL, NULL}, *outs = NULL;
    PyObject *outs_seq = NULL, *results = NULL, *evals = NULL, *r = NULL;
    if (nargs != 2 || !PyTuple_Check(args[0]) || PyTuple_GET_SIZE(args[0]) != P_COUNT || !PyTuple_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "_compile_call(prog, args): a call program and a tuple");
        return NULL;
    }
    prog = args[0];
    call_args = args[1];
#define P(i) PyTuple_GET_ITEM(prog, i)
#define NOT_APPLICABLE() do { r = Py_NewRef(Py_NotImplemented); goto done; } while (0)
    if (!PyDict_Check(P(P_MODDICT)) || !PyTuple_Check(P(P_ARGSPECS)) || !PyTuple_Check(P(P_SLOTS)) ||
        !PyTuple_Check(P(P_GENS)) || !PyTuple_Check(P(P_EXACT)) || !PyAnySet_Check(P(P_STATE_IDS))) {
        PyErr_SetString(PyExc_TypeError, "_compile_call: malformed call program");
        return NULL;
    }
    /* the checks, cheapest first; none has a side effect */
    PyObject *trace = PyDict_GetItemWithError(P(P_MODDICT), P(P_S_TRACE)); /* BORROWED */
    if (trace == NULL && PyErr_Occurred())
        goto done;
    if (trace != NULL && trace != Py_None) /* inside another trace: the function runs as it is */
        NOT_APPLICABLE();
    if ((GRAD_ENABLED(st) != 0) != (P(P_GRAD) == Py_True))
        NOT_APPLICABLE();
    if (tf_modes_active && !tf_all_disabled) /* a function mode (autocast) sees the ops: the Python path runs it */
        NOT_APPLICABLE();
    PyObject *specs = P(P_ARGSPECS);
    Py_ssize_t n_args = PyTuple_GET_SIZE(call_args);
    if (PyTuple_GET_SIZE(specs) != n_args)
        NOT_APPLICABLE();
    for (Py_ssize_t i = 0; i < n_args; i++) {
        PyObject *a = PyTuple_GET_ITEM(call_args, i);
        if (!is_tensor(st, a))
            NOT_APPLICABLE();
        int ok = arg_matches(st, (TensorObject *)a, PyTuple_GET_ITEM(specs, i));
        if (ok < 0)
            goto done;
        if (!ok)
            NOT_APPLICABLE();
        PyObject *id = PyLong_FromVoidPtr(a); /* NEW */
        if (id == NULL)
            goto done;
        ok = PySet_Contains(P(P_STATE_IDS), id);
        Py_DECREF(id);
        if (ok < 0)
            goto done;
        if (ok) /* a state tensor passed as an argument */
            NOT_APPLICABLE();
    }
    int ok = program_unchanged(st, prog);
    if (ok < 0)
        goto done;
    if (!ok)
        NOT_APPLICABLE();
    ok = groups_unchanged(prog);
    if (ok < 0)
        goto done;
    if (!ok)
        NOT_APPLICABLE();
    if ((ok = check_holds(P(P_EXTRA), NULL)) < 0)
        goto done;
    if (!ok)
        NOT_APPLICABLE();
    /* the facts the entry's graph assumes of the arguments' values: Note [Argument facts] in _compile.py */
    if ((ok = check_holds(P(P_ARGCHECK), call_args)) < 0)
        goto done;
    if (!ok)
        NOT_APPLICABLE();
    PyObject *hp = P(P_HOST);
    ok = 0;
    if (hp != Py_None) { /* Note [Host scalars in C] */
        if (!PyTuple_Check(hp) || PyTuple_GET_SIZE(hp) != H_COUNT) {
            PyErr_SetString(PyExc_TypeError, "_compile_call: malformed host scalar program");
            goto done;
        }
        if ((ok = host_pre(st, hp, &pre)) < 0)
            goto done;
    }
    if (!ok && (pre = PyObject_CallNoArgs(P(P_PRE))) == NULL) /* NEW: (source values, host scalar arrays) or None */
        goto done;
    if (pre == Py_None)
        NOT_APPLICABLE();
    if (!PyTuple_Check(pre) || PyTuple_GET_SIZE(pre) != 2) {
        PyErr_SetString(PyExc_TypeError, "_compile_call: the program's host scalars gave no (values, arrays) pair");
        goto done;
    }

    /* the call: the inputs as _Compiled._inputs orders them */
    if ((ins[0] = values_of(st, call_args, Py_None)) == NULL || (ins[1] = values_of(st, P(P_SLOTS), P(P_PLACEHOLDER))) == NULL)
        goto done;
    PyObject *gens = P(P_GENS);
    Py_ssize_t n_gens = PyTuple_GET_SIZE(gens);
    if ((ins[2] = PyList_New(n_gens)) == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < n_gens; i++) {
        PyObject *k = PyObject_GetAttr(PyTuple_GET_ITEM(gens, i), P(P_S_KEY)); /* NEW */
        if (k == NULL)
            goto done;
        PyList_SET_ITEM(ins[2], i, k);
    }
    ins[3] = Py_NewRef(PyTuple_GET_ITEM(pre, 1));
    if ((ins[4] = derived_inputs(P(P_DERIVED), P(P_DCACHE), ins[1])) == NULL) /* Note [Derived inputs in C] */
        goto done;
    outs = PyObject_Vectorcall(P(P_FN), ins, 5, NULL);
    if (outs == NULL)
        goto done;
    outs_seq = PySequence_Fast(outs, "_compile_call: the compiled function returned no sequence");
    if (outs_seq == NULL)
        goto done;
    Py_ssize_t n_out = PyLong_AsSsize_t(P(P_NOUT)), n_all = PySequence_Fast_GET_SIZE(outs_seq);
    PyObject *exact = P(P_EXACT);
    Py_ssize_t n_exact = PyTuple_GET_SIZE(exact);
    if (n_out == -1 && PyErr_Occurred())
        goto done;
    if (n_out < 0 || n_all != n_out + n_exact + n_gens) {
        PyErr_SetString(PyExc_RuntimeError, "_compile_call: the compiled function's outputs do not fit its program");
        goto done;
    }
    PyObject **o = PySequence_Fast_ITEMS(outs_seq);
    for (Py_ssize_t i = 0; i < n_all; i++)
        if (!PyObject_TypeCheck(o[i], (PyTypeObject *)st->array_type)) {
            PyErr_Format(PyExc_TypeError, "_compile_call: expected an mlx array, got %.100s", Py_TYPE(o[i])->tp_name);
            goto done;
        }
    long dev = PyLong_AsLong(P(P_DEV));
    if (dev == -1 && PyErr_Occurred())
        goto done;
    if (dev != DEV_CPU && dev != DEV_GPU) {
        PyErr_SetString(PyExc_ValueError, "_compile_call: bad device");
        goto done;
    }
    if ((results = PyList_New(n_out)) == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < n_out; i++) {
        PyObject *t = tensor_wrap(st, o[i], -1, (int)dev); /* NEW */
        if (t == NULL)
            goto done;
        PyList_SET_ITEM(results, i, t);
        if (tensor_set_depth_from_reads(st, (TensorObject *)t) < 0) /* as Tensor._new_on (Note [Bounded lazy graphs]) */
            goto done;
    }
    /* the write-back (Note [Exact write-back]) and the generators' keys, under no_grad as _run writes */
    int prev_disabled = grad_mode_disabled;
    grad_mode_disabled = 1;
    for (Py_ssize_t i = 0; i < n_exact; i++) {
        PyObject *t = PyTuple_GET_ITEM(exact, i);
        if (t == Py_None)
            continue;
        if (!is_tensor(st, t)) {
            PyErr_Format(PyExc_TypeError, "_compile_call: expected a Tensor, got %.100s", Py_TYPE(t)->tp_name);
            break;
        }
        if (tensor_check_inplace(st, (TensorObject *)t) < 0 || tensor_write(st, (TensorObject *)t, o[n_out + i]) < 0)
            break;
    }
    for (Py_ssize_t i = 0; i < n_gens && !PyErr_Occurred(); i++)
        if (PyObject_SetAttr(PyTuple_GET_ITEM(gens, i), P(P_S_KEY), o[n_out + n_exact + i]) < 0)
            break;
    grad_mode_disabled = prev_disabled;
    if (PyErr_Occurred())
        goto done;
    /* the inputs' old state arrays go before the evaluation, so that MLX may reuse their buffers for the new
     * state where nothing else holds them (Note [Inputs released before evaluation]) */
    for (int i = 0; i < 5; i++)
        Py_CLEAR(ins[i]);
    /* one evaluation per call (the state written and the results), under the evaluation lock (Note [Threads]);
     * on the CPU scheduled, then the host work that needs no result, then waited for (Note [Host scalars ahead]) */
    int ahead = dev == DEV_CPU;
    if ((evals = PyTuple_New(n_all - n_out + n_out)) == NULL)
        goto done;
    for (Py_ssize_t i = n_out; i < n_all; i++)
        PyTuple_SET_ITEM(evals, i - n_out, Py_NewRef(o[i]));
    for (Py_ssize_t i = 0; i < n_out; i++) {
        PyObject *v = tensor_value(st, (TensorObject *)PyList_GET_ITEM(results, i)); /* BORROWED */
        if (v == NULL)
            goto done;
        PyTuple_SET_ITEM(evals, n_all - n_out + i, Py_NewRef(v));
    }
    eval_lock_acquire(st);
    PyObject *e = PyObject_Call(ahead ? st->f_async_eval : st->f_eval, evals, NULL); /* NEW */
    eval_lock_release(st);
    if (e == NULL)
        goto done;
    Py_DECREF(e);
    ok = 0; /* while MLX's CPU thread runs the step: */
    if (hp != Py_None && PyTuple_GET_ITEM(hp, H_WRITE_FN) != Py_None &&
        (ok = host_post(st, hp, PyTuple_GET_ITEM(pre, 0))) < 0) /* Note [Host scalars in C] */
        goto done;
    if (!ok && P(P_POST) != Py_None) { /* host writes and scheduler steps (Note [Host scalars]) */
        PyObject *p = PyObject_CallOneArg(P(P_POST), PyTuple_GET_ITEM(pre, 0)); /* NEW */
        if (p == NULL)
            goto done;
        Py_DECREF(p);
    }
    if (ahead && hp != Py_None && PyList_Check(PyTuple_GET_ITEM(hp, H_NEXT))) { /* Note [Host scalars ahead] */
        PyObject *next = NULL; /* NEW */
        int got = host_pre(st, hp, &next);
        if (got == 1)
            got = PyList_Append(PyTuple_GET_ITEM(hp, H_NEXT), next);
        Py_XDECREF(next);
        if (got < 0) {
            if (!PyErr_ExceptionMatches(PyExc_Exception))
                goto done;
            PyErr_Clear();
        }
    }
    if (ahead) {
        eval_lock_acquire(st);
        e = PyObject_Call(st->f_eval, evals, NULL); /* NEW */
        eval_lock_release(st);
        if (e == NULL)
            goto done;
        Py_DECREF(e);
    }
    for (Py_ssize_t i = 0; i < n_out; i++) /* Note [Known evaluated values] (threads.c): the caller may read them */
        note_evaluated(st, PyTuple_GET_ITEM(evals, n_all - n_out + i));
    if (P(P_SPEC) == Py_None) {
        if (n_out != 1) {
            PyErr_SetString(PyExc_RuntimeError, "_compile_call: a single result expected");
            goto done;
        }
        r = Py_NewRef(PyList_GET_ITEM(results, 0));
    } else
        r = PyObject_CallOneArg(P(P_SPEC), results);
done:
    Py_XDECREF(pre);
    for (int i = 0; i < 5; i++)
        Py_XDECREF(ins[i]);
    Py_XDECREF(outs);
    Py_XDECREF(outs_seq);
    Py_XDECREF(results);
    Py_XDECREF(evals);
    return r;
#undef NOT_APPLICABLE
#undef P
}
