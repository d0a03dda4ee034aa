"""A short tour of mlx_compat's tensor core, printing real results (`make demo`).

Everything below is PyTorch code: only the import differs.
"""
import mlx_compat as torch

print("== creation and dtypes")
x = torch.tensor([[1, 2, 3], [4, 5, 6]])
print(x, x.dtype)  # integer data is int64, as in torch
y = torch.arange(6.0).reshape(2, 3)
print(y, y.dtype)
print("int64 + float32 ->", (x + y).dtype, "| int64 / int64 ->", (x / x).dtype, "| uint8 + int8 ->",
      (torch.ones(1, dtype=torch.uint8) + torch.ones(1, dtype=torch.int8)).dtype)

print("\n== views alias their base")
base = torch.zeros(3, 4)
col = base[:, 1]          # a strided view
row = base[2]             # another view of the same storage
col += 7                  # in place through one view...
row.fill_(-1)             # ...and another
print(base)
print("col sees the row's write:", col, "| strides:", base.t().stride(), "| offset of row:", row.storage_offset())
chain = base.t()[1:].unsqueeze(0).select(1, 0)
chain.mul_(10)
print("chain of 4 views written through:", base[:, 1])

print("\n== indexing")
m = torch.arange(12).view(3, 4)
print(m[[0, 2], 1:3])
print(m[m % 5 == 0])
m[m > 8] = 0
print(m)

print("\n== laziness")
big = torch.randn(256, 256)
z = (big @ big).sum()  # builds an MLX graph; nothing runs yet
torch.eval(z)          # evaluate now (reading values would too)
print("sum of a 256x256 matmul:", round(z.item(), 3))

print("\n== devices")
print("cuda available:", torch.cuda.is_available(), "| mps available:", torch.backends.mps.is_available(),
      "| tensor device:", big.device)

print("\n== autograd")
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x * x + torch.sin(x)).sum()
y.backward()
print("d/dx sum(x^2 + sin x) =", x.grad, "| grad_fn:", y.grad_fn)
g, = torch.autograd.grad((x ** 3).sum(), x, create_graph=True)
g2, = torch.autograd.grad(g.sum(), x)
print("first derivative of x^3:", g.detach(), "second:", g2)
torch.manual_seed(0)
w = torch.randn(3, 2, requires_grad=True)
xb = torch.randn(16, 3)
target = xb @ torch.tensor([[1.0, -1.0], [0.5, 2.0], [-2.0, 0.0]])
for step in range(100):
    loss = ((xb @ w - target) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
        w.grad = None
print("least squares by SGD, loss after 100 steps:", round(loss.item(), 6))

print("\n== operators (torch's names, numbers and gradients)")
F = torch.nn.functional
img = torch.arange(16.0).view(1, 1, 4, 4)
print("interpolate bilinear 4x4 -> 2x3:", F.interpolate(img, size=(2, 3), mode="bilinear")[0, 0])
print("max_pool2d with indices:", F.max_pool2d(img, 2, return_indices=True))
logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], requires_grad=True)
ce = F.cross_entropy(logits, torch.tensor([0, 2]), label_smoothing=0.1)
ce.backward()
print("cross_entropy:", round(ce.item(), 6), "| its gradient:", logits.grad)
sig = torch.sin(torch.linspace(0, 8 * 3.14159265, 64))
spec = torch.fft.rfft(sig)
print("rfft peak bin:", spec.abs().argmax().item(), "| view_as_real shape:", tuple(torch.view_as_real(spec).shape))
A = torch.tensor([[4.0, 1.0], [1.0, 3.0]])
print("linalg: det", torch.linalg.det(A).item(), "| eigvalsh", torch.linalg.eigvalsh(A),
      "| matrix_exp diag", torch.matrix_exp(A * 0.1).diagonal())
print("special: lgamma(5) =", torch.lgamma(torch.tensor(5.0)).item(), "| bessel_j0(1) =",
      round(torch.special.bessel_j0(torch.tensor(1.0)).item(), 6))
q = k = v = torch.randn(1, 2, 4, 8)
print("scaled_dot_product_attention (causal):", tuple(F.scaled_dot_product_attention(q, k, v, is_causal=True).shape))

print("\n== printing like torch")
torch.manual_seed(0)
print(torch.tensor([1e-8, 1.0, 1e8]))
print(torch.ones(2, 2, requires_grad=True))
print(torch.linspace(0, 1, 2000))
