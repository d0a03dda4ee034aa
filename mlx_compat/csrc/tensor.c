/* tensor.c — the Tensor type: its slots, the value/view/version machinery
 * (Note [Tensor storage and views] in core.h) and the read-only metadata methods. */
#include "core.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/sysinfo.h>
#endif
#include "structmember.h"

/* ---------------------------------------------------------------- dtypes */

/* The code of an mx.Dtype (its hash is MLX's enum value); -1 with exception for anything else. */
int dtype_from_mx(State *st, PyObject *mx_dtype)
{
    Py_hash_t h = PyObject_Hash(mx_dtype);
    if (h == -1)
        return -1;
    if (h < 0 || h >= DT_COUNT) {
        PyErr_SetString(PyExc_TypeError, "unsupported MLX dtype");
        return -1;
    }
    return (int)h;
}

/* The code of one of our dtype objects; -1 with TypeError otherwise. */
int dtype_code_of(State *st, PyObject *o)
{
    for (int i = 0; i < DT_COUNT; i++)
        if (st->dtype[i] == o)
            return i;
    PyErr_Format(PyExc_TypeError, "expected a dtype (e.g. torch.float32), got %.100s", Py_TYPE(o)->tp_name);
    return -1;
}

/* Whether o is one of our dtype objects (no exception either way). */
int is_dtype_object(State *st, PyObject *o)
{
    for (int i = 0; i < DT_COUNT; i++)
        if (st->dtype[i] == o)
            return 1;
    return 0;
}

/* BORROWED: our dtype object for a code (Py_None if that code is not exposed). */
PyObject *dtype_of_code(State *st, int code)
{
    if (code < 0 || code >= DT_COUNT || st->dtype[code] == NULL)
        return Py_None;
    return st->dtype[code];
}

/* ---------------------------------------------------------------- allocation */


/* Note [Result size check]
 * MLX allocates a result when it is evaluated and crashes the process (SIGSEGV) when that allocation fails
 * (Note [Allocation failure] in _creation.py, which covers the factories). Results of other ops can be huge too
 * from small inputs: materialising an expanded view, repeat, kron, outer, broadcasting binary ops, matmul, cat.
 * Every tensor is created here, so this is where a result larger than the memory the process can get (RAM +
 * swap, lowered by an address-space limit) is refused with torch's allocator RuntimeError, before anything is
 * evaluated. The cost is one attribute read (`size`) per result; the limit is computed only past 1 GiB.
 * That read is most of a small op's cost beyond MLX's own, so it is skipped where the inputs settle it: every
 * tensor carries an upper bound on its element count (`numel_bound`: exact from its sizes, or the `size` read
 * here, or the bound its op derived), and an elementwise result is no larger than its tensor operand (a
 * scalar operand) or the product of its two operands' counts (broadcasting), and a reduction's no larger than
 * its input when that is not empty (tensor_reduce_bound, core.h). A result whose bound is below
 * the check's own threshold (2^27 elements) needs no read (tensor_wrap_result_steal); past it, or with an
 * unknown bound, the size is read and the bound becomes exact again. */

/* The bytes the process could still get, or -1 where unknown. */
static int64_t memory_limit_bytes(void)
{
    int64_t limit = -1;
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGE_SIZE)
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGE_SIZE);
    if (pages > 0 && psize > 0)
        limit = (int64_t)pages * psize;
#endif
#ifdef __linux__
    struct sysinfo si;
    if (limit >= 0 && sysinfo(&si) == 0)
        limit += (int64_t)si.totalswap * si.mem_unit;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        int64_t mapped = 0;
        FILE *f = fopen("/proc/self/statm", "r");
        long long vm = 0;
        if (f != NULL) {
            if (fscanf(f, "%lld", &vm) == 1)
                mapped = (int64_t)vm * sysconf(_SC_PAGE_SIZE);
            fclose(f);
        }
        int64_t room = (int64_t)rl.rlim_cur - mapped;
        limit = limit < 0 || room < limit ? room : limit;
    }
#endif
    return limit;
}

/* Note [Result size check]: 0, or -1 with torch's allocator RuntimeError for an array (BORROWED) of dtype dt
 * larger than the process can allocate. */
static int check_result_size(State *st, PyObject *arr, int dt, int64_t *numel_out)
{
    PyObject *n = PyObject_GetAttr(arr, st->s_size);
    if (n == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            return -1;
        PyErr_Clear(); /* not an mx.array (a tracer or a test double): nothing to check */
        return 0;
    }
    long long numel = PyLong_AsLongLong(n);
    Py_DECREF(n);
    if (numel == -1 && PyErr_Occurred())
        return -1;
    *numel_out = numel;
    if (numel < ((long long)1 << 27)) /* < 1 GiB at any itemsize */
        return 0;
    int64_t nbytes = (int64_t)numel * dt_itemsize(dt), limit;
    if (nbytes < ((int64_t)1 << 30) || (limit = memory_limit_bytes()) < 0 || nbytes <= limit)
        return 0;
    PyErr_Format(PyExc_RuntimeError, "DefaultCPUAllocator: can't allocate memory: you tried to allocate %lld bytes. "
                 "Error code 12 (Cannot allocate memory)", (long long)nbytes);
    return -1;
}

/* Note [32-bit element counts]
 * MLX reduces wrongly an array with more than INT32_MAX elements when that array is a broadcast (an expanded
 * view: ones(2).expand(2**16, 2**16, 2).sum() gave 0 where torch gives 2**33; max, all, mean likewise), and
 * its shape arithmetic (reshape, tile, arange) refuses such counts. Real arrays that large reduce correctly.
 * So a view with more than INT32_MAX elements over a smaller storage is never handed to MLX whole: taking
 * its value for an op (the `_mx` the Python ops read, the C reductions) raises a RuntimeError saying so, while
 * views of it (select, slicing, narrow: MLX slices broadcasts correctly) and its metadata keep working. 0 / -1. */
/* tensor_check_mx_extent (core.h) for a view. 0 / -1. */
int tensor_check_mx_extent_slow(State *st, TensorObject *t)
{
    if (tensor_ensure_sizes(st, t) < 0 || tensor_ensure_sizes(st, t->base) < 0)
        return -1;
    int64_t n = tensor_numel(t);
    if (n <= INT32_MAX || n <= tensor_numel(t->base))
        return 0;
    PyErr_Format(PyExc_RuntimeError,
                 "this operation needs the whole of an expanded tensor of %lld elements over a storage of %lld: MLX "
                 "computes with 32-bit element counts and would give a wrong result past %d elements; reduce or "
                 "index the unexpanded tensor, or make the expanded one contiguous if memory allows",
                 (long long)n, (long long)tensor_numel(t->base), INT32_MAX);
    return -1;
}

/* NEW: a fresh base tensor of the given type holding `arr` (stolen). dt < 0: read from the array. check: whether
 * `arr` is a new result whose size Note [Result size check] bounds (not a view's or snapshot's existing value). */
/* tensor_alloc_of_type's rarer steps (Note [Cold error paths] in core.h): `*dt` read from the array when
 * negative, and Note [Result size check] when `check`, its element count then in *numel. 0, or -1 with `arr`
 * (STOLEN only then) released. */
static __attribute__((noinline)) int tensor_alloc_prepare(State *st, PyObject *arr, int *dt, int check,
                                                          int64_t *numel)
{
    if (*dt < 0) {
        PyObject *d = PyObject_GetAttr(arr, st->s_dtype);
        if (d == NULL)
            goto error;
        *dt = dtype_from_mx(st, d);
        Py_DECREF(d);
        if (*dt < 0)
            goto error;
    }
    if (check && check_result_size(st, arr, *dt, numel) < 0) /* Note [Result size check] */
        goto error;
    return 0;
error:
    Py_DECREF(arr);
    return -1;
}

/* Note [Zeroing a reused tensor]
 * A free-listed tensor (Note [Tensor free list]) is zeroed up to `inline_sizes` on every reuse: some 200 bytes.
 * GCC compiles a memset of that size, or a loop of stores it recognises as one, into `rep stosq`, whose start-up
 * cost (tens of cycles on the x86 CPUs measured) outweighs the stores. With that recognition off for this
 * function, the unrolled 16-byte stores below stay a dozen vector stores (at -O2 too). Other compilers keep the
 * memset, which they expand inline. */
_Static_assert(offsetof(TensorObject, inline_sizes) % sizeof(uint64_t) == 0, "whole words up to inline_sizes");
#if defined(__GNUC__) && !defined(__clang__)
typedef uint64_t core_word2 __attribute__((vector_size(16), aligned(8), may_alias));
__attribute__((optimize("no-tree-loop-distribute-patterns")))
static void tensor_zero_fields(TensorObject *t)
{
    enum { N = offsetof(TensorObject, inline_sizes) };
    core_word2 *p = (core_word2 *)(void *)t;
    const core_word2 z = {0, 0};
#pragma GCC unroll 32
    for (size_t i = 0; i < N / 16; i++)
        p[i] = z;
    if (N % 16)
        ((uint64_t *)(void *)t)[N / 8 - 1] = 0;
}
#else
static inline void tensor_zero_fields(TensorObject *t) { memset(t, 0, offsetof(TensorObject, inline_sizes)); }
#endif

/* Note [Live tensors]
 * torch runs each op as it is called, so `torch.cuda.synchronize()` (and `torch.accelerator`'s, `torch.mps`'s, an
 * `Event.record()`) returns with every tensor's value computed: a timing loop brackets `y = model(x)` with it, and
 * memory_allocated() afterwards counts y. MLX only waits for work already handed to a stream, and ours is lazy,
 * so synchronize() alone returned before anything was computed (memory_allocated() read 32 bytes after a 4 MiB
 * `ones * 2`). So each module keeps its live tensors in a ring: tensor_alloc_of_type, where every Tensor and
 * subclass instance the core makes is born, links it after the head in State, and tensor_dealloc unlinks it
 * (before its references go, so the ring never reaches a dying object). Two pointer writes each way; the
 * neighbours are the most recently made tensors, usually in cache. `_C._eval_live(device)` evaluates the values
 * of the ring's base tensors (a view's value is its base's) in one mx.eval, which costs little for values already
 * evaluated, so every synchronize() is what torch's is. Under mx.compile or vmap the ring holds tracers, which
 * MLX refuses to evaluate: there synchronize() does nothing, as torch.compile graph-breaks on it. The head lives
 * in the module state, so module_clear detaches every tensor still linked (live_unlink_all) before the state
 * goes: a tensor that outlives its module then finds NULL links and has nothing to unlink. All under the GIL. */
static inline void live_link(State *st, TensorObject *t)
{
    LiveLink *h = &st->live_tensors;
    t->live.prev = h;
    t->live.next = h->next;
    h->next->prev = &t->live;
    h->next = &t->live;
}

static inline void live_unlink(TensorObject *t)
{
    if (t->live.next == NULL)
        return;
    t->live.prev->next = t->live.next;
    t->live.next->prev = t->live.prev;
    t->live.prev = t->live.next = NULL;
}

void live_init(State *st) { st->live_tensors.prev = st->live_tensors.next = &st->live_tensors; }

void live_unlink_all(State *st)
{
    LiveLink *h = &st->live_tensors;
    if (h->next == NULL)
        return; /* never initialised */
    while (h->next != h) {
        LiveLink *l = h->next;
        h->next = l->next;
        l->prev = l->next = NULL;
    }
    h->prev = h;
}

static TensorObject *live_tensor(LiveLink *l) { return (TensorObject *)(void *)((char *)l - offsetof(TensorObject, live)); }

/* _eval_live(device=-1) -> None (NEW): evaluate every live tensor's value on `device` (a device code, -1 for
 * both) in one mx.eval; nothing while MLX traces. Note [Live tensors]. */
PyObject *mod_eval_live(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    State *st = state_of_module(m);
    PyObject *vals = NULL, *r = NULL;
    long device = -1;
    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "_eval_live takes at most one argument");
        return NULL;
    }
    if (nargs == 1 && (device = PyLong_AsLong(args[0])) == -1 && PyErr_Occurred())
        return NULL;
    LiveLink *h = &st->live_tensors;
    if ((vals = PyList_New(0)) == NULL)
        return NULL;
    for (LiveLink *l = h->next; l != h; l = l->next) {
        TensorObject *t = live_tensor(l);
        if (t->base != NULL || t->data == NULL || (device >= 0 && t->device != device))
            continue;
        if (PyList_Append(vals, t->data) < 0) /* runs no Python code: the ring cannot change under the walk */
            goto error;
    }
    if (PyList_GET_SIZE(vals) == 0) {
        r = Py_NewRef(Py_None);
        goto error;
    }
    eval_lock_acquire(st); /* Note [Threads] */
    r = PyObject_CallOneArg(st->f_eval, vals);
    eval_lock_release(st);
    if (r == NULL && mx_clear_tracing_error()) /* tracers in the ring: Note [No evaluation while tracing] */
        r = Py_NewRef(Py_None);
error:
    Py_XDECREF(vals);
    return r;
}

