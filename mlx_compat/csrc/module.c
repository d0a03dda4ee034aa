/* module.c — mlx_compat._C: module state, multi-phase init, and the small module-level functions
 * the Python layer uses to register its objects (dtypes, devices, Size) with the core. */
#include "core.h"

#include <stdlib.h>
#include <string.h>

_Thread_local int grad_mode_disabled = 0;
_Thread_local int inference_mode_enabled = 0;

/* Note [Module state lookup]
 * Every C method finds the module state from its receiver's type, every module function from its module. For our
 * own types (Tensor, Node, Op, ...) the type's ht_module is this module; PyType_GetModuleByDef's MRO walk (a call
 * into libpython, a measurable part of a ~1 us method call) is left for Python subclasses, whose ht_module is
 * NULL. Even PyModule_GetDef + PyModule_GetState, two calls with their type checks, were ~70 instructions of
 * the ~600 a `view` adds over raw MLX (callgrind), on every C entry. The module object's head (md_dict, md_def,
 * md_state after the object header) has been the same since CPython 3.5; state_of_type / state_of_module (inline,
 * core.h) read md_def and md_state directly, but only after module_exec has verified that reading on this very
 * module against the two API calls (module_head_ok). A CPython whose layout differs keeps the API calls. */
int module_head_ok = 0;

/* BORROWED: the module state behind a Tensor type (or subclass). NULL with an exception otherwise. */
State *state_of_type_slow(PyTypeObject *tp)
{
    if (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) {
        PyObject *own = ((PyHeapTypeObject *)tp)->ht_module;
        if (own != NULL && PyModule_Check(own) && PyModule_GetDef(own) == &mlx_compat_module) {
            State *st = (State *)PyModule_GetState(own);
            thread_pin(st); /* Note [Threads] */
            return st;
        }
    }
    PyObject *m = PyType_GetModuleByDef(tp, &mlx_compat_module);
    if (m == NULL)
        return NULL;
    State *st = (State *)PyModule_GetState(m);
    thread_pin(st); /* Note [Threads]: a thread's first call into the core pins it */
    return st;
}

/* BORROWED: the state of our module object m. */
State *state_of_module_slow(PyObject *m)
{
    State *st = (State *)PyModule_GetState(m);
    thread_pin(st); /* Note [Threads] */
    return st;
}

/* _register(dtypes, devices, size_type): dtypes is a sequence of our dtype objects indexed by code
 * (None for codes we do not expose), devices a (cpu, gpu) pair of mlx_compat.device objects. */
static PyObject *mod_register(PyObject *m, PyObject *args)
{
    State *st = state_of_module(m);
    PyObject *dtypes, *devices, *size_type;
    if (!PyArg_ParseTuple(args, "OOO", &dtypes, &devices, &size_type))
        return NULL;
    if (!PySequence_Check(dtypes) || PySequence_Size(dtypes) != DT_COUNT) {
        PyErr_SetString(PyExc_ValueError, "_register: dtypes must have one entry per MLX dtype code");
        return NULL;
    }
    for (int i = 0; i < DT_COUNT; i++) {
        PyObject *d = PySequence_GetItem(dtypes, i);
        if (d == NULL)
            return NULL;
        if (d == Py_None)
            Py_CLEAR(d);
        Py_XSETREF(st->dtype[i], d);
    }
    for (int i = 0; i < 2; i++) {
        PyObject *d = PySequence_GetItem(devices, i);
        if (d == NULL)
            return NULL;
        Py_XSETREF(st->device[i], d);
    }
    if (!PyType_Check(size_type) || !PyType_IsSubtype((PyTypeObject *)size_type, &PyTuple_Type) ||
        ((PyTypeObject *)size_type)->tp_basicsize != PyTuple_Type.tp_basicsize ||
        ((PyTypeObject *)size_type)->tp_dictoffset != 0) {
        PyErr_SetString(PyExc_TypeError, "_register: size_type must be a tuple subclass with __slots__ = ()");
        return NULL;
    }
    Py_XSETREF(st->size_type, Py_NewRef(size_type));
    Py_RETURN_NONE;
}

