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
  /**
   * Narrows the transport to one peer (null: every source again), as symmetric RTP does once it
   * has latched. Datagrams from other sources may then no longer arrive at all. Optional: a
   * transport without it simply goes on hearing everyone.
   */
  setPeer?(peer: { address: string; port: number } | null): void;
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

// dgram sends an addressed packet after a process.nextTick (even to an IP literal), so a buffer
// reused for the next packet in the same turn, as catch-up ticks do, would go out twice. Each
// packet gets a slot of a small ring that stays taken until the send is done; a burst bigger than
// the ring falls back to a fresh copy rather than overwrite a packet still waiting to leave.
// A packet to the connected peer leaves at once, inside send(), unless the socket buffer is full
// and libuv queues it: its slot then stays taken until libuv's send queue is empty again.
const SEND_RING = 8;
const SLOT_FREE = 0;
const SLOT_AWAITS_CALLBACK = 1;
const SLOT_QUEUED = 2;
// 20 ms of G.711 plus header is 172 bytes; anything bigger is rare enough to get its own copy.
const SEND_SLOT = 256;

/**
 * Peer state of the socket. A connected UDP socket sends without resolving and routing every
 * packet again (about a third of the cost of a send) and lets the kernel drop strangers' packets.
 * dgram connects asynchronously, so the socket can be on its way to a peer other than the one
 * now wanted; `reconcile` moves it on once it gets there.
 */
type PeerState = 'open' | 'connecting' | 'connected';

export class UdpTransport implements RtpTransport {
  onPacket: ((data: Uint8Array, length: number, address: string, port: number) => void) | null = null;
  private readonly sendRing: Buffer;
  private readonly slotBusy = new Uint8Array(SEND_RING);
  // A view of each slot at the length last sent from it: a connected send of a whole Buffer
  // spares dgram a slice per packet, and audio packets all have the same length.
  private readonly slotViews: Buffer[] = [];
  private readonly slotDone: ((error: Error | null) => void)[] = [];
  private sendIndex = 0;
  private queuedSlots = 0;
  private closed = false;
  private peerState: PeerState = 'open';
  private peerAddress = '';
  private peerPort = 0;
  private wantedPeer: { address: string; port: number } | null = null;
  // Packets sent while a connect is in flight: dgram would send them after the connect lands, and
  // a connected socket refuses an addressed packet. They leave when the connect is done.
  private held: { data: Buffer; port: number; address: string }[] = [];

  private constructor(
    private readonly socket: Socket,
    readonly localAddress: string,
    readonly localPort: number,
    private readonly ports: PortAllocator | null,
    private readonly onError: ((error: Error) => void) | undefined,
  ) {
    this.sendRing = Buffer.alloc(SEND_RING * SEND_SLOT);
    for (let i = 0; i < SEND_RING; i++) {
      this.slotViews.push(this.sendRing.subarray(i * SEND_SLOT, (i + 1) * SEND_SLOT));
      this.slotDone.push((error) => {
        this.slotBusy[i] = SLOT_FREE;
        if (error) this.reportError(error);
      });
    }
    socket.on('message', (msg, rinfo) => {
      this.onPacket?.(msg, msg.length, rinfo.address, rinfo.port);
    });
    socket.on('error', (error) => this.reportError(error));
  }

  /** Binds a socket on the next free even port, skipping ports other processes hold. */
  static open(options: UdpTransportOptions): Promise<UdpTransport> {
    const { bindAddress, ports, onError } = options;
    return ports.bindFree(async (port) => new UdpTransport(await bind(bindAddress, port), bindAddress, port, ports, onError), options.maxBindAttempts);
  }

  /** Binds exactly `port`; whoever chose the port also frees it. */
  static async bindPort(bindAddress: string, port: number, onError?: (error: Error) => void): Promise<UdpTransport> {
    return new UdpTransport(await bind(bindAddress, port), bindAddress, port, null, onError);
  }

  setPeer(peer: { address: string; port: number } | null): void {
    if (this.closed) return;
    this.wantedPeer = peer && { address: peer.address, port: peer.port };
    if (this.peerState !== 'connecting') this.reconcile();
  }

