/* threads.c — tensors usable from any thread: one process-wide MLX stream per device pinned as every
 * thread's default stream, and the process-wide lock every evaluation the package makes takes
 * (Note [Threads]). */
#include "core.h"

#include "pythread.h"

/* Note [Threads]
 * MLX 0.32 keeps streams per thread: a thread's default stream (and its command encoder) exists only
 * in the thread that made it, so a lazy array built in one thread cannot be evaluated in another
 * ("RuntimeError: There is no Stream(cpu, N) in current thread"), and every thread that first touches
 * MLX gets a stream of its own. torch tensors cross threads freely (DataLoader threads, servers,
 * callbacks), so the package holds one rule for the whole process:
 *
 * 1. One stream per device, made with mx.new_thread_unsafe_stream (its encoder is registered for every
 *    thread), is the default stream of every thread that uses the package. The importing thread is
 *    pinned when _C loads; any other thread is pinned at its first call into the core, before it can
 *    make an MLX node: `thread_pin` is a thread-local flag test placed where C entry points fetch
 *    their State (state_of_type / state_of_module) and in the __torch_function__ wrapper that every
 *    public Python function and method is called through (Note [torch function check]). Python code
 *    that calls mlx.core before any public call (the generator's seeding) calls `_C._pin_thread()`.
 *    So every graph lives on one stream per device and any thread can read or write any tensor.
 *
 * 2. That stream is "thread unsafe": MLX leaves concurrent evaluation on it to the caller (four
 *    threads evaluating at once crashed the interpreter in one of three runs). Every evaluation the
 *    package makes (reading values: item/tolist/numpy/bool/printing through `_C._eval`, the value
 *    checks of Note [No evaluation while tracing], the optimizer's evaluation of its state, and the
 *    asynchronous evaluation of Note [Bounded lazy graphs]) holds one process-wide lock for the time
 *    MLX schedules (and for mx.eval, waits for) the work. The lock is re-entrant per thread (a
 *    thread-local depth) and is waited for with the GIL released: the thread holding it runs MLX with
 *    the GIL released and must be able to take the GIL back. Building graphs needs no lock: it runs
 *    under the GIL, and MLX supports building while another thread's evaluation runs (async_eval's
 *    own idiom).
 *
 * 3. Grad mode, inference mode and the torch-function state stay thread-local, as in torch; the
 *    default generator is process-wide, its key split under a lock (_random.py), as torch's default
 *    CPU generator is shared and mutex-protected.
 *
 * Evaluations that user code makes itself through mlx.core on our tensors' arrays are outside the
 * lock; MLX's own rule applies to them. */

_Thread_local char thread_pinned;
static _Thread_local int eval_depth;

/* Pin the calling thread: the shared streams become its default streams. Called once per thread; a
 * failure is reported as unraisable (the thread keeps MLX's own per-thread streams) rather than failing
 * the call that happened to come first. Keeps any pending exception. */
void thread_pin_slow(State *st)
{
    thread_pinned = 1;
    if (st == NULL || st->mx == NULL)
        return;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    for (int d = 0; d < 2; d++) {
        if (st->shared_stream[d] == NULL)
            continue;
        PyObject *r = PyObject_CallMethod(st->mx, "set_default_stream", "O", st->shared_stream[d]);
        if (r == NULL)
            PyErr_WriteUnraisable(st->shared_stream[d]);
        Py_XDECREF(r);
    }
    PyErr_Restore(type, value, tb); /* steals */
}

/* Make the shared streams (Note [Threads]) and the evaluation lock; pins the calling thread. 0 / -1. */
int threads_init(State *st)
{
    st->eval_lock = PyThread_allocate_lock();
    if (st->eval_lock == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "could not allocate the evaluation lock");
        return -1;
    }
    PyObject *make = PyObject_GetAttrString(st->mx, "new_thread_unsafe_stream");
    if (make == NULL)
        return -1;
    int rc = -1;
    for (int d = 0; d < 2; d++) {
        if (d == DEV_GPU && (!st->gpu_available || st->fake_gpu))
            break; /* fake GPU: 'cuda' runs on MLX's CPU, whose stream is shared already */
        st->shared_stream[d] = PyObject_CallOneArg(make, st->mx_device[d]);
        if (st->shared_stream[d] == NULL)
            goto error;
    }
    thread_pinned = 0;
    thread_pin_slow(st);
    rc = 0;