static PyObject *tensor_alloc_of_type(State *st, PyTypeObject *tp, PyObject *arr, int dt, int device, int check)
{
    if (arr == NULL)
        return NULL;
    int64_t numel = -1;
    if ((dt < 0 || check) && tensor_alloc_prepare(st, arr, &dt, check, &numel) < 0)
        return NULL;
    TensorObject *t;
    if (CORE_LIKELY(tp == (PyTypeObject *)st->tensor_type && st->n_free_tensors > 0)) { /* Note [Tensor free list] */
        t = st->free_tensors[--st->n_free_tensors];
        PyObject *dict = t->dict; /* an empty dict kept with the object (Note [Kept instance dicts]) */
        /* all but inline_sizes (the last member), which is read only through `sizes` once written (Note
         * [Inline sizes]) */
        tensor_zero_fields(t);
        t->dict = dict;
        PyObject_Init((PyObject *)t, tp); /* the type reference and a fresh reference count, as tp_alloc */
        PyObject_GC_Track(t);
    } else {
        /* an exact Tensor gets its empty __dict__ here too (Note [Kept instance dicts]), made first so that no
         * half-made tensor is tracked while the allocation may collect */
        PyObject *dict = tp == (PyTypeObject *)st->tensor_type ? PyDict_New() : NULL;
        if (tp == (PyTypeObject *)st->tensor_type && dict == NULL)
            goto error;
        if ((t = (TensorObject *)tp->tp_alloc(tp, 0)) == NULL) {
            Py_XDECREF(dict);
            goto error;
        }
        t->dict = dict;
    }
    live_link(st, t);
    t->numel_bound = numel + 1; /* 0 (unknown) when not read */
    t->data = arr;
    t->ndim = -1;
    t->inference = (char)inference_mode_enabled;
    t->dtype = (signed char)dt;
    t->device = (signed char)device;
    return (PyObject *)t;
error:
    Py_DECREF(arr);
    return NULL;
}

/* NEW: a new result tensor holding `arr` (STOLEN), its size checked (Note [Result size check]). */
static PyObject *tensor_new_of_type(State *st, PyTypeObject *tp, PyObject *arr, int dt, int device)
{
    return tensor_alloc_of_type(st, tp, arr, dt, device, 1);
}

/* NEW: a tensor over an existing value `arr` (STOLEN): a view's, a snapshot's, an alias's; nothing is allocated,
 * so no size check. */
PyObject *tensor_wrap_existing_steal(State *st, PyObject *arr, int dt, int device)
{
    return tensor_alloc_of_type(st, (PyTypeObject *)st->tensor_type, arr, dt, device, 0);
}

PyObject *tensor_wrap_steal(State *st, PyObject *arr, int dt, int device)
{
    return tensor_new_of_type(st, (PyTypeObject *)st->tensor_type, arr, dt, device);
}

PyObject *tensor_wrap_result_steal(State *st, PyObject *arr, int dt, int device, int64_t bound)
{
    int settled = bound >= 0 && bound < ((int64_t)1 << 27); /* Note [Result size check]: below its threshold */
    TensorObject *t = (TensorObject *)tensor_alloc_of_type(st, (PyTypeObject *)st->tensor_type, arr, dt, device,
                                                           !settled);
    if (t != NULL && settled)
        t->numel_bound = bound + 1;
    return (PyObject *)t;
}

PyObject *tensor_wrap(State *st, PyObject *arr, int dt, int device)
{
    Py_INCREF(arr);
    return tensor_wrap_steal(st, arr, dt, device);
}

static int tensor_traverse(TensorObject *t, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(t));
    Py_VISIT(t->data);
    Py_VISIT(t->base);
    Py_VISIT(t->index_map);
    Py_VISIT(t->grad);
    Py_VISIT(t->grad_fn);
    Py_VISIT(t->hooks);
    Py_VISIT(t->dict);
    if (!t->accumulator_borrowed) /* Note [Leaf accumulator] */
        Py_VISIT(t->grad_accumulator);
    Py_VISIT(t->size_cache);
    Py_VISIT(t->last_src);
    Py_VISIT(t->last_of);
    Py_VISIT(t->shown_base);
    return 0;
}

static int tensor_clear(TensorObject *t)
{
    Py_CLEAR(t->data);
    Py_CLEAR(t->base);
    Py_CLEAR(t->index_map);
    Py_CLEAR(t->grad);
    Py_CLEAR(t->grad_fn);
    Py_CLEAR(t->hooks);
    Py_CLEAR(t->dict);
    if (t->accumulator_borrowed) { /* Note [Leaf accumulator]: the node's, no reference of ours */
        t->grad_accumulator = NULL;
        t->accumulator_borrowed = 0;
    }
    Py_CLEAR(t->grad_accumulator);
    Py_CLEAR(t->size_cache);
    Py_CLEAR(t->shown_base);
    layout_forget(t);
    return 0;
}

/* Note [Tensor free list]
 * Every op makes a Tensor and most die soon after (temporaries, snapshots of a discarded graph), so the
 * allocator's round trip is a measurable part of a small op (bench/bench_dispatch.py). Dead objects of the
 * exact Tensor type (never subclasses, whose layout and deallocation are their own) are kept, cleared and
 * untracked, in a per-module array of TENSOR_FREE_LIST_MAX, and tensor_alloc_of_type takes one from there
 * before asking tp_alloc: it zeroes it and initialises it as tp_alloc does (type reference, reference count,
 * GC tracking). A kept object holds no references, so nothing is kept alive by the list; the module frees
 * the kept memory when it is cleared (tensor_free_list_clear), and that must happen while the module still holds
 * the type: PyObject_GC_Del reads the object's type to find where its allocation starts (a kept object whose
 * type was freed first made `PYTHONMALLOC=debug` abort at exit, the fuzz ratchet's check). All of it runs under
 * the GIL. */
/* Note [Kept instance dicts]
 * CPython 3.11 specializes a method load (`t.view(16)`: LOAD_METHOD_WITH_DICT) on an instance of a type with
 * tp_dictoffset only when the instance's __dict__ exists (Note [Specialized method loads] in overrides.c);
 * without one, every `t.method(...)` takes the generic lookup, about 30 ns. A Tensor's dict is made lazily,
 * so most tensors have none. The free list (Note [Tensor free list]) therefore keeps an empty dict with each
 * object it holds: one is made when an object without one enters the list, an object leaving the list keeps
 * it, and one returning with its dict still empty and held by nobody else keeps that dict instead of
 * releasing it; a Tensor allocated anew (the list empty) gets one with it. So every Tensor the core makes has an
 * empty __dict__ from birth, at no per-op cost on the list's path, for 64 bytes a live Tensor. That is not
 * observable: `__dict__` of a Tensor without one makes an empty one on first access, and an empty dict holds no
 * reference (nothing is kept alive by the list; untracked by the GC). A dict that holds entries, or that
 * someone else holds, is released as before. Subclass instances are left as CPython makes them. */
static void tensor_dealloc(TensorObject *t)
{
    PyTypeObject *tp = Py_TYPE(t);
    PyObject_GC_UnTrack(t);
    live_unlink(t); /* Note [Live tensors] */
    if (t->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)t);
    /* only the C type itself has its module (a Python subclass has none): no MRO walk */
    PyObject *m = ((PyHeapTypeObject *)tp)->ht_module;
    State *st = m != NULL ? (State *)PyModule_GetState(m) : NULL;
    int ours = st != NULL && tp == (PyTypeObject *)st->tensor_type;
    PyObject *dict = NULL; /* Note [Kept instance dicts] */
    if (ours && t->dict != NULL && PyDict_CheckExact(t->dict) && PyDict_GET_SIZE(t->dict) == 0 &&
        Py_REFCNT(t->dict) == 1) {
        dict = t->dict;
        t->dict = NULL;
    }
    tensor_clear(t);
    tensor_sizes_free(t);
    /* deallocation may run while an exception is pending: leave it alone (no dict made then) */
    if (ours && dict == NULL && st->n_free_tensors < TENSOR_FREE_LIST_MAX && !PyErr_Occurred() &&
        (dict = PyDict_New()) == NULL)
        PyErr_Clear(); /* no dict kept: the object is still reusable */
    /* the room is read last: the references tensor_clear dropped, and a collection PyDict_New may have run, can
     * have freed tensors into the list */
    if (ours && st->n_free_tensors < TENSOR_FREE_LIST_MAX) {
        t->dict = dict;
        st->free_tensors[st->n_free_tensors++] = t;
        Py_DECREF(tp);
        return;
    }
    Py_XDECREF(dict);
    tp->tp_free((PyObject *)t);
    Py_DECREF(tp);
}

void tensor_free_list_clear(State *st)
{
    while (st->n_free_tensors > 0) {
        TensorObject *t = st->free_tensors[--st->n_free_tensors];
        Py_CLEAR(t->dict); /* Note [Kept instance dicts] */
        PyObject_GC_Del(t);
    }
}

/* ---------------------------------------------------------------- shape metadata */

/* Note [Inline sizes]
 * A tensor's shape and strides (`sizes`, 2 * ndim integers) are needed by almost every view and by any op
 * that reads a shape; a PyMem_Malloc/PyMem_Free pair per view was a measurable part of `a.view(16)`. Tensors of
 * up to TENSOR_INLINE_DIMS dims keep them in the object itself (`inline_sizes`) and `sizes` points there; more
 * dims take a separate allocation. So `sizes` may point into its own object: it is never handed to another
 * tensor as a pointer (tensor_sizes_move copies inline arrays) and is released only by tensor_sizes_free. The
 * free list's memset (Note [Tensor free list]) leaves `sizes` NULL, as tp_alloc does. */
Py_ssize_t *tensor_sizes_alloc(TensorObject *t, int n)
{
    if (n <= TENSOR_INLINE_DIMS)
        return t->inline_sizes;
    Py_ssize_t *p = PyMem_Malloc(sizeof(Py_ssize_t) * 2 * (size_t)n);
    if (p == NULL)
        PyErr_NoMemory();
    return p;
}

void tensor_sizes_free(TensorObject *t)
{
    if (t->sizes != t->inline_sizes)
        PyMem_Free(t->sizes);
    t->sizes = NULL;
}

/* Gives dst src's sizes (dst's own are freed), leaving src with none (Note [Inline sizes]). ndim is not
 * touched. */
static void tensor_sizes_move(TensorObject *dst, TensorObject *src)
{
    tensor_sizes_free(dst);
    if (src->sizes == src->inline_sizes) {
        memcpy(dst->inline_sizes, src->inline_sizes, sizeof(src->inline_sizes));
        dst->sizes = dst->inline_sizes;
    } else
        dst->sizes = src->sizes;
    src->sizes = NULL;
}

static void contiguous_strides(const Py_ssize_t *shape, Py_ssize_t *strides, int ndim)
{
    Py_ssize_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        strides[i] = s;
        s *= shape[i] > 1 ? shape[i] : 1;
    }
}

/* Fill a base tensor's shape/strides from its array; views always have them. 0 / -1. */
int tensor_ensure_sizes(State *st, TensorObject *t)
{
    if (t->sizes != NULL || t->ndim == 0)
        return 0;
    PyObject *shape = PyObject_GetAttr(t->data, st->s_shape);
    if (shape == NULL)
        return -1;
    Py_ssize_t n = PyTuple_GET_SIZE(shape);
    if (n == 0) {
        Py_DECREF(shape);
        t->ndim = 0;
        return 0;
    }
    Py_ssize_t *sizes = tensor_sizes_alloc(t, (int)n); /* Note [Inline sizes] */
    if (sizes == NULL) {
        Py_DECREF(shape);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        sizes[i] = PyLong_AsSsize_t(PyTuple_GET_ITEM(shape, i));
    Py_DECREF(shape);
    contiguous_strides(sizes, sizes + n, (int)n);
    t->sizes = sizes;
    t->ndim = (int)n;
    return 0;
}

int tensor_ndim(State *st, TensorObject *t)
{
    if (t->ndim >= 0)
        return t->ndim;
    return tensor_ensure_sizes(st, t) < 0 ? -1 : t->ndim;
}

int64_t tensor_numel(TensorObject *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->sizes[i];
    return n;
}

/* NEW: the shape as mlx_compat.Size. */
PyObject *tensor_size_obj(State *st, TensorObject *t)
{
    if (t->size_cache != NULL)
        return Py_NewRef(t->size_cache);
    if (tensor_ensure_sizes(st, t) < 0)
        return NULL;
    if (st->size_type == NULL)
        return ssize_tuple(t->sizes, t->ndim);
    /* built here rather than through Size.__new__ (a Python call per .shape read): Size is a tuple subclass
     * without instance state (__slots__ = (), checked at registration), so this is exactly what
     * tuple.__new__(Size, sizes) makes */
    PyTypeObject *tp = (PyTypeObject *)st->size_type;
    PyObject *r = tp->tp_alloc(tp, t->ndim);
    if (r == NULL)
        return NULL;
    for (int i = 0; i < t->ndim; i++) {
        PyObject *v = PyLong_FromSsize_t(t->sizes[i]);
        if (v == NULL) {
            Py_DECREF(r);
            return NULL;
        }
        PyTuple_SET_ITEM(r, i, v);
    }
    /* a tensor's sizes change only through the few in-place metadata writers, which drop this cache
     * (tensor_sizes_changed), so `.shape` is built once per tensor */
    t->size_cache = Py_NewRef(r);
    return r;
}

int tensor_is_contiguous(TensorObject *t)
{
    /* torch: strides of dims of size 1 do not matter; an empty tensor is contiguous. */
    for (int i = 0; i < t->ndim; i++)
        if (t->sizes[i] == 0)
            return 1;
    Py_ssize_t expected = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        Py_ssize_t n = t->sizes[i];
        if (n == 0)
            return 1;
        if (n != 1) {
            if (t->sizes[t->ndim + i] != expected)
                return 0;
            expected *= n;
        }
    }
    return 1;
}

