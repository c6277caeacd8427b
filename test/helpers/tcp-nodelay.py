"""Prints TCP_NODELAY (0 or 1) of the socket process PID holds for the connection from local port PORT.

Node cannot read a socket option; this duplicates the process's socket with pidfd_getfd(2)
(root, or ptrace rights over the process) and asks the kernel.
Usage: python3 tcp-nodelay.py PID PORT
"""
import ctypes
import os
import socket
import sys

SYS_PIDFD_GETFD = 438

pid, port = int(sys.argv[1]), int(sys.argv[2])
libc = ctypes.CDLL(None, use_errno=True)
pidfd = os.pidfd_open(pid)
for name in os.listdir(f'/proc/{pid}/fd'):
    try:
        if not os.readlink(f'/proc/{pid}/fd/{name}').startswith('socket:'):
            continue
    except OSError:
        continue
    fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(name), 0)
    if fd < 0:
        sys.exit('pidfd_getfd: ' + os.strerror(ctypes.get_errno()))
    sock = socket.socket(fileno=fd)
    try:
        if sock.type == socket.SOCK_STREAM and sock.family in (socket.AF_INET, socket.AF_INET6) and sock.getpeername()[1] == port:
            print(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            sys.exit(0)
    except OSError:
        pass
    finally:
        sock.detach()
        os.close(fd)
sys.exit(f'no socket of process {pid} is connected to port {port}')