error:
    Py_DECREF(make);
    return rc;
}

/* Take the evaluation lock (Note [Threads]); re-entrant in one thread. Never fails. */
void eval_lock_acquire(State *st)
{
    if (eval_depth++ > 0 || st->eval_lock == NULL)
        return;
    if (!PyThread_acquire_lock(st->eval_lock, NOWAIT_LOCK)) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(st->eval_lock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
}

void eval_lock_release(State *st)
{
    if (eval_depth <= 0) /* not held by this thread: nothing to release */
        return;
    if (--eval_depth > 0 || st->eval_lock == NULL)
        return;
    PyThread_release_lock(st->eval_lock);
}

/* Note [Known evaluated values]
 * mx.eval of arrays that are already available still costs a round trip through the stream: MLX makes a
 * synchronizing array and waits on its event (about 4 us on this CPU right after a training step's evaluation,
 * 6-17 us on an H100's host). The common case is a value read twice: a compiled step's call program evaluates
 * its results (Note [Compiled call program], compile.c), and the caller then evaluates the loss it returned
 * (`mlx_compat.eval(loss)`, bench/bench_suite.py's steps), or a script evaluates the same metric twice. So the
 * module state keeps weak references to the last EVALUATED_N small arrays (at most EVALUATED_MAX_SIZE
 * elements: a loss, a metric, a count) that an evaluation made available, and `_eval` calls mx.eval only when
 * some operand is not one of them. An array is immutable and an evaluated one stays available, so identity is
 * the whole test: a tensor written since holds another array (its current value is what `_eval` compares), and
 * a weak reference answers for its own array only (once that dies it gives None, so a new array at the same
 * address is not taken for it). Weak, so the list keeps nothing alive (caches keyed by an array's life, such
 * as the checked targets of cross entropy, see their arrays go). */

/* Whether arr is one of the arrays the state knows are evaluated (Note [Known evaluated values]): 1 / 0. */
static int known_evaluated(State *st, PyObject *arr)
{
    for (int i = 0; i < EVALUATED_N; i++)
        if (st->evaluated[i] != NULL && PyWeakref_GetObject(st->evaluated[i]) == arr)
            return 1;
    return 0;
}

/* Records arr (BORROWED), an mx.array an evaluation has just made available, when it is small (Note [Known
 * evaluated values]). Never fails: an array whose size cannot be read is not recorded. */
void note_evaluated(State *st, PyObject *arr)
{
    if (!PyObject_TypeCheck(arr, (PyTypeObject *)st->array_type) || known_evaluated(st, arr))
        return;
    PyObject *size = PyObject_GetAttr(arr, st->s_size); /* NEW */
    long n = size != NULL && PyLong_CheckExact(size) ? PyLong_AsLong(size) : -1;
    Py_XDECREF(size);
    if (n < 0 || n > EVALUATED_MAX_SIZE) {
        PyErr_Clear();
        return;
    }
    PyObject *ref = PyWeakref_NewRef(arr, NULL); /* NEW */
    if (ref == NULL) {
        PyErr_Clear();
        return;
    }
    Py_XSETREF(st->evaluated[st->evaluated_next], ref);
    st->evaluated_next = (st->evaluated_next + 1) % EVALUATED_N;
}

/* _note_evaluated(arrays): record the items of list `arrays`, mx.arrays an evaluation made available, as
 * note_evaluated does (Note [Known evaluated values]); for evaluations made in Python (the optimizer step's
 * losses, Note [Loss evaluated with the step]). Returns None (NEW). */
PyObject *mod_note_evaluated(PyObject *m, PyObject *arrays)
{
    State *st = state_of_module(m);
    if (!PyList_Check(arrays)) {
        PyErr_SetString(PyExc_TypeError, "_note_evaluated: a list of arrays expected");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(arrays) && i < EVALUATED_N; i++)
        note_evaluated(st, PyList_GET_ITEM(arrays, i));
    Py_RETURN_NONE;
}

/* NEW: what mx.eval gets for one operand of _eval: a Tensor's current value, anything else as it is. */
static PyObject *eval_operand(State *st, PyObject *a)
{
    return Py_XNewRef(is_tensor(st, a) ? tensor_value(st, (TensorObject *)a) : a);
}

/* _eval(*args): mx.eval(*args) under the evaluation lock (Note [Threads]); a Tensor argument, and a Tensor
 * item of a list or tuple argument, stands for its current value (mlx_compat.eval's forms); anything else
 * (arrays, trees of arrays) goes to mx.eval as is. Every read of values goes through here (item, printing,
 * numpy, the optimizers' step, the compiled call's results), often on arrays an evaluation has just made
 * available, so it builds no list or tuple: the operands go to one vectorcall from the C stack, each held
 * (NEW) while MLX runs with the GIL released. mx.eval is looked up on the module at each call, so a test's
 * spy sees the evaluations. Returns None (NEW). */
PyObject *mod_eval(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    State *st = state_of_module(m);
    PyObject *small[8], **vals = small, *f = NULL, *r = NULL;
    Py_ssize_t total = 0, n = 0;
    for (Py_ssize_t i = 0; i < nargs; i++)
        total += PyList_CheckExact(args[i]) || PyTuple_CheckExact(args[i]) ? PySequence_Fast_GET_SIZE(args[i]) : 1;
    if (total > 8 && (vals = PyMem_Malloc(sizeof(PyObject *) * (size_t)total)) == NULL)
        return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < nargs; i++) {
        PyObject *a = args[i];
        if (PyList_CheckExact(a) || PyTuple_CheckExact(a)) {
            for (Py_ssize_t j = 0; j < PySequence_Fast_GET_SIZE(a) && n < total; j++) {
                if ((vals[n] = eval_operand(st, PySequence_Fast_GET_ITEM(a, j))) == NULL)
                    goto error;
                n++;
            }
        } else if (n < total) {
            if ((vals[n] = eval_operand(st, a)) == NULL)
                goto error;
            n++;
        }
    }
    Py_ssize_t known = 0; /* Note [Known evaluated values] */
    while (known < n && known_evaluated(st, vals[known]))
        known++;
    if (n > 0 && known == n) {
        r = Py_NewRef(Py_None);
        goto error;
    }
    if ((f = PyObject_GetAttr(st->mx, st->s_eval)) == NULL)
        goto error;
    eval_lock_acquire(st);
    r = PyObject_Vectorcall(f, vals, (size_t)n, NULL);
    eval_lock_release(st);
    for (Py_ssize_t i = 0; r != NULL && n <= EVALUATED_N / 2 && i < n; i++) /* a few values read, not a model's */
        note_evaluated(st, vals[i]);
error:
    Py_XDECREF(f);
    for (Py_ssize_t i = 0; i < n; i++)
        Py_DECREF(vals[i]);
    if (vals != small)
        PyMem_Free(vals);
    return r;
}