/* ---------------------------------------------------------------- values, views, writes */

/* NEW refs in shape, strides, off: the view's metadata (in units of its own dtype over the storage
 * reinterpreted as that dtype, Note [Reinterpreted views]). 0 / -1. */
static int base_meta(TensorObject *t, PyObject **shape, PyObject **strides, PyObject **off)
{
    int n = t->ndim;
    *shape = ssize_tuple(t->sizes, n);
    *strides = ssize_tuple(t->sizes + n, n);
    *off = PyLong_FromSsize_t(t->offset);
    if (*shape && *strides && *off)
        return 0;
    Py_CLEAR(*shape);
    Py_CLEAR(*strides);
    Py_CLEAR(*off);
    return -1;
}

/* Elements of b's storage counted in units of dtype `dt` (rounded up: Note [Reinterpreted views]). */
static int64_t storage_numel_as(TensorObject *b, int dt)
{
    int64_t bytes = tensor_numel(b) * dt_itemsize(b->dtype);
    int vi = dt_itemsize(dt);
    return (bytes + vi - 1) / vi;
}

/* NEW: the base's flat storage value `flat` reinterpreted as t's dtype (zero-padded to whole
 * elements) when the two differ, else a new reference to flat (Note [Reinterpreted views]). */
static PyObject *to_view_units(State *st, TensorObject *t, TensorObject *b, PyObject *flat)
{
    if (t->dtype == b->dtype)
        return Py_NewRef(flat);
    PyObject *cont = mx_call1(st, st->f_contiguous, flat, t->device), *r = NULL;
    if (cont == NULL)
        return NULL;
    int64_t n = tensor_numel(b), bi = dt_itemsize(b->dtype), vi = dt_itemsize(t->dtype);
    int64_t rem = (n * bi) % vi;
    if (rem) {
        PyObject *shape = Py_BuildValue("(L)", (long long)((vi - rem) / bi)), *pad = NULL, *list = NULL;
        if (shape != NULL)
            pad = mx_call2(st, st->f_zeros, shape, st->mx_dtype[b->dtype], t->device);
        if (pad != NULL)
            list = PyList_New(2);
        if (list != NULL) {
            PyList_SET_ITEM(list, 0, cont);
            PyList_SET_ITEM(list, 1, pad);
            cont = mx_call1(st, st->f_concatenate, list, t->device);
            Py_DECREF(list);
        } else {
            Py_XDECREF(pad);
            Py_CLEAR(cont);
        }
        Py_XDECREF(shape);
        if (cont == NULL)
            return NULL;
    }
    r = mx_call2(st, st->f_view, cont, st->mx_dtype[t->dtype], t->device);
    Py_DECREF(cont);
    return r;
}

/* NEW: a flat storage value in t's units back as the base's flat storage (padding dropped). */
static PyObject *from_view_units(State *st, TensorObject *t, TensorObject *b, PyObject *flat)
{
    if (t->dtype == b->dtype)
        return Py_NewRef(flat);
    PyObject *r = mx_call2(st, st->f_view, flat, st->mx_dtype[b->dtype], t->device);
    int64_t n = tensor_numel(b);
    if (r == NULL || (n * dt_itemsize(b->dtype)) % dt_itemsize(t->dtype) == 0)
        return r;
    PyObject *stop = PyLong_FromLongLong(n), *sl = NULL;
    if (stop != NULL)
        sl = PySlice_New(NULL, stop, NULL);
    Py_XDECREF(stop);
    if (sl == NULL) {
        Py_DECREF(r);
        return NULL;
    }
    Py_SETREF(r, PyObject_GetItem(r, sl));
    Py_DECREF(sl);
    return r;
}

/* Note [Base storage order]
 * A base's `data` is its logical value; its storage order is given by its strides, row-major
 * (identity) unless an in-place view op (t_, transpose_) gave it a permuted dense layout, as torch
 * allows. Views' metadata index the storage, so the flat storage value is the base's value
 * transposed into storage order and flattened (storage_flat), and a scattered flat storage maps back
 * through the inverse permutation (from_storage_flat). */

/* The base's storage order (outermost dim first) into perm; returns 1 when it is not the identity. */
static int base_order(TensorObject *b, Py_ssize_t *perm)
{
    int n = b->ndim, moved = 0;
    const Py_ssize_t *stride = b->sizes + n;
    for (int i = 0; i < n; i++)
        perm[i] = i;
    for (int i = 1; i < n; i++) /* stable insertion sort by decreasing stride */
        for (int j = i; j > 0 && stride[perm[j]] > stride[perm[j - 1]]; j--) {
            Py_ssize_t tmp = perm[j];
            perm[j] = perm[j - 1];
            perm[j - 1] = tmp;
            moved = 1;
        }
    return moved;
}

/* NEW: the base's storage as a flat mx.array in storage order (Note [Base storage order]). */
static PyObject *storage_flat(State *st, TensorObject *b, int device)
{
    Py_ssize_t perm[64];
    PyObject *minus1 = Py_BuildValue("(i)", -1), *src = NULL, *r = NULL;
    if (minus1 == NULL || tensor_ensure_sizes(st, b) < 0 || (b->cast_on_read && tensor_value(st, b) == NULL))
        goto error; /* Note [Deferred cast] */
    if (b->ndim > 64) {
        PyErr_SetString(PyExc_RuntimeError, "tensors with more than 64 dimensions are not supported");
        goto error;
    }
    if (b->ndim && base_order(b, perm)) {
        PyObject *axes = ssize_tuple(perm, b->ndim);
        if (axes == NULL)
            goto error;
        src = mx_call2(st, st->f_transpose, b->data, axes, device);
        Py_DECREF(axes);
        if (src == NULL)
            goto error;
    } else
        src = Py_NewRef(b->data);
    r = mx_call2(st, st->f_reshape, src, minus1, device);
error:
    Py_XDECREF(minus1);
    Py_XDECREF(src);
    return r;
}

/* NEW: the base value (logical layout) for a flat storage array (BORROWED). */
static PyObject *from_storage_flat(State *st, TensorObject *b, PyObject *flat, int device)
{
    Py_ssize_t perm[64], pshape[64], inv[64];
    PyObject *shape = NULL, *r = NULL, *axes = NULL;
    int n = b->ndim;
    if (n > 64) {
        PyErr_SetString(PyExc_RuntimeError, "tensors with more than 64 dimensions are not supported");
        return NULL;
    }
    if (!(n && base_order(b, perm))) {
        shape = ssize_tuple(b->sizes, n);
        r = shape ? mx_call2(st, st->f_reshape, flat, shape, device) : NULL;
        Py_XDECREF(shape);
        return r;
    }
    for (int i = 0; i < n; i++) {
        pshape[i] = b->sizes[perm[i]];
        inv[perm[i]] = i;
    }
    shape = ssize_tuple(pshape, n);
    axes = ssize_tuple(inv, n);
    PyObject *phys = (shape && axes) ? mx_call2(st, st->f_reshape, flat, shape, device) : NULL;
    if (phys != NULL) {
        r = mx_call2(st, st->f_transpose, phys, axes, device);
        Py_DECREF(phys);
    }
    Py_XDECREF(shape);
    Py_XDECREF(axes);
    return r;
}

/* Tensor._storage_value(): the flat storage value of self's storage (for Python-level strided views). */
static PyObject *m_storage_value(TensorObject *t, PyObject *noargs)
{
    State *st = state_of_type(Py_TYPE(t));
    TensorObject *b = t->base ? t->base : t;
    PyObject *flat = storage_flat(st, b, t->device);
    if (flat == NULL)
        return NULL;
    PyObject *r = mx_call1(st, st->f_contiguous, flat, t->device);
    Py_DECREF(flat);
    if (r != NULL && t->view_bits) /* seen through self's bits (Note [Conjugate views]) */
        Py_SETREF(r, view_bits_apply(st, r, t->view_bits, t->device));
    return r;
}

/* NEW: arr conjugated and/or negated per `bits` (Note [Conjugate views]); arr itself (a new reference) for 0. */
PyObject *view_bits_apply(State *st, PyObject *arr, int bits, int device)
{
    PyObject *r = Py_NewRef(arr);
    if (bits & VIEW_CONJ)
        Py_SETREF(r, mx_call1(st, st->f_conj, r, device));
    if (r != NULL && (bits & VIEW_NEG))
        Py_SETREF(r, mx_call1(st, st->f_negative, r, device));
    return r;
}

/* Note [View re-derivation]
 * A view's cached `data` is stale once its base's version moved past `t->version`. Re-deriving is
 * one lazy mx.as_strided over the base's current value with the view's (shape, strides, offset);
 * no copy is made until MLX evaluates it. Views whose base was never written never re-derive, so
 * the common case (view, read) costs only the natural MLX op that produced the cache. */
/* Note [Deferred cast]
 * An op whose MLX result has another dtype than torch's may leave the cast for the first read: MLX's argmax
 * gives uint32 indices where torch's max(dim) gives int64, and `values, _ = x.max(1)` never reads them, so the
 * astype node (as costly to build as the reduction itself) is made only when needed. Such a result is a fresh
 * base with `cast_on_read` set: its `dtype` is torch's, its `data` the uncast array of the same shape. Every
 * read of the value goes through tensor_value, which makes the cast and clears the flag; nothing else may read
 * `data` of a base that could carry the flag except for its shape (tensor_ensure_sizes) and an evaluation
 * (bound_lazy_graph); anything that replaces a base's `data` clears it. Views of it are made
 * from its value, so they never see the uncast array. */
static PyObject *tensor_value_cast(State *st, TensorObject *t)
{
    PyObject *r = mx_astype(st, t->data, t->dtype, t->device);
    if (r == NULL)
        return NULL;
    Py_SETREF(t->data, r);
    t->cast_on_read = 0;
    return t->data;
}

/* BORROWED: tensor_value (core.h) when the fast test fails (Note [Inline value read]). */
PyObject *tensor_value_slow(State *st, TensorObject *t)
{
    TensorObject *b = t->base;
    if (b == NULL || t->version == b->version)
        return t->cast_on_read ? tensor_value_cast(st, t) : t->data; /* Note [Deferred cast] */
    PyObject *shape, *strides, *off, *r;
    if (base_meta(t, &shape, &strides, &off) < 0)
        return NULL;
    /* MLX's as_strided wants a row-contiguous input; the base value may come from e.g. a transpose. */
    PyObject *flat = storage_flat(st, b, t->device), *cont = NULL;
    if (flat != NULL) {
        cont = mx_call1(st, st->f_contiguous, flat, t->device);
        Py_DECREF(flat);
    }
    if (cont != NULL && t->dtype != b->dtype)
        Py_SETREF(cont, to_view_units(st, t, b, cont));
    if (cont == NULL) {
        Py_DECREF(shape);
        Py_DECREF(strides);
        Py_DECREF(off);
        return NULL;
    }
    PyObject *args[4] = {cont, shape, strides, off};
    r = mx_call(st, st->f_as_strided, args, 4, t->device);
    Py_DECREF(cont);
    Py_DECREF(shape);
    Py_DECREF(strides);
    Py_DECREF(off);
    if (r != NULL && t->view_bits) /* Note [Conjugate views] */
        Py_SETREF(r, view_bits_apply(st, r, t->view_bits, t->device));
    if (r == NULL)
        return NULL;
    Py_SETREF(t->data, r);
    t->version = b->version;
    return t->data;
}

/* BORROWED: the view's index map, flat base positions of each of its elements (cached). */
static PyObject *view_index_map(State *st, TensorObject *t)
{
    if (t->index_map != NULL)
        return t->index_map;
    TensorObject *b = t->base;
    if (tensor_ensure_sizes(st, b) < 0)
        return NULL;
    int64_t n = storage_numel_as(b, t->dtype);
    PyObject *stop = PyLong_FromLongLong(n), *pos = NULL, *map = NULL;
    PyObject *shape = NULL, *strides = NULL, *off = NULL;
    if (!stop || base_meta(t, &shape, &strides, &off) < 0)
        goto error;
    pos = PyObject_CallOneArg(st->f_arange, stop);
    if (pos == NULL)
        goto error;
    {
        PyObject *cast = mx_astype(st, pos, n < INT32_MAX ? DT_I32 : DT_I64, t->device);
        if (cast == NULL)
            goto error;
        Py_SETREF(pos, cast);
    }
    PyObject *args[4] = {pos, shape, strides, off};
    map = mx_call(st, st->f_as_strided, args, 4, t->device);
    if (map == NULL)
        goto error;
    t->index_map = map;
error:
    Py_XDECREF(stop);
    Py_XDECREF(pos);
    Py_XDECREF(shape);
    Py_XDECREF(strides);
    Py_XDECREF(off);
    return t->index_map;
}

/* torch refuses in-place writes to leaves that require grad (under grad mode) and to tensors whose
 * elements overlap in memory (expanded views). 0 / -1 with torch's RuntimeError. */
int tensor_check_inplace(State *st, TensorObject *t) { return tensor_check_inplace_ex(st, t, 1); }

