"""Custom GPU kernels of the optimizers' update functions: Adam/AdamW's reduced-precision (bfloat16/float16)
update as one CUDA kernel per parameter on MLX's CUDA backend (Note [Reduced-precision Adam on CUDA])."""
from __future__ import annotations

import mlx.core as mx

from .. import _device
from .._cuda_source import FIRST_ELEMENT, PACK

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
# native MLX's has 291). A 0-d parameter, for which MLX passes no shape, is viewed as 1-D, and so is one of more
# than 4 dimensions (rare; it keeps well inside the fixed-size shape array MLX passes). Only MLX's CUDA backend has
# cuda_kernel: elsewhere (CPU, Metal) the composed update runs. bench/gpu_check.py compares it with torch CUDA's
# AdamW and with the composed update.

_HEADER = """
template <typename T>
__device__ __forceinline__ float mlxc_round(float a) {
  return static_cast<float>(static_cast<T>(a));
}

""" + PACK + """
struct mlxc_adam_scalars {
  float wd, w1, b2, w2, bc2, eps, nss;
};

// one element's update, in torch's single-tensor order with its roundings to T
template <typename T, bool MAXIMIZE, bool HAS_WD, bool DECOUPLED, bool SMALL>
__device__ __forceinline__ void mlxc_adam_one(T& x, T g, T& m, T& v, const mlxc_adam_scalars& s) {
  float xv = static_cast<float>(x);
  float gv = static_cast<float>(g);
  float mv = static_cast<float>(m);
  float vv = static_cast<float>(v);
  if (MAXIMIZE) {
    gv = -gv;
  }
  if (HAS_WD) {
    if (DECOUPLED) {
      xv = mlxc_round<T>(xv * s.wd);
    } else {
      gv = mlxc_round<T>(gv + mlxc_round<T>(s.wd) * xv);
    }
  }
  const float diff = gv - mv;
  mv = mlxc_round<T>(SMALL ? __fmaf_rn(s.w1, diff, mv) : __fmaf_rn(-diff, 1.0f - s.w1, gv));
  vv = mlxc_round<T>(__fmaf_rn(s.w2 * gv, gv, mlxc_round<T>(vv * s.b2)));
  const float denom = mlxc_round<T>(mlxc_round<T>(mlxc_round<T>(sqrtf(vv)) / s.bc2) + s.eps);
  xv = mlxc_round<T>(xv + (s.nss * mv) / denom);
  x = static_cast<T>(xv);
  m = static_cast<T>(mv);
  v = static_cast<T>(vv);
}
"""

_SOURCE = """
  // VEC consecutive elements per thread: one vector load or store per array where all seven are aligned to it
""" + FIRST_ELEMENT + """  const mlxc_adam_scalars s{s_wd[0], s_w1[0], s_b2[0], s_w2[0], s_bc2[0], s_eps[0], s_nss[0]};
  using P = mlxc_pack<T, VEC>;
  const size_t addresses = reinterpret_cast<size_t>(x) | reinterpret_cast<size_t>(g) | reinterpret_cast<size_t>(m) |
      reinterpret_cast<size_t>(v) | reinterpret_cast<size_t>(x_out) | reinterpret_cast<size_t>(m_out) |
      reinterpret_cast<size_t>(v_out);
  if (first + VEC <= n && addresses % sizeof(P) == 0) {
    P xp = *reinterpret_cast<const P*>(x + first);
    const P gp = *reinterpret_cast<const P*>(g + first);
    P mp = *reinterpret_cast<const P*>(m + first);
    P vp = *reinterpret_cast<const P*>(v + first);
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      mlxc_adam_one<T, MAXIMIZE, HAS_WD, DECOUPLED, SMALL>(xp.v[k], gp.v[k], mp.v[k], vp.v[k], s);
    }
    *reinterpret_cast<P*>(x_out + first) = xp;
    *reinterpret_cast<P*>(m_out + first) = mp;
    *reinterpret_cast<P*>(v_out + first) = vp;
  } else {
    for (size_t i = first; i < n && i < first + VEC; ++i) {
      T xi = x[i], mi = m[i], vi = v[i];
      mlxc_adam_one<T, MAXIMIZE, HAS_WD, DECOUPLED, SMALL>(xi, g[i], mi, vi, s);
      x_out[i] = xi;
      m_out[i] = mi;
      v_out[i] = vi;
    }
  }
"""

_kernel = None
_updates = {}
# consecutive elements per thread, one 16-byte access per array. Measured on an H100 (GPT-2-small's 148 bfloat16
# AdamW updates; bench/profile_adam_gpu.py): alone, the kernels' summed CUPTI time per step is 2,368 us with 1
# element per thread, 2,363 with 2, 3,903 with 4 and 5,019 with 8 (native MLX's compiled AdamW: 2,658); but the
# whole compiled training step, where the 148 updates run concurrently with each other and with the end of the
# backward, took 16.89 ms with 1, 16.86 with 2 and 14.94 with 8 against native's 13.93-13.97 ms, same machine, one
# process each: fewer, longer-running threads compete less with the kernels they overlap. The wall time decides.
VEC = 8


def available(device):
    """Whether the CUDA update serves a parameter on MLX device `device` (mx.cpu or mx.gpu)."""
    return device == mx.gpu and _device.cuda_kernels(_device.GPU)


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
        threads = -(-n // VEC)
        out = kernel(inputs=ins + list(scalars), template=[("T", x.dtype), ("VEC", VEC)] + flags,
                     grid=(threads, 1, 1), threadgroup=(256, 1, 1), output_shapes=[ins[0].shape] * 3,
                     output_dtypes=[x.dtype] * 3)
        return tuple(o.reshape(shape) for o in out) if flat else tuple(out)

    return mx.compile(update)  # one graph-building call per parameter, traced per shape