/* _register_indexing(getitem, setitem): the Python layer's advanced-indexing functions. */
static PyObject *mod_register_indexing(PyObject *m, PyObject *args)
{
    State *st = state_of_module(m);
    PyObject *g, *s;
    if (!PyArg_ParseTuple(args, "OO", &g, &s))
        return NULL;
    Py_XSETREF(st->py_getitem, Py_NewRef(g));
    Py_XSETREF(st->py_setitem, Py_NewRef(s));
    Py_RETURN_NONE;
}

/* _register_view_commit(fn): fn(view, src, base_snapshot) rebases autograd history after an in-place
 * write through a view (torch's CopySlices). */
static PyObject *mod_register_view_commit(PyObject *m, PyObject *fn)
{
    Py_XSETREF(state_of_module(m)->py_view_commit, Py_NewRef(fn));
    Py_RETURN_NONE;
}

static PyObject *mod_set_default_dtype(PyObject *m, PyObject *arg)
{
    State *st = state_of_module(m);
    int code = dtype_code_of(st, arg);
    if (code < 0)
        return NULL;
    if (!dt_is_float(code)) {
        PyErr_SetString(PyExc_TypeError, "only floating-point types are supported as the default type");
        return NULL;
    }
    st->default_dtype = code;
    Py_RETURN_NONE;
}

static PyObject *mod_get_default_dtype(PyObject *m, PyObject *noargs)
{
    State *st = state_of_module(m);
    return Py_NewRef(dtype_of_code(st, st->default_dtype));
}

static PyObject *mod_set_grad_enabled(PyObject *m, PyObject *arg)
{
    int v = PyObject_IsTrue(arg);
    if (v < 0)
        return NULL;
    grad_mode_disabled = !v;
    Py_RETURN_NONE;
}

static PyObject *mod_set_inference_mode(PyObject *m, PyObject *arg)
{
    int v = PyObject_IsTrue(arg);
    if (v < 0)
        return NULL;
    inference_mode_enabled = v;
    Py_RETURN_NONE;
}

static PyObject *mod_is_inference_mode_enabled(PyObject *m, PyObject *noargs)
{
    return PyBool_FromLong(inference_mode_enabled);
}

static PyObject *mod_is_grad_enabled(PyObject *m, PyObject *noargs)
{
    return PyBool_FromLong(!grad_mode_disabled);
}

/* _promote_types(a, b) -> dtype, torch.promote_types's table */
static PyObject *mod_promote_types(PyObject *m, PyObject *args)
{
    State *st = state_of_module(m);
    PyObject *a, *b;
    if (!PyArg_ParseTuple(args, "OO", &a, &b))
        return NULL;
    int da = dtype_code_of(st, a), db = dtype_code_of(st, b);
    if (da < 0 || db < 0)
        return NULL;
    int r = promote_types(da, db);
    if (r < 0)
        return raise_promotion_error(da, db), NULL;
    return Py_NewRef(dtype_of_code(st, r));
}

/* _result_type(*operands) -> dtype: torch.result_type over tensors and Python scalars. */
static PyObject *mod_result_type(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    State *st = state_of_module(m);
    ResultTypeState rs;
    result_type_init(&rs);
    for (Py_ssize_t i = 0; i < nargs; i++) {
        PyObject *o = args[i];
        if (is_tensor(st, o)) {
            TensorObject *t = (TensorObject *)o;
            if (tensor_ensure_sizes(st, t) < 0)
                return NULL;
            result_type_update(st, &rs, t->ndim ? OP_TENSOR_DIM : OP_TENSOR_ZERO, t->dtype);
        } else {
            int d = scalar_dtype(o);
            if (d < 0) {
                PyErr_Format(PyExc_TypeError, "result_type(): argument must be a Tensor or a Number, not %.100s",
                             Py_TYPE(o)->tp_name);
                return NULL;
            }
            result_type_update(st, &rs, OP_SCALAR, d);
        }
    }
    int r = result_type_finish(&rs);
    if (r == DT_C128) {
        PyErr_SetString(PyExc_TypeError, "complex128 is not supported by MLX");
        return NULL;
    }
    if (r < 0) {
        PyErr_SetString(PyExc_RuntimeError, "result_type: could not promote operand types");
        return NULL;
    }
    return Py_NewRef(dtype_of_code(st, r));
}