/* check_overlap = 0 for writes of one value everywhere (fill_, zero_), which torch allows on expanded views. */
int tensor_check_inplace_ex(State *st, TensorObject *t, int check_overlap)
{
    /* a detached alias (detach(), nn.Parameter(t)) that requires grad is a leaf of its own */
    if (GRAD_ENABLED(st) && t->requires_grad && t->grad_fn == NULL && (t->base == NULL || t->detached)) {
        PyErr_SetString(PyExc_RuntimeError, "a leaf Variable that requires grad is being used in an in-place operation.");
        return -1;
    }
    if (t->base != NULL && !t->detached && GRAD_ENABLED(st) && t->base->requires_grad && t->base->grad_fn == NULL) {
        PyErr_SetString(PyExc_RuntimeError,
                        "a view of a leaf Variable that requires grad is being used in an in-place operation.");
        return -1;
    }
    if (t->base != NULL && check_overlap) {
        for (int i = 0; i < t->ndim; i++)
            if (t->sizes[t->ndim + i] == 0 && t->sizes[i] > 1) {
                PyErr_SetString(PyExc_RuntimeError,
                                "unsupported operation: more than one element of the written-to tensor refers to a "
                                "single memory location. Please clone() the tensor before performing the operation.");
                return -1;
            }
    }
    return 0;
}

/* Note [Bounded lazy graphs]
 * MLX is lazy and a tensor written in place is rebound to a new graph node over its old value, so a loop
 * that writes without reading (`x += 1` a million times, `total += loss`, `x[:10] += 1`) builds a chain
 * that only a read evaluates: 1.5 GB for 10^6 `x += 1`, and a first `.item()` of 10 s. torch stays flat.
 * The rule: every LAZY_WRITE_BOUND-th in-place write into a storage (its version, which counts the writes,
 * reaching a multiple of the bound) hands the storage's new value (and, for a write through a view, the
 * view's cached value, which grows its own chain) to mx.async_eval. MLX then evaluates the pending chain on
 * its stream while Python goes on building, so a storage never holds more than LAZY_WRITE_BOUND unevaluated
 * writes and a read waits for at most that many. The test on the hot path is one mask of the version the
 * write increments anyway.
 * Why writes and this bound: unbounded growth needs a loop, and the loops the package cannot see the end of
 * are in-place accumulations into one storage, or out-of-place rebinding (`x = x + 1`, `total = total + loss`),
 * bounded by depth below.
 * A training step writes each parameter, buffer and optimizer state once (measured for SGD, Adam, AdamW and
 * RMSprop over a model with BatchNorm: tests/test_lazy_graphs.py), and optimizer.step() evaluates them, so a
 * storage reaches the bound once every ~1000 steps and the async_eval then finds its value evaluated or under
 * way (about 1 us; a step's forward+backward graph is never cut). 1024 keeps a 10^6-write loop's pending
 * graph near 1.5 MB (about 1.5 KB per pending write) and a read after it at most 1024 nodes (~20 ms on the
 * CPU backend, against 10 s unbounded).
 * Out of place: every tensor carries `lazy_depth`, the length of the chain of ops the core counted since
 * its value was last handed to an evaluation. A result of the C operators (ops.c), the registry's unary and
 * binary ops (dispatch.c), matmul and the C views gets 1 + the largest depth of its inputs (tensor_set_depth
 * in core.h: one add and one compare per call); a snapshot keeps its tensor's. A Python-level op reads its
 * inputs through `Tensor._mx` and wraps its result through `_C._wrap` / `Tensor._new_on`: the getter keeps the
 * largest depth read on this thread (py_read_depth) and the wrap takes 1 + that and clears it, so those ops
 * count too (clamp, relu, linear, cross_entropy). Other results start at 0, so the count stays at or under
 * MLX's true depth and cuts late rather than early. A result reaching LAZY_DEPTH_BOUND is handed to
 * mx.async_eval and counts from 0 again (as does a storage the write rule evaluated): `x = x + 1` 10^6 times
 * keeps at most 4096 pending links (~6 MB, a read of ~0.1 s) instead of growing 1.5 KB per iteration (170 MB
 * and a 2 s read after 10^5), and `total = total + loss` at most 4096 steps' loss graphs (~1 s to read for a
 * small Linear's loss on the CPU backend, against 3.6 s after 20,000 steps unbounded).
 * Why 4096 (measured over every result of two training steps, tests/test_lazy_graphs.py): the counted depth
 * of GPT-2 forward + backward + AdamW is 82 / 402 / 786 / 1554 for 2 / 12 / 24 / 48 layers, of ResNet-18 / 50
 * with SGD 99 / 267, so even GPT-2 XL's step stays at 38% of the bound and is never cut (MLX's true depth of a
 * 12-layer GPT-2 step, every primitive counted through mx.export_to_dot, is 1695). A smaller bound shortens
 * the worst read (each pending link of `total = total + loss` holds a step's loss graph) but would cut the
 * deepest models' steps. A read of a value in between (`.item()`) leaves the depth as is: it only makes a
 * later async_eval find its value already evaluated (about 1 us).
 * Tracing: MLX refuses async_eval inside mx.compile / mx.vjp / mx.vmap ("Not allowed inside a graph
 * transformation"); that refusal is caught and the write stays a pure graph node, so a traced loop traces
 * whole (Note [No evaluation while tracing]); the depth then counts from 0 again, so the refusal is met once
 * per bound, not once per op. The evaluation holds the lock of Note [Threads]. */
#define LAZY_WRITE_BOUND 1024

/* Start evaluating storage b's value and view t's cache (t may be b): Note [Bounded lazy graphs]. 0 / -1. */
static int bound_lazy_graph(State *st, TensorObject *b, TensorObject *t)
{
    PyObject *r = NULL;
    /* strong references: MLX runs with the GIL released, while another thread may rebind b->data / t->data */
    PyObject *args[2] = {Py_NewRef(b->data), Py_NewRef(t->data)};
    eval_lock_acquire(st);
    r = PyObject_Vectorcall(st->f_async_eval, args, args[0] == args[1] ? 1 : 2, NULL);
    eval_lock_release(st);
    Py_DECREF(args[0]);
    Py_DECREF(args[1]);
    if (r != NULL) {
        Py_DECREF(r);
        b->lazy_depth = t->lazy_depth = 0;
        return 0;
    }
    if (!PyErr_ExceptionMatches(PyExc_ValueError))
        return -1;
    /* MLX's refusal inside mx.compile / vjp / vmap ("[async_eval] Not allowed inside a graph transformation"):
     * the graph is being traced, nothing to evaluate yet. Any other ValueError propagates. */
    PyObject *type, *val, *tb;
    PyErr_Fetch(&type, &val, &tb);
    PyObject *msg = val ? PyObject_Str(val) : NULL;
    const char *m = msg ? PyUnicode_AsUTF8(msg) : NULL;
    int tracing = m != NULL && strstr(m, "graph transformation") != NULL;
    Py_XDECREF(msg);
    PyErr_Clear();
    if (tracing) {
        Py_XDECREF(type);
        Py_XDECREF(val);
        Py_XDECREF(tb);
        b->lazy_depth = t->lazy_depth = 0; /* try again only a whole bound later */
        return 0;
    }
    PyErr_Restore(type, val, tb); /* steals */
    return -1;
}

_Thread_local int py_read_depth;

int tensor_set_depth_from_reads(State *st, TensorObject *r)
{
    int d = py_read_depth;
    py_read_depth = 0;
    return tensor_set_depth(st, r, d);
}

/* Note [Bounded lazy graphs]: result r's depth reached LAZY_DEPTH_BOUND (tensor_set_depth, core.h): start
 * evaluating its value (its base's too, for a view) and count again from 0. 0 / -1. */
int tensor_bound_depth_slow(State *st, TensorObject *r)
{
    if (r->data == NULL) /* not yet filled in: nothing to evaluate */
        return 0;
    TensorObject *b = r->base ? r->base : r;
    if (b->data == NULL)
        return 0;
    return bound_lazy_graph(st, b, r);
}

/* Note [Whole-storage writes]
 * A view that covers all of its base's storage in order -- same dtype, offset 0, row-major over as many
 * elements as the base holds, the base itself in identity storage order -- is what nn.Parameter(t) and the
 * detach()/.data aliases of a contiguous tensor are. Writing it needs no scatter through the index map: the
 * base's new value is the written value reshaped to the base's shape. So an optimizer step writing into
 * Parameters that alias their source tensors (as torch's do) costs one reshape per parameter. */
static int whole_storage_view(TensorObject *t, TensorObject *b)
{
    Py_ssize_t perm[64];
    if (t->dtype != b->dtype || t->offset != 0 || t->ndim < 0 || b->ndim < 0 || b->ndim > 64)
        return 0;
    if (tensor_numel(t) != tensor_numel(b) || !tensor_is_contiguous(t))
        return 0;
    return !base_order(b, perm);
}

/* Write `value` (BORROWED mx.array with t's shape and dtype) as t's new content. For a view the value
 * is scattered into the base through the index map (Note [Tensor storage and views]), or becomes the
 * base's value when the view covers the whole storage (Note [Whole-storage writes]). */
int tensor_write(State *st, TensorObject *t, PyObject *value)
{
    TensorObject *b = t->base;
    if (b == NULL) {
        Py_INCREF(value);
        Py_SETREF(t->data, value);
        layout_forget(t); /* Note [Channels-last source] (layout.c): the writer sets one for the new value */
        t->cast_on_read = 0; /* Note [Deferred cast] */
        t->version++;
        if ((t->version & (LAZY_WRITE_BOUND - 1)) == 0) /* Note [Bounded lazy graphs] */
            return bound_lazy_graph(st, t, t);
        return 0;
    }
    PyObject *flat = NULL, *minus1 = NULL, *shape = NULL, *newbase = NULL, *map = NULL, *stored = NULL;
    int rc = -1;
    if (tensor_ensure_sizes(st, t) < 0 || tensor_ensure_sizes(st, b) < 0)
        goto error;
    if (tensor_numel(t) == 0) /* nothing to scatter (MLX's scatter into a zero-size map fails); still a write */
        goto bump;
    /* what the storage holds for `value`: the bits applied again (involutions; Note [Conjugate views]) */
    stored = view_bits_apply(st, value, t->view_bits, t->device);
    if (stored == NULL)
        goto error;
    if (whole_storage_view(t, b)) {
        shape = ssize_tuple(b->sizes, b->ndim);
        if (shape == NULL)
            goto error;
        newbase = mx_call2(st, st->f_reshape, stored, shape, t->device);
        if (newbase == NULL)
            goto error;
        goto commit;
    }
    map = view_index_map(st, t);
    if (map == NULL)
        goto error;
    flat = storage_flat(st, b, t->device); /* a fresh object: MLX's __setitem__ below rebinds it */
    if (flat == NULL)
        goto error;
    if (t->dtype != b->dtype) { /* scatter into the storage reinterpreted as t's dtype (Note [Reinterpreted views]) */
        Py_SETREF(flat, to_view_units(st, t, b, flat));
        if (flat == NULL || PyObject_SetItem(flat, map, stored) < 0)
            goto error;
        Py_SETREF(flat, from_view_units(st, t, b, flat));
        if (flat == NULL)
            goto error;
    } else if (PyObject_SetItem(flat, map, stored) < 0) /* MLX rebinds `flat` (our own object) to the scatter */
        goto error;
    newbase = from_storage_flat(st, b, flat, t->device);
    if (newbase == NULL)
        goto error;
commit:
    Py_SETREF(b->data, newbase);
    b->cast_on_read = 0; /* Note [Deferred cast] */
    newbase = NULL;
bump:
    b->version++;
    if (t->own_version) { /* a .data alias: its own counter, not the owner's (as torch) */
        b->aux_version++;
        t->aux_version++;
    }
    Py_INCREF(value);
    Py_SETREF(t->data, value);
    t->cast_on_read = 0; /* Note [Deferred cast] */
    t->version = b->version;
    rc = (b->version & (LAZY_WRITE_BOUND - 1)) == 0 ? bound_lazy_graph(st, b, t) : 0; /* Note [Bounded lazy graphs] */
error:
    Py_XDECREF(flat);
    Py_XDECREF(minus1);
    Py_XDECREF(shape);
    Py_XDECREF(newbase);
    Py_XDECREF(stored);
    return rc;
}

/* Note [Views that are their base]
 * A view whose metadata is its base's own (offset 0, the base's sizes, and its strides wherever a size exceeds 1: a
 * base's strides need not be row-major, e.g. one imported from a column-major torch tensor), with the base's dtype
 * and no view bits, has exactly the base's value: x.t().t(), x.permute(p) undone,
 * v.view(base_shape), and in a backward a product's gradient computed transposed then transposed back by
 * TBackward0 (Note [Gradient layout of a product], _ops/linalg.py: every linear layer's weight and input
 * gradients). Its cached value is then the base's array itself, not MLX's transpose or reshape of the source:
 * MLX neither merges nor elides Transpose(Transpose(x)), and each node of a graph costs host time when it is
 * evaluated, compiled or not. The view is still a view (its metadata, base and autograd record are unchanged). */
static int view_is_whole_base(const TensorObject *src, const TensorObject *base, int ndim, const Py_ssize_t *shape,
                              const Py_ssize_t *strides, Py_ssize_t offset)
{
    if (offset != 0 || ndim != base->ndim || base->sizes == NULL || src->dtype != base->dtype || src->view_bits)
        return 0;
    for (int i = 0; i < ndim; i++)
        if (shape[i] != base->sizes[i] || (shape[i] > 1 && strides[i] != base->sizes[ndim + i]))
            return 0;
    return 1;
}

