#!/usr/bin/env python3
"""Packet delay line for lab namespaces (this kernel has no netem): every packet read from a TUN device is written
back to it `delay_ms` later, in order. Run inside the router namespace of test/support/delay-lab.ts, which routes both
directions of the path through the device, so a round trip crosses it twice (RTT = 2 x delay).

usage: delay-line.py TUN_NAME DELAY_MS
Prints "delay-line ready" once attached; exits on SIGTERM/SIGKILL (the lab kills it). Lab tool only, never installed.
"""
import collections
import fcntl
import math
import os
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
# the largest packet a TUN device hands out (64 KiB with GSO off is far above the veth MTU)
MAX_PACKET = 65_535
# packets read per wake-up before writing what is due, so a burst cannot starve the writer
READ_BATCH = 64


def main() -> None:
    name, delay_ms = sys.argv[1], float(sys.argv[2])
    delay = delay_ms / 1000.0
    fd = os.open('/dev/net/tun', os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(), IFF_TUN | IFF_NO_PI))
    print('delay-line ready', flush=True)
    line: collections.deque = collections.deque()
    poll = select.poll()
    poll.register(fd, select.POLLIN)
    while True:
        now = time.monotonic()
        while line and line[0][0] <= now:
            try:
                os.write(fd, line[0][1])
            except BlockingIOError:
                break
            except OSError:
                pass  # a packet the stack refuses (device going down) is dropped, as on a wire
            line.popleft()
        wait_ms = -1 if not line else max(0, math.ceil((line[0][0] - time.monotonic()) * 1000))
        for _ in poll.poll(wait_ms):
            for _ in range(READ_BATCH):
                try:
                    pkt = os.read(fd, MAX_PACKET)
                except BlockingIOError:
                    break
                line.append((time.monotonic() + delay, pkt))


if __name__ == '__main__':
    main()