/* _wrap(mx_array, device=None) -> Tensor: a new base tensor over an mx.array (borrowed). */
static PyObject *mod_wrap(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    State *st = state_of_module(m);
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "_wrap(array, device_index=None)");
        return NULL;
    }
    if (!PyObject_TypeCheck(args[0], (PyTypeObject *)st->array_type)) {
        PyErr_Format(PyExc_TypeError, "_wrap expects an mlx array, got %.100s", Py_TYPE(args[0])->tp_name);
        return NULL;
    }
    int dev = DEV_CPU;
    if (nargs == 2 && args[1] != Py_None) {
        long d = PyLong_AsLong(args[1]);
        if (d == -1 && PyErr_Occurred())
            return NULL;
        if (d != DEV_CPU && d != DEV_GPU) {
            PyErr_SetString(PyExc_ValueError, "bad device index");
            return NULL;
        }
        dev = (int)d;
    }
    PyObject *r = tensor_wrap(st, args[0], -1, dev);
    if (r != NULL && tensor_set_depth_from_reads(st, (TensorObject *)r) < 0) /* Note [Bounded lazy graphs] */
        Py_CLEAR(r);
    return r;
}

/* compile.c: mlx_compat.compile's host helpers (Note [Exact write-back], Note [Dict version tags]) */
PyObject *mod_compile_write(PyObject *m, PyObject *const *args, Py_ssize_t nargs);
PyObject *mod_compile_dict_versions(PyObject *m, PyObject *dicts);
PyObject *mod_compile_call(PyObject *m, PyObject *const *args, Py_ssize_t nargs); /* Note [Compiled call program] */