  send(data: Uint8Array, length: number, port: number, address: string): void {
    if (this.closed) return;
    if (this.peerState === 'connecting') {
      this.held.push({ data: Buffer.from(data.subarray(0, length)), port, address });
      return;
    }
    const toPeer = this.peerState === 'connected' && port === this.peerPort && address === this.peerAddress;
    if (!toPeer && this.peerState === 'connected') {
      // Somewhere else than the peer: a connected socket cannot, so it opens up again.
      this.wantedPeer = null;
      this.reconcile();
    }
    if (this.queuedSlots > 0 && this.socket.getSendQueueCount() === 0) this.releaseQueuedSlots();
    const slot = this.sendIndex;
    const pooled = length <= SEND_SLOT && this.slotBusy[slot] === SLOT_FREE;
    let buf: Buffer;
    let offset = 0;
    if (pooled) {
      this.sendIndex = (slot + 1) % SEND_RING;
      buf = this.sendRing;
      offset = slot * SEND_SLOT;
      // Whole-buffer copies where possible: a subarray view would allocate on every packet.
      buf.set(length === data.length ? data : data.subarray(0, length), offset);
    } else {
      buf = Buffer.from(data.subarray(0, length));
    }
    try {
      if (toPeer && pooled) {
        this.sendToPeer(slot, length);
      } else {
        if (pooled) this.slotBusy[slot] = SLOT_AWAITS_CALLBACK;
        const done = pooled ? this.slotDone[slot] : this.unpooledDone;
        if (toPeer) this.socket.send(buf, offset, length, done);
        else this.socket.send(buf, offset, length, port, address, done);
      }
    } catch (error) {
      // Bad port or address from a far end's SDP: the call goes on, the packet is lost.
      if (pooled) this.slotBusy[slot] = SLOT_FREE;
      this.reportError(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * The per-packet path of a latched call. Without a callback dgram neither allocates a tick nor
   * reports errors of a connected send; the only one expected, ECONNREFUSED when the far end has
   * gone, would be ignored anyway.
   */
  private sendToPeer(slot: number, length: number): void {
    this.socket.send(this.slotView(slot, length));
    if (this.socket.getSendQueueCount() > 0) {
      this.slotBusy[slot] = SLOT_QUEUED;
      this.queuedSlots++;
    }
  }

  private releaseQueuedSlots(): void {
    for (let i = 0; i < SEND_RING; i++) {
      if (this.slotBusy[i] === SLOT_QUEUED) this.slotBusy[i] = SLOT_FREE;
    }
    this.queuedSlots = 0;
  }

  private slotView(slot: number, length: number): Buffer {
    let view = this.slotViews[slot] as Buffer;
    if (view.length !== length) {
      view = this.sendRing.subarray(slot * SEND_SLOT, slot * SEND_SLOT + length);
      this.slotViews[slot] = view;
    }
    return view;
  }

  private readonly unpooledDone = (error: Error | null): void => {
    if (error) this.reportError(error);
  };

  /** Moves the socket towards `wantedPeer`; called whenever no connect is in flight. */
  private reconcile(): void {
    if (this.closed) return;
    const wanted = this.wantedPeer;
    const there = this.peerState === 'connected' && wanted !== null && wanted.address === this.peerAddress && wanted.port === this.peerPort;
    if (there || (wanted === null && this.peerState === 'open')) return;
    if (this.peerState === 'connected') {
      try {
        this.socket.disconnect();
      } catch (error) {
        this.reportError(error instanceof Error ? error : new Error(String(error)));
      }
      this.peerState = 'open';
    }
    if (wanted === null) return;
    this.peerState = 'connecting';
    try {
      this.socket.connect(wanted.port, wanted.address, this.connectDone);
    } catch (error) {
      this.peerState = 'open';
      this.reportError(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.peerAddress = wanted.address;
    this.peerPort = wanted.port;
  }

  private readonly connectDone = (error?: Error): void => {
    if (this.closed) return;
    if (error) {
      // Not fatal: packets go out addressed one by one, as before the latch.
      this.peerState = 'open';
      this.wantedPeer = null;
      this.reportError(error);
      this.releaseHeld();
      return;
    }
    this.peerState = 'connected';
    this.reconcile();
    this.releaseHeld();
  };

  private releaseHeld(): void {
    const held = this.held;
    if (held.length === 0 || this.peerState === 'connecting') return;
    this.held = [];
    for (const packet of held) this.send(packet.data, packet.data.length, packet.port, packet.address);
  }

  private reportError(error: Error): void {
    // A connected socket hears the ICMP "port unreachable" of a far end that has gone (typically
    // while both sides hang up): the call is ending anyway, so it is not worth a report.
    if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED') return;
    this.onError?.(error);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onPacket = null;
    this.held = [];
    this.socket.close();
    this.ports?.release(this.localPort);
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
