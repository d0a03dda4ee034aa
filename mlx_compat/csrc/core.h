/* core.h — the shared declarations of mlx_compat's C core.
 *
 * Reference conventions (see docs/architecture.md):
 *   every function's comment says whether it returns a NEW or BORROWED reference, or STEALS an argument;
 *   functions returning PyObject* return NULL with an exception set on failure;
 *   functions returning int return 0 on success and -1 with an exception set on failure.
 */
#ifndef MLX_COMPAT_CORE_H
#define MLX_COMPAT_CORE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>

/* Note [Internal linkage]
 * Everything declared here is internal to the extension: only PyInit__C (module.c, PyMODINIT_FUNC, which says
 * default visibility itself) is exported. Hidden visibility lets the compiler call these functions directly
 * instead of through the PLT (and inline within a file: no symbol interposition to allow for), and reach the
 * thread-local flags read on every call (grad mode, Note [torch function check]'s switches, Note [Threads]'s
 * pin) through the module's own TLS block: one __tls_get_addr per function at most, not one per access.
 * The push/pop is around this header's own declarations only: system headers included after it keep their
 * default visibility. */
#if defined(__GNUC__) && !defined(_WIN32)
#pragma GCC visibility push(hidden)
#endif

/* Note [Thread-local flags]
 * The per-thread flags every call reads (grad mode, inference mode, Note [torch function check]'s switches and
 * device-scope depth, Note [Threads]'s pin, Note [Bounded lazy graphs]'s read depth) are C11 _Thread_local ints.
 * In a dlopen'ed ELF extension the default (dynamic) TLS model reaches them through __tls_get_addr, a call per
 * access or per function; the initial-exec model makes each access one %fs-relative load. That model takes
 * its few bytes from the static TLS surplus glibc reserves for libraries loaded later (hundreds of bytes;
 * these flags are under 64); were it exhausted, importing the extension would fail loudly, never misbehave.
 * Elsewhere (macOS, Windows) the platform's own model is kept. */
#if defined(__linux__) && defined(__GNUC__)
#define CORE_TLS __attribute__((tls_model("initial-exec")))
#else
#define CORE_TLS
#endif

/* dtype codes: the values of MLX's Dtype::Val enum, so `hash(mx_dtype)` is the code. */
enum {
    DT_BOOL = 0, DT_U8, DT_U16, DT_U32, DT_U64, DT_I8, DT_I16, DT_I32, DT_I64,
    DT_F16, DT_F32, DT_F64, DT_BF16, DT_C64, DT_COUNT
};
#define DT_NONE (-1)
#define DT_C128 (-2) /* a promotion result MLX cannot represent */

static inline int dt_is_float(int d) { return d == DT_F16 || d == DT_F32 || d == DT_F64 || d == DT_BF16; }
static inline int dt_is_complex(int d) { return d == DT_C64; }
static inline int dt_itemsize(int d)
{
    static const signed char size[DT_COUNT] = {1, 1, 2, 4, 8, 1, 2, 4, 8, 2, 4, 8, 2, 8};
    return d >= 0 && d < DT_COUNT ? size[d] : 0;
}
static inline int dt_is_integral(int d, int include_bool) { return (d >= DT_U8 && d <= DT_I64) || (include_bool && d == DT_BOOL); }

enum { DEV_CPU = 0, DEV_GPU = 1 };

#define TENSOR_FREE_LIST_MAX 128 /* Note [Tensor free list] (tensor.c) */
#define SHAPE_ARG_MAX 4          /* Note [Reused shape tuples] (mxcall.c) */
#define EVALUATED_N 8            /* Note [Known evaluated values] (threads.c) */
#define EVALUATED_MAX_SIZE 64    /* the most elements an array kept there has */
#define VALUE_ARG_MAX 4          /* Note [Reused value tuples] (shape.c) */
#define BINARY_BACKWARD_SLOTS 64 /* 3 operand kinds for each of ops.c's operators (Note [Backward entry cache]) */
#define TENSOR_INLINE_DIMS 4     /* Note [Inline sizes] (tensor.c) */
#define NODE_BY_VALUE_MAX 2      /* Note [Saved inputs by value] (autograd.c) */
#define NODE_INLINE_EDGES 2      /* Note [Node edges] (autograd.c) */
#define NODE_FREE_LIST_MAX 128   /* Note [Node types and free list] (autograd.c) */

/* Cached mlx.core callables, looked up once at module init (see module.c). */
#define MX_FUNCS(X) \
    X(view) \
    X(add) X(subtract) X(multiply) X(divide) X(floor_divide) X(remainder) X(power) \
    X(bitwise_and) X(bitwise_or) X(bitwise_xor) X(left_shift) X(right_shift) X(matmul) \
    X(equal) X(not_equal) X(less) X(less_equal) X(greater) X(greater_equal) \
    X(negative) X(abs) X(bitwise_invert) X(logical_not) \
    X(reshape) X(transpose) X(broadcast_to) X(expand_dims) X(squeeze) X(as_strided) \
    X(arange) X(array) X(sum) X(mean) X(eval) X(contiguous) X(full) X(zeros) X(where) \
    X(floor) X(trunc) X(moveaxis) X(diagonal) X(stack) X(concatenate) X(take) X(minimum) X(maximum) \
    X(clip) X(isnan) X(real) X(imag) X(sign) X(async_eval) X(conj) X(reciprocal)

/* A place in a ring of live tensors (Note [Live tensors], tensor.c). */
typedef struct LiveLink {
    struct LiveLink *prev, *next;
} LiveLink;

