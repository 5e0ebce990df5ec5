import { performance } from 'node:perf_hooks';
import type { MessagePort } from 'node:worker_threads';
import { LatenessHistogram, type LatenessSummary } from '../../media/lateness-histogram.js';

/**
 * Datagrams in bulk between the media thread and the RTP I/O thread: many packets per message,
 * in ArrayBuffers that are transferred (not copied) one way and handed back the other, so the
 * per-packet cost of crossing threads is one copy of its bytes.
 *
 * Record layout, 4-byte aligned: u32 socket id, u32 address ref, u16 port, u16 length, then the
 * datagram. Addresses travel as small numbers: each side names a new address once, in the
 * `addresses` of the message that first uses it (AddressBook).
 */

export interface PacketBatch {
  buffer: ArrayBuffer;
  /** Bytes used. */
  length: number;
  /** New address refs, first used in this batch. */
  addresses: [number, string][] | null;
  /** The receiver forgets every ref it knew before reading this batch's. */
  resetAddresses: boolean;
  /**
   * Outbound only: the batch leaves at this time (ms since the epoch, on the monotonic clock of
   * `performance.timeOrigin + performance.now()`, which threads share); 0 or past: at once.
   */
  sendAt: number;
}

/**
 * What the media thread asks of the I/O thread. Datagrams travel over channels of their own:
 * batches to send over `outbound`, counted in `posted` (an Int32 in shared memory) as they are
 * posted; batches received over `inbound`. The thread keeps its SendTiming in `timing`.
 */
export type RtpIoRequest =
  | { op: 'channels'; outbound: MessagePort; posted: SharedArrayBuffer; inbound: MessagePort; timing: SharedArrayBuffer }
  | { op: 'open'; id: number; address: string; port: number }
  | { op: 'peer'; id: number; peer: { address: string; port: number } | null }
  | { op: 'close'; id: number }
  /** Inbound batches' buffers, read and handed back. */
  | { op: 'recycle'; buffers: ArrayBuffer[] };

/** What the I/O thread reports. */
export type RtpIoReply =
  | { op: 'opened'; id: number; error: string | null }
  /** Outbound batches' buffers, sent and handed back. */
  | { op: 'sent'; buffers: ArrayBuffer[] }
  | { op: 'error'; id: number; message: string; code: string | null }
  /** Something the operator should hear about, such as a priority the system refused. */
  | { op: 'warning'; message: string };

export interface SendTimingSummary {
  /**
   * How long after its send time the last packet of each timed batch left: the lateness on the
   * wire against the 20 ms grid (plus the configured delay), whichever thread caused it.
   */
  lateness: LatenessSummary;
  /** Timed batches that reached the I/O thread after their send time, and left at once. */
  overdueBatches: number;
}

/**
 * How well the I/O thread keeps to its batches' send times, in memory the I/O thread writes and
 * the media thread reads. It outlives a restarted thread, so the counts cover the process.
 */
export class SendTiming {
  static readonly BYTES = LatenessHistogram.BYTES + 8;
  readonly memory: SharedArrayBuffer;
  private readonly lateness: LatenessHistogram;
  private readonly overdue: Float64Array;

  constructor(memory = new SharedArrayBuffer(SendTiming.BYTES)) {
    this.memory = memory;
    this.lateness = new LatenessHistogram(memory);
    this.overdue = new Float64Array(memory, LatenessHistogram.BYTES, 1);
  }

  /** A timed batch has gone, its last packet `latenessMs` after its send time. */
  sent(latenessMs: number): void {
    this.lateness.record(latenessMs);
  }

  arrivedOverdue(): void {
    this.overdue[0] = (this.overdue[0] as number) + 1;
  }

  summary(): SendTimingSummary {
    return { lateness: this.lateness.summary(), overdueBatches: this.overdue[0] as number };
  }
}

/** Milliseconds on a monotonic clock that every thread of the process reads alike. */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}

const HEADER = 12;
/** Room for a few hundred 172-byte packets: a tick of a busy server in two or three messages. */
export const BATCH_BYTES = 64 * 1024;
/** Larger datagrams are not RTP of any codec we speak, and are dropped rather than batched. */
export const MAX_DATAGRAM = 4096;
// A thread that talks to many peers over a long life would otherwise keep every address it met.
const MAX_ADDRESSES = 4096;