/* _eval_lock_acquire() / _eval_lock_release(): hold the evaluation lock around an evaluation made in Python
 * (Note [Threads]); release in the same thread, in a `finally`. Return None (NEW). */
PyObject *mod_eval_lock_acquire(PyObject *m, PyObject *noargs)
{
    eval_lock_acquire(state_of_module(m));
    Py_RETURN_NONE;
}

PyObject *mod_eval_lock_release(PyObject *m, PyObject *noargs)
{
    if (eval_depth <= 0) {
        PyErr_SetString(PyExc_RuntimeError, "_eval_lock_release: the evaluation lock is not held by this thread");
        return NULL;
    }
    eval_lock_release(state_of_module(m));
    Py_RETURN_NONE;
}

/* _pin_thread(): make the shared streams the calling thread's defaults (Note [Threads]); idempotent. */
PyObject *mod_pin_thread(PyObject *m, PyObject *noargs)
{
    thread_pin(state_of_module(m));
    Py_RETURN_NONE;
}

/* _shared_stream(device_code) -> the process-wide mx.Stream of that device, or None (Note [Threads]). */
PyObject *mod_shared_stream(PyObject *m, PyObject *arg)
{
    long d = PyLong_AsLong(arg);
    if (d == -1 && PyErr_Occurred())
        return NULL;
    State *st = state_of_module(m);
    if (d < 0 || d > 1 || st->shared_stream[d] == NULL)
        Py_RETURN_NONE;
    return Py_NewRef(st->shared_stream[d]);
}
