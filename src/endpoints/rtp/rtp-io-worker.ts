/**
 * The RTP I/O thread: owns every leg's UDP socket, sends the batches the media thread hands it
 * each tick, and passes what arrives back in batches. The system calls of a busy server's RTP
 * (two per leg every 20 ms, a third of its CPU) run here, on another core, and off the event
 * loop that also carries signalling, webhooks and storage.
 *
 * A tick's batches are made a little ahead of their send time (PacketBatch.sendAt) and held
 * here until then, so the packets keep to the 20 ms grid on this thread's light loop, whatever
 * delays the media thread's pass within that margin.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import {
  AddressBook, PacketBatchWriter, SendTiming, readPacketBatch, sharedNow, type PacketBatch, type RtpIoReply, type RtpIoRequest,
} from './rtp-io-batch.js';
import { UdpTransport } from './udp-transport.js';

if (parentPort === null) throw new Error('rtp-io-worker runs as a worker thread');
const port = parentPort;

const sockets = new Map<number, UdpTransport>();
/** Ids closed while their bind was still in flight. */
const abandoned = new Set<number>();
const sendBook = new AddressBook();
const inboundPool: ArrayBuffer[] = [];
const inbound = new PacketBatchWriter(inboundPool);
let flushQueued = false;
/** Buffers of batches sent in this turn of the loop, handed back together. */
const sentBuffers: ArrayBuffer[] = [];
// Send batches come on a channel of their own, counted in shared memory, so that a long run of
// arriving datagrams can notice one waiting and send it first (see `received`).
let sendPort: MessagePort | null = null;
let receivedPort: MessagePort | null = null;
let sendsPosted: Int32Array | null = null;
let sendsDone = 0;
let timing: SendTiming | null = null;
/** Batches waiting for their send time, in the order they came, which is the order of their times. */
const held: PacketBatch[] = [];
let heldTimer: NodeJS.Timeout | null = null;
/**
 * Timers fire on whole milliseconds of the loop's clock, so one set for the exact send time is up
 * to a millisecond late; it is set this much early and the batch goes out when the time is within
 * `SEND_EARLY_MS`.
 */
const TIMER_LEAD_MS = 1;
const SEND_EARLY_MS = 0.1;

function reply(message: RtpIoReply, transfer?: ArrayBuffer[]): void {
  port.postMessage(message, transfer);
}

// Everything read in one turn of the loop goes back in one message: setImmediate runs once the
// poll phase has delivered every datagram that was waiting.
function flushInbound(): void {
  flushQueued = false;
  const batch = inbound.take();
  if (batch !== null) receivedPort?.postMessage(batch, [batch.buffer]);
}

function sendWaiting(): void {
  if (sendPort === null) return;
  for (let next = receiveMessageOnPort(sendPort); next !== undefined; next = receiveMessageOnPort(sendPort)) {
    take(next.message as PacketBatch);
  }
}

function received(id: number, data: Uint8Array, length: number, address: string, fromPort: number): void {
  // The loop may have hundreds of datagrams to hand over in this turn; a tick's packets must not
  // wait behind them.
  if (sendsPosted !== null && Atomics.load(sendsPosted, 0) !== sendsDone) sendWaiting();
  if (held.length > 0 && (held[0] as PacketBatch).sendAt - sharedNow() <= SEND_EARLY_MS) sendHeld();
  if (!inbound.append(id, fromPort, address, data, length)) {
    flushInbound();
    inbound.append(id, fromPort, address, data, length);
  }
  if (!flushQueued) {
    flushQueued = true;
    setImmediate(flushInbound);
  }
}