typedef struct {
    PyObject *mx;                 /* the mlx.core module */
    PyObject *array_type;         /* mx.array */
    PyObject *mx_dtype[DT_COUNT]; /* mx.Dtype objects by code */
    PyObject *dtype[DT_COUNT];    /* mlx_compat dtype objects by code (registered from Python) */
    PyObject *mx_device[2];       /* mx.cpu, mx.gpu (DeviceType values usable as stream=) */
    PyObject *device[2];          /* mlx_compat.device objects (registered from Python) */
    PyObject *tensor_type;        /* the C Tensor type */
    PyObject *size_type;          /* mlx_compat.Size (registered) */
    PyObject *node_type;          /* autograd Node base type */
    PyObject *node_classes;       /* dict: node name -> Node subclass */
    PyObject *backward_fns;       /* dict: C op name -> (Node subclass, backward callable) */
    PyObject *py_view_commit;     /* mlx_compat._autograd.view_commit (registered) */
    PyObject *py_getitem;         /* mlx_compat._indexing.getitem (registered) */
    PyObject *py_setitem;         /* mlx_compat._indexing.setitem (registered) */
    PyObject *tf_wrapper_type;    /* TorchFunctionWrapper (overrides.c) */
    PyObject *py_tf_dispatch;     /* mlx_compat.overrides._dispatch (registered) */
    PyObject *py_arg_error_hook;  /* mlx_compat._argcheck.arg_error_hook (registered; Note [Argument error hook]) */
    PyObject *anomaly_hook;       /* hook(node) for each recorded node while anomaly mode is on, else NULL (Note
                                   * [Anomaly tracebacks] in autograd.c) */
    PyObject *disabled_tf;        /* _C._disabled_torch_function_impl */
    PyObject *s_torch_function;   /* "__torch_function__" */
    /* Note [Device scope] (overrides.c) */
    int scope_active;             /* wrappers run calls on their tensors' device: a GPU exists, or MLX_COMPAT_DEVICE_SCOPE=1 */
    PyObject *f_stream_ctx;       /* mx.stream */
    PyObject *py_device_to_code;  /* mlx_compat._device.to_code (registered), or NULL */
    PyObject *s_device, *s_enter, *s_exit; /* "device", "__enter__", "__exit__" */
#define X(name) PyObject *f_##name;
    MX_FUNCS(X)
#undef X
    PyObject *s_shape, *s_dtype, *s_stream, *s_astype, *s_item, *s_eval, *s_tolist, *s_size, *s_axis, *s_keepdims, *s_ndim, *s_T;
    PyObject *s_parameters, *s_buffers, *s_modules; /* nn.Module's registries (nnmodule.c) */
    PyObject *s_forward, *s_compiled_call_impl;
#define NN_HOOK_NAMES 4
    PyObject *nn_hook_names[NN_HOOK_NAMES]; /* a Module's _forward_pre_hooks, _forward_hooks, _backward_hooks,
                                             * _backward_pre_hooks */
    PyObject *nn_global_hooks; /* tuple of module.py's global hook registries, or NULL (Note [Module call in C]) */
    int default_dtype;            /* torch.get_default_dtype() as a code */
    int default_mx_device;        /* MLX's default device at import */
    int gpu_available;
    int fake_gpu;                 /* Note [Fake GPU] (module.c) */
    /* the operator registry (dispatch.c, Note [Operator registry]) */
    PyObject *op_type;            /* _C.Op: function forms; constructing one declares an operator */
    PyObject *op_method_type;     /* _C.OpMethod: method and in-place forms */
    PyObject *op_registry;        /* dict: name -> function form */
    PyObject *shared_stream[2];   /* the process-wide mx.Stream per device, or NULL (Note [Threads], threads.c) */
    void *eval_lock;              /* PyThread_type_lock taken by every evaluation (Note [Threads]) */
    PyObject *evaluated[EVALUATED_N]; /* weak references to small arrays an evaluation made available, or NULL
                                     (Note [Known evaluated values], threads.c) */
    int evaluated_next;           /* the slot of `evaluated` the next one replaces */
    struct FastState *fast;       /* fastpath.c: the C fast paths' own state */
    int64_t cpu_math_min;         /* Note [Shapeless CPU transcendentals] (_ops/cpu_math.py): from this many elements on,
                                     float32 on the CPU device takes the forward_cpu / cpu_softmax callables
                                     (INT64_MAX until _register_cpu_math) */
    PyObject *kw_stream;          /* ("stream",): the keyword names of mx_call off MLX's default device */
    PyObject *shape_args[SHAPE_ARG_MAX]; /* mxcall.c: Note [Reused shape tuples], by length - 1 */
    PyObject *value_args[VALUE_ARG_MAX]; /* shape.c: Note [Reused value tuples], by length - 1; None items between calls */
    PyObject *accumulate_cls;     /* the AccumulateGrad node class, or NULL until first made (autograd.c) */
    struct BackwardCacheEntry *backward_cache; /* autograd.c: Note [Backward entry cache] */
    PyObject *binary_backward[BINARY_BACKWARD_SLOTS]; /* ops.c: BORROWED entries per operator and operand
                                                       * kinds, flushed with the cache above (same Note) */
    LiveLink live_tensors;        /* Note [Live tensors] (tensor.c): the head of the ring of live tensors */
    int n_free_tensors;           /* Note [Tensor free list] (tensor.c) */
    struct TensorObject *free_tensors[TENSOR_FREE_LIST_MAX];
    int n_free_nodes;             /* Note [Node types and free list] (autograd.c) */
    struct NodeObject *free_nodes[NODE_FREE_LIST_MAX];
} State;

/* Whether MLX runs `device` (DEV_CPU / DEV_GPU) on its default device, so that a call needs no stream=
 * keyword: MLX's default device at import, and every device under a fake GPU, whose 'cuda' is MLX's CPU
 * (Note [Fake GPU] in module.c): its per-call cost is then a real GPU's, where 'cuda' is MLX's default. */
static inline int mx_device_is_default(const State *st, int device)
{
    return device == st->default_mx_device || st->fake_gpu;
}

/* Note [Tensor storage and views]
 * A Tensor either owns its storage (base == NULL) or is a view of a base that owns it. The base's
 * `data` (an immutable mx.array) is the storage's value; it is always row-major contiguous, so a
 * view is fully described by (shape, strides, storage_offset) relative to the base, exactly the
 * numbers torch reports. `version` on a base counts in-place writes; views and base share it
 * (a view reads its base's). A view's `data` is a cached derivation of the base value, valid
 * while `view_version == base->version`; when the base was written since, the view re-derives it
 * with one mx.as_strided over the base's value (Note [View re-derivation] in tensor.c).
 * An in-place write to a view computes the view's new value, then scatters it into the base's
 * value through the view's index map (flat base positions of each view element, cached), bumps
 * the shared version and keeps the new value as the view's cache. Every other view of the base
 * notices the version change the next time it is read. Chains of views need nothing more: the
 * base is always the root owner and the metadata is always relative to it.
 *
 * Note [Reinterpreted views]
 * A view's dtype may differ from its base's: x.real / x.imag (float32 over complex64 storage),
 * view_as_real, view_as_complex and view(dtype). Its metadata is then in units of its own dtype over
 * the base's storage reinterpreted as that dtype (torch's numbers: real/imag strides doubled, offset
 * doubled, +1 for imag). mx.view reinterprets the flat storage (zero-padded to a whole number of
 * elements), so re-deriving, the index map and a write are exactly those of a same-dtype view over
 * the reinterpreted storage; the written storage is reinterpreted back (and the padding dropped).
 * Such views are recognised by `dtype != base->dtype`; views of them inherit their dtype.
 *
 * Note [Conjugate views]
 * torch's conjugate and negative bits: x.conj() of a complex tensor is a lazy view whose value is the
 * conjugate of what its (shape, strides, offset) select from the base (`is_conj()`), and x.conj().imag /
 * torch._neg_view(x) are views whose value is the negation (`is_neg()`). `view_bits` holds VIEW_CONJ |
 * VIEW_NEG and always relates a view's value to its base's storage: value = bits(as_strided(storage)).
 * Both are involutions, so a write applies the same bits to the new value before scattering it into the
 * storage (tensor_write), and re-deriving applies them after the strided read (tensor_value). The cached
 * `data` of such a view is its value (already conjugated / negated), so every op, printing and conversion
 * that reads a value sees the right numbers without knowing the bit; only code that reads the storage
 * itself (Tensor._storage_value, the index-map paths) applies the bits. Views of a view inherit its bits
 * (tensor_make_view); `real` drops CONJ, `imag` turns CONJ into NEG (imag(conj z) = -imag z); a dtype
 * reinterpretation of a CONJ view is refused (as torch). Bases never carry bits: results of non-view ops
 * (clone, resolve_conj, arithmetic) are values. For autograd a bit view is a view: ConjBackward0 /
 * NegViewBackward0 when made, and after an in-place write the base's CopySlices and the view's new history
 * apply the bits to the gradient (autograd/_derivatives.py's view_commit).
 */