/* NEW: a view of `src` with value `arr` (STOLEN; NULL returns NULL) and metadata relative to the root base, its
 * dtype and view bits src's. `whole_ok`: the view's value is what its metadata selects (not a caller's later
 * change of bits or dtype), so a view of the whole base may take the base's array (Note [Views that are their
 * base]). */
static PyObject *make_view(State *st, TensorObject *src, PyObject *arr, int ndim, const Py_ssize_t *shape,
                           const Py_ssize_t *strides, Py_ssize_t offset, int whole_ok)
{
    if (arr == NULL)
        return NULL;
    TensorObject *base = src->base ? src->base : src;
    if (whole_ok && view_is_whole_base(src, base, ndim, shape, strides, offset)) { /* Note [Views that are their base] */
        PyObject *whole = tensor_value(st, base);
        if (whole == NULL) {
            Py_DECREF(arr);
            return NULL;
        }
        Py_SETREF(arr, Py_NewRef(whole));
    }
    TensorObject *v = (TensorObject *)tensor_wrap_existing_steal(st, arr, src->dtype, src->device);
    if (v == NULL)
        return NULL;
    v->sizes = tensor_sizes_alloc(v, ndim); /* Note [Inline sizes]; a 0-d view's (unread) array is the inline one */
    if (v->sizes == NULL) {
        Py_DECREF(v);
        return NULL;
    }
    if (ndim) {
        memcpy(v->sizes, shape, sizeof(Py_ssize_t) * ndim);
        memcpy(v->sizes + ndim, strides, sizeof(Py_ssize_t) * ndim);
    }
    v->ndim = ndim;
    v->offset = offset;
    v->base = (TensorObject *)Py_NewRef(base);
    v->version = base->version;
    v->is_view = 1;
    v->view_bits = src->view_bits; /* Note [Conjugate views] */
    v->detached = src->detached;
    if (src->detached) /* Note [Bases torch shows]: the alias this view was taken of (through views of it) */
        v->shown_base = (TensorObject *)Py_NewRef(src->shown_base ? src->shown_base : src);
    if (tensor_set_depth(st, v, src->lazy_depth) < 0) { /* Note [Bounded lazy graphs] */
        Py_DECREF(v);
        return NULL;
    }
    return (PyObject *)v;
}

/* NEW: make_view for a view whose value is what its metadata selects from src's (STEALS arr). */
PyObject *tensor_make_view(State *st, TensorObject *src, PyObject *arr, int ndim, const Py_ssize_t *shape,
                           const Py_ssize_t *strides, Py_ssize_t offset)
{
    return make_view(st, src, arr, ndim, shape, strides, offset, 1);
}

/* NEW: make_view for a caller that changes the new view's bits or dtype afterwards (STEALS arr). */
PyObject *tensor_make_view_exact(State *st, TensorObject *src, PyObject *arr, int ndim, const Py_ssize_t *shape,
                                 const Py_ssize_t *strides, Py_ssize_t offset)
{
    return make_view(st, src, arr, ndim, shape, strides, offset, 0);
}

/* ---------------------------------------------------------------- properties */

static PyObject *get_shape(TensorObject *t, void *c) { return tensor_size_obj(state_of_type(Py_TYPE(t)), t); }

static PyObject *get_dtype(TensorObject *t, void *c)
{
    State *st = state_of_type(Py_TYPE(t));
    return Py_NewRef(dtype_of_code(st, t->dtype));
}

static PyObject *get_device(TensorObject *t, void *c)
{
    State *st = state_of_type(Py_TYPE(t));
    PyObject *d = st->device[(int)t->device];
    return Py_NewRef(d ? d : Py_None);
}

static PyObject *get_ndim(TensorObject *t, void *c)
{
    if (tensor_ensure_sizes(state_of_type(Py_TYPE(t)), t) < 0)
        return NULL;
    return PyLong_FromLong(t->ndim);
}

/* Note [Meta epoch]: a count of every in-place change of a tensor's shape or dtype (_set_data: `.data =`,
 * resize_, out= results; _restride: t_, unsqueeze_, ...: the only two places that change them on an existing
 * tensor) and of requires_grad through its setter. compile's plan reuse (mlx_compat/_compile.py, Note [Plan
 * reuse]) compares it instead of re-reading every state tensor's shape and dtype per call. A plain integer, not a
 * Python object; a spurious bump only costs a re-plan. */
static unsigned long long meta_epoch;

/* _meta_epoch() (static method): NEW int, the current Note [Meta epoch] count. */
static PyObject *m_meta_epoch(PyObject *unused, PyObject *noargs) { return PyLong_FromUnsignedLongLong(meta_epoch); }

static PyObject *get_requires_grad(TensorObject *t, void *c)
{
    return PyBool_FromLong(t->requires_grad || tensor_grad_fn(t) != NULL);
}

static int set_requires_grad(TensorObject *t, PyObject *v, void *c)
{
    if (v == NULL) {
        PyErr_SetString(PyExc_TypeError, "cannot delete requires_grad");
        return -1;
    }
    if (!PyBool_Check(v)) {
        PyErr_Format(PyExc_TypeError, "requires_grad must be a bool, not %.100s", Py_TYPE(v)->tp_name);
        return -1;
    }
    int on = v == Py_True;
    if (t->grad_fn != NULL) { /* torch refuses any change on a non-leaf, even to True */
        PyErr_SetString(PyExc_RuntimeError,
                        on ? "you can only change requires_grad flags of leaf variables."
                           : "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                             "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().");
        return -1;
    }
    if (on && !(dt_is_float(t->dtype) || dt_is_complex(t->dtype))) {
        PyErr_SetString(PyExc_RuntimeError, "only Tensors of floating point and complex dtype can require gradients");
        return -1;
    }
    t->requires_grad = (char)on;
    meta_epoch++; /* Note [Meta epoch] */
    return 0;
}

/* BORROWED C string: the C++ type name torch's messages give a dtype (caffe2::TypeMeta's name). */
const char *typemeta_name(int dt)
{
    static const char *names[DT_COUNT] = {"bool", "unsigned char", "unsigned short", "unsigned int", "unsigned long",
                                          "signed char", "short int", "int", "long int", "c10::Half", "float",
                                          "double", "c10::BFloat16", "c10::complex<float>"};
    return dt >= 0 && dt < DT_COUNT ? names[dt] : "Undefined";
}

static PyObject *get_grad(TensorObject *t, void *c)
{
    if (t->grad == NULL && t->grad_fn != NULL && !t->retains_grad &&
        PyErr_WarnEx(PyExc_UserWarning,
                     "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
                     "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
                     "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf "
                     "Tensor by mistake, make sure you access the leaf Tensor instead.", 1) < 0)
        return NULL;
    return Py_NewRef(t->grad ? t->grad : Py_None);
}

static int set_grad(TensorObject *t, PyObject *v, void *c)
{
    State *st = state_of_type(Py_TYPE(t));
    if (v == NULL || v == Py_None) {
        Py_CLEAR(t->grad);
        return 0;
    }
    if (!is_tensor(st, v)) {
        PyErr_Format(PyExc_TypeError, "assigned grad expected to be a Tensor or None but got grad of type %.100s",
                     Py_TYPE(v)->tp_name);
        return -1;
    }
    TensorObject *g = (TensorObject *)v;
    if (v == (PyObject *)t) {
        PyErr_SetString(PyExc_RuntimeError, "can't assign Variable as its own grad");
        return -1;
    }
    if (g->dtype != t->dtype) {
        PyErr_Format(PyExc_RuntimeError,
                     "attempting to assign a gradient with dtype '%s' to a tensor with grad_dtype '%s'. The gradient "
                     "must match the tensor's grad_dtype (defaults to the tensor's dtype). You can set the tensor's "
                     "grad_dtype attribute with a specific dtype, or None to allow any dtype. Set grad_dtype with "
                     "caution. Diverging the dtypes of a tensor and its gradient may break downstream systems that "
                     "assume they match.", typemeta_name(g->dtype), dtype_name(t->dtype));
        return -1;
    }
    if (g->device != t->device) {
        PyErr_Format(PyExc_RuntimeError,
                     "attempting to assign a gradient with device type '%s' to a tensor with device type '%s'. Please "
                     "ensure that the gradient and the tensor are on the same device",
                     g->device == DEV_CPU ? "cpu" : "cuda", t->device == DEV_CPU ? "cpu" : "cuda");
        return -1;
    }
    if (tensor_ensure_sizes(st, g) < 0 || tensor_ensure_sizes(st, t) < 0)
        return -1;
    if (g->ndim != t->ndim || (t->ndim && memcmp(g->sizes, t->sizes, sizeof(Py_ssize_t) * t->ndim) != 0)) {
        PyObject *gs = ssize_tuple(g->sizes, g->ndim), *ts = ssize_tuple(t->sizes, t->ndim);
        PyObject *gl = gs ? PySequence_List(gs) : NULL, *tl = ts ? PySequence_List(ts) : NULL;
        if (gl != NULL && tl != NULL)
            PyErr_Format(PyExc_RuntimeError,
                         "attempting to assign a gradient of size '%S' to a tensor of size '%S'. Please ensure that "
                         "the gradient and the tensor are the same size", gl, tl);
        Py_XDECREF(gs);
        Py_XDECREF(ts);
        Py_XDECREF(gl);
        Py_XDECREF(tl);
        return -1;
    }
    Py_INCREF(v);
    Py_XSETREF(t->grad, v);
    return 0;
}

static PyObject *get_grad_fn(TensorObject *t, void *c)
{
    PyObject *fn = tensor_grad_fn(t);
    return Py_NewRef(fn ? fn : Py_None);
}

static int set_grad_fn(TensorObject *t, PyObject *v, void *c)
{
    if (v != NULL && v != Py_None) {
        PyErr_SetString(PyExc_RuntimeError, "_grad_fn can be only set to None");
        return -1;
    }
    v = NULL;
    Py_XINCREF(v);
    Py_XSETREF(t->grad_fn, v);
    t->weak_grad_fn = 0;
    return 0;
}

static PyObject *get_is_leaf(TensorObject *t, void *c) { return PyBool_FromLong(tensor_grad_fn(t) == NULL); }

static PyObject *get_output_nr(TensorObject *t, void *c) { return PyLong_FromLong(t->output_nr); }

static PyObject *get_retains_grad(TensorObject *t, void *c) { return PyBool_FromLong(t->retains_grad); }

static PyObject *get_version(TensorObject *t, void *c)
{
    if (t->own_version)
        return PyLong_FromLongLong(t->aux_version);
    TensorObject *owner = t->base ? t->base : t;
    return PyLong_FromLongLong(owner->version - owner->aux_version);
}

/* Note [Bases torch shows]
 * A view's `base` is the root owner of its storage (Note [Tensor storage and views]), and detach(), `.data` and
 * nn.Parameter(t) are views of it too here (they share t's storage). torch shows less: those three make tensors
 * that are not views (`_base` None, `_is_view()` False: the detached alias of torch's detach() shares storage
 * without being a view in autograd's sense), and a view taken of such an alias shows the alias as its `_base`, not
 * the storage's owner. So `_base` is the owner for views of non-detached tensors, None for a detached alias
 * itself, and for views of one (directly or through further views) the alias, which such a view keeps in
 * `shown_base`. The package itself reads the owner (`_storage_base`, `_is_storage_view`): storage, writes and
 * serialization are the owner's business whatever torch shows. */
/* BORROWED: the `_base` torch shows for t (Py_None for none). */
static PyObject *shown_base(TensorObject *t)
{
    if (t->base == NULL)
        return Py_None;
    if (t->detached)
        return t->shown_base ? (PyObject *)t->shown_base : Py_None;
    return (PyObject *)t->base;
}

static PyObject *get_base(TensorObject *t, void *c) { return Py_NewRef(shown_base(t)); }

/* NEW: torch's Tensor._is_view(): whether `_base` shows a base (Note [Bases torch shows]). */
static PyObject *m_is_view(TensorObject *t, PyObject *noargs) { return PyBool_FromLong(shown_base(t) != Py_None); }

static PyObject *get_storage_base(TensorObject *t, void *c) { return Py_NewRef(t->base ? (PyObject *)t->base : Py_None); }

static PyObject *get_is_storage_view(TensorObject *t, void *c) { return PyBool_FromLong(t->base != NULL); }

/* `_mx`: the current mx.array value (evaluation stays lazy). */
static PyObject *get_mx(TensorObject *t, void *c)
{
    State *st = state_of_type(Py_TYPE(t));
    if (tensor_check_mx_extent(st, t) < 0) /* Note [32-bit element counts] */
        return NULL;
    PyObject *v = tensor_value(st, t);
    if (t->lazy_depth > py_read_depth) /* Note [Bounded lazy graphs] */
        py_read_depth = t->lazy_depth;
    return Py_XNewRef(v);
}

/* NEW bool: whether t is on the GPU and the GPU's torch name (device.type) is `type_name`. */
static PyObject *gpu_is(TensorObject *t, const char *type_name)
{
    State *st = state_of_type(Py_TYPE(t));
    PyObject *d = st->device[(int)t->device];
    if (t->device != DEV_GPU || d == NULL)
        Py_RETURN_FALSE;
    PyObject *ty = PyObject_GetAttrString(d, "type");
    if (ty == NULL)
        return NULL;
    int r = PyUnicode_CompareWithASCIIString(ty, type_name) == 0;
    Py_DECREF(ty);
    return PyBool_FromLong(r);
}

static PyObject *get_is_cuda(TensorObject *t, void *c) { return gpu_is(t, "cuda"); }
static PyObject *get_is_mps(TensorObject *t, void *c) { return gpu_is(t, "mps"); }

static PyObject *get_device_code(TensorObject *t, void *c) { return PyLong_FromLong(t->device); }

static PyObject *get_hooks(TensorObject *t, void *c) { return Py_NewRef(t->hooks ? t->hooks : Py_None); }

/* _backward_hooks: None, a list of hooks, or a dict of them (torch's own idiom assigns an OrderedDict);
 * the engine reads nothing else (apply_hooks in engine.c). */
static int set_hooks(TensorObject *t, PyObject *v, void *c)
{
    if (v == NULL || v == Py_None)
        v = NULL;
    else if (!PyList_Check(v) && !PyDict_Check(v)) {
        PyErr_Format(PyExc_TypeError, "_backward_hooks must be a dict, a list or None, not %.100s", Py_TYPE(v)->tp_name);
        return -1;
    }
    Py_XINCREF(v);
    Py_XSETREF(t->hooks, v);
    return 0;
}

static int set_retains_grad(TensorObject *t, PyObject *v, void *c)
{
    int r = v ? PyObject_IsTrue(v) : 0;
    if (r < 0)
        return -1;
    t->retains_grad = (char)r;
    return 0;
}

static PyObject *get_lazy_depth(TensorObject *t, void *c) { return PyLong_FromLong(t->lazy_depth); }

static PyGetSetDef tensor_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {"shape", (getter)get_shape, NULL, "The tensor's shape, a torch.Size.", NULL},
    {"dtype", (getter)get_dtype, NULL, NULL, NULL},
    {"device", (getter)get_device, NULL, NULL, NULL},
    {"ndim", (getter)get_ndim, NULL, NULL, NULL},
    {"requires_grad", (getter)get_requires_grad, (setter)set_requires_grad, NULL, NULL},
    {"grad", (getter)get_grad, (setter)set_grad, NULL, NULL},
    {"grad_fn", (getter)get_grad_fn, NULL, NULL, NULL},
    {"_grad_fn", (getter)get_grad_fn, (setter)set_grad_fn, "Internal: settable grad_fn slot.", NULL},
    {"is_leaf", (getter)get_is_leaf, NULL, NULL, NULL},
    {"output_nr", (getter)get_output_nr, NULL, NULL, NULL},
    {"retains_grad", (getter)get_retains_grad, NULL, NULL, NULL},
    {"_retains_grad", (getter)get_retains_grad, (setter)set_retains_grad, NULL, NULL},
    {"_backward_hooks", (getter)get_hooks, (setter)set_hooks, NULL, NULL},
    {"_is_storage_view", (getter)get_is_storage_view, NULL, NULL, NULL},
    {"_storage_base", (getter)get_storage_base, NULL, NULL, NULL},
    {"_version", (getter)get_version, NULL, NULL, NULL},
    {"_base", (getter)get_base, NULL, NULL, NULL},
    {"_mx", (getter)get_mx, NULL, "The current mlx.core.array value (lazy).", NULL},
    {"is_cuda", (getter)get_is_cuda, NULL, NULL, NULL},
    {"_device_code", (getter)get_device_code, NULL, "0 for MLX's CPU, 1 for its GPU.", NULL},
    {"is_mps", (getter)get_is_mps, NULL, NULL, NULL},
    {"_lazy_depth", (getter)get_lazy_depth, NULL, "Internal: the depth Note [Bounded lazy graphs] counts.", NULL},
    {NULL}};

