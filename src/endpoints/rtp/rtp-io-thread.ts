import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import type { MediaScheduler } from '../../media/scheduler.js';
import { startModuleWorker } from '../../util/module-worker.js';
import type { PortAllocator } from './port-allocator.js';
import {
  AddressBook, MAX_DATAGRAM, PacketBatchWriter, SendTiming, readPacketBatch, sharedNow,
  type PacketBatch, type RtpIoReply, type RtpIoRequest, type SendTimingSummary,
} from './rtp-io-batch.js';
import type { RtpSockets } from './rtp-sockets.js';
import type { RtpTransport } from './udp-transport.js';

export interface RtpIoThreadOptions {
  bindAddress: string;
  ports: PortAllocator;
  /** Packets queued by a media pass leave at the pass's due time plus `sendDelayMs`. */
  scheduler?: MediaScheduler;
  /**
   * How long after its tick is due a pass's packets leave, on the I/O thread's own timer. Within
   * this much, a media pass that starts late or runs long does not move its packets off the 20 ms
   * grid; a pass later than that sends at once, as a single thread would. It adds as much to the
   * audio's delay. Default 10 ms: half a tick, so the thread sends while the media thread is
   * between passes rather than at the start of the next one.
   */
  sendDelayMs?: number;
  /** Ports to try when the chosen one is taken by another process. */
  maxBindAttempts?: number;
  /**
   * Nice value for the I/O thread alone (Linux), or null to leave it. A thread that only moves
   * packets, given a higher priority, sends on time even while the media thread and other
   * processes keep every core busy.
   */
  threadNice?: number | null;
  /** Hears what the thread could not do, such as a refused priority. */
  log?: (message: string) => void;
}

/**
 * Packets per message to the I/O thread. A pass already past its send time has its first packets
 * leave while the rest are still being made; a slice costs one message.
 */
const SEND_SLICE = 64;
/** Read inbound buffers go back at the start of each pass, or once this many wait. */
const RECYCLE_BATCH = 32;
const DEFAULT_SEND_DELAY_MS = 10;

interface PendingOpen {
  resolve(error: string | null): void;
}

/**
 * RTP sockets served by a worker thread (rtp-io-worker.ts). Sessions keep running on this thread
 * and see ordinary transports. What they send in a media pass goes to the worker in a few
 * messages stamped with the pass's send time (its due time plus `sendDelayMs`), and the worker
 * sends them then on its own timer; what arrives comes back in one message per turn of the
 * worker's loop, and every pass first takes in what is waiting. The worker starts with the first
 * socket; if it dies, its sockets are gone (their owners hear an error) and the next open starts
 * a new one.
 */
export class RtpIoThread implements RtpSockets {
  private worker: Worker | null = null;
  private sendPort: MessagePort | null = null;
  private receivedPort: MessagePort | null = null;
  private readonly sendsPosted = new Int32Array(new SharedArrayBuffer(4));
  private readonly timing = new SendTiming();
  private readonly transports = new Map<number, ThreadedTransport>();
  private readonly opening = new Map<number, PendingOpen>();
  private nextId = 1;
  private readonly outboundPool: ArrayBuffer[] = [];
  private readonly outbound = new PacketBatchWriter(this.outboundPool);
  private readonly inboundBook = new AddressBook();
  // Datagrams are handed to sessions from here: their bytes are only valid during the call.
  private readonly scratch = new Uint8Array(MAX_DATAGRAM);
  private readonly readInbound: ArrayBuffer[] = [];
  private flushQueued = false;
  private readonly sendDelay: number;
  /** When the packets of the pass now running leave (see PacketBatch.sendAt); 0 outside a pass. */
  private passSendAt = 0;
  private readonly removeHook: (() => void) | null;
  private closed = false;

  constructor(private readonly options: RtpIoThreadOptions) {
    this.sendDelay = Math.max(0, options.sendDelayMs ?? DEFAULT_SEND_DELAY_MS);
    this.removeHook = options.scheduler?.addPassHooks({ beforeTicks: this.passStarts, afterSends: this.passSent }) ?? null;
  }

  open(onError?: (error: Error) => void): Promise<RtpTransport> {
    const { ports, bindAddress } = this.options;
    return ports.bindFree(async (port) => {
      const id = this.nextId++;
      const error = await this.bind(id, port);
      if (error !== null) throw new Error(error);
      const transport = new ThreadedTransport(this, id, bindAddress, port, onError);
      this.transports.set(id, transport);
      return transport;
    }, this.options.maxBindAttempts);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.removeHook?.();
    for (const transport of [...this.transports.values()]) transport.close();
    const worker = this.worker;
    this.worker = null;
    this.closePorts();
    if (worker) await worker.terminate();
  }

  /** How the thread has kept to its send times since this object was made. */
  sendTiming(): SendTimingSummary {
    return this.timing.summary();
  }