enum { VIEW_CONJ = 1, VIEW_NEG = 2 };
typedef struct TensorObject {
    PyObject_HEAD
    PyObject *data;        /* mx.array; for views a cache (Note [Tensor storage and views]) */
    struct TensorObject *base; /* root owner for views, else NULL */
    PyObject *index_map;   /* views: cached mx.array of flat base positions, or NULL */
    PyObject *grad;        /* Tensor or NULL */
    PyObject *grad_fn;     /* autograd node or NULL; a weakref to it when weak_grad_fn (Note [Autograd ownership]) */
    PyObject *hooks;       /* list of grad hooks or NULL */
    PyObject *dict;        /* instance __dict__ (lazily created) */
    PyObject *weakreflist;
    Py_ssize_t *sizes;     /* shape[ndim] then strides[ndim]; NULL until needed (bases); Note [Inline sizes] */
    Py_ssize_t offset;     /* storage_offset (views) */
    int64_t version;       /* bases: write counter; views: base version of the cached data */
    int ndim;              /* -1 while unknown; may be known while sizes is still NULL */
    signed char dtype;     /* dtype code */
    signed char device;    /* DEV_CPU / DEV_GPU */
    char requires_grad;
    char retains_grad;
    char is_view;
    int output_nr;         /* which output of grad_fn this tensor is */
    char detached;         /* made by detach()/.data: shares storage, outside autograd's view tracking */
    char own_version;      /* .data aliases: writes through it are not counted in the owner's _version */
    char inference;        /* created under inference_mode */
    int64_t aux_version;   /* owners: writes made through .data aliases; .data aliases: their own count */
    PyObject *grad_accumulator; /* leaves: their live AccumulateGrad, BORROWED (Note [Leaf accumulator]); snapshots of
                            * leaves: the node itself (strong) */
    char accumulator_borrowed; /* grad_accumulator is the borrowed one of a leaf */
    char weak_grad_fn;     /* grad_fn holds a weakref: a saved output of its own node (Note [Autograd ownership]) */
    int64_t numel_bound;   /* 1 + an upper bound on the element count, 0 when unknown (Note [Result size check]) */
    int lazy_depth;        /* ops since the value was last handed to MLX's evaluation (Note [Bounded lazy graphs]) */
    PyObject *size_cache;  /* the Size `.shape` returned, or NULL; dropped whenever sizes change (tensor_sizes_changed) */
    char cast_on_read;     /* bases: `data` is still of another MLX dtype, cast to `dtype` on first read (Note [Deferred cast]) */
    char view_bits;        /* views: VIEW_CONJ | VIEW_NEG relating the value to the base's storage (Note [Conjugate views]) */
    char mem_last;         /* bases: `data` is likely channels-last in memory (Note [Channels-last hint], layout.c) */
    PyObject *last_src;    /* bases: the N...C array whose NC... transpose `last_of` is (Note [Channels-last source]) */
    PyObject *last_of;     /* bases: the `data` last_src was recorded for; the source holds while data is it */
    struct TensorObject *shown_base; /* views of a detached alias: that alias, the `_base` torch shows (Note [Bases
                            * torch shows], tensor.c); else NULL */
    LiveLink live;         /* this tensor's place in its module's ring of live tensors, NULLs when outside it (Note
                            * [Live tensors], tensor.c) */
    Py_ssize_t inline_sizes[2 * TENSOR_INLINE_DIMS]; /* `sizes` of tensors up to TENSOR_INLINE_DIMS dims (Note [Inline
                            * sizes]); the last member: the free list's reuse leaves it unzeroed (tensor.c) */
} TensorObject;

/* BORROWED: t's grad_fn node, or NULL (a leaf, or a saved output whose node is gone). */
static inline PyObject *tensor_grad_fn(TensorObject *t)
{
    PyObject *f = t->grad_fn;
    if (f != NULL && t->weak_grad_fn) {
        f = PyWeakref_GET_OBJECT(f);
        return f == Py_None ? NULL : f;
    }
    return f;
}

/* An autograd node (autograd.c); the engine is engine.c. */
typedef struct NodeObject {
    PyObject_HEAD
    PyObject *backward;    /* callable(ctx, grads tuple) -> tuple of grads, one per input; NULL for AccumulateGrad */
    PyObject *ctx;         /* what backward needs (snapshots, Note [Saved values are snapshots]; until read, saved
                            * inputs as bare mx.arrays: Note [Saved inputs by value]) */
    struct NodeEdge *edges; /* next edges, one per input (Note [Node edges] in autograd.c) */
    Py_ssize_t n_edges;
    PyObject *tensor_pre_hooks; /* list of (output_nr, hook(grad) -> new grad or None): hooks of non-leaf outputs */
    PyObject *pre_hooks;   /* list of hook(grad_outputs) -> new grad_outputs or None */
    PyObject *hooks;       /* list of hook(grad_inputs, grad_outputs) -> new grad_inputs or None */
    PyObject *retained;    /* list of (output_nr, weakref to tensor) whose .grad is retained */
    PyObject *variable;    /* AccumulateGrad: the leaf */
    PyObject *dict;
    PyObject *weakreflist;
    int n_outputs;
    char released;         /* saved values freed after a backward without retain_graph */
    char is_accumulate;
    char saves;            /* saved tensors that a backward frees (else a second backward is fine, as in torch) */
    int n_by_value;        /* Note [Saved inputs by value] (autograd.c): ctx slots holding an input's bare mx.array */
    int ctx_deferred;      /* Note [Deferred ctx] (autograd.c): ctx not made yet, its length; else 0 */
    struct SavedByValue {
        PyObject *value;   /* while ctx_deferred: the input's mx.array (strong), for its ctx slot */
        int slot, input;   /* the ctx slot, and the input (next edge) whose graph position its snapshot takes */
        int ndim, lazy_depth;
        int64_t numel_bound;
        signed char dtype, device;
        signed char mem_last; /* the input's channels-last hint (Note [Channels-last hint], layout.c) */
    } by_value[NODE_BY_VALUE_MAX];
    struct NodeEdge {
        PyObject *fn;      /* the Node its input's gradient goes to (strong), or NULL (torch's None); while `leaf`,
                            * the leaf tensor itself (strong): node_edge_fn reads it (Note [Lazy leaf edges]) */
        int input_nr;
        int leaf;
    } inline_edges[NODE_INLINE_EDGES];
} NodeObject;
/* Note [Saved inputs by value] (autograd.c): replaces the node's by-value ctx slots with snapshot tensors. 0 / -1. */
int node_saved_materialize(State *st, NodeObject *n);
/* BORROWED: the node edge i's target node, or NULL (torch's None); a leaf's AccumulateGrad is made here (Note
 * [Lazy leaf edges] in autograd.c). NULL with an exception on error. */