/* ---------------------------------------------------------------- metadata methods */

/* torch's check for size(d)/stride(d) of a 0-dim tensor, which has no dimension to read (even though dim
 * wrapping treats it as 1-d elsewhere). 0 / -1 with torch's IndexError. */
static int check_has_dims(TensorObject *t, Py_ssize_t d)
{
    if (t->ndim != 0)
        return 0;
    PyErr_Format(PyExc_IndexError, "Dimension specified as %zd but tensor has no dimensions", d);
    return -1;
}

static PyObject *m_size(TensorObject *t, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    State *st = state_of_type(Py_TYPE(t));
    PyObject *dimobj = nargs ? args[0] : NULL;
    if (kwnames && PyTuple_GET_SIZE(kwnames)) {
        if (nargs || PyTuple_GET_SIZE(kwnames) != 1 || PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "dim")) {
            PyErr_SetString(PyExc_TypeError, "size() received an invalid combination of arguments");
            return NULL;
        }
        dimobj = args[0];
    } else if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "size() takes at most 1 argument");
        return NULL;
    }
    if (dimobj == NULL || dimobj == Py_None)
        return tensor_size_obj(st, t);
    Py_ssize_t d; /* Note [Arguments before metadata] (views.c) */
    if (int_arg(st, dimobj, &d, 1, "size") < 0 || tensor_ensure_sizes(st, t) < 0 || check_has_dims(t, d) < 0 ||
        normalize_dim(&d, t->ndim) < 0)
        return NULL;
    return PyLong_FromSsize_t(t->sizes[d]);
}

static PyObject *m_stride(TensorObject *t, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    State *st = state_of_type(Py_TYPE(t));
    if (tensor_ensure_sizes(st, t) < 0)
        return NULL;
    if (nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0) > 1) {
        PyErr_SetString(PyExc_TypeError, "stride() takes at most 1 argument");
        return NULL;
    }
    PyObject *dimobj = nargs ? args[0] : (kwnames && PyTuple_GET_SIZE(kwnames) ? args[0] : NULL);
    if (dimobj == NULL || dimobj == Py_None)
        return ssize_tuple(t->sizes + t->ndim, t->ndim);
    Py_ssize_t d; /* Note [Arguments before metadata] (views.c) */
    if (int_arg(st, dimobj, &d, 1, "stride") < 0 || tensor_ensure_sizes(st, t) < 0 || check_has_dims(t, d) < 0 ||
        normalize_dim(&d, t->ndim) < 0)
        return NULL;
    return PyLong_FromSsize_t(t->sizes[t->ndim + d]);
}

static PyObject *m_dim(TensorObject *t, PyObject *noargs)
{
    if (tensor_ensure_sizes(state_of_type(Py_TYPE(t)), t) < 0)
        return NULL;
    return PyLong_FromLong(t->ndim);
}

static PyObject *m_numel(TensorObject *t, PyObject *noargs)
{
    if (tensor_ensure_sizes(state_of_type(Py_TYPE(t)), t) < 0)
        return NULL;
    return PyLong_FromLongLong(tensor_numel(t));
}

static PyObject *m_storage_offset(TensorObject *t, PyObject *noargs) { return PyLong_FromSsize_t(t->offset); }

/* NEW: the Python implementation `name` ("Tensor.contiguous" / "Tensor.is_contiguous": the memory_format=
 * forms, Note [Memory formats] in _tensor.py) called as fn(self, *args, **kwargs). */
static PyObject *memory_format_fallback(TensorObject *t, const char *name, PyObject *const *args, Py_ssize_t nargs,
                                        PyObject *kwnames)
{
    Py_ssize_t n = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
    PyObject *stack[8];
    if (n + 1 > 8) {
        PyErr_SetString(PyExc_TypeError, "too many arguments");
        return NULL;
    }
    stack[0] = (PyObject *)t;
    for (Py_ssize_t i = 0; i < n; i++)
        stack[i + 1] = args[i];
    return fast_fallback(state_of_type(Py_TYPE(t)), name, stack, (size_t)(nargs + 1), kwnames);
}

static PyObject *m_is_contiguous(TensorObject *t, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (kwnames != NULL) /* memory_format= */
        return memory_format_fallback(t, "Tensor.is_contiguous", args, nargs, kwnames);
    if (nargs > 0) {
        PyErr_Format(PyExc_TypeError, "is_contiguous() takes 0 positional arguments but %zd were given", nargs);
        return NULL;
    }
    if (tensor_ensure_sizes(state_of_type(Py_TYPE(t)), t) < 0)
        return NULL;
    return PyBool_FromLong(tensor_is_contiguous(t));
}

/* contiguous(): self when already contiguous, else a fresh base holding a row-major copy. */
static PyObject *m_contiguous(TensorObject *t, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    State *st = state_of_type(Py_TYPE(t));
    if (kwnames != NULL) /* memory_format= */
        return memory_format_fallback(t, "Tensor.contiguous", args, nargs, kwnames);
    if (nargs > 0) { /* only memory_format=, by keyword */
        PyErr_Format(PyExc_TypeError, "contiguous() takes 0 positional arguments but %zd were given", nargs);
        return NULL;
    }
    if (tensor_ensure_sizes(st, t) < 0)
        return NULL;
    if (tensor_is_contiguous(t))
        return Py_NewRef(t);
    PyObject *v = tensor_value(st, t);
    if (v == NULL)
        return NULL;
    PyObject *out = tensor_wrap_steal(st, mx_call1(st, st->f_contiguous, v, t->device), t->dtype, t->device);
    if (out != NULL && GRAD_ENABLED(st)) { /* a copy: CloneBackward0 passes the gradient through, as torch */
        PyObject *ins[1] = {(PyObject *)t}, *outs[1] = {out};
        if (autograd_record_named(st, "clone", ins, 1, NULL, 0, NULL, outs, 1) < 0)
            Py_CLEAR(out);
    }
    return out;
}

static PyObject *m_element_size(TensorObject *t, PyObject *noargs)
{
    static const int sizes[DT_COUNT] = {1, 1, 2, 4, 8, 1, 2, 4, 8, 2, 4, 8, 2, 8};
    return PyLong_FromLong(sizes[(int)t->dtype]);
}

/* _storage_id(): identity of the shared storage (the root base object's address). */
static PyObject *m_storage_id(TensorObject *t, PyObject *noargs)
{
    return PyLong_FromVoidPtr(t->base ? (void *)t->base : (void *)t);
}

/* _write(array): replace the content with an mx.array of the same shape (cast to our dtype,
 * broadcast to our shape); write-through for views. Returns self. */
static PyObject *m_write(TensorObject *t, PyObject *arr)
{
    State *st = state_of_type(Py_TYPE(t));
    if (tensor_check_inplace(st, t) < 0)
        return NULL;
    PyObject *v = mx_astype(st, arr, t->dtype, t->device);
    if (v == NULL)
        return NULL;
    if (tensor_ensure_sizes(st, t) < 0)
        goto error;
    PyObject *shape = ssize_tuple(t->sizes, t->ndim);
    if (shape == NULL)
        goto error;
    PyObject *b = mx_call2(st, st->f_broadcast_to, v, shape, t->device);
    Py_DECREF(shape);
    if (b == NULL)
        goto error;
    Py_SETREF(v, b);
    if (tensor_write(st, t, v) < 0)
        goto error;
    Py_DECREF(v);
    return Py_NewRef(t);
error:
    Py_DECREF(v);
    return NULL;
}

static PyObject *m_is_inference(TensorObject *t, PyObject *noargs) { return PyBool_FromLong(t->inference); }

/* _detached_alias(own_version=False): detach() — a view sharing storage, recording nothing, exempt from the
 * "view of a leaf" in-place check (torch's detach/.data). */
static PyObject *m_detached_alias(TensorObject *t, PyObject *args)
{
    int own = 0;
    if (!PyArg_ParseTuple(args, "|p", &own))
        return NULL;
    State *st = state_of_type(Py_TYPE(t));
    int prev = grad_mode_disabled;
    grad_mode_disabled = 1;
    PyObject *r = view_alias(st, t);
    grad_mode_disabled = prev;
    if (r != NULL) {
        ((TensorObject *)r)->detached = 1;
        ((TensorObject *)r)->own_version = (char)own;
        Py_CLEAR(((TensorObject *)r)->shown_base); /* an alias shows no base (Note [Bases torch shows]) */
    }
    return r;
}

/* _commit(src): write tensor `src` (self's shape; cast to self's dtype) into self in place and rebase
 * self's autograd history onto it (Note [In-place history]). Returns self. */
static PyObject *m_commit(TensorObject *t, PyObject *src)
{
    State *st = state_of_type(Py_TYPE(t));
    PyObject *v = NULL, *base_snap = NULL;
    if (!is_tensor(st, src)) {
        PyErr_SetString(PyExc_TypeError, "_commit expects a Tensor");
        return NULL;
    }
    if (tensor_check_inplace(st, t) < 0)
        return NULL;
    TensorObject *s = (TensorObject *)src;
    PyObject *sv = tensor_value(st, s);
    if (sv == NULL)
        return NULL;
    v = s->dtype == t->dtype ? Py_NewRef(sv) : mx_astype(st, sv, t->dtype, t->device);
    if (v == NULL)
        return NULL;
    if (t->base && GRAD_ENABLED(st) && ((s->requires_grad || s->grad_fn) || t->base->grad_fn || t->grad_fn)) {
        base_snap = saved_snapshot(st, (PyObject *)t->base, NULL);
        if (base_snap == NULL)
            goto error;
    }
    if (tensor_write(st, t, v) < 0 || autograd_commit(st, t, src, base_snap) < 0)
        goto error;
    layout_copy_source(t, s); /* an in-place relu_ commits relu's value: its source too (layout.c) */
    Py_DECREF(v);
    Py_XDECREF(base_snap);
    return Py_NewRef(t);
error:
    Py_XDECREF(v);
    Py_XDECREF(base_snap);
    return NULL;
}