static PyMethodDef module_methods[] = {
    {"_register", mod_register, METH_VARARGS, "Register Python-level dtype/device/Size objects with the core."},
    {"_register_indexing", mod_register_indexing, METH_VARARGS, NULL},
    {"_register_view_commit", mod_register_view_commit, METH_O, NULL},
    {"_record", mod_record, METH_VARARGS, "Record a differentiable op: _record(name, backward, ctx, inputs, outputs)."},
    {"_register_backward", mod_register_backward, METH_VARARGS, NULL},
    {"_snapshot", (PyCFunction)(void (*)(void))mod_snapshot, METH_FASTCALL, NULL},
    {"_register_node_class", mod_register_node_class, METH_VARARGS, NULL},
    {"_grad_accumulator", mod_grad_accumulator, METH_O, NULL},
    {"_edge", mod_edge, METH_O, NULL},
    {"_set_history", mod_set_history, METH_VARARGS, NULL},
    {"_run_backward", mod_run_backward, METH_VARARGS, "The autograd engine (engine.c)."},
    {"_set_default_dtype", mod_set_default_dtype, METH_O, NULL},
    {"_get_default_dtype", mod_get_default_dtype, METH_NOARGS, NULL},
    {"_set_grad_enabled", mod_set_grad_enabled, METH_O, NULL},
    {"is_grad_enabled", mod_is_grad_enabled, METH_NOARGS, "Whether gradient recording is on."},
    {"_set_inference_mode", mod_set_inference_mode, METH_O, NULL},
    {"is_inference_mode_enabled", mod_is_inference_mode_enabled, METH_NOARGS, NULL},
    {"_promote_types", mod_promote_types, METH_VARARGS, NULL},
    {"_result_type", (PyCFunction)(void (*)(void))mod_result_type, METH_FASTCALL, NULL},
    {"_wrap", (PyCFunction)(void (*)(void))mod_wrap, METH_FASTCALL, NULL},
    {"_tf_wrap", (PyCFunction)(void (*)(void))mod_tf_wrap, METH_FASTCALL,
     "_tf_wrap(fn, scope=0, check=True): fn wrapped so it honours __torch_function__ (when check) and runs on its "
     "tensors' device (scope 1) or its device argument's (scope 2) (Note [Device scope])."},
    {"_self_checking", mod_self_checking, METH_NOARGS,
     "The C functions and Tensor methods that check __torch_function__ themselves, left unwrapped (Note "
     "[Self-checking C entries])."},
    {"_register_device_scope", mod_register_device_scope, METH_O, "Register _device.to_code (Note [Device scope])."},
    {"_register_module_hooks", mod_register_module_hooks, METH_O,
     "Register nn.Module's global hook registries (Note [Module call in C])."},
    {"_scoped", (PyCFunction)(void (*)(void))mod_scoped, METH_FASTCALL | METH_KEYWORDS,
     "_scoped(code, fn, *args, **kwargs): fn's call on MLX's stream of device code (Note [Device scope])."},
    {"_device_scope_state", mod_device_scope_state, METH_NOARGS,
     "(depth, code): this thread's open scoped calls and the device entered, -1 for none (Note [Device scope])."},
    {"_device_of", (PyCFunction)(void (*)(void))mod_device_of, METH_FASTCALL,
     "_device_of(args, kwargs=None): the device code of the first tensor argument, else None (Note [Device scope])."},
    {"_register_torch_function", mod_register_torch_function, METH_VARARGS, NULL},
    {"_set_arg_error_hook", mod_set_arg_error_hook, METH_O, "Register the argument check run when a public call fails."},
    {"_disabled_torch_function_impl", (PyCFunction)(void (*)(void))mod_disabled_tf_impl, METH_FASTCALL,
     "Set as a subclass's __torch_function__ to opt out of the protocol (torch.nn.Parameter does)."},
    {"_torch_function_state", mod_torch_function_state, METH_VARARGS, NULL},
    {"_has_torch_function", mod_has_torch_function, METH_O, NULL},
    {"_item_or_none", mod_item_or_none, METH_O, "array.item(), or None while MLX traces the array."},
    {"_op_registry", mod_op_registry, METH_NOARGS, "name -> function form of every declared operator (dispatch.c)."},
    {"_eval", (PyCFunction)(void (*)(void))mod_eval, METH_FASTCALL,
     "mx.eval(*args) under the process-wide evaluation lock; tensors stand for their values (Note [Threads])."},
    {"eval", (PyCFunction)(void (*)(void))mod_eval, METH_FASTCALL,
     "eval(*tensors)\n--\n\nEvaluate the tensors' lazy MLX graphs now (mx.eval's counterpart: tensors, and lists or "
     "tuples of them, stand for their values)."},
    {"_set_anomaly_hook", mod_set_anomaly_hook, METH_O,
     "_set_anomaly_hook(fn): fn(node) runs for each node recorded from now on (None: none); Note [Anomaly "
     "tracebacks]."},
    {"_eval_live", (PyCFunction)(void (*)(void))mod_eval_live, METH_FASTCALL,
     "_eval_live(device=-1): evaluate every live tensor's value on a device code (-1: both); Note [Live tensors]."},
    {"_note_evaluated", mod_note_evaluated, METH_O,
     "Record small arrays an evaluation made available (Note [Known evaluated values])."},
    {"_eval_lock_acquire", mod_eval_lock_acquire, METH_NOARGS, "Take the evaluation lock (Note [Threads])."},
    {"_eval_lock_release", mod_eval_lock_release, METH_NOARGS, "Release the evaluation lock (Note [Threads])."},
    {"_pin_thread", mod_pin_thread, METH_NOARGS, "Make the shared streams this thread's defaults (Note [Threads])."},
    {"_shared_stream", mod_shared_stream, METH_O, "The process-wide mx.Stream of a device code, or None."},
    {"_compile_write", (PyCFunction)(void (*)(void))mod_compile_write, METH_FASTCALL,
     "_compile_write(tensors, arrays, offset): write arrays[offset + i] into tensors[i] (compile.c)."},
    {"_compile_dict_versions", mod_compile_dict_versions, METH_O,
     "_compile_dict_versions(dicts): the dicts' version tags as bytes, or None (compile.c)."},
    {"_compile_call", (PyCFunction)(void (*)(void))mod_compile_call, METH_FASTCALL,
     "_compile_call(prog, args): run a compiled call's program, or NotImplemented (compile.c)."},
    {NULL}};