PyObject *node_edge_fn(State *st, NodeObject *n, Py_ssize_t i);
/* Releases the node's saved values: ctx and, while deferred, the by-value arrays (Note [Deferred ctx]). */
void node_saved_release(NodeObject *n);

/* Grad mode is per thread, as in torch: a thread-local flag (no Python object), read on every op. */
extern _Thread_local int grad_mode_disabled CORE_TLS;
extern _Thread_local int inference_mode_enabled CORE_TLS;
#define GRAD_ENABLED(st) (!grad_mode_disabled)

/* ---- threads.c (Note [Threads]) ---- */
int threads_init(State *st);
void thread_pin_slow(State *st);
extern _Thread_local char thread_pinned CORE_TLS;
/* Pins the calling thread to the shared streams on its first call into the core; a flag test after that. */
#define thread_pin(st) do { if (!thread_pinned) thread_pin_slow(st); } while (0)
void eval_lock_acquire(State *st);
void eval_lock_release(State *st);
PyObject *mod_eval(PyObject *m, PyObject *const *args, Py_ssize_t nargs);
void note_evaluated(State *st, PyObject *arr);
PyObject *mod_note_evaluated(PyObject *m, PyObject *arrays);
PyObject *mod_pin_thread(PyObject *m, PyObject *noargs);
PyObject *mod_eval_lock_acquire(PyObject *m, PyObject *noargs);
PyObject *mod_eval_lock_release(PyObject *m, PyObject *noargs);
PyObject *mod_shared_stream(PyObject *m, PyObject *arg);

/* ---- module.c ---- */
extern PyModuleDef mlx_compat_module;
State *state_of_type_slow(PyTypeObject *tp); /* borrowed; NULL with exception if tp is no Tensor type */
State *state_of_module_slow(PyObject *m);
/* The head of CPython's module object (Note [Module state lookup], module.c); read only while module_head_ok. */
typedef struct {
    PyObject_HEAD
    PyObject *md_dict;
    PyModuleDef *md_def;
    void *md_state;
} ModuleHead;
extern int module_head_ok;

/* BORROWED: the module state behind a Tensor type (or subclass, or any of our types). NULL with an exception
 * otherwise. Note [Module state lookup] (module.c). */
static inline State *state_of_type(PyTypeObject *tp)
{
    PyObject *own = (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) ? ((PyHeapTypeObject *)tp)->ht_module : NULL;
    if (__builtin_expect(own != NULL && module_head_ok && Py_IS_TYPE(own, &PyModule_Type) &&
                         ((ModuleHead *)own)->md_def == &mlx_compat_module, 1)) {
        State *st = (State *)((ModuleHead *)own)->md_state;
        thread_pin(st); /* Note [Threads] */
        return st;
    }
    return state_of_type_slow(tp);
}

/* BORROWED: the state of our module object m (a module function's `self`). */
static inline State *state_of_module(PyObject *m)
{
    if (__builtin_expect(module_head_ok && Py_IS_TYPE(m, &PyModule_Type), 1)) {
        State *st = (State *)((ModuleHead *)m)->md_state;
        thread_pin(st); /* Note [Threads] */
        return st;
    }
    return state_of_module_slow(m);
}

/* ---- tensor.c ---- */
int tensor_type_init(PyObject *module, State *st);
void tensor_free_list_clear(State *st); /* Note [Tensor free list] */
void live_init(State *st);        /* Note [Live tensors]: an empty ring */
void live_unlink_all(State *st);  /* Note [Live tensors]: detach every tensor still linked */
PyObject *mod_eval_live(PyObject *m, PyObject *const *args, Py_ssize_t nargs); /* NEW: _C._eval_live */
PyObject *mod_set_anomaly_hook(PyObject *m, PyObject *hook); /* NEW None: Note [Anomaly tracebacks] */
/* Whether o is a Tensor (or a subclass instance): the exact type first, so the common case is one comparison. */
static inline int is_tensor(State *st, PyObject *o)
{
    return Py_IS_TYPE(o, (PyTypeObject *)st->tensor_type) || PyType_IsSubtype(Py_TYPE(o), (PyTypeObject *)st->tensor_type);
}
/* NEW: wrap an mx.array (borrowed) as a fresh base Tensor; dtype code read from the array if dt < 0. */
PyObject *tensor_wrap(State *st, PyObject *arr, int dt, int device);
/* NEW: same, but steals `arr` (which may be NULL, in which case NULL is returned). */
PyObject *tensor_wrap_existing_steal(State *st, PyObject *arr, int dt, int device);
PyObject *tensor_wrap_steal(State *st, PyObject *arr, int dt, int device);
/* NEW: a new result holding `arr` (STOLEN, may be NULL) whose element count is at most `bound` (-1: unknown):
 * the size check of Note [Result size check] runs only when the bound does not settle it. */
PyObject *tensor_wrap_result_steal(State *st, PyObject *arr, int dt, int device, int64_t bound);
/* An upper bound on t's element count (exact when its sizes are known), or -1 when unknown. */
static inline int64_t tensor_numel_bound(TensorObject *t)
{
    if (t->sizes == NULL)
        return t->ndim == 0 ? 1 : t->numel_bound - 1;
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->sizes[i];
    return n;
}
/* The bound of a reduction's result: its input's count, unless that is empty (a sum over an empty dim
 * fills the other dims) or unknown. */
static inline int64_t tensor_reduce_bound(TensorObject *t)
{
    int64_t n = tensor_numel_bound(t);
    return n > 0 ? n : -1;
}
/* The bound of an elementwise result of operands with bounds a and b (a scalar operand counts 1), or -1. */
static inline int64_t numel_bound_broadcast(int64_t a, int64_t b)
{
    if (a < 0 || b < 0 || a > ((int64_t)1 << 30) || b > ((int64_t)1 << 30))
        return -1;
    return a <= 1 ? b : b <= 1 ? a : a * b;
}
/* Note [Inline value read]
 * Every op reads its operands' values, most ops several times (the MLX call, then autograd's saved inputs), and
 * nearly always the value is simply `data`: a base without a deferred cast, or a view whose cache is current.
 * That test is inlined here; re-deriving a stale view and making a deferred cast stay out of line in
 * tensor_value_slow, so the hot callers pay neither a call nor the slow path's register saves. Likewise
 * tensor_check_mx_extent's check, which only views need. */
