/* The BLAS/LAPACK bridge: points libmlx.so's BLAS and LAPACK imports at an optimized library.
 *
 * MLX's Linux CPU wheel links the reference (netlib) BLAS and LAPACK. This shared library (plain C, no
 * Python objects; loaded by mlx_compat/_blas/__init__.py through ctypes) holds one forwarder per routine
 * libmlx imports. mlxc_blas_open() resolves the forwarders' targets in the fast library, whose symbols may
 * carry a prefix (scipy-openblas32 names them scipy_cblas_sgemm, scipy_sgetrf_, ...), and
 * mlxc_blas_rebind() writes the forwarders' addresses into libmlx's GOT slots for those imports.
 *
 * Note [Rebinding libmlx's GOT]: Python dlopens extension modules with RTLD_NOW, so once mlx.core is
 * imported every PLT slot of libmlx already holds the reference library's address; loading another library
 * globally afterwards changes nothing. Writing the slots ourselves works whatever the import order (before
 * or after `import mlx.core`, or MLX loaded by someone else), touches only libmlx (no process-wide symbol
 * interposition: this file exports only the mlxc_blas_* control functions), and is an aligned pointer
 * store, which a thread calling through the slot at that moment sees either before or after. Slots inside
 * the PT_GNU_RELRO range (full RELRO, BIND_NOW builds) are made writable for the store and read-only again.
 *
 * Note [Fortran string lengths]: gfortran-built LAPACK takes a hidden length argument for each CHARACTER
 * argument, after the declared ones. The forwarders do not read what the caller passed there (a caller built
 * against an older lapack.h passes nothing) and pass 1 themselves: every such argument is one character.
 *
 * Integers are 32-bit (LP64): what MLX's lapack.h/cblas.h pass, and what scipy-openblas32 takes.
 * No function here touches a Python object, so none takes or returns a reference; int returns are 0 / -1.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* Every routine libmlx.so imports from the BLAS and LAPACK (`nm -D --undefined-only libmlx.so`). */
#define MLXC_BLAS_SYMBOLS(X)                                                                        \
    X(cblas_sgemm) X(cblas_dgemm) X(cblas_cgemm)                                                   \
    X(sgetrf_) X(dgetrf_) X(sgetri_) X(dgetri_) X(sgeqrf_) X(dgeqrf_) X(sorgqr_) X(dorgqr_)         \
    X(spotrf_) X(dpotrf_) X(strtri_) X(dtrtri_) X(ssyevd_) X(dsyevd_) X(cheevd_)                    \
    X(sgesdd_) X(dgesdd_) X(cgesdd_) X(sgeev_) X(dgeev_) X(cgeev_)

enum {
#define X(name) SYM_##name,
    MLXC_BLAS_SYMBOLS(X)
#undef X
    SYM_COUNT
};

static const char *const sym_names[SYM_COUNT] = {
#define X(name) #name,
    MLXC_BLAS_SYMBOLS(X)
#undef X
};

static void *targets[SYM_COUNT];          /* the fast library's routines, set by mlxc_blas_open */
/* the provider's cblas_sgemv and cblas_dgemv (NULL where it has none), and the gemm calls each took (Note
 * [Matrix-vector products as gemv]) */
static const char *const gemv_names[2] = {"cblas_sgemv", "cblas_dgemv"};
static void *gemv_targets[2];
static atomic_ulong gemv_calls[2];
/* CBLAS's enumerators (cblas.h's values; MLX passes them) */
enum { CBLAS_ROW_MAJOR = 101, CBLAS_COL_MAJOR = 102, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };
static atomic_ulong calls[SYM_COUNT];     /* calls through each forwarder (for tests) */
static void *provider;                    /* dlopen handle of the fast library */
static int (*provider_get_threads)(void);
static void (*provider_set_threads)(int);
static const char *(*provider_config)(void);
static char last_error[512];

static void set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
}

#define TARGET(name, type) ((type)targets[SYM_##name])
#define COUNT(name) atomic_fetch_add_explicit(&calls[SYM_##name], 1, memory_order_relaxed)

/* ---- the forwarders (one per imported routine; see Note [Fortran string lengths]) ---- */