async function open(id: number, address: string, localPort: number): Promise<void> {
  try {
    const transport = await UdpTransport.bindPort(address, localPort, (error) => {
      reply({ op: 'error', id, message: error.message, code: (error as NodeJS.ErrnoException).code ?? null });
    });
    if (abandoned.delete(id)) {
      transport.close();
      return;
    }
    transport.onPacket = (data, length, from, fromPort) => received(id, data, length, from, fromPort);
    sockets.set(id, transport);
    reply({ op: 'opened', id, error: null });
  } catch (error) {
    abandoned.delete(id);
    reply({ op: 'opened', id, error: error instanceof Error ? error.message : String(error) });
  }
}

/** A batch from the media thread: sent now, or held until its time. */
function take(batch: PacketBatch): void {
  sendsDone = (sendsDone + 1) | 0;
  if (batch.sendAt - sharedNow() <= SEND_EARLY_MS) {
    // A batch without a time (sent outside a media pass) is never overdue.
    if (batch.sendAt > 0) timing?.arrivedOverdue();
    if (held.length === 0) {
      send(batch);
      return;
    }
  }
  held.push(batch);
  if (heldTimer === null) armHeldTimer();
}

function armHeldTimer(): void {
  const head = held[0];
  if (head === undefined) return;
  heldTimer = setTimeout(onHeldTimer, Math.max(0, head.sendAt - sharedNow() - TIMER_LEAD_MS));
}

function onHeldTimer(): void {
  heldTimer = null;
  const head = held[0];
  if (head === undefined) return;
  const wait = head.sendAt - sharedNow();
  // Within the timer's granularity: wait out the rest here rather than a whole millisecond more.
  if (wait > SEND_EARLY_MS && wait <= TIMER_LEAD_MS) while (head.sendAt - sharedNow() > SEND_EARLY_MS);
  sendHeld();
}

/** Sends every held batch whose time has come, and sets the timer for the next. */
function sendHeld(): void {
  const now = sharedNow();
  let due = 0;
  while (due < held.length && (held[due] as PacketBatch).sendAt - now <= SEND_EARLY_MS) due++;
  if (due > 0) for (const batch of held.splice(0, due)) send(batch);
  if (heldTimer !== null) clearTimeout(heldTimer);
  heldTimer = null;
  armHeldTimer();
}

function send(batch: PacketBatch): void {
  readPacketBatch(batch, sendBook, (id, address, toPort, bytes, offset, length) => {
    sockets.get(id)?.send(bytes.subarray(offset, offset + length), length, toPort, address);
  });
  if (batch.sendAt > 0) timing?.sent(sharedNow() - batch.sendAt);
  if (sentBuffers.push(batch.buffer) === 1) setImmediate(returnSent);
}

function returnSent(): void {
  const buffers = sentBuffers.splice(0);
  reply({ op: 'sent', buffers }, buffers);
}

/**
 * Gives this thread alone a nice value. On Linux a thread is a task of its own, and setpriority
 * on its id changes just that thread; other systems, or a process not allowed to raise its
 * priority, keep the default and say so.
 */
function setThreadNice(nice: number): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) throw new Error('no thread id in /proc/thread-self');
    setPriority(tid, nice);
  } catch (error) {
    reply({ op: 'warning', message: `the RTP I/O thread keeps its priority: nice ${nice} refused (${error instanceof Error ? error.message : String(error)})` });
  }
}

const { nice } = workerData as { nice: number | null };
if (typeof nice === 'number') setThreadNice(nice);

port.on('message', (request: RtpIoRequest) => {
  switch (request.op) {
    case 'channels':
      sendPort = request.outbound;
      sendsPosted = new Int32Array(request.posted);
      sendPort.on('message', take);
      receivedPort = request.inbound;
      timing = new SendTiming(request.timing);
      break;
    case 'recycle':
      inboundPool.push(...request.buffers);
      break;
    case 'open':
      void open(request.id, request.address, request.port);
      break;
    case 'peer':
      sockets.get(request.id)?.setPeer(request.peer);
      break;
    case 'close': {
      const transport = sockets.get(request.id);
      if (transport) {
        sockets.delete(request.id);
        transport.close();
      } else abandoned.add(request.id);
      break;
    }
  }
});