/* BORROWED: tensor_value's slow cases (tensor.c): a stale view re-derived, a deferred cast made. */
PyObject *tensor_value_slow(State *st, TensorObject *t);
/* BORROWED: the tensor's current mx.array value (re-derives stale views, makes a deferred cast), NULL on error. */
static inline PyObject *tensor_value(State *st, TensorObject *t)
{
    TensorObject *b = t->base;
    if ((b == NULL || t->version == b->version) && !t->cast_on_read)
        return t->data;
    return tensor_value_slow(st, t);
}
/* Fill t->sizes/ndim for a base from its array's shape; 0 / -1. */
int tensor_ensure_sizes(State *st, TensorObject *t);
/* Note [Inline sizes] (tensor.c): storage for n dims of sizes+strides, t's own inline array when it fits, else
 * PyMem_Malloc'd (NULL with MemoryError); t->sizes must be NULL. Set t->sizes to the result. */
Py_ssize_t *tensor_sizes_alloc(TensorObject *t, int n);
/* Frees t->sizes (when not t's inline array) and sets it NULL. */
void tensor_sizes_free(TensorObject *t);
/* Call after changing t->sizes / t->ndim in place: drops the cached Size of `.shape`. */
static inline void tensor_sizes_changed(TensorObject *t) { Py_CLEAR(t->size_cache); }
/* Note [Bounded lazy graphs] (tensor.c): the depth of a result made from inputs of depth `in_depth` (the largest),
 * which hands the result to mx.async_eval when it passes the bound. 0 / -1. */
#define LAZY_DEPTH_BOUND 4096
int tensor_bound_depth_slow(State *st, TensorObject *r);
static inline int tensor_set_depth(State *st, TensorObject *r, int in_depth)
{
    r->lazy_depth = in_depth + 1;
    return r->lazy_depth < LAZY_DEPTH_BOUND ? 0 : tensor_bound_depth_slow(st, r);
}
/* Python-level ops read their inputs' values through `Tensor._mx` and wrap their result with `_C._wrap` /
 * `Tensor._new_on`: the largest depth read since the last such wrap, per thread (Note [Bounded lazy graphs]). */
extern _Thread_local int py_read_depth CORE_TLS;
/* NEW-result bookkeeping of a Python-level op's result r: its depth from what was read since the last wrap. */
int tensor_set_depth_from_reads(State *st, TensorObject *r);
static inline Py_ssize_t *tensor_shape(TensorObject *t) { return t->sizes; }
static inline Py_ssize_t *tensor_strides(TensorObject *t) { return t->sizes + t->ndim; }
/* Write `value` (borrowed mx.array of t's shape and dtype) into t: write-through for views; bumps the version. */
int tensor_write(State *st, TensorObject *t, PyObject *value);
/* NEW: arr with view bits `bits` applied (conjugated and/or negated; Note [Conjugate views]); a new
 * reference to arr itself when bits is 0. */
PyObject *view_bits_apply(State *st, PyObject *arr, int bits, int device);
/* Checks torch makes before any in-place write (leaf requiring grad, internal overlap). */
int tensor_check_inplace(State *st, TensorObject *t);
int tensor_check_inplace_ex(State *st, TensorObject *t, int check_overlap);
/* NEW: a view of `src` whose value is `arr` (stolen) with the given metadata relative to the base. */
PyObject *tensor_make_view(State *st, TensorObject *src, PyObject *arr, int ndim,
                           const Py_ssize_t *shape, const Py_ssize_t *strides, Py_ssize_t offset);
/* NEW: the same, for a caller that changes the view's bits or dtype afterwards (Note [Views that are their base]). */
PyObject *tensor_make_view_exact(State *st, TensorObject *src, PyObject *arr, int ndim,
                                 const Py_ssize_t *shape, const Py_ssize_t *strides, Py_ssize_t offset);
int64_t tensor_numel(TensorObject *t);
int tensor_check_mx_extent_slow(State *st, TensorObject *t);
/* Note [32-bit element counts] (tensor.c): 0, or -1 with RuntimeError for an expanded view MLX cannot compute
 * with; bases always pass (inlined: Note [Inline value read]). */
static inline int tensor_check_mx_extent(State *st, TensorObject *t)
{
    return t->base == NULL ? 0 : tensor_check_mx_extent_slow(st, t);
}
/* The number of dims (known without reading the array's shape when an op recorded it); -1 on error. */
int tensor_ndim(State *st, TensorObject *t);
/* NEW: a tuple (as mlx_compat.Size) of the tensor's shape. */
PyObject *tensor_size_obj(State *st, TensorObject *t);
int dtype_from_mx(State *st, PyObject *mx_dtype); /* code or -1 with exception */
int dtype_code_of(State *st, PyObject *dtype_obj); /* our dtype object -> code, -1 with exception */
int is_dtype_object(State *st, PyObject *o);
PyObject *dtype_of_code(State *st, int code);      /* BORROWED */

/* ---- mxcall.c ---- */
/* NEW: call an mlx.core function with positional args, adding stream= when `device` is not MLX's default. */
PyObject *mx_call(State *st, PyObject *f, PyObject *const *args, Py_ssize_t nargs, int device);
PyObject *mx_call1(State *st, PyObject *f, PyObject *a, int device);
PyObject *mx_call2(State *st, PyObject *f, PyObject *a, PyObject *b, int device);
/* NEW: arr cast to dtype code (returns a new ref to arr itself if already that dtype). */
PyObject *mx_astype(State *st, PyObject *arr, int dt, int device);
/* NEW: tuple of Python ints from a C array */
PyObject *ssize_tuple(const Py_ssize_t *v, int n);
/* NEW: a tuple of `n` ints for an MLX shape argument, possibly the state's reused one (Note [Reused shape
 * tuples], mxcall.c): only for handing to MLX, which copies it, never to Python code that may keep it. */
PyObject *mx_shape_arg(State *st, const Py_ssize_t *v, int n);
int int_arg(State *st, PyObject *o, Py_ssize_t *out, int is_dim, const char *fname);
int is_int_value(PyObject *o, long value);
/* NEW: arr.item(), or Py_None while MLX traces arr (Note [No evaluation while tracing] in mxcall.c). */
PyObject *mx_item_or_tracing(State *st, PyObject *arr);
int mx_clear_tracing_error(void); /* whether the pending exception was MLX's refusal to evaluate a tracer (cleared) */
PyObject *mod_item_or_none(PyObject *m, PyObject *arr);
PyObject *tracing_error_as_data_dependent(const char *what); /* always NULL; converts MLX's tracing refusal */

