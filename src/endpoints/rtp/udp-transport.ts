import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { PortAllocator } from './port-allocator.js';

/** What an RtpSession needs from the network; tests substitute an in-memory pair. */
export interface RtpTransport {
  readonly localAddress: string;
  readonly localPort: number;
  /** Called for every datagram; `data` is only valid during the call. */
  onPacket: ((data: Uint8Array, length: number, address: string, port: number) => void) | null;
  /** Sends `data[0, length)`. The transport copies what it needs: `data` may be reused at once. */
  send(data: Uint8Array, length: number, port: number, address: string): void;
  close(): void;
}

export interface UdpTransportOptions {
  /** Address to bind, e.g. '0.0.0.0' or one interface's address. */
  bindAddress: string;
  ports: PortAllocator;
  /** Ports to try when the chosen one is taken by another process. */
  maxBindAttempts?: number;
  /** Socket errors after binding (ICMP unreachable and the like): reported, never thrown. */
  onError?: (error: Error) => void;
}

// dgram sends after a process.nextTick (even to an IP literal), so a buffer reused for the next
// packet in the same turn, as catch-up ticks do, would go out twice. Each packet gets a slot of a
// small ring that stays taken until dgram reports the send done; a burst bigger than the ring
// falls back to a fresh copy rather than overwrite a packet still waiting to leave.
const SEND_RING = 8;
// 20 ms of G.711 plus header is 172 bytes; anything bigger is rare enough to get its own copy.
const SEND_SLOT = 256;

export class UdpTransport implements RtpTransport {
  onPacket: ((data: Uint8Array, length: number, address: string, port: number) => void) | null = null;
  private readonly sendRing: Buffer;
  private readonly slotBusy = new Uint8Array(SEND_RING);
  private readonly slotDone: ((error: Error | null) => void)[] = [];
  private sendIndex = 0;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    readonly localAddress: string,
    readonly localPort: number,
    private readonly ports: PortAllocator,
    private readonly onError: ((error: Error) => void) | undefined,
  ) {
    this.sendRing = Buffer.alloc(SEND_RING * SEND_SLOT);
    for (let i = 0; i < SEND_RING; i++) {
      this.slotDone.push((error) => {
        this.slotBusy[i] = 0;
        if (error) this.onError?.(error);
      });
    }
    socket.on('message', (msg, rinfo) => {
      this.onPacket?.(msg, msg.length, rinfo.address, rinfo.port);
    });
    socket.on('error', (error) => this.onError?.(error));
  }

  /** Binds a socket on the next free even port, skipping ports other processes hold. */
  static async open(options: UdpTransportOptions): Promise<UdpTransport> {
    const attempts = Math.max(1, Math.min(options.maxBindAttempts ?? 16, options.ports.capacity));
    let lastError: Error | null = null;
    for (let i = 0; i < attempts; i++) {
      const port = options.ports.allocate();
      if (port === null) break;
      try {
        const socket = await bind(options.bindAddress, port);
        return new UdpTransport(socket, options.bindAddress, port, options.ports, options.onError);
      } catch (error) {
        options.ports.release(port);
        lastError = error instanceof Error ? error : new Error(String(error));
      }
    }
    throw new Error(`no free RTP port in ${options.ports.min}-${options.ports.max}${lastError ? `: ${lastError.message}` : ''}`);
  }

  send(data: Uint8Array, length: number, port: number, address: string): void {
    if (this.closed) return;
    const slot = this.sendIndex;
    const pooled = length <= SEND_SLOT && this.slotBusy[slot] === 0;
    let buf: Buffer;
    let offset = 0;
    if (pooled) {
      this.sendIndex = (slot + 1) % SEND_RING;
      this.slotBusy[slot] = 1;
      buf = this.sendRing;
      offset = slot * SEND_SLOT;
      buf.set(data.subarray(0, length), offset);
    } else {
      buf = Buffer.from(data.subarray(0, length));
    }
    try {
      this.socket.send(buf, offset, length, port, address, pooled ? this.slotDone[slot] : this.unpooledDone);
    } catch (error) {
      // Bad port or address from a far end's SDP: the call goes on, the packet is lost.
      if (pooled) this.slotBusy[slot] = 0;
      this.onError?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private readonly unpooledDone = (error: Error | null): void => {
    if (error) this.onError?.(error);
  };

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onPacket = null;
    this.socket.close();
    this.ports.release(this.localPort);
  }
}

function bind(address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
    const fail = (error: Error): void => {
      try {
        socket.close();
      } catch {
        // Already closed by the failed bind; nothing to release.
      }
      reject(error);
    };
    socket.once('error', fail);
    socket.bind(port, address, () => {
      socket.off('error', fail);
      resolve(socket);
    });
  });
}
