#!/usr/bin/env python3
"""Raw loopback TCP copy: the ceiling for any BitTorrent transfer on 127.0.0.1.

A forked child connects to 127.0.0.1 and sends BYTES with sendall() from a 4 MiB buffer; the
parent receives them with recv_into() into a 4 MiB buffer. With buffers this large the time is
all in the kernel (measured on the dev machine: the same speed as an equivalent C program).

usage: bench/tcp_copy.py [BYTES]   (default 1 GiB)
prints: tcp_copy bytes=N seconds=S mib_per_s=R
"""
import os
import socket
import sys
import time

BUF = 4 << 20


def main():
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 1 << 30
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(30)
    port = ls.getsockname()[1]
    payload = memoryview(os.urandom(BUF))
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.settimeout(None)
            sent = 0
            while sent < total:
                n = min(BUF, total - sent)
                s.sendall(payload[:n])
                sent += n
            s.close()
            code = 0
        finally:
            os._exit(code)
    conn, _ = ls.accept()
    conn.settimeout(120)
    buf = bytearray(BUF)
    mv = memoryview(buf)
    got = 0
    t0 = time.monotonic()
    while got < total:
        n = conn.recv_into(mv)
        if not n:
            break
        got += n
    seconds = time.monotonic() - t0
    conn.close()
    _, status = os.waitpid(pid, 0)
    if got != total or os.waitstatus_to_exitcode(status) != 0:
        print(f"tcp_copy: received {got} of {total} bytes", file=sys.stderr)
        return 1
    print(f"tcp_copy bytes={got} seconds={seconds:.6f} mib_per_s={got / seconds / 1048576:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
