#!/usr/bin/env python3
"""
Kernel timestamps of RTP packets sent to some UDP ports on loopback, for bench/sip-load.ts.

A process reading its own sockets stamps packets when its event loop gets to them, which on a busy
2-core box adds milliseconds of noise to a 20 ms interval. A packet socket on `lo` sees each
datagram as it passes through the stack, i.e. at the moment the sender's sendmsg ran, and
SO_TIMESTAMPNS hands us that kernel time. A classic BPF filter keeps only the probe ports, so the
thousands of other RTP streams on loopback never wake this process. Needs CAP_NET_RAW.

    rtp-arrivals.py MAX_SECONDS PORT [PORT ...]

Prints "ready" once capturing, then one line per packet: "<dst port> <rtp seq> <ns>". Exits on
SIGTERM, when stdin closes, or after MAX_SECONDS.
"""
import ctypes
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SO_ATTACH_FILTER = 26
SO_TIMESTAMPNS = 35


def bpf_program(ports):
    # Ethernet framing (lo uses zeroed MACs), IPv4, UDP, not a fragment, destination port in `ports`.
    n = len(ports)
    drop = 8 + n
    accept = drop + 1
    ins = [
        (0x28, 0, 0, 12),                       # ldh [12]           ethertype
        (0x15, 0, drop - 2, 0x0800),            # jeq IPv4
        (0x30, 0, 0, 23),                       # ldb [23]           protocol
        (0x15, 0, drop - 4, 17),                # jeq UDP
        (0x28, 0, 0, 20),                       # ldh [20]           fragment offset
        (0x45, drop - 6, 0, 0x1FFF),            # jset -> drop
        (0xB1, 0, 0, 14),                       # ldxb 4*([14]&0xf)  IP header length
        (0x48, 0, 0, 16),                       # ldh [x+16]         UDP destination port
    ]
    for j, port in enumerate(ports):
        at = 8 + j
        ins.append((0x15, accept - at - 1, 0, port))
    ins.append((0x06, 0, 0, 0))                 # drop
    ins.append((0x06, 0, 0, 128))               # accept, first 128 bytes
    return b''.join(struct.pack('HBBI', *i) for i in ins), len(ins)


def main():
    max_seconds = float(sys.argv[1])
    ports = [int(p) for p in sys.argv[2:]]
    wanted = set(ports)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    program, count = bpf_program(ports)
    buf = ctypes.create_string_buffer(program)
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack('HL', count, ctypes.addressof(buf)))
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.bind(('lo', 0))
    sock.setblocking(False)

    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
    out = sys.stdout
    out.write('ready\n')
    out.flush()
    deadline = time.monotonic() + max_seconds
    seen = set()
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    poller.register(sys.stdin, select.POLLIN | select.POLLHUP)
    while not stop[0] and time.monotonic() < deadline:
        for fd, event in poller.poll(200):
            if fd == sys.stdin.fileno():
                if event & (select.POLLHUP | select.POLLIN) and not sys.stdin.buffer.read1(1):
                    stop[0] = True
                continue
            while True:
                try:
                    data, ancillary, _flags, _addr = sock.recvmsg(256, socket.CMSG_SPACE(16))
                except BlockingIOError:
                    break
                if len(data) < 14 + 20 + 8 + 12:
                    continue
                ihl = (data[14] & 0x0F) * 4
                udp = 14 + ihl
                port = struct.unpack_from('!H', data, udp + 2)[0]
                if port not in wanted or len(data) < udp + 8 + 4:
                    continue
                seq = struct.unpack_from('!H', data, udp + 8 + 2)[0]
                # A loopback datagram may be seen on the way out and on the way in: keep the first.
                key = (port, seq)
                if key in seen:
                    continue
                seen.add(key)
                if len(seen) > 200000:
                    seen.clear()
                ns = None
                for level, kind, value in ancillary:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
                        sec, nsec = struct.unpack('ll', value[:16])
                        ns = sec * 1_000_000_000 + nsec
                if ns is not None:
                    out.write(f'{port} {seq} {ns}\n')
        out.flush()


if __name__ == '__main__':
    main()
