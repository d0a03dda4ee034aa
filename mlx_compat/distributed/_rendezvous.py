"""Bootstrap for MLX's ring backend from torch's environment contract.

MLX's ring backend learns its peers from `MLX_HOSTFILE` (a JSON list, one entry per rank, each a list of
"ip:port" addresses that rank listens on) and `MLX_RANK`; `mlx.launch` writes both. torch users give
`MASTER_ADDR`/`MASTER_PORT`/`RANK`/`WORLD_SIZE` instead, so rank 0 listens on MASTER_PORT, every rank reports the
address it reaches the master from, and rank 0 answers with the full table: rank r then listens on
`MASTER_PORT + 1 + r` at that address. Only this table travels over the rendezvous socket; every tensor goes
through MLX's own transport. Note [Ring bootstrap timeout]: MLX's ring `init` waits forever for a peer that never
starts, so all ranks first meet here, under the process group's timeout, before MLX connects them.
"""
from __future__ import annotations

import json
import os
import socket
import struct
import tempfile
import time

__all__ = ["ring_hostfile", "write_hostfile", "exchange_addresses"]


def ring_hostfile(hosts, base_port):
    """The JSON hostfile content MLX's ring backend reads: rank r listens on hosts[r]:base_port + r."""
    return [[f"{h}:{base_port + r}"] for r, h in enumerate(hosts)]


def write_hostfile(table, directory=None):
    """Write `table` (ring_hostfile's output) to a fresh file and return its path."""
    fd, path = tempfile.mkstemp(prefix="mlx_compat_hosts_", suffix=".json", dir=directory)
    with os.fdopen(fd, "w") as f:
        json.dump(table, f)
    return path


def _send_msg(sock, obj):
    data = json.dumps(obj).encode()
    sock.sendall(struct.pack("!I", len(data)) + data)


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("rendezvous peer closed the connection")
        buf += chunk
    return buf


def _recv_msg(sock):
    (n,) = struct.unpack("!I", _recv_exact(sock, 4))
    return json.loads(_recv_exact(sock, n).decode())


def _is_loopback(addr):
    try:
        return socket.gethostbyname(addr).startswith("127.")
    except OSError:
        return False


def exchange_addresses(rank, world_size, master_addr, master_port, timeout):
    """Every rank's IP address as seen on the route to the master (list indexed by rank).

    Raises RuntimeError (torch's DistNetworkError is a RuntimeError) when not every rank arrives within
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    if rank == 0:
        own = "127.0.0.1" if _is_loopback(master_addr) else socket.gethostbyname(master_addr)
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            srv.bind(("127.0.0.1" if own.startswith("127.") else "", master_port))
            srv.listen(max(world_size, 8))
            hosts = [None] * world_size
            hosts[0] = own
            conns = []
            try:
                while sum(h is None for h in hosts):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        missing = [r for r, h in enumerate(hosts) if h is None]
                        raise RuntimeError(f"Timed out after {timeout:.0f} s waiting for ranks {missing} to join the "
                                           f"process group at {master_addr}:{master_port}")
                    srv.settimeout(left)
                    try:
                        conn, _ = srv.accept()
                    except socket.timeout:
                        continue
                    conn.settimeout(max(deadline - time.monotonic(), 0.1))
                    msg = _recv_msg(conn)
                    r = int(msg["rank"])
                    if not 0 < r < world_size or hosts[r] is not None or int(msg["world_size"]) != world_size:
                        conn.close()
                        raise RuntimeError(f"rendezvous: unexpected rank {r} (world size {msg['world_size']}) "
                                           f"joining a group of {world_size}")
                    hosts[r] = msg["host"]
                    conns.append(conn)
                for conn in conns:
                    _send_msg(conn, {"hosts": hosts})
            finally:
                for conn in conns:
                    conn.close()
        finally:
            srv.close()
        return hosts
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"Timed out after {timeout:.0f} s connecting to the process group's master at "
                               f"{master_addr}:{master_port}")
        try:
            sock = socket.create_connection((master_addr, master_port), timeout=min(left, 5.0))
            break
        except OSError:
            time.sleep(0.05)
    try:
        sock.settimeout(max(deadline - time.monotonic(), 0.1))
        host = sock.getsockname()[0]
        _send_msg(sock, {"rank": rank, "world_size": world_size, "host": host})
        try:
            return _recv_msg(sock)["hosts"]
        except (socket.timeout, ConnectionError) as e:
            raise RuntimeError(f"rendezvous with {master_addr}:{master_port} failed: {e}") from None
    finally:
        sock.close()
