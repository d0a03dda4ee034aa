"""Custom GPU kernels of the optimizers' update functions: Adam/AdamW's reduced-precision (bfloat16/float16)
update as one CUDA kernel per parameter on MLX's CUDA backend (Note [Reduced-precision Adam on CUDA])."""
from __future__ import annotations

import mlx.core as mx

# Note [Reduced-precision Adam on CUDA]
# torch computes a bfloat16/float16 Adam step op by op in float32 and rounds each op's result to the parameter's
# dtype (Note [Reduced-precision parameters]); composed from MLX ops that is a chain of ~25 elementwise ops with a
# cast pair at every rounding. MLX's CUDA fuser stops at its fusion depth, so the chain ran as two float32 kernels
# per parameter plus standalone casts, where native MLX's bfloat16 AdamW (which rounds far less often) is one
# kernel: on the H200 the optimizer was half of a compiled GPT-2 bfloat16 step's kernel time. Here the whole update
# of one parameter is one kernel that keeps the float32 values in registers and rounds where torch's single-tensor
# code stores a result, in torch's operation order. Two ops are fused multiply-adds, as torch's CPU kernels
# vectorise them and nvcc contracts them in torch's CUDA kernels: the second moment's addcmul (one rounding of
# v * beta2 + (1 - beta2) * g * g after the rounded v * beta2, as on the CPU path of Note [Reduced-precision
# Adam]) and lerp. The kernel reads the step's 0-d float32 scalars (Note [Step constants per group]) from device
# memory, so a changing lr or bias correction never recompiles; each static configuration (dtype, maximize, weight
# decay kind, lerp branch) is one JIT-compiled kernel, and it serves every shape: it reads the element count from
# the parameter's shape, which MLX passes as an argument (flattening the inputs and unflattening the outputs instead
# put seven reshapes per 2-D parameter into a compiled step's graph: 693 of its 1,578 nodes for GPT-2-small, where
# native MLX's has 291). A 0-d parameter, for which MLX passes no shape, and one of more than 4 dimensions are
# viewed as 1-D. Only MLX's CUDA backend has cuda_kernel: elsewhere (CPU, Metal) the
# composed update runs. bench/gpu_check.py compares it with torch CUDA's AdamW and with the composed update.

_HEADER = """
template <typename T>
__device__ __forceinline__ float mlxc_round(float a) {
  return static_cast<float>(static_cast<T>(a));
}
"""

_SOURCE = """
  // ELEMS elements per thread, `stride` apart, so each of a warp's loads reads consecutive elements
  size_t n = 1;
  for (int d = 0; d < x_ndim; ++d) {
    n *= static_cast<size_t>(x_shape[d]);
  }
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const float wd = s_wd[0], w1 = s_w1[0], b2 = s_b2[0], w2 = s_w2[0], bc2 = s_bc2[0], eps = s_eps[0];
  const float nss = s_nss[0];
#pragma unroll
  for (int k = 0; k < ELEMS; ++k, i += stride) {
    if (i >= n) {
      break;
    }
    float xv = static_cast<float>(x[i]);
    float gv = static_cast<float>(g[i]);
    float mv = static_cast<float>(m[i]);
    float vv = static_cast<float>(v[i]);
    if (MAXIMIZE) {
      gv = -gv;
    }
    if (HAS_WD) {
      if (DECOUPLED) {
        xv = mlxc_round<T>(xv * wd);
      } else {
        gv = mlxc_round<T>(gv + mlxc_round<T>(wd) * xv);
      }
    }
    const float diff = gv - mv;
    mv = mlxc_round<T>(SMALL ? __fmaf_rn(w1, diff, mv) : __fmaf_rn(-diff, 1.0f - w1, gv));
    vv = mlxc_round<T>(__fmaf_rn(w2 * gv, gv, mlxc_round<T>(vv * b2)));
    const float denom = mlxc_round<T>(mlxc_round<T>(mlxc_round<T>(sqrtf(vv)) / bc2) + eps);
    xv = mlxc_round<T>(xv + (nss * mv) / denom);
    x_out[i] = static_cast<T>(xv);
    m_out[i] = static_cast<T>(mv);
    v_out[i] = static_cast<T>(vv);
  }
"""

_kernel = None
_updates = {}
_CUDA = None  # whether MLX's CUDA backend with cuda_kernel is here; found on first use
# elements per thread (each `stride` apart). Wall times of a whole optimizer step hide the kernels (host work and
# the other kernels overlap them): on the H200 the 148 bfloat16 AdamW updates of GPT-2-small evaluated in 2.1-2.9 ms
# with 1, 4 or 8, with no consistent order. The kernels' own time, from CUPTI, on an H100 (3 isolated steps, the
# kernels of a step run concurrently, so their times overlap): 4,987 us per step with 8, 2,987 with 4, 2,154 with
# 1, against 2,613 for native MLX's compiled bfloat16 AdamW. One element per thread has the most loads in flight.
ELEMS = 1


def available(device):
    """Whether the CUDA update serves a parameter on MLX device `device` (mx.cpu or mx.gpu)."""
    return device == mx.gpu and _cuda()


def _cuda():
    global _CUDA
    if _CUDA is None:
        cuda = getattr(mx, "cuda", None)
        _CUDA = bool(cuda is not None and cuda.is_available() and hasattr(mx.fast, "cuda_kernel"))
    return _CUDA


def adam(maximize, has_wd, decoupled, small):
    """The update (x, g, m, v, wd, w1, b2, w2, bc2_sqrt, eps, neg_step_size) -> (x, m, v) of `_adam_math` for a
    reduced-precision parameter, as one CUDA kernel (Note [Reduced-precision Adam on CUDA])."""
    key = (maximize, has_wd, decoupled, small)
    fn = _updates.get(key)
    if fn is None:
        fn = _updates[key] = _make_adam(*key)
    return fn


def _make_adam(maximize, has_wd, decoupled, small):
    global _kernel
    if _kernel is None:
        _kernel = mx.fast.cuda_kernel(
            name="mlx_compat_adam", input_names=["x", "g", "m", "v", "s_wd", "s_w1", "s_b2", "s_w2", "s_bc2",
                                                 "s_eps", "s_nss"],
            output_names=["x_out", "m_out", "v_out"], source=_SOURCE, header=_HEADER)
    kernel = _kernel
    flags = [("MAXIMIZE", bool(maximize)), ("HAS_WD", bool(has_wd)), ("DECOUPLED", bool(decoupled)),
             ("SMALL", bool(small))]

    def update(x, g, m, v, *scalars):
        shape, n = x.shape, x.size
        if n == 0:
            return x, m, v
        ins = [x, g.astype(x.dtype), m, v]
        flat = not 1 <= len(shape) <= 4
        if flat:
            ins = [a.reshape(n) for a in ins]
        threads = -(-n // ELEMS)
        out = kernel(inputs=ins + list(scalars), template=[("T", x.dtype), ("ELEMS", ELEMS)] + flags,
                     grid=(threads, 1, 1), threadgroup=(256, 1, 1), output_shapes=[ins[0].shape] * 3,
                     output_dtypes=[x.dtype] * 3)
        return tuple(o.reshape(shape) for o in out) if flat else tuple(out)

    return mx.compile(update)  # one graph-building call per parameter, traced per shape