static int load_mlx(PyObject *m, State *st)
{
    st->mx = PyImport_ImportModule("mlx.core");
    if (st->mx == NULL)
        return -1;
    st->array_type = PyObject_GetAttrString(st->mx, "array");
    if (st->array_type == NULL)
        return -1;
#define X(name)                                                   \
    st->f_##name = PyObject_GetAttrString(st->mx, #name);         \
    if (st->f_##name == NULL)                                     \
        return -1;
    MX_FUNCS(X)
#undef X
    static const char *dtype_names[DT_COUNT] = {"bool_", "uint8", "uint16", "uint32", "uint64", "int8", "int16",
                                                "int32", "int64", "float16", "float32", "float64", "bfloat16",
                                                "complex64"};
    for (int i = 0; i < DT_COUNT; i++) {
        st->mx_dtype[i] = PyObject_GetAttrString(st->mx, dtype_names[i]);
        if (st->mx_dtype[i] == NULL)
            return -1;
        Py_hash_t h = PyObject_Hash(st->mx_dtype[i]);
        if (h != i) {
            PyErr_Format(PyExc_ImportError, "unexpected MLX dtype enumeration for %s", dtype_names[i]);
            return -1;
        }
    }
    st->mx_device[DEV_CPU] = PyObject_GetAttrString(st->mx, "cpu");
    st->mx_device[DEV_GPU] = PyObject_GetAttrString(st->mx, "gpu");
    if (!st->mx_device[0] || !st->mx_device[1])
        return -1;
    /* Which device MLX uses by default, and whether a GPU exists. */
    PyObject *dd = PyObject_CallMethod(st->mx, "default_device", NULL);
    if (dd == NULL)
        return -1;
    PyObject *ty = PyObject_GetAttrString(dd, "type");
    Py_DECREF(dd);
    if (ty == NULL)
        return -1;
    int is_gpu = PyObject_RichCompareBool(ty, st->mx_device[DEV_GPU], Py_EQ);
    Py_DECREF(ty);
    if (is_gpu < 0)
        return -1;
    st->default_mx_device = is_gpu ? DEV_GPU : DEV_CPU;
    PyObject *gpu = PyObject_CallMethod(st->mx, "Device", "O", st->mx_device[DEV_GPU]);
    if (gpu == NULL)
        return -1;
    PyObject *avail = PyObject_CallMethod(st->mx, "is_available", "O", gpu);
    Py_DECREF(gpu);
    if (avail == NULL)
        return -1;
    st->gpu_available = PyObject_IsTrue(avail);
    Py_DECREF(avail);
    if (st->gpu_available < 0)
        return -1;
    /* Note [Fake GPU]: MLX_COMPAT_FAKE_GPU=1 on a machine without a GPU makes device 'cuda' run on MLX's CPU, so
     * the package's device bookkeeping (placement, device mixing, float64 refusals) is testable anywhere. */
    const char *fake = getenv("MLX_COMPAT_FAKE_GPU");
    st->fake_gpu = !st->gpu_available && fake != NULL && strcmp(fake, "1") == 0;
    if (st->fake_gpu) {
        Py_SETREF(st->mx_device[DEV_GPU], Py_NewRef(st->mx_device[DEV_CPU]));
        st->gpu_available = 1;
    }
#define S(field, text)                                  \
    if ((st->field = PyUnicode_InternFromString(text)) == NULL) \
        return -1;
    S(s_shape, "shape") S(s_dtype, "dtype") S(s_stream, "stream") S(s_astype, "astype") S(s_item, "item")
    S(s_eval, "eval")
    S(s_tolist, "tolist") S(s_size, "size") S(s_axis, "axis") S(s_keepdims, "keepdims") S(s_ndim, "ndim") S(s_T, "T")
    S(s_torch_function, "__torch_function__")
    S(s_parameters, "_parameters") S(s_buffers, "_buffers") S(s_modules, "_modules")
    S(s_forward, "forward") S(s_compiled_call_impl, "_compiled_call_impl")
    S(nn_hook_names[0], "_forward_pre_hooks") S(nn_hook_names[1], "_forward_hooks")
    S(nn_hook_names[2], "_backward_hooks") S(nn_hook_names[3], "_backward_pre_hooks")
#undef S
    if ((st->kw_stream = PyTuple_Pack(1, st->s_stream)) == NULL) /* mx_call's keyword names */
        return -1;
    return 0;
}

static int module_exec(PyObject *m)
{
    /* Note [Module state lookup]: read the module's head directly only where it is what the API returns */
    module_head_ok = Py_IS_TYPE(m, &PyModule_Type) && ((ModuleHead *)m)->md_def == PyModule_GetDef(m) &&
                     ((ModuleHead *)m)->md_state == PyModule_GetState(m) && PyModule_GetDef(m) == &mlx_compat_module;
    State *st = state_of_module(m);
    live_init(st); /* Note [Live tensors]: before any tensor is made */
    st->default_dtype = DT_F32;
    if (load_mlx(m, st) < 0)
        return -1;
    if (tensor_type_init(m, st) < 0 || node_type_init(m, st) < 0 || tf_wrapper_type_init(m, st) < 0 ||
        nn_slot_type_init(m) < 0 || nn_module_call_type_init(m) < 0)
        return -1;
    if ((st->disabled_tf = PyObject_GetAttrString(m, "_disabled_torch_function_impl")) == NULL)
        return -1;
    if (threads_init(st) < 0) /* Note [Threads] */
        return -1;
    if (fast_init(m, st) < 0) /* fastpath.c */
        return -1;
    if (PyModule_AddIntConstant(m, "GPU_AVAILABLE", st->gpu_available) < 0 ||
        PyModule_AddIntConstant(m, "FAKE_GPU", st->fake_gpu) < 0 ||
        PyModule_AddIntConstant(m, "DEFAULT_MX_DEVICE", st->default_mx_device) < 0 ||
        PyModule_AddIntConstant(m, "LAZY_DEPTH_BOUND", LAZY_DEPTH_BOUND) < 0) /* Note [Bounded lazy graphs] */
        return -1;
    if (op_types_init(m, st) < 0) /* the operator registry (dispatch.c) */
        return -1;
    return 0;
}

static int module_traverse(PyObject *m, visitproc visit, void *arg)
{
    State *st = (State *)PyModule_GetState(m); /* no thread pin: GC may run it */
    if (st == NULL)
        return 0;
    Py_VISIT(st->mx);
    Py_VISIT(st->array_type);
    for (int i = 0; i < DT_COUNT; i++) {
        Py_VISIT(st->mx_dtype[i]);
        Py_VISIT(st->dtype[i]);
    }
    for (int i = 0; i < 2; i++) {
        Py_VISIT(st->mx_device[i]);
        Py_VISIT(st->device[i]);
    }
    Py_VISIT(st->tensor_type);
    Py_VISIT(st->size_type);
    Py_VISIT(st->node_type);
    Py_VISIT(st->node_classes);
    Py_VISIT(st->backward_fns);
    Py_VISIT(st->py_getitem);
    Py_VISIT(st->py_view_commit);
    Py_VISIT(st->py_setitem);
    Py_VISIT(st->tf_wrapper_type);
    Py_VISIT(st->py_tf_dispatch);
    Py_VISIT(st->py_arg_error_hook);
    Py_VISIT(st->anomaly_hook);
    Py_VISIT(st->disabled_tf);
    Py_VISIT(st->nn_global_hooks);
    Py_VISIT(st->f_stream_ctx);
    Py_VISIT(st->py_device_to_code);
    Py_VISIT(st->shared_stream[0]);
    Py_VISIT(st->shared_stream[1]);
    for (int i = 0; i < EVALUATED_N; i++)
        Py_VISIT(st->evaluated[i]);
#define X(name) Py_VISIT(st->f_##name);
    MX_FUNCS(X)
#undef X
    Py_VISIT(st->op_type);
    Py_VISIT(st->op_method_type);
    Py_VISIT(st->op_registry);
    Py_VISIT(st->kw_stream);
    for (int i = 0; i < SHAPE_ARG_MAX; i++)
        Py_VISIT(st->shape_args[i]);
    for (int i = 0; i < VALUE_ARG_MAX; i++)
        Py_VISIT(st->value_args[i]);
    return fast_traverse(st, visit, arg);
}

static int module_clear(PyObject *m)
{
    State *st = (State *)PyModule_GetState(m); /* no thread pin: GC may run it */
    if (st == NULL)
        return 0;
    Py_CLEAR(st->mx);
    Py_CLEAR(st->array_type);
    for (int i = 0; i < DT_COUNT; i++) {
        Py_CLEAR(st->mx_dtype[i]);
        Py_CLEAR(st->dtype[i]);
    }
    for (int i = 0; i < 2; i++) {
        Py_CLEAR(st->mx_device[i]);
        Py_CLEAR(st->device[i]);
    }
    /* Note [Tensor free list]: before the type goes. PyObject_GC_Del finds an object's allocation through its
     * type (the GC pre-header size), and the kept objects hold no reference to it. */
    live_unlink_all(st); /* Note [Live tensors]: the ring's head goes with the state */
    tensor_free_list_clear(st);
    node_free_list_clear(st); /* Note [Node types and free list]: kept nodes' type is node_type */
    Py_CLEAR(st->tensor_type);
    Py_CLEAR(st->size_type);
    Py_CLEAR(st->node_type);
    st->accumulate_cls = NULL; /* borrowed from node_classes */
    backward_cache_flush(st);  /* borrows from backward_fns (Note [Backward entry cache]) */
    Py_CLEAR(st->node_classes);
    Py_CLEAR(st->backward_fns);
    Py_CLEAR(st->py_getitem);
    Py_CLEAR(st->py_view_commit);
    Py_CLEAR(st->py_setitem);
    Py_CLEAR(st->tf_wrapper_type);
    Py_CLEAR(st->py_tf_dispatch);
    Py_CLEAR(st->py_arg_error_hook);
    Py_CLEAR(st->anomaly_hook);
    Py_CLEAR(st->disabled_tf);
    Py_CLEAR(st->f_stream_ctx);
    Py_CLEAR(st->py_device_to_code);
    Py_CLEAR(st->s_device); Py_CLEAR(st->s_enter); Py_CLEAR(st->s_exit);
    Py_CLEAR(st->shared_stream[0]);
    Py_CLEAR(st->shared_stream[1]);
    for (int i = 0; i < EVALUATED_N; i++)
        Py_CLEAR(st->evaluated[i]);
#define X(name) Py_CLEAR(st->f_##name);
    MX_FUNCS(X)
#undef X
    Py_CLEAR(st->s_shape); Py_CLEAR(st->s_dtype); Py_CLEAR(st->s_stream); Py_CLEAR(st->s_astype);
    Py_CLEAR(st->s_item); Py_CLEAR(st->s_eval); Py_CLEAR(st->s_tolist); Py_CLEAR(st->s_size); Py_CLEAR(st->s_axis);
    Py_CLEAR(st->s_keepdims); Py_CLEAR(st->s_ndim); Py_CLEAR(st->s_T); Py_CLEAR(st->s_torch_function);
    Py_CLEAR(st->s_parameters); Py_CLEAR(st->s_buffers); Py_CLEAR(st->s_modules);
    Py_CLEAR(st->s_forward); Py_CLEAR(st->s_compiled_call_impl); Py_CLEAR(st->nn_global_hooks);
    for (int i = 0; i < NN_HOOK_NAMES; i++)
        Py_CLEAR(st->nn_hook_names[i]);
    Py_CLEAR(st->kw_stream);
    for (int i = 0; i < SHAPE_ARG_MAX; i++)
        Py_CLEAR(st->shape_args[i]);
    for (int i = 0; i < VALUE_ARG_MAX; i++)
        Py_CLEAR(st->value_args[i]);
    Py_CLEAR(st->op_type);
    Py_CLEAR(st->op_method_type);
    Py_CLEAR(st->op_registry);
    fast_clear(st);
    return 0;
}

static void module_free(void *m)
{
    State *st = (State *)PyModule_GetState((PyObject *)m);
    module_clear((PyObject *)m);
    if (st != NULL && st->eval_lock != NULL) {
        PyThread_free_lock(st->eval_lock);
        st->eval_lock = NULL;
    }
    if (st != NULL) {
        fast_free(st);
        backward_cache_free(st);
    }
}

static PyModuleDef_Slot module_slots[] = {{Py_mod_exec, module_exec}, {0, NULL}};

PyModuleDef mlx_compat_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "mlx_compat._C",
    .m_doc = "mlx_compat's C core: the Tensor type and its per-op path over mlx.core.",
    .m_size = sizeof(State),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit__C(void) { return PyModuleDef_Init(&mlx_compat_module); }