  /** @internal ThreadedTransport's send. */
  enqueue(id: number, data: Uint8Array, length: number, port: number, address: string): void {
    if (!this.outbound.append(id, port, address, data, length)) {
      this.flush();
      this.outbound.append(id, port, address, data, length);
    }
    if (this.outbound.count >= SEND_SLICE) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      // Sends made outside a media pass still leave in this turn of the loop.
      queueMicrotask(this.flush);
    }
  }

  /** @internal */
  setPeer(id: number, peer: { address: string; port: number } | null): void {
    this.post({ op: 'peer', id, peer: peer && { address: peer.address, port: peer.port } });
  }

  /** @internal */
  release(transport: ThreadedTransport): void {
    if (!this.transports.delete(transport.id)) return;
    // Packets it queued this tick go first; the worker then closes the socket.
    this.flush();
    this.post({ op: 'close', id: transport.id });
    this.options.ports.release(transport.localPort);
  }

  private readonly passStarts = (lateByMs: number): void => {
    this.takeReceived();
    this.recycleInbound();
    this.passSendAt = sharedNow() - lateByMs + this.sendDelay;
  };

  private readonly passSent = (): void => {
    this.flush();
    this.passSendAt = 0;
  };

  private readonly flush = (): void => {
    this.flushQueued = false;
    const batch = this.outbound.take(this.passSendAt);
    if (batch === null) return;
    const sendPort = this.sendPort;
    if (sendPort === null) {
      this.outboundPool.push(batch.buffer);
      return;
    }
    sendPort.postMessage(batch, [batch.buffer]);
    Atomics.add(this.sendsPosted, 0, 1);
  };

  private bind(id: number, port: number): Promise<string | null> {
    if (this.closed) return Promise.resolve('RTP I/O thread closed');
    return new Promise((resolve) => {
      this.opening.set(id, { resolve });
      this.post({ op: 'open', id, address: this.options.bindAddress, port });
    });
  }

  private post(request: RtpIoRequest): void {
    if (this.closed) return;
    (this.worker ?? this.startWorker()).postMessage(request);
  }

  private startWorker(): Worker {
    const worker = startModuleWorker(import.meta.url, 'rtp-io-worker', { nice: this.options.threadNice ?? null });
    // Calls keep the server's own sockets busy; the I/O thread alone should not hold the process.
    worker.unref();
    worker.on('message', (reply: RtpIoReply) => this.receive(reply));
    worker.on('error', (error) => this.lost(worker, error));
    worker.on('exit', (code) => this.lost(worker, new Error(`RTP I/O thread exited with code ${code}`)));
    this.closePorts();
    const outbound = new MessageChannel();
    const inbound = new MessageChannel();
    this.sendPort = outbound.port1;
    this.receivedPort = inbound.port1;
    inbound.port1.on('message', (batch: PacketBatch) => this.deliver(batch));
    // Like the worker, the channel should not hold the process open on its own.
    inbound.port1.unref();
    Atomics.store(this.sendsPosted, 0, 0);
    worker.postMessage(
      {
        op: 'channels', outbound: outbound.port2, posted: this.sendsPosted.buffer as SharedArrayBuffer, inbound: inbound.port2,
        timing: this.timing.memory,
      } satisfies RtpIoRequest,
      [outbound.port2, inbound.port2],
    );
    this.worker = worker;
    return worker;
  }

  private receive(reply: RtpIoReply): void {
    switch (reply.op) {
      case 'sent':
        this.outboundPool.push(...reply.buffers);
        break;
      case 'opened': {
        const pending = this.opening.get(reply.id);
        this.opening.delete(reply.id);
        pending?.resolve(reply.error);
        break;
      }
      case 'warning':
        this.options.log?.(reply.message);
        break;
      case 'error':
        this.transports.get(reply.id)?.failed(Object.assign(new Error(reply.message), reply.code ? { code: reply.code } : {}));
        break;
    }
  }

  /**
   * Datagrams the worker has passed on but the event loop has not yet delivered: after a stall,
   * the catch-up ticks would otherwise play out ahead of packets that arrived in time.
   */
  private takeReceived(): void {
    const port = this.receivedPort;
    if (port === null) return;
    for (let next = receiveMessageOnPort(port); next !== undefined; next = receiveMessageOnPort(port)) {
      this.deliver(next.message as PacketBatch);
    }
  }

  private closePorts(): void {
    this.sendPort?.close();
    this.receivedPort?.close();
    this.sendPort = null;
    this.receivedPort = null;
  }

  private deliver(batch: PacketBatch): void {
    const scratch = this.scratch;
    readPacketBatch(batch, this.inboundBook, (id, address, port, bytes, offset, length) => {
      const onPacket = this.transports.get(id)?.onPacket;
      if (!onPacket) return;
      scratch.set(bytes.subarray(offset, offset + length));
      onPacket(scratch, length, address, port);
    });
    if (this.readInbound.push(batch.buffer) >= RECYCLE_BATCH) this.recycleInbound();
  }

  private recycleInbound(): void {
    if (this.readInbound.length === 0) return;
    const buffers = this.readInbound.splice(0);
    this.worker?.postMessage({ op: 'recycle', buffers } satisfies RtpIoRequest, buffers);
  }

  /** The worker is gone: its sockets with it. */
  private lost(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.closePorts();
    if (this.closed) return;
    for (const pending of this.opening.values()) pending.resolve(error.message);
    this.opening.clear();
    for (const transport of this.transports.values()) {
      this.options.ports.release(transport.localPort);
      transport.failed(error);
    }
    this.transports.clear();
  }
}

/** One socket of the I/O thread, as a session sees it. */
class ThreadedTransport implements RtpTransport {
  onPacket: ((data: Uint8Array, length: number, address: string, port: number) => void) | null = null;
  private closed = false;

  constructor(
    private readonly thread: RtpIoThread,
    readonly id: number,
    readonly localAddress: string,
    readonly localPort: number,
    private readonly onError: ((error: Error) => void) | undefined,
  ) {}

  send(data: Uint8Array, length: number, port: number, address: string): void {
    if (!this.closed) this.thread.enqueue(this.id, data, length, port, address);
  }

  setPeer(peer: { address: string; port: number } | null): void {
    if (!this.closed) this.thread.setPeer(this.id, peer);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onPacket = null;
    this.thread.release(this);
  }

  /** @internal */
  failed(error: Error): void {
    if (!this.closed) this.onError?.(error);
  }
}
