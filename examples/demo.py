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

print("\n== printing like torch")
torch.manual_seed(0)
print(torch.tensor([1e-8, 1.0, 1e8]))
print(torch.ones(2, 2, requires_grad=True))
print(torch.linspace(0, 1, 2000))