/** Numbers for address strings, named to the other side once. */
export class AddressBook {
  private readonly refs = new Map<string, number>();
  private readonly names: string[] = [''];
  private fresh: [number, string][] | null = null;
  private reset = false;

  /** Called as a batch starts: the only point where the refs may start over. */
  beginBatch(): void {
    if (this.refs.size < MAX_ADDRESSES) return;
    this.refs.clear();
    this.fresh = null;
    this.reset = true;
  }

  /** The sender's ref for `address`, defined in the next batch when new. */
  ref(address: string): number {
    const known = this.refs.get(address);
    if (known !== undefined) return known;
    const ref = this.refs.size + 1;
    this.refs.set(address, ref);
    (this.fresh ??= []).push([ref, address]);
    return ref;
  }

  /** Definitions (and a reset) the next batch must carry; cleared by taking them. */
  takeDefinitions(): { addresses: [number, string][] | null; resetAddresses: boolean } {
    const taken = { addresses: this.fresh, resetAddresses: this.reset };
    this.fresh = null;
    this.reset = false;
    return taken;
  }

  /** The receiver's side: learns a batch's definitions. */
  learn(batch: PacketBatch): void {
    if (batch.resetAddresses) this.names.length = 1;
    if (batch.addresses) for (const [ref, address] of batch.addresses) this.names[ref] = address;
  }

  name(ref: number): string {
    return this.names[ref] ?? '';
  }
}

/** Appends records to pooled buffers; `take` hands over what was written. */
export class PacketBatchWriter {
  private buffer: ArrayBuffer | null = null;
  private view: DataView | null = null;
  private bytes: Uint8Array | null = null;
  private used = 0;
  private records = 0;
  readonly addresses = new AddressBook();

  constructor(private readonly pool: ArrayBuffer[]) {}

  /** Records in the batch so far. */
  get count(): number {
    return this.records;
  }

  /**
   * False when the record does not fit: `take` the batch, then append again. A datagram over
   * MAX_DATAGRAM is dropped (true, nothing written).
   */
  append(id: number, port: number, address: string, data: Uint8Array, length: number): boolean {
    if (length > MAX_DATAGRAM) return true;
    const size = HEADER + ((length + 3) & ~3);
    if (this.buffer === null) this.open();
    if (this.used + size > BATCH_BYTES) return false;
    const view = this.view as DataView;
    const at = this.used;
    view.setUint32(at, id, true);
    view.setUint32(at + 4, this.addresses.ref(address), true);
    view.setUint16(at + 8, port, true);
    view.setUint16(at + 10, length, true);
    (this.bytes as Uint8Array).set(length === data.length ? data : data.subarray(0, length), at + HEADER);
    this.used += size;
    this.records++;
    return true;
  }

  /** The batch so far (null when empty); the next append starts a new buffer. */
  take(sendAt = 0): PacketBatch | null {
    if (this.buffer === null || this.used === 0) return null;
    const batch: PacketBatch = { buffer: this.buffer, length: this.used, ...this.addresses.takeDefinitions(), sendAt };
    this.buffer = null;
    this.view = null;
    this.bytes = null;
    this.used = 0;
    this.records = 0;
    return batch;
  }

  private open(): void {
    const buffer = this.pool.pop() ?? new ArrayBuffer(BATCH_BYTES);
    this.buffer = buffer;
    this.view = new DataView(buffer);
    this.bytes = new Uint8Array(buffer);
    this.addresses.beginBatch();
  }
}

/**
 * Calls `visit` for each record; `bytes` is the whole batch and the datagram is
 * bytes[offset, offset + length).
 */
export function readPacketBatch(
  batch: PacketBatch,
  book: AddressBook,
  visit: (id: number, address: string, port: number, bytes: Uint8Array, offset: number, length: number) => void,
): void {
  book.learn(batch);
  const view = new DataView(batch.buffer, 0, batch.length);
  const bytes = new Uint8Array(batch.buffer, 0, batch.length);
  let at = 0;
  while (at + HEADER <= batch.length) {
    const id = view.getUint32(at, true);
    const address = book.name(view.getUint32(at + 4, true));
    const port = view.getUint16(at + 8, true);
    const length = view.getUint16(at + 10, true);
    visit(id, address, port, bytes, at + HEADER, length);
    at += HEADER + ((length + 3) & ~3);
  }
}