typedef void (*sgemm_t)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                        float *, int);
typedef void (*dgemm_t)(int, int, int, int, int, int, double, const double *, int, const double *, int,
                        double, double *, int);
typedef void (*cgemm_t)(int, int, int, int, int, int, const void *, const void *, int, const void *, int,
                        const void *, void *, int);

typedef void (*sgemv_t)(int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
typedef void (*dgemv_t)(int, int, int, int, double, const double *, int, const double *, int, double, double *, int);

/* Note [Matrix-vector products as gemv]
 * MLX's CPU backend computes every matrix product, a matrix times a vector included (a batch-1 linear layer, each
 * token of a decoding loop, attention's per-head products with one query), as cblas_?gemm with one of M, N equal
 * to 1. OpenBLAS's gemm pays its full packing and blocking for that shape: on this repository's 2-core AVX-512 VM,
 * one thread, x (1 x 3072) @ W.T (W 768 x 3072) took 2.01 ms through sgemm against 0.18 ms as sgemv (numpy, which
 * calls gemv for it, 0.16 ms), and GPT-2's 768 x 50257 output layer 20.1 against 10.4 ms. So the gemm forwarders
 * hand a product with M == 1 or N == 1 (and K > 0) to the provider's ?gemv, the same sum over K for each output
 * element in another order of additions (results may differ in the last bits, as between any two BLAS kernels):
 * a column-major call is first rewritten as the row-major product of the transposes (C' = B' A'), then with
 * M == 1 the row of C is op(B)' times the row of op(A), and with N == 1 the column of C is op(A) times the
 * column of op(B), each operand with its own stride. With beta == 0 the output is zeroed first, so that no
 * provider's gemv can carry a NaN from the uninitialised output into it (the reference BLAS never reads it).
 * Complex products (cgemm) stay on gemm: a conjugated operand has no gemv form. Where the provider lacks ?gemv
 * (not resolved at mlxc_blas_open) every product stays on gemm. */
#define GEMM_AS_GEMV(T, gemv_sym, order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)                 \
    do {                                                                                                       \
        if (order == CBLAS_COL_MAJOR) { /* C' = op(B)' op(A)': the row-major product with the roles swapped */  \
            const T *t_ = a; a = b; b = t_;                                                                    \
            int i_ = lda; lda = ldb; ldb = i_; i_ = m; m = n; n = i_; i_ = ta; ta = tb; tb = i_;               \
        }                                                                                                      \
        int incx_, incy_ = 1, len_ = m == 1 ? n : m;                                                           \
        if (m == 1) { /* the row of C: op(B)' x, x the row of op(A) */                                         \
            incx_ = ta == CBLAS_NO_TRANS ? 1 : lda;                                                            \
        } else { /* the column of C: op(A) x, x the column of op(B) */                                          \
            incx_ = tb == CBLAS_NO_TRANS ? ldb : 1;                                                            \
            incy_ = ldc;                                                                                       \
        }                                                                                                      \
        if (beta == 0)                                                                                         \
            for (int i_ = 0; i_ < len_; i_++)                                                                  \
                c[(size_t)i_ * incy_] = 0;                                                                     \
        if (m == 1) {                                                                                          \
            if (tb == CBLAS_NO_TRANS) /* B is K x N */                                                         \
                gemv_sym(CBLAS_ROW_MAJOR, CBLAS_TRANS, k, n, alpha, b, ldb, a, incx_, beta, c, incy_);         \
            else /* B is N x K */                                                                              \
                gemv_sym(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, n, k, alpha, b, ldb, a, incx_, beta, c, incy_);      \
        } else {                                                                                               \
            if (ta == CBLAS_NO_TRANS) /* A is M x K */                                                         \
                gemv_sym(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, m, k, alpha, a, lda, b, incx_, beta, c, incy_);      \
            else /* A is K x M */                                                                              \
                gemv_sym(CBLAS_ROW_MAJOR, CBLAS_TRANS, k, m, alpha, a, lda, b, incx_, beta, c, incy_);         \
        }                                                                                                      \
    } while (0)

/* Whether a gemm call is a matrix-vector product the provider's gemv (resolved: `gemv`) can take (Note
 * [Matrix-vector products as gemv]): real operands, no conjugation, M or N of 1, K of at least 1. */
static int gemm_is_gemv(const void *gemv, int order, int ta, int tb, int m, int n, int k)
{
    return gemv != NULL && (m == 1 || n == 1) && m > 0 && n > 0 && k > 0 &&
           (order == CBLAS_ROW_MAJOR || order == CBLAS_COL_MAJOR) && (ta == CBLAS_NO_TRANS || ta == CBLAS_TRANS) &&
           (tb == CBLAS_NO_TRANS || tb == CBLAS_TRANS);
}

static void fwd_cblas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                            const float *b, int ldb, float beta, float *c, int ldc)
{
    COUNT(cblas_sgemm);
    if (gemm_is_gemv(gemv_targets[0], order, ta, tb, m, n, k)) { /* Note [Matrix-vector products as gemv] */
        atomic_fetch_add_explicit(&gemv_calls[0], 1, memory_order_relaxed);
        sgemv_t gemv = (sgemv_t)gemv_targets[0];
        GEMM_AS_GEMV(float, gemv, order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    TARGET(cblas_sgemm, sgemm_t)(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static void fwd_cblas_dgemm(int order, int ta, int tb, int m, int n, int k, double alpha, const double *a,
                            int lda, const double *b, int ldb, double beta, double *c, int ldc)
{
    COUNT(cblas_dgemm);
    if (gemm_is_gemv(gemv_targets[1], order, ta, tb, m, n, k)) { /* Note [Matrix-vector products as gemv] */
        atomic_fetch_add_explicit(&gemv_calls[1], 1, memory_order_relaxed);
        dgemv_t gemv = (dgemv_t)gemv_targets[1];
        GEMM_AS_GEMV(double, gemv, order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    TARGET(cblas_dgemm, dgemm_t)(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static void fwd_cblas_cgemm(int order, int ta, int tb, int m, int n, int k, const void *alpha, const void *a,
                            int lda, const void *b, int ldb, const void *beta, void *c, int ldc)
{
    COUNT(cblas_cgemm);
    TARGET(cblas_cgemm, cgemm_t)(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* getrf(m, n, a, lda, ipiv, info) */
typedef void (*getrf_t)(int *, int *, void *, int *, int *, int *);
/* getri(n, a, lda, ipiv, work, lwork, info) */
typedef void (*getri_t)(int *, void *, int *, int *, void *, int *, int *);
/* geqrf(m, n, a, lda, tau, work, lwork, info); orgqr(m, n, k, a, lda, tau, work, lwork, info) */
typedef void (*geqrf_t)(int *, int *, void *, int *, void *, void *, int *, int *);
typedef void (*orgqr_t)(int *, int *, int *, void *, int *, void *, void *, int *, int *);
/* potrf(uplo, n, a, lda, info); trtri(uplo, diag, n, a, lda, info) */
typedef void (*potrf_t)(const char *, int *, void *, int *, int *, size_t);
typedef void (*trtri_t)(const char *, const char *, int *, void *, int *, int *, size_t, size_t);
/* syevd(jobz, uplo, n, a, lda, w, work, lwork, iwork, liwork, info) */
typedef void (*syevd_t)(const char *, const char *, int *, void *, int *, void *, void *, int *, int *, int *,
                        int *, size_t, size_t);
/* heevd(jobz, uplo, n, a, lda, w, work, lwork, rwork, lrwork, iwork, liwork, info) */
typedef void (*heevd_t)(const char *, const char *, int *, void *, int *, void *, void *, int *, void *, int *,
                        int *, int *, int *, size_t, size_t);
/* real gesdd(jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, iwork, info) */
typedef void (*gesdd_t)(const char *, int *, int *, void *, int *, void *, void *, int *, void *, int *, void *,
                        int *, int *, int *, size_t);
/* complex gesdd: as above with rwork before iwork */
typedef void (*cgesdd_t)(const char *, int *, int *, void *, int *, void *, void *, int *, void *, int *, void *,
                         int *, void *, int *, int *, size_t);
/* real geev(jobvl, jobvr, n, a, lda, wr, wi, vl, ldvl, vr, ldvr, work, lwork, info) */
typedef void (*geev_t)(const char *, const char *, int *, void *, int *, void *, void *, void *, int *, void *,
                       int *, void *, int *, int *, size_t, size_t);
/* complex geev(jobvl, jobvr, n, a, lda, w, vl, ldvl, vr, ldvr, work, lwork, rwork, info) */
typedef void (*cgeev_t)(const char *, const char *, int *, void *, int *, void *, void *, int *, void *, int *,
                        void *, int *, void *, int *, size_t, size_t);

#define FWD_GETRF(name)                                                                                  \
    static void fwd_##name(int *m, int *n, void *a, int *lda, int *ipiv, int *info)                      \
    {                                                                                                    \
        COUNT(name);                                                                                     \
        TARGET(name, getrf_t)(m, n, a, lda, ipiv, info);                                                 \
    }
#define FWD_GETRI(name)                                                                                  \
    static void fwd_##name(int *n, void *a, int *lda, int *ipiv, void *work, int *lwork, int *info)      \
    {                                                                                                    \
        COUNT(name);                                                                                     \
        TARGET(name, getri_t)(n, a, lda, ipiv, work, lwork, info);                                       \
    }
#define FWD_GEQRF(name)                                                                                  \
    static void fwd_##name(int *m, int *n, void *a, int *lda, void *tau, void *work, int *lwork, int *info) \
    {                                                                                                    \
        COUNT(name);                                                                                     \
        TARGET(name, geqrf_t)(m, n, a, lda, tau, work, lwork, info);                                     \
    }
#define FWD_ORGQR(name)                                                                                  \
    static void fwd_##name(int *m, int *n, int *k, void *a, int *lda, void *tau, void *work, int *lwork, \
                           int *info)                                                                    \
    {                                                                                                    \
        COUNT(name);                                                                                     \
        TARGET(name, orgqr_t)(m, n, k, a, lda, tau, work, lwork, info);                                  \
    }
#define FWD_POTRF(name)                                                                                  \
    static void fwd_##name(const char *uplo, int *n, void *a, int *lda, int *info)                       \
    {                                                                                                    \
        COUNT(name);                                                                                     \
        TARGET(name, potrf_t)(uplo, n, a, lda, info, 1);                                                 \
    }
#define FWD_TRTRI(name)                                                                                  \
    static void fwd_##name(const char *uplo, const char *diag, int *n, void *a, int *lda, int *info)     \
    {                                                                                                    \
        COUNT(name);                                                                                     \
        TARGET(name, trtri_t)(uplo, diag, n, a, lda, info, 1, 1);                                        \
    }
#define FWD_SYEVD(name)                                                                                  \
    static void fwd_##name(const char *jobz, const char *uplo, int *n, void *a, int *lda, void *w,       \
                           void *work, int *lwork, int *iwork, int *liwork, int *info)                   \
    {                                                                                                    \
        COUNT(name);                                                                                     \
        TARGET(name, syevd_t)(jobz, uplo, n, a, lda, w, work, lwork, iwork, liwork, info, 1, 1);         \
    }
#define FWD_GESDD(name)                                                                                  \
    static void fwd_##name(const char *jobz, int *m, int *n, void *a, int *lda, void *s, void *u,        \
                           int *ldu, void *vt, int *ldvt, void *work, int *lwork, int *iwork, int *info) \
    {                                                                                                    \
        COUNT(name);                                                                                     \
        TARGET(name, gesdd_t)(jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, iwork, info, 1);     \
    }
#define FWD_GEEV(name)                                                                                   \
    static void fwd_##name(const char *jobvl, const char *jobvr, int *n, void *a, int *lda, void *wr,    \
                           void *wi, void *vl, int *ldvl, void *vr, int *ldvr, void *work, int *lwork,   \
                           int *info)                                                                    \
    {                                                                                                    \
        COUNT(name);                                                                                     \
        TARGET(name, geev_t)(jobvl, jobvr, n, a, lda, wr, wi, vl, ldvl, vr, ldvr, work, lwork, info, 1, 1); \
    }

FWD_GETRF(sgetrf_) FWD_GETRF(dgetrf_)
FWD_GETRI(sgetri_) FWD_GETRI(dgetri_)
FWD_GEQRF(sgeqrf_) FWD_GEQRF(dgeqrf_)
FWD_ORGQR(sorgqr_) FWD_ORGQR(dorgqr_)
FWD_POTRF(spotrf_) FWD_POTRF(dpotrf_)
FWD_TRTRI(strtri_) FWD_TRTRI(dtrtri_)
FWD_SYEVD(ssyevd_) FWD_SYEVD(dsyevd_)
FWD_GESDD(sgesdd_) FWD_GESDD(dgesdd_)
FWD_GEEV(sgeev_) FWD_GEEV(dgeev_)

static void fwd_cheevd_(const char *jobz, const char *uplo, int *n, void *a, int *lda, void *w, void *work,
                        int *lwork, void *rwork, int *lrwork, int *iwork, int *liwork, int *info)
{
    COUNT(cheevd_);
    TARGET(cheevd_, heevd_t)(jobz, uplo, n, a, lda, w, work, lwork, rwork, lrwork, iwork, liwork, info, 1, 1);
}

static void fwd_cgesdd_(const char *jobz, int *m, int *n, void *a, int *lda, void *s, void *u, int *ldu,
                        void *vt, int *ldvt, void *work, int *lwork, void *rwork, int *iwork, int *info)
{
    COUNT(cgesdd_);
    TARGET(cgesdd_, cgesdd_t)(jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, rwork, iwork, info, 1);
}

static void fwd_cgeev_(const char *jobvl, const char *jobvr, int *n, void *a, int *lda, void *w, void *vl,
                       int *ldvl, void *vr, int *ldvr, void *work, int *lwork, void *rwork, int *info)
{
    COUNT(cgeev_);
    TARGET(cgeev_, cgeev_t)(jobvl, jobvr, n, a, lda, w, vl, ldvl, vr, ldvr, work, lwork, rwork, info, 1, 1);
}

static void *const forwarders[SYM_COUNT] = {
#define X(name) (void *)fwd_##name,
    MLXC_BLAS_SYMBOLS(X)
#undef X
};

static int symbol_index(const char *name)
{
    for (int i = 0; i < SYM_COUNT; i++)
        if (strcmp(sym_names[i], name) == 0)
            return i;
    return -1;
}

/* ---- the control API (called from Python through ctypes) ---- */

/* The message of the last failure ("" if none). */
EXPORT const char *mlxc_blas_error(void) { return last_error; }

/* Opens the fast library at `path` and resolves `prefix` + each routine's name in it, and the provider's
 * thread controls (`prefix`openblas_set_num_threads/get_num_threads/get_config, optional).
 * Returns 0, or -1 with mlxc_blas_error() set; on failure no target is kept. */
EXPORT int mlxc_blas_open(const char *path, const char *prefix)
{
    char name[128];
    void *found[SYM_COUNT];
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        set_error("cannot load %s: %s", path, dlerror());
        goto error;
    }
    for (int i = 0; i < SYM_COUNT; i++) {
        snprintf(name, sizeof name, "%s%s", prefix, sym_names[i]);
        found[i] = dlsym(handle, name);
        if (!found[i]) {
            set_error("%s does not define %s", path, name);
            goto error;
        }
    }
    memcpy(targets, found, sizeof targets);
    for (int i = 0; i < 2; i++) { /* optional: without them products stay on gemm (Note [Matrix-vector ...]) */
        snprintf(name, sizeof name, "%s%s", prefix, gemv_names[i]);
        gemv_targets[i] = dlsym(handle, name);
    }
    provider = handle;
    snprintf(name, sizeof name, "%sopenblas_get_num_threads", prefix);
    provider_get_threads = (int (*)(void))dlsym(handle, name);
    snprintf(name, sizeof name, "%sopenblas_set_num_threads", prefix);
    provider_set_threads = (void (*)(int))dlsym(handle, name);
    snprintf(name, sizeof name, "%sopenblas_get_config", prefix);
    provider_config = (const char *(*)(void))dlsym(handle, name);
    last_error[0] = '\0';
    return 0;
error:
    if (handle)
        dlclose(handle);
    return -1;
}

struct rebind_state {
    const char *soname;   /* basename of the library to patch, "libmlx.so" */
    int patch;            /* 1: write the forwarders into the slots; 0: only count them */
    const char *query;    /* with patch == 0: the routine whose slot `owner` reports */
    void *owner;          /* the address held in query's slot */
    int objects;          /* matching objects found */
    int slots;            /* slots patched (patch) or found (query) */
    int failed;           /* -1 once a slot could not be written */
};

/* Writes `value` into `slot`, lifting the RELRO protection around it when the slot lies in
 * [relro_lo, relro_hi). Returns 0 or -1 (errno from mprotect). */
static int write_slot(void **slot, void *value, uintptr_t relro_lo, uintptr_t relro_hi)
{
    uintptr_t at = (uintptr_t)slot;
    if (at >= relro_lo && at < relro_hi) {
        long page = sysconf(_SC_PAGESIZE);
        void *start = (void *)(at & ~(uintptr_t)(page - 1));
        if (mprotect(start, (size_t)page, PROT_READ | PROT_WRITE) != 0)
            return -1;
        __atomic_store_n(slot, value, __ATOMIC_RELEASE);
        if (mprotect(start, (size_t)page, PROT_READ) != 0)
            return -1;
        return 0;
    }
    __atomic_store_n(slot, value, __ATOMIC_RELEASE);
    return 0;
}

static int is_slot_relocation(unsigned long type)
{
#if defined(__x86_64__)
    return type == R_X86_64_JUMP_SLOT || type == R_X86_64_GLOB_DAT;
#elif defined(__aarch64__)
    return type == R_AARCH64_JUMP_SLOT || type == R_AARCH64_GLOB_DAT;
#else
    (void)type;
    return 0;
#endif
}

/* dl_iterate_phdr callback: walks one loaded object's RELA relocations (DT_JMPREL and DT_RELA) and, for a
 * slot importing one of our routines, patches it or reports what it holds. See Note [Rebinding libmlx's GOT]. */
static int visit_object(struct dl_phdr_info *info, size_t size, void *data)
{
    struct rebind_state *st = data;
    const char *base_name = strrchr(info->dlpi_name, '/');
    base_name = base_name ? base_name + 1 : info->dlpi_name;
    if (strcmp(base_name, st->soname) != 0)
        return 0;
    st->objects++;

    uintptr_t load = info->dlpi_addr, relro_lo = 0, relro_hi = 0;
    const ElfW(Dyn) *dyn = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(load + ph->p_vaddr);
        else if (ph->p_type == PT_GNU_RELRO) {
            relro_lo = load + ph->p_vaddr;
            relro_hi = relro_lo + ph->p_memsz;
        }
    }
    if (!dyn)
        return 0;
    /* glibc stores most d_ptr entries already relocated; other loaders leave them as offsets. */
#define DPTR(v) ((uintptr_t)(v) < load ? load + (uintptr_t)(v) : (uintptr_t)(v))
    const ElfW(Sym) *symtab = NULL;
    const char *strtab = NULL;
    const ElfW(Rela) *tables[2] = {NULL, NULL};
    size_t sizes[2] = {0, 0};
    long pltrel = DT_RELA;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        switch (dyn->d_tag) {
        case DT_SYMTAB: symtab = (const ElfW(Sym) *)DPTR(dyn->d_un.d_ptr); break;
        case DT_STRTAB: strtab = (const char *)DPTR(dyn->d_un.d_ptr); break;
        case DT_JMPREL: tables[0] = (const ElfW(Rela) *)DPTR(dyn->d_un.d_ptr); break;
        case DT_PLTRELSZ: sizes[0] = dyn->d_un.d_val; break;
        case DT_RELA: tables[1] = (const ElfW(Rela) *)DPTR(dyn->d_un.d_ptr); break;
        case DT_RELASZ: sizes[1] = dyn->d_un.d_val; break;
        case DT_PLTREL: pltrel = (long)dyn->d_un.d_val; break;
        }
    }
#undef DPTR
    if (!symtab || !strtab || pltrel != DT_RELA) {
        set_error("%s: unsupported dynamic section (no RELA relocations)", info->dlpi_name);
        st->failed = -1;
        return 0;
    }
    for (int t = 0; t < 2; t++) {
        size_t count = tables[t] ? sizes[t] / sizeof(ElfW(Rela)) : 0;
        for (size_t r = 0; r < count; r++) {
            const ElfW(Rela) *rel = &tables[t][r];
#if __SIZEOF_POINTER__ == 8
            unsigned long type = ELF64_R_TYPE(rel->r_info), sym = ELF64_R_SYM(rel->r_info);
#else
            unsigned long type = ELF32_R_TYPE(rel->r_info), sym = ELF32_R_SYM(rel->r_info);
#endif
            if (!is_slot_relocation(type) || sym == 0)
                continue;
            const char *name = strtab + symtab[sym].st_name;
            int index = symbol_index(name);
            if (index < 0)
                continue;
            void **slot = (void **)(load + rel->r_offset);
            if (!st->patch) {
                if (st->query && strcmp(st->query, name) == 0) {
                    st->owner = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
                    st->slots++;
                }
                continue;
            }
            if (write_slot(slot, forwarders[index], relro_lo, relro_hi) != 0) {
                set_error("%s: cannot write the GOT slot of %s", info->dlpi_name, name);
                st->failed = -1;
                continue;
            }
            st->slots++;
        }
    }
    return 0;
}

/* Points every BLAS/LAPACK import of the loaded object named `soname` (e.g. "libmlx.so") at the forwarders.
 * Returns the number of slots written (0: no such object loaded), or -1 with mlxc_blas_error() set (also when the
 * object is loaded but no slot was found, e.g. on an architecture whose relocation types are not handled).
 * mlxc_blas_open must have succeeded. */
EXPORT int mlxc_blas_rebind(const char *soname)
{
    if (!provider) {
        set_error("mlxc_blas_rebind called before mlxc_blas_open succeeded");
        return -1;
    }
    struct rebind_state st = {soname, 1, NULL, NULL, 0, 0, 0};
    dl_iterate_phdr(visit_object, &st);
    if (!st.failed && st.objects > 0 && st.slots == 0) {
        set_error("%s imports none of the BLAS/LAPACK routines through slots this bridge can rebind", soname);
        return -1;
    }
    return st.failed ? -1 : st.slots;
}

/* Writes into `buf` the path of the library whose code `soname`'s slot for routine `symbol` points at
 * (what that library actually calls now). Returns 0, or -1 if the object or slot is not found. */
EXPORT int mlxc_blas_slot_owner(const char *soname, const char *symbol, char *buf, size_t size)
{
    struct rebind_state st = {soname, 0, symbol, NULL, 0, 0, 0};
    Dl_info where;
    dl_iterate_phdr(visit_object, &st);
    if (st.slots == 0 || !st.owner || !dladdr(st.owner, &where) || !where.dli_fname)
        return -1;
    snprintf(buf, size, "%s", where.dli_fname);
    return 0;
}

/* Calls made through the forwarder of `symbol` since load; for "cblas_sgemv" / "cblas_dgemv", the gemm calls the
 * forwarders handed to gemv (Note [Matrix-vector products as gemv]); -1 for a routine we do not forward. */
EXPORT long mlxc_blas_calls(const char *symbol)
{
    for (int i = 0; i < 2; i++)
        if (strcmp(symbol, gemv_names[i]) == 0)
            return (long)atomic_load(&gemv_calls[i]);
    int index = symbol_index(symbol);
    return index < 0 ? -1 : (long)atomic_load(&calls[index]);
}

/* The sgemm and dgemm forwarders themselves, exactly what libmlx calls through its rebound slots: for tests of
 * every layout (order, transposes, leading dimensions) against another BLAS, including those MLX never passes. */
EXPORT void mlxc_blas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                            const float *b, int ldb, float beta, float *c, int ldc)
{
    fwd_cblas_sgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

EXPORT void mlxc_blas_dgemm(int order, int ta, int tb, int m, int n, int k, double alpha, const double *a, int lda,
                            const double *b, int ldb, double beta, double *c, int ldc)
{
    fwd_cblas_dgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* The provider's thread count, or -1 when it has no thread control. */
EXPORT int mlxc_blas_get_num_threads(void) { return provider_get_threads ? provider_get_threads() : -1; }

/* Sets the provider's thread count. Returns 0, or -1 when it has no thread control. */
EXPORT int mlxc_blas_set_num_threads(int n)
{
    if (!provider_set_threads)
        return -1;
    provider_set_threads(n);
    return 0;
}

/* The provider's build description (OpenBLAS's config string), or "". */
EXPORT const char *mlxc_blas_config(void) { return provider_config ? provider_config() : ""; }