/* ---- promote.c ---- */
int promote_types(int a, int b);           /* code, or -1 (torch refuses) / DT_C128 */
/* Operand kinds for result_type: */
enum { OP_TENSOR_DIM, OP_TENSOR_ZERO, OP_SCALAR };
typedef struct { int dim, zero, wrapped; } ResultTypeState;
void result_type_init(ResultTypeState *s);
void result_type_update(State *st, ResultTypeState *s, int kind, int dt);
int result_type_finish(ResultTypeState *s);
int scalar_dtype(PyObject *o);             /* DT code a Python scalar stands for (before default), -1 if none */
int raise_promotion_error(int a, int b);
const char *dtype_name(int code);          /* e.g. "Float", torch's ScalarType name */

/* ---- ops.c ---- */
extern PyNumberMethods tensor_as_number_impl;
PyObject *tensor_richcompare(PyObject *a, PyObject *b, int op);
PyObject *binary_op_by_name(State *st, const char *name, PyObject *a, PyObject *b, int inplace);
extern PyMethodDef tensor_op_methods[];

/* ---- views.c ---- */
extern PyMethodDef tensor_view_methods[];
int normalize_dim(Py_ssize_t *dim, int ndim);  /* wraps negative dims; IndexError like torch */
PyObject *view_select(State *st, TensorObject *t, int dim, Py_ssize_t index);
PyObject *view_slice(State *st, TensorObject *t, int dim, Py_ssize_t start, Py_ssize_t stop, Py_ssize_t step);
PyObject *view_unsqueeze(State *st, TensorObject *t, int dim);
PyObject *view_reshape_impl(State *st, TensorObject *t, const Py_ssize_t *shape, int ndim, int allow_copy);
int tensor_is_contiguous(TensorObject *t);
PyObject *view_alias(State *st, TensorObject *t); /* NEW: a view of t with t's own metadata */
extern PyGetSetDef tensor_view_getset[];

/* ---- autograd.c / engine.c ---- */
int node_type_init(PyObject *module, State *st);
PyObject *node_class(State *st, PyObject *name);              /* BORROWED */
void node_free_list_clear(State *st);                          /* Note [Node types and free list] */
PyObject *grad_accumulator(State *st, TensorObject *t);       /* NEW */
PyObject *saved_snapshot(State *st, PyObject *o, PyObject *owner); /* NEW */
/* NEW: ctx slot `slot`'s content for saved value `o`, input `input_nr` (-1: none) of just-recorded `node`:
 * its value by value (Note [Saved inputs by value]) or a snapshot. */
PyObject *saved_input(State *st, PyObject *node, Py_ssize_t slot, Py_ssize_t input_nr, PyObject *o);
int autograd_needed(State *st, PyObject *const *inputs, Py_ssize_t n);
PyObject *autograd_record(State *st, PyObject *cls, PyObject *backward, PyObject *ctx, PyObject *const *inputs,
                          Py_ssize_t n_in, PyObject *const *outputs, Py_ssize_t n_out, int saves); /* NEW node or None */
int autograd_record_named(State *st, const char *name, PyObject *const *inputs, Py_ssize_t n_in,
                          PyObject *const *saved, Py_ssize_t n_saved, PyObject *extra, PyObject *const *outputs,
                          Py_ssize_t n_out);
/* BORROWED: the registered (cls, fn, saves) entry of C op `name`, or NULL with RuntimeError (Note [Backward
 * entry cache]). */
PyObject *autograd_backward_entry(State *st, const char *name);
/* autograd_record_named once the caller knows that recording is needed and holds the entry (BORROWED). 0 / -1. */
int autograd_record_entry(State *st, PyObject *entry, PyObject *const *inputs, Py_ssize_t n_in,
                          PyObject *const *saved, Py_ssize_t n_saved, PyObject *extra, PyObject *const *outputs,
                          Py_ssize_t n_out);
PyObject *mod_record(PyObject *m, PyObject *args);
PyObject *mod_register_backward(PyObject *m, PyObject *args);
PyObject *mod_snapshot(PyObject *m, PyObject *const *args, Py_ssize_t nargs);
PyObject *mod_register_node_class(PyObject *m, PyObject *args);
PyObject *mod_grad_accumulator(PyObject *m, PyObject *o);
PyObject *mod_edge(PyObject *m, PyObject *o);
PyObject *mod_set_history(PyObject *m, PyObject *args);
PyObject *mod_run_backward(PyObject *m, PyObject *args);
int autograd_commit(State *st, TensorObject *t, PyObject *src, PyObject *base_snapshot);
void backward_cache_flush(State *st); /* Note [Backward entry cache] (autograd.c) */
void backward_cache_free(State *st);

/* ---- overrides.c (Note [torch function check]) ---- */
extern _Thread_local int tf_subclass_disabled CORE_TLS;
extern _Thread_local int tf_all_disabled CORE_TLS;
extern _Thread_local int tf_modes_active CORE_TLS;
int tf_needed(State *st, PyObject *const *args, Py_ssize_t n);
/* Fast form for hot paths: nonzero only when some operand's type is not exactly Tensor, int or float (or a mode is
 * on): those never ask for __torch_function__, so tf_needed would say no (`a * 2` makes no call). */
#define TF_PLAIN(st, o) \
    (Py_TYPE(o) == (PyTypeObject *)(st)->tensor_type || Py_TYPE(o) == &PyLong_Type || Py_TYPE(o) == &PyFloat_Type)
#define TF_MAYBE2(st, a, b) (tf_modes_active || !TF_PLAIN(st, a) || !TF_PLAIN(st, b))
PyObject *tf_dispatch(State *st, PyObject *func, PyObject *const *args, size_t nargsf, PyObject *kwnames); /* NEW */
PyObject *tf_dispatch_dunder(State *st, const char *dunder, PyObject *const *args, Py_ssize_t n);          /* NEW */
PyObject *tf_dispatch_getter(State *st, PyObject *self, const char *name); /* NEW, or NULL without exception */
/* Note [Self-checking C entries] (overrides.c): 1 when no argument (nor self, when not NULL) can ask for
 * __torch_function__ and no mode is on, by type comparisons; else 0 (tf_entry_dispatch decides). */
int tf_entry_plain(State *st, PyObject *self, PyObject *const *args, Py_ssize_t n);
/* NEW: the call through the protocol when it needs it; NULL without an exception when it does not (the entry then
 * runs), NULL with one on error. `self`: the tensor of a method (`is_method`), else the module. */
PyObject *tf_entry_dispatch(State *st, PyObject *self, const char *name, int is_method, PyObject *const *args,
                            Py_ssize_t nargs, PyObject *kwnames);
