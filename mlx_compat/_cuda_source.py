"""CUDA source shared by the package's own `mx.fast.cuda_kernel` kernels (optim/_gpu_kernels.py: the Adam/AdamW
update; nn/_activation.py: the tanh gelu backward): the vector-access type and each thread's first element."""

# VEC consecutive elements of type T, loaded and stored as one vector access (header)
PACK = """// VEC consecutive elements, loaded and stored as one vector access
template <typename T, int N>
struct alignas(sizeof(T) * N) mlxc_pack {
  T v[N];
};
"""

# a kernel body's start: n, the element count of input x (whose shape MLX passes), and `first`, the first of this
# thread's VEC consecutive elements; threads past the end return
FIRST_ELEMENT = """  size_t n = 1;
  for (int d = 0; d < x_ndim; ++d) {
    n *= static_cast<size_t>(x_shape[d]);
  }
  const size_t first = (static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x) * VEC;
  if (first >= n) {
    return;
  }
"""
