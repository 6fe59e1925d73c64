# SPDX-License-Identifier: GPL-2.0-or-later
#
# A long TCP stream for the e2e tests that check a connection survives an
# apply (its conntrack entry keeps its id, its jail's counter only grows).
#
#   stream.py sink PORT             accept and drain, forever
#   stream.py send ADDR PORT STOP   connect, print "connected", send 100
#                                   bytes every 50 ms until the file STOP
#                                   exists, then print "done"; a failed send
#                                   prints "broken: WHY" and exits 1
import os
import socket
import sys
import threading
import time


def drain(c):
    while c.recv(65536):
        pass


def sink(port):
    l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("0.0.0.0", port))
    l.listen(4)
    while True:
        c, _ = l.accept()
        threading.Thread(target=drain, args=(c,), daemon=True).start()


def send(addr, port, stop):
    s = socket.create_connection((addr, port), timeout=5)
    print("connected", flush=True)
    deadline = time.time() + 600
    try:
        while not os.path.exists(stop) and time.time() < deadline:
            s.sendall(b"x" * 100)
            time.sleep(0.05)
    except OSError as e:
        print("broken: %s" % e, flush=True)
        sys.exit(1)
    print("done", flush=True)


if sys.argv[1] == "sink":
    sink(int(sys.argv[2]))
else:
    send(sys.argv[2], int(sys.argv[3]), sys.argv[4])