/* Note [Argument error hook] for an entry's failed call (the exception set stays set, or is replaced). */
void tf_entry_arg_error(State *st, PyObject *self, const char *name, int is_method, PyObject *const *args,
                        Py_ssize_t nargs, PyObject *kwnames);
PyObject *mod_self_checking(PyObject *m, PyObject *noargs);
/* The trampoline `tramp` of a self-checking entry `fn` (METH_FASTCALL | METH_KEYWORDS, its self of C type SelfT)
 * named `name`: a Tensor method (self the tensor) or a module function (self the module). Note [Self-checking C
 * entries]. */
#define TF_CHECKED_ENTRY(tramp, fn, name, is_method, SelfT)                                                                \
    static PyObject *tramp(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)          \
    {                                                                                                            \
        State *st = (is_method) ? state_of_type(Py_TYPE(self)) : state_of_module(self);                         \
        if (st == NULL)                                                                                          \
            return NULL;                                                                                         \
        thread_pin(st);                                                                                          \
        if (CORE_UNLIKELY(!tf_entry_plain(st, (is_method) ? self : NULL, args,                                   \
                                          nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0)))) {                 \
            PyObject *d = tf_entry_dispatch(st, self, name, is_method, args, nargs, kwnames);                   \
            if (d != NULL || PyErr_Occurred())                                                                   \
                return d;                                                                                        \
        }                                                                                                        \
        PyObject *r = fn((SelfT)self, args, nargs, kwnames);                                                   \
        if (CORE_UNLIKELY(r == NULL) && st->py_arg_error_hook != NULL) /* Note [Argument error hook] */          \
            tf_entry_arg_error(st, self, name, is_method, args, nargs, kwnames);                                 \
        return r;                                                                                                \
    }
int tf_wrapper_type_init(PyObject *module, State *st);

/* ---- nnmodule.c ---- */
int nn_slot_type_init(PyObject *module); /* _C.RegisteredSlot, Note [Registered slots in C] */
int nn_module_call_type_init(PyObject *module); /* _C.ModuleCall, Note [Module call in C] */
PyObject *mod_register_module_hooks(PyObject *m, PyObject *hooks);
PyObject *mod_tf_wrap(PyObject *m, PyObject *const *args, Py_ssize_t nargs);
PyObject *mod_register_device_scope(PyObject *m, PyObject *to_code);
PyObject *mod_scoped(PyObject *m, PyObject *const *args, size_t nargsf, PyObject *kwnames);
PyObject *mod_device_of(PyObject *m, PyObject *const *args, Py_ssize_t nargs);
PyObject *mod_device_scope_state(PyObject *m, PyObject *noargs);
PyObject *mod_register_torch_function(PyObject *m, PyObject *args);
PyObject *mod_set_arg_error_hook(PyObject *m, PyObject *hook);
PyObject *mod_disabled_tf_impl(PyObject *m, PyObject *const *args, Py_ssize_t nargs);
PyObject *mod_torch_function_state(PyObject *m, PyObject *args);
PyObject *mod_has_torch_function(PyObject *m, PyObject *args);

/* ---- indexing.c ---- */
PyObject *tensor_getitem(PyObject *self, PyObject *index);
int tensor_setitem(PyObject *self, PyObject *index, PyObject *value);
int tensor_assign(State *st, TensorObject *dst, PyObject *value, int check_overlap);
PyObject *m_fill(PyObject *self, PyObject *value);
PyObject *m_basic_getitem(PyObject *self, PyObject *index);
PyObject *m_assign(PyObject *self, PyObject *value);
const char *typemeta_name(int dt);
PyObject *scalar_for_assign(State *st, PyObject *value, int dt);
PyObject *m_scalar_for_assign(PyObject *self, PyObject *value);

/* ---- dispatch.c (Note [Operator registry]) ---- */
/* The one result-dtype rule of an elementwise operator, declared with it (ops.c's operator table and the
 * registry's `_C.Op` declarations alike), named after torch._prims_common.ELEMENTWISE_TYPE_PROMOTION_KIND:
 * DEFAULT the operands' promoted dtype; INT_TO_FLOAT integral and bool operands compute in the default float
 * dtype (true division, exp); BOOL_TO_LONG bool computes in int64 (square); ALWAYS_BOOL the result is bool
 * (comparisons); COMPLEX_TO_FLOAT a complex operand gives its real dtype (abs). One kind torch's enum lacks:
 * DOUBLE, Note [Always-double results] in dispatch.c (float_power: computed and returned in float64, complex128
 * where an operand is complex, whatever the operands' dtypes; binary ops with a forward only). */
typedef enum {
    PROMOTE_DEFAULT = 0, PROMOTE_INT_TO_FLOAT = 1, PROMOTE_BOOL_TO_LONG = 2, PROMOTE_ALWAYS_BOOL = 3,
    PROMOTE_COMPLEX_TO_FLOAT = 4, PROMOTE_DOUBLE = 5
} ElementwiseTypePromotionKind;
/* The result dtype of a PROMOTE_DOUBLE op over operands of dtypes da, db (DT_NONE for none): DT_C128 where
 * either is complex, else DT_F64. (dispatch.c) */
int double_result_dtype(int da, int db);
/* 0, or -1 with a TypeError where MLX cannot compute op `name`'s always-double result `r` on `device`:
 * complex128 (MLX has complex64 only), or float64 on a GPU (design rule 4). (dispatch.c) */
int double_result_supported(const char *name, int r, int device);
int op_types_init(PyObject *module, State *st);
PyObject *mod_op_registry(PyObject *m, PyObject *noargs);
/* ops.c's operator table for the registry's binary ops: the index of torch's name (-1 with ValueError), and
 * `a op b` (in place when `inplace`) through the operator path: NEW, or NotImplemented (new) for operands
 * that are not numbers/Tensors. */
int binary_op_index(const char *name);
PyObject *binary_op_at(State *st, int op, PyObject *a, PyObject *b, int inplace);
PyObject *binary_op_checked(State *st, int op, PyObject *a, PyObject *b, int inplace);
/* A registry-declared binary operator outside ops.c's table: its name (for errors), dtype rule, refusals and
 * MLX forwards (BORROWED), for binary_forward (ops.c). */
enum { REFUSE_BOOL = 1, REFUSE_COMPLEX = 2, REFUSE_INTEGRAL = 4, REFUSE_COMPLEX_RUNTIME = 8, REFUSE_INT_ZERO_DIV = 16 };
typedef struct {
    const char *name;
    int promotion, refuse;
    PyObject *forward, *forward64;
} BinaryForward;
/* ops.c: a Python int read as torch's parser reads a Number (int64, else uint64 bits; OverflowError). 0 / -1. */
int torch_int_number(PyObject *v, long long *out);
PyObject *binary_forward(State *st, const BinaryForward *f, PyObject *x, PyObject *y, int inplace, int *out_dt,
                         int *device);