/* _make_view(array, shape, strides, offset): a view of self whose cached value is `array` and whose
 * metadata (relative to the root base) is given; used by the Python-level view ops. */
static PyObject *m_make_view(TensorObject *t, PyObject *args)
{
    State *st = state_of_type(Py_TYPE(t));
    PyObject *arr, *shape, *strides;
    Py_ssize_t offset;
    if (!PyArg_ParseTuple(args, "OOOn", &arr, &shape, &strides, &offset))
        return NULL;
    PyObject *sh = PySequence_Fast(shape, "shape must be a sequence");
    PyObject *sd = sh ? PySequence_Fast(strides, "strides must be a sequence") : NULL;
    PyObject *r = NULL;
    Py_ssize_t *buf = NULL;
    if (sd == NULL)
        goto error;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(sh);
    if (PySequence_Fast_GET_SIZE(sd) != n || n > 64) {
        PyErr_SetString(PyExc_ValueError, "_make_view: shape/strides mismatch");
        goto error;
    }
    buf = PyMem_Malloc(sizeof(Py_ssize_t) * 2 * (n ? n : 1));
    if (buf == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        buf[i] = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(sh, i));
        buf[n + i] = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(sd, i));
    }
    if (PyErr_Occurred())
        goto error;
    /* reachable from Python: the value must be an mx.array and every element inside the root's storage
     * (a write through the view scatters at these positions) */
    if (!PyObject_TypeCheck(arr, (PyTypeObject *)st->array_type)) {
        PyErr_Format(PyExc_TypeError, "_make_view: expected an mlx array, got %.100s", Py_TYPE(arr)->tp_name);
        goto error;
    }
    TensorObject *root = t->base ? t->base : t;
    if (tensor_ensure_sizes(st, root) < 0)
        goto error;
    int64_t storage = tensor_numel(root), last = offset, step;
    int empty = 0, overflow = offset < 0;
    if (dt_itemsize(t->dtype) && dt_itemsize(root->dtype) != dt_itemsize(t->dtype))
        storage = storage * dt_itemsize(root->dtype) / dt_itemsize(t->dtype);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (buf[i] < 0 || buf[n + i] < 0)
            overflow = 1;
        else if (buf[i] == 0)
            empty = 1;
        else if (__builtin_mul_overflow((int64_t)(buf[i] - 1), (int64_t)buf[n + i], &step) ||
                 __builtin_add_overflow(last, step, &last))
            overflow = 1;
    }
    if (overflow || (!empty && last >= storage)) {
        PyErr_SetString(PyExc_RuntimeError, "_make_view: the view reaches outside its base's storage");
        goto error;
    }
    r = tensor_make_view(st, t, Py_NewRef(arr), (int)n, buf, buf + n, offset);
error:
    Py_XDECREF(sh);
    Py_XDECREF(sd);
    PyMem_Free(buf);
    return r;
}

/* Whether t's (shape, strides, offset 0) covers a storage of exactly numel elements densely: some
 * permutation of contiguous strides (Note [Base storage order]). */
static int is_dense_layout(TensorObject *t)
{
    Py_ssize_t perm[64];
    if (t->offset != 0 || t->ndim > 64)
        return 0;
    if (t->ndim == 0)
        return 1;
    base_order(t, perm);
    Py_ssize_t expected = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        Py_ssize_t d = perm[i], n = t->sizes[d];
        if (n == 0)
            return 1;
        if (n != 1 && t->sizes[t->ndim + d] != expected)
            return 0;
        expected *= n;
    }
    return 1;
}

/* _restride(array, shape, strides, offset, bump=True): change self's own metadata in place (torch's in-place view
 * ops: t_, unsqueeze_, ...). A view takes the new metadata (relative to its base) and value; a base only
 * a contiguous re-shaping of its storage (its storage order is its logical order). Returns self. */
static PyObject *m_restride(TensorObject *t, PyObject *args)
{
    State *st = state_of_type(Py_TYPE(t));
    PyObject *arr, *shape, *strides;
    Py_ssize_t offset;
    int bump = 1;
    if (!PyArg_ParseTuple(args, "OOOn|p", &arr, &shape, &strides, &offset, &bump))
        return NULL;
    if (bump && tensor_check_inplace_ex(st, t, 0) < 0)
        return NULL;
    PyObject *tmp = PyObject_CallMethod((PyObject *)t, "_make_view", "OOOn", arr, shape, strides, offset);
    if (tmp == NULL)
        return NULL;
    TensorObject *v = (TensorObject *)tmp;
    if (t->base == NULL && !is_dense_layout(v)) {
        Py_DECREF(tmp);
        PyErr_SetString(PyExc_RuntimeError, "mlx_compat: this in-place view op would give a tensor that owns its "
                                            "storage an overlapping or non-dense layout, which is not supported; "
                                            "use the out-of-place op");
        return NULL;
    }
    tensor_sizes_move(t, v); /* Note [Inline sizes] */
    t->ndim = v->ndim;
    tensor_sizes_changed(t);
    meta_epoch++; /* Note [Meta epoch] */
    t->offset = t->base ? v->offset : 0;
    Py_INCREF(arr);
    Py_SETREF(t->data, arr);
    t->cast_on_read = 0; /* Note [Deferred cast] */
    /* torch bumps the version counter for in-place view ops (bump=False: laying out a fresh tensor) */
    if (t->base) {
        t->base->version += bump;
        t->version = t->base->version;
    } else
        t->version += bump;
    Py_CLEAR(t->index_map);
    Py_DECREF(tmp);
    return Py_NewRef(t);
}

/* _set_data(array): rebind a base tensor's value without version bump checks (for .data = ...). */
static PyObject *m_set_data(TensorObject *t, PyObject *arr)
{
    State *st = state_of_type(Py_TYPE(t));
    int dt;
    PyObject *d = PyObject_GetAttr(arr, st->s_dtype);
    if (d == NULL)
        return NULL;
    dt = dtype_from_mx(st, d);
    Py_DECREF(d);
    if (dt < 0)
        return NULL;
    Py_INCREF(arr);
    Py_SETREF(t->data, arr);
    t->cast_on_read = 0; /* Note [Deferred cast] */
    Py_CLEAR(t->base);
    Py_CLEAR(t->shown_base);
    Py_CLEAR(t->index_map);
    tensor_sizes_free(t);
    t->ndim = -1;
    t->numel_bound = 0;
    tensor_sizes_changed(t);
    meta_epoch++; /* Note [Meta epoch] */
    t->offset = 0;
    t->dtype = (signed char)dt;
    t->is_view = 0;
    Py_RETURN_NONE;
}

/* Tensor._new_on(array, device, dtype=-1) (class method): NEW base tensor over an mx.array. */
static PyObject *m_new_on(PyObject *type, PyObject *args)
{
    State *st = state_of_type((PyTypeObject *)type);
    if (st == NULL)
        return NULL;
    PyObject *arr;
    int dev, dt = -1;
    if (!PyArg_ParseTuple(args, "Oi|i", &arr, &dev, &dt))
        return NULL;
    if (dev != DEV_CPU && dev != DEV_GPU) {
        PyErr_SetString(PyExc_ValueError, "bad device");
        return NULL;
    }
    /* reachable from Python: only an mx.array and a known dtype code */
    if (!PyObject_TypeCheck(arr, (PyTypeObject *)st->array_type)) {
        PyErr_Format(PyExc_TypeError, "_new_on: expected an mlx array, got %.100s", Py_TYPE(arr)->tp_name);
        return NULL;
    }
    if (dt < -1 || dt >= DT_COUNT) {
        PyErr_Format(PyExc_ValueError, "_new_on: bad dtype code %d", dt);
        return NULL;
    }
    PyObject *r = tensor_wrap(st, arr, dt, dev);
    if (r != NULL && tensor_set_depth_from_reads(st, (TensorObject *)r) < 0) /* Note [Bounded lazy graphs] */
        Py_CLEAR(r);
    return r;
}

/* NEW: a view of t with dtype `dt`, value `arr` (STOLEN) and metadata in units of `dt` over t's root
 * storage (Note [Reinterpreted views]). */
static PyObject *reinterpreted_view(State *st, TensorObject *t, int dt, PyObject *arr, int ndim,
                                    const Py_ssize_t *shape, const Py_ssize_t *strides, Py_ssize_t offset)
{
    TensorObject *r = (TensorObject *)tensor_make_view_exact(st, t, arr, ndim, shape, strides, offset);
    if (r != NULL)
        r->dtype = (signed char)dt;
    return (PyObject *)r;
}

/* _part(imag): the real (False) or imaginary (True) part of a complex tensor as a float32 view
 * aliasing its storage: strides doubled, offset doubled (+1 for imag). NEW reference. */
static PyObject *m_part(TensorObject *t, PyObject *imag_obj)
{
    State *st = state_of_type(Py_TYPE(t));
    int imag = PyObject_IsTrue(imag_obj);
    if (imag < 0 || tensor_ensure_sizes(st, t) < 0)
        return NULL;
    if (t->dtype != DT_C64) {
        PyErr_SetString(PyExc_RuntimeError, "_part expects a complex tensor");
        return NULL;
    }
    PyObject *v = tensor_value(st, t);
    if (v == NULL)
        return NULL;
    PyObject *arr = mx_call1(st, imag ? st->f_imag : st->f_real, v, t->device);
    if (arr == NULL)
        return NULL;
    int n = t->ndim;
    Py_ssize_t *buf = PyMem_Malloc(sizeof(Py_ssize_t) * 2 * (n ? n : 1));
    if (buf == NULL) {
        Py_DECREF(arr);
        return PyErr_NoMemory();
    }
    for (int i = 0; i < n; i++) {
        buf[i] = t->sizes[i];
        buf[n + i] = t->sizes[n + i] * 2;
    }
    PyObject *r = reinterpreted_view(st, t, DT_F32, arr, n, buf, buf + n, t->offset * 2 + imag);
    PyMem_Free(buf);
    if (r != NULL) { /* real(conj z) = real z, imag(conj z) = -imag z (Note [Conjugate views]) */
        int conj = t->view_bits & VIEW_CONJ, neg = t->view_bits & VIEW_NEG;
        ((TensorObject *)r)->view_bits = (char)((imag && conj) ? (neg ^ VIEW_NEG) : neg);
    }
    return r;
}

/* _reinterpret(dtype_code, shape, strides, offset): a view of self as another dtype with the given
 * metadata in that dtype's units (view_as_real, view_as_complex, view(dtype); the Python callers check
 * torch's conditions). Its value is self's value reinterpreted by mx.view and reshaped. NEW reference. */
static PyObject *m_reinterpret(TensorObject *t, PyObject *args)
{
    State *st = state_of_type(Py_TYPE(t));
    int dt;
    PyObject *shape_obj, *strides_obj, *arr = NULL, *cont = NULL, *r = NULL;
    Py_ssize_t offset, *buf = NULL;
    if (!PyArg_ParseTuple(args, "iO!O!n", &dt, &PyTuple_Type, &shape_obj, &PyTuple_Type, &strides_obj, &offset))
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(shape_obj);
    if (dt < 0 || dt >= DT_COUNT || n != PyTuple_GET_SIZE(strides_obj) || n > 64) {
        PyErr_SetString(PyExc_ValueError, "_reinterpret: bad dtype code or metadata");
        return NULL;
    }
    buf = PyMem_Malloc(sizeof(Py_ssize_t) * 2 * (n ? n : 1));
    if (buf == NULL)
        return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < n; i++) {
        buf[i] = PyLong_AsSsize_t(PyTuple_GET_ITEM(shape_obj, i));
        buf[n + i] = PyLong_AsSsize_t(PyTuple_GET_ITEM(strides_obj, i));
    }
    if (PyErr_Occurred() || tensor_ensure_sizes(st, t) < 0)
        goto error;
    if (t->view_bits & VIEW_CONJ) { /* the callers raise torch's own messages first (Note [Conjugate views]) */
        PyErr_SetString(PyExc_RuntimeError, "a conjugate view cannot be reinterpreted as another dtype; "
                                            "use resolve_conj() first");
        goto error;
    }
    PyObject *v = tensor_value(st, t);
    if (v == NULL)
        goto error;
    cont = mx_call1(st, st->f_contiguous, v, t->device);
    if (cont == NULL)
        goto error;
    if (t->ndim == 0) { /* mx.view needs at least one dimension */
        PyObject *one = Py_BuildValue("(i)", 1);
        if (one == NULL)
            goto error;
        Py_SETREF(cont, mx_call2(st, st->f_reshape, cont, one, t->device));
        Py_DECREF(one);
        if (cont == NULL)
            goto error;
    }
    arr = mx_call2(st, st->f_view, cont, st->mx_dtype[dt], t->device);
    if (arr == NULL)
        goto error;
    Py_SETREF(arr, mx_call2(st, st->f_reshape, arr, shape_obj, t->device));
    if (arr == NULL)
        goto error;
    r = reinterpreted_view(st, t, dt, arr, (int)n, buf, buf + n, offset);
    arr = NULL; /* stolen */
error:
    Py_XDECREF(cont);
    Py_XDECREF(arr);
    PyMem_Free(buf);
    return r;
}

/* _make_subclass(cls, data, requires_grad=False): NEW instance of `cls` (a Tensor subclass) sharing
 * `data`'s storage, outside its autograd graph, as torch.Tensor._make_subclass (used by nn.Parameter). */
static PyObject *m_make_subclass(PyObject *type, PyObject *args)
{
    State *st = state_of_type((PyTypeObject *)type);
    PyObject *cls, *src;
    int rg = 0;
    if (st == NULL || !PyArg_ParseTuple(args, "OO|p", &cls, &src, &rg))
        return NULL;
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, (PyTypeObject *)st->tensor_type)) {
        PyErr_SetString(PyExc_TypeError, "_make_subclass: cls must be a Tensor subclass");
        return NULL;
    }
    if (!is_tensor(st, src)) {
        PyErr_SetString(PyExc_TypeError, "_make_subclass: data must be a Tensor");
        return NULL;
    }
    TensorObject *s = (TensorObject *)src;
    if (rg && !(dt_is_float(s->dtype) || dt_is_complex(s->dtype))) {
        PyErr_SetString(PyExc_RuntimeError, "only Tensors of floating point and complex dtype can require gradients");
        return NULL;
    }
    /* a detached alias of `data` (writes through either are seen by the other; Note [Whole-storage writes]
     * keeps an optimizer's writes cheap), re-typed as `cls` */
    int prev = grad_mode_disabled;
    grad_mode_disabled = 1;
    TensorObject *a = (TensorObject *)view_alias(st, s);
    grad_mode_disabled = prev;
    if (a == NULL)
        return NULL;
    /* the alias's view fields move into a `cls` instance (made as one, so subclasses with their own layout,
     * e.g. __slots__, work) */
    TensorObject *r = (TensorObject *)tensor_alloc_of_type(st, (PyTypeObject *)cls, Py_NewRef(a->data), a->dtype,
                                                          a->device, 0);
    if (r == NULL) {
        Py_DECREF(a);
        return NULL;
    }
    r->base = a->base;
    a->base = NULL;
    r->index_map = a->index_map;
    a->index_map = NULL;
    tensor_sizes_move(r, a); /* Note [Inline sizes] */
    r->ndim = a->ndim;
    r->offset = a->offset;
    r->version = a->version;
    r->is_view = a->is_view;
    r->view_bits = a->view_bits; /* Note [Conjugate views] */
    Py_DECREF(a);
    r->detached = 1;
    r->requires_grad = (char)rg;
    return (PyObject *)r;
}

/* as_subclass(cls): torch's Tensor.as_subclass, an alias view of self (AliasBackward0 when it needs grad)
 * of type `cls` (NEW). Python's __class__ assignment checks that cls's layout is a Tensor's. */
static PyObject *m_as_subclass(TensorObject *t, PyObject *cls)
{
    State *st = state_of_type(Py_TYPE(t));
    if (st == NULL)
        return NULL;
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, (PyTypeObject *)st->tensor_type)) {
        PyErr_Format(PyExc_TypeError, "as_subclass(): argument 'cls' must be a subclass of Tensor, not %.100s",
                     PyType_Check(cls) ? ((PyTypeObject *)cls)->tp_name : Py_TYPE(cls)->tp_name);
        return NULL;
    }
    PyObject *r = view_alias(st, t);
    if (r != NULL && Py_TYPE(r) != (PyTypeObject *)cls && PyObject_SetAttrString(r, "__class__", cls) < 0)
        Py_CLEAR(r);
    return r;
}

static PyMethodDef tensor_methods[] = {
    {"as_subclass", (PyCFunction)m_as_subclass, METH_O, "An alias of this tensor, of type cls (torch.Tensor.as_subclass)."},
    {"size", (PyCFunction)(void (*)(void))m_size, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"stride", (PyCFunction)(void (*)(void))m_stride, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"dim", (PyCFunction)m_dim, METH_NOARGS, NULL},
    {"ndimension", (PyCFunction)m_dim, METH_NOARGS, NULL},
    {"numel", (PyCFunction)m_numel, METH_NOARGS, NULL},
    {"nelement", (PyCFunction)m_numel, METH_NOARGS, NULL},
    {"storage_offset", (PyCFunction)m_storage_offset, METH_NOARGS, NULL},
    {"is_contiguous", (PyCFunction)(void (*)(void))m_is_contiguous, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"contiguous", (PyCFunction)(void (*)(void))m_contiguous, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"element_size", (PyCFunction)m_element_size, METH_NOARGS, NULL},
    {"_storage_id", (PyCFunction)m_storage_id, METH_NOARGS, NULL},
    {"_write", (PyCFunction)m_write, METH_O, NULL},
    {"_commit", (PyCFunction)m_commit, METH_O, NULL},
    {"_detached_alias", (PyCFunction)m_detached_alias, METH_VARARGS, NULL},
    {"_is_view", (PyCFunction)m_is_view, METH_NOARGS, NULL},
    {"is_inference", (PyCFunction)m_is_inference, METH_NOARGS, NULL},
    {"_make_view", (PyCFunction)m_make_view, METH_VARARGS, NULL},
    {"_set_data", (PyCFunction)m_set_data, METH_O, NULL},
    {"_restride", (PyCFunction)m_restride, METH_VARARGS, NULL},
    {"_meta_epoch", (PyCFunction)m_meta_epoch, METH_NOARGS | METH_STATIC, NULL},
    {"_storage_value", (PyCFunction)m_storage_value, METH_NOARGS, NULL},
    {"_new_on", (PyCFunction)m_new_on, METH_VARARGS | METH_CLASS, NULL},
    {"_make_subclass", (PyCFunction)m_make_subclass, METH_VARARGS | METH_CLASS, NULL},
    {"_basic_getitem", (PyCFunction)m_basic_getitem, METH_O, NULL},
    {"_part", (PyCFunction)m_part, METH_O, NULL},
    {"_reinterpret", (PyCFunction)m_reinterpret, METH_VARARGS, NULL},
    {"_assign", (PyCFunction)m_assign, METH_O, NULL},
    {"_fill", (PyCFunction)m_fill, METH_O, NULL},
    {"_scalar_for_assign", (PyCFunction)m_scalar_for_assign, METH_O, NULL},
    {NULL}};

/* Tensor() with no arguments: an empty float tensor (the Python layer replaces __new__ for torch's
 * legacy constructor forms). */
static PyObject *tensor_tp_new(PyTypeObject *tp, PyObject *args, PyObject *kwds)
{
    State *st = state_of_type(tp);
    if (st == NULL)
        return NULL;
    PyObject *shape = Py_BuildValue("((i))", 0);
    if (shape == NULL)
        return NULL;
    PyObject *zargs[2] = {PyTuple_GET_ITEM(shape, 0), st->mx_dtype[st->default_dtype]};
    PyObject *arr = PyObject_Vectorcall(st->f_zeros, zargs, 2, NULL);
    Py_DECREF(shape);
    return tensor_new_of_type(st, tp, arr, st->default_dtype, DEV_CPU);
}

static PyMemberDef tensor_members[] = {
    {"__dictoffset__", T_PYSSIZET, offsetof(TensorObject, dict), READONLY},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(TensorObject, weakreflist), READONLY},
    {NULL}};

/* hash(t) == id(t), as torch.Tensor.__hash__. */
static Py_hash_t tensor_hash(PyObject *self)
{
    Py_hash_t h = (Py_hash_t)(uintptr_t)self;
    return h == -1 ? -2 : h;
}

/* ---------------------------------------------------------------- the type */

/* Size[item] (SizeBase's mp_subscript): an int for an index, a Size for a slice (tuple's own subscript gives
 * a plain tuple); in C because shape[d] is on the path of many ops. NEW reference. */
static PyObject *size_subscript(PyObject *self, PyObject *item)
{
    PyObject *r = PyTuple_Type.tp_as_mapping->mp_subscript(self, item);
    if (r == NULL || !PySlice_Check(item))
        return r;
    PyTypeObject *tp = Py_TYPE(self);
    Py_ssize_t n = PyTuple_GET_SIZE(r);
    PyObject *out = tp->tp_alloc(tp, n);
    if (out != NULL)
        for (Py_ssize_t i = 0; i < n; i++)
            PyTuple_SET_ITEM(out, i, Py_NewRef(PyTuple_GET_ITEM(r, i)));
    Py_DECREF(r);
    return out;
}

/* SizeBase: the tuple subclass mlx_compat.Size derives from (its indexing in C). 0 / -1. */
static int size_base_init(PyObject *module)
{
    PyType_Slot slots[] = {
        {Py_tp_doc, "Base of mlx_compat.Size: a tuple whose slices are Sizes."},
        {Py_mp_subscript, size_subscript},
        {0, NULL}};
    PyType_Spec spec = {
        .name = "mlx_compat._C.SizeBase",
        .basicsize = 0,
        .itemsize = 0,
        .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
        .slots = slots,
    };
    PyObject *tp = PyType_FromModuleAndSpec(module, &spec, (PyObject *)&PyTuple_Type);
    if (tp == NULL)
        return -1;
    int rc = PyModule_AddObjectRef(module, "SizeBase", tp);
    Py_DECREF(tp);
    return rc;
}

int tensor_type_init(PyObject *module, State *st)
{
    if (size_base_init(module) < 0)
        return -1;
    /* The method table is the union of this file's, ops.c's and views.c's. */
    static PyMethodDef all_methods[256];
    int n = 0;
    PyMethodDef *tables[] = {tensor_methods, tensor_op_methods, tensor_view_methods};
    for (size_t k = 0; k < sizeof(tables) / sizeof(tables[0]); k++)
        for (PyMethodDef *m = tables[k]; m->ml_name; m++) {
            if (n >= 255) {
                PyErr_SetString(PyExc_SystemError, "too many Tensor methods");
                return -1;
            }
            all_methods[n++] = *m;
        }
    all_methods[n] = (PyMethodDef){NULL};
    static PyGetSetDef all_getset[64];
    int g = 0;
    PyGetSetDef *gtables[] = {tensor_getset, tensor_view_getset};
    for (size_t k = 0; k < sizeof(gtables) / sizeof(gtables[0]); k++)
        for (PyGetSetDef *d = gtables[k]; d->name; d++) {
            if (g >= 63) {
                PyErr_SetString(PyExc_SystemError, "too many Tensor properties");
                return -1;
            }
            all_getset[g++] = *d;
        }
    all_getset[g] = (PyGetSetDef){NULL};

    PyType_Slot slots[] = {
        {Py_tp_doc, "A multi-dimensional array with PyTorch's semantics, backed by an mlx.core.array."},
        {Py_tp_new, tensor_tp_new},
        {Py_tp_dealloc, tensor_dealloc},
        {Py_tp_traverse, tensor_traverse},
        {Py_tp_clear, tensor_clear},
        {Py_tp_getset, all_getset},
        {Py_tp_methods, all_methods},
        {Py_tp_members, tensor_members},
        {Py_tp_hash, tensor_hash},
        {Py_tp_richcompare, tensor_richcompare},
        {Py_mp_subscript, tensor_getitem},
        {Py_mp_ass_subscript, tensor_setitem},
#define NB(slot, field) {Py_##slot, (void *)tensor_as_number_impl.field},
        NB(nb_add, nb_add) NB(nb_subtract, nb_subtract) NB(nb_multiply, nb_multiply)
        NB(nb_true_divide, nb_true_divide) NB(nb_floor_divide, nb_floor_divide) NB(nb_remainder, nb_remainder)
        NB(nb_power, nb_power) NB(nb_and, nb_and) NB(nb_or, nb_or) NB(nb_xor, nb_xor) NB(nb_lshift, nb_lshift)
        NB(nb_rshift, nb_rshift) NB(nb_matrix_multiply, nb_matrix_multiply)
        NB(nb_inplace_add, nb_inplace_add) NB(nb_inplace_subtract, nb_inplace_subtract)
        NB(nb_inplace_multiply, nb_inplace_multiply) NB(nb_inplace_true_divide, nb_inplace_true_divide)
        NB(nb_inplace_floor_divide, nb_inplace_floor_divide) NB(nb_inplace_remainder, nb_inplace_remainder)
        NB(nb_inplace_power, nb_inplace_power) NB(nb_inplace_and, nb_inplace_and) NB(nb_inplace_or, nb_inplace_or)
        NB(nb_inplace_xor, nb_inplace_xor) NB(nb_inplace_lshift, nb_inplace_lshift)
        NB(nb_inplace_rshift, nb_inplace_rshift) NB(nb_inplace_matrix_multiply, nb_inplace_matrix_multiply)
        NB(nb_negative, nb_negative) NB(nb_positive, nb_positive) NB(nb_absolute, nb_absolute)
        NB(nb_invert, nb_invert)
#undef NB
        {0, NULL}};
    PyType_Spec spec = {
        .name = "mlx_compat.Tensor",
        .basicsize = sizeof(TensorObject),
        .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
        .slots = slots,
    };
    PyObject *tp = PyType_FromModuleAndSpec(module, &spec, NULL);
    if (tp == NULL)
        return -1;
    st->tensor_type = tp;
    if (PyModule_AddObjectRef(module, "TensorBase", tp) < 0)
        return -1;
    return 0;
}