/* ---- fastpath.c, shape.c, pointwise.c, reduce.c: C fast paths of Python-level operators
 * (Note [Fast paths fall back] in fastpath.c) ---- */
#define FAST_MX_FUNCS(X) X(softmax) X(logsumexp) X(max) X(min) X(argmax) X(argmin) X(addmm)
typedef struct FastState {
    PyObject *fallbacks;          /* dict: fast path name -> its Python implementation */
    PyObject *rt_max, *rt_min;    /* return_types.max / .min (registered) */
#define X(name) PyObject *f_##name;
    FAST_MX_FUNCS(X)
#undef X
    PyObject *kw_precise, *kw_precise_stream, *kw_keepdims, *kw_keepdims_stream; /* keyword-name tuples */
    PyObject *cpu_softmax, *cpu_log_softmax; /* (x, axis, stream=) for large float32 CPU inputs, or NULL (Note
                                                [Shapeless CPU transcendentals] in _ops/cpu_math.py) */
    PyObject *cpu_where;          /* (c, a, b, stream=) -> array or None, for large 4-byte CPU selects, or NULL (Note
                                     [Selects in CPU kernels] in _ops/cpu_math.py) */
    PyObject *cpu_sum;            /* (x, keepdims, mean, stream=): a large float32 CPU tensor's whole sum or mean, or
                                     NULL (Note [Whole sums on the CPU] in _ops/cpu_math.py) */
} FastState;
/* layout.c, Note [Channels-last hint] */
PyObject *layout_call2(State *st, PyObject *f, PyObject *va, PyObject *vb, TensorObject *a, TensorObject *b,
                       int device, int compute, PyObject **last); /* NEW */
char layout_result_hint(State *st, TensorObject *a, TensorObject *b);
PyObject *layout_from_last(State *st, PyObject *r, int ndim, int device, PyObject **last); /* NEW; steals r */
void layout_set_source(TensorObject *t, PyObject *last, PyObject *of); /* steals last (may be NULL) */
void layout_copy_source(TensorObject *t, TensorObject *s);
/* BORROWED: base t's N...C source (Note [Channels-last source] in layout.c), or NULL. */
static inline PyObject *layout_source(TensorObject *t)
{
    return t->last_src != NULL && t->last_of == t->data && t->base == NULL && !t->cast_on_read && t->ndim >= 3
               ? t->last_src : NULL;
}
/* Drops base t's N...C source: its `data` is being replaced. */
static inline void layout_forget(TensorObject *t)
{
    Py_CLEAR(t->last_src);
    Py_CLEAR(t->last_of);
}
int fast_init(PyObject *m, State *st);
int fast_traverse(State *st, visitproc visit, void *arg);
void fast_clear(State *st);
void fast_free(State *st);
extern PyMethodDef fast_methods[];
PyObject *fast_fallback(State *st, const char *name, PyObject *const *args, size_t nargsf, PyObject *kwnames); /* NEW */
int scalar_overflows(PyObject *v, int dt); /* a Python number torch's checked conversion to dt refuses (dispatch.c) */
const char *scalar_ctype(int dt); /* torch's C type name of dt in its overflow message (dispatch.c) */
int fast_bind(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, const char *const *names, int npos,
              PyObject **out);
int fast_dim(PyObject *o, Py_ssize_t *out);
int fast_bool(PyObject *o, int *out);
PyObject *fast_mx_call_kw(State *st, PyObject *f, PyObject **args, Py_ssize_t nargs, PyObject *kw,
                          PyObject *kw_stream, int device); /* NEW */
int fast_record(State *st, const char *name, PyObject *const *inputs, Py_ssize_t n_in, PyObject *const *saved,
                Py_ssize_t n_saved, PyObject *extra, PyObject *const *outputs, Py_ssize_t n_out);
PyObject *fast_pair(PyObject *type, PyObject *a, PyObject *b); /* NEW; steals a and b */
#define FAST_SIG(fn) PyObject *fn(PyObject *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
FAST_SIG(fast_cat); FAST_SIG(fast_stack);                                            /* shape.c */
FAST_SIG(fast_where);                                                                /* pointwise.c */
FAST_SIG(fast_linear);                                                               /* ops.c */
FAST_SIG(fast_set_channels_last); FAST_SIG(fast_is_channels_last); FAST_SIG(fast_channels_last_source); /* layout.c */
FAST_SIG(fast_softmax); FAST_SIG(fast_log_softmax); FAST_SIG(fast_softmax_method);   /* reduce.c */
FAST_SIG(fast_item_method);                                                          /* mxcall.c */
FAST_SIG(fast_log_softmax_method); FAST_SIG(fast_max); FAST_SIG(fast_min); FAST_SIG(fast_amax);
FAST_SIG(fast_amin); FAST_SIG(fast_argmax); FAST_SIG(fast_argmin);

#if defined(__GNUC__) && !defined(_WIN32)
#pragma GCC visibility pop
#endif

/* Note [Cold error paths]
 * A call's hot path is a few hundred instructions spread over a dozen functions, and MLX's and the interpreter's
 * own code around it already exceed the first-level instruction cache: every extra cache line our code touches
 * per call costs a fetch from further out, which shows in time far more than in instruction counts (measured in
 * bench/bench_dispatch.py against bench/bench_dispatch_instr.py). GCC places blocks it knows to be cold in a
 * separate section (`-freorder-blocks-and-partition`, on at -O2), but without a profile it only knows a block is
 * cold when it calls a `cold` function. CPython's exception-raising functions are not declared so; they are
 * redeclared here with the attribute (GCC merges attributes into the existing declaration; after the visibility
 * pop above, so their visibility stays CPython's), which moves every block that raises out of the hot
 * functions. CORE_COLD marks our own raise helpers the same way; CORE_LIKELY / CORE_UNLIKELY give the layout of
 * a hot branch whose other side is rare but not an error. */
#if defined(__GNUC__)
#define CORE_COLD __attribute__((cold, noinline))
#define CORE_LIKELY(x) __builtin_expect(!!(x), 1)
#define CORE_UNLIKELY(x) __builtin_expect(!!(x), 0)
PyAPI_FUNC(void) PyErr_SetString(PyObject *exception, const char *string) __attribute__((cold));
PyAPI_FUNC(void) PyErr_SetObject(PyObject *exception, PyObject *value) __attribute__((cold));
PyAPI_FUNC(void) PyErr_SetNone(PyObject *exception) __attribute__((cold));
PyAPI_FUNC(PyObject *) PyErr_Format(PyObject *exception, const char *format, ...) __attribute__((cold));
PyAPI_FUNC(PyObject *) PyErr_NoMemory(void) __attribute__((cold));
#else
#define CORE_COLD
#define CORE_LIKELY(x) (x)
#define CORE_UNLIKELY(x) (x)
#endif

#endif
