import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { PortAllocator } from '../../src/endpoints/rtp/port-allocator.js';
import { AddressBook, PacketBatchWriter, readPacketBatch, sharedNow } from '../../src/endpoints/rtp/rtp-io-batch.js';
import { RtpIoThread } from '../../src/endpoints/rtp/rtp-io-thread.js';
import type { RtpTransport } from '../../src/endpoints/rtp/udp-transport.js';
import { MediaScheduler, type MediaTimeSource } from '../../src/media/scheduler.js';

/** A plain UDP socket on loopback that records what reaches it and when. */
async function peer(): Promise<{ socket: Socket; port: number; heard: { text: string; at: number; from: number }[]; next(count?: number): Promise<void> }> {
  const socket = createSocket('udp4');
  const heard: { text: string; at: number; from: number }[] = [];
  let waiting: { count: number; resolve(): void } | null = null;
  socket.on('message', (msg, rinfo) => {
    heard.push({ text: msg.toString(), at: sharedNow(), from: rinfo.port });
    if (waiting && heard.length >= waiting.count) waiting.resolve();
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    socket,
    port: (socket.address() as AddressInfo).port,
    heard,
    next: (count = heard.length + 1) => new Promise<void>((resolve) => {
      if (heard.length >= count) resolve();
      else waiting = { count, resolve };
    }),
  };
}

function received(transport: RtpTransport): { packets: { text: string; port: number }[]; next(count: number): Promise<void> } {
  const packets: { text: string; port: number }[] = [];
  let waiting: { count: number; resolve(): void } | null = null;
  transport.onPacket = (data, length, _address, port) => {
    packets.push({ text: Buffer.from(data.subarray(0, length)).toString(), port });
    if (waiting && packets.length >= waiting.count) waiting.resolve();
  };
  return {
    packets,
    next: (count) => new Promise<void>((resolve) => {
      if (packets.length >= count) resolve();
      else waiting = { count, resolve };
    }),
  };
}

/** A media clock the test moves by hand: a pass runs exactly when `tick()` says, never late. */
function manualTime(): MediaTimeSource & { tick(): void } {
  let now = 0;
  let fire: (() => void) | null = null;
  return {
    now: () => now,
    setTimer(delayMs, callback) {
      fire = callback;
      return { cancel: () => { fire = null; } };
    },
    tick() {
      now += 20;
      const callback = fire;
      fire = null;
      callback?.();
    },
  };
}

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

/** The thread records a batch just after its last packet leaves: wait (boundedly) for `count`. */
async function sendTimingOf(thread: RtpIoThread, count: number): Promise<ReturnType<RtpIoThread['sendTiming']>> {
  for (let waited = 0; waited < 2000 && thread.sendTiming().lateness.count < count; waited += 5) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return thread.sendTiming();
}

describe('RTP sockets on the I/O thread', () => {
  const threads: RtpIoThread[] = [];
  after(async () => {
    for (const thread of threads) await thread.close();
  });

  it('binds ports of the range, carries datagrams both ways, and gives the port back on close', async () => {
    const ports = new PortAllocator({ min: 47500, max: 47520 });
    const thread = new RtpIoThread({ bindAddress: '127.0.0.1', ports });
    threads.push(thread);
    const far = await peer();
    const transport = await thread.open();
    assert.ok(transport.localPort >= 47500 && transport.localPort <= 47520);
    assert.equal(ports.available, ports.capacity - 1);

    const inbound = received(transport);
    far.socket.send('hello', transport.localPort, '127.0.0.1');
    await inbound.next(1);
    assert.deepEqual(inbound.packets, [{ text: 'hello', port: far.port }]);

    // Outside a media pass a packet leaves at once, and the buffer may be reused straight away.
    const buffer = text('first');
    transport.send(buffer, buffer.length, far.port, '127.0.0.1');
    buffer.set(text('XXXXX'));
    await far.next(1);
    assert.equal(far.heard[0]?.text, 'first');
    assert.equal(far.heard[0]?.from, transport.localPort);

    transport.close();
    assert.equal(ports.available, ports.capacity);
    far.socket.close();
  });

  /** A socket of a new I/O thread whose media passes (driven by hand) each send "tick N" to a peer. */
  async function pacedSocket(sendDelayMs: number, ports: PortAllocator) {
    const time = manualTime();
    const scheduler = new MediaScheduler({ time });
    const thread = new RtpIoThread({ bindAddress: '127.0.0.1', ports, scheduler, sendDelayMs });
    threads.push(thread);
    const far = await peer();
    const transport = await thread.open();
    let passes = 0;
    const registration = scheduler.register({
      tick: () => {
        passes++;
        const packet = text(`tick ${passes}`);
        transport.send(packet, packet.length, far.port, '127.0.0.1');
      },
    });
    return {
      time, thread, far, transport,
      passes: () => passes,
      close(): void {
        scheduler.unregister(registration);
        transport.close();
        far.socket.close();
      },
    };
  }

  it('holds a pass’s packets until the tick is due plus the send delay, and keeps their order', async () => {
    const { time, thread, far, transport, passes, close } = await pacedSocket(40, new PortAllocator({ min: 47530, max: 47550 }));
    const passStarted = sharedNow();
    time.tick();
    assert.equal(passes(), 1);
    // Sent after the pass, outside it: due at once, but it must not overtake the held packet.
    const late = text('after the pass');
    transport.send(late, late.length, far.port, '127.0.0.1');
    await far.next(2);
    assert.deepEqual(far.heard.map((h) => h.text), ['tick 1', 'after the pass']);
    // Held on the I/O thread's timer: it cannot have left before its time (a loaded machine only delays it).
    assert.ok((far.heard[0]?.at as number) >= passStarted + 40 - 0.5, `left ${((far.heard[0]?.at as number) - passStarted).toFixed(2)} ms after the pass began`);
    // The pass's batch is timed and was waiting in time; the one sent outside a pass has no time.
    const timing = await sendTimingOf(thread, 1);
    assert.equal(timing.lateness.count, 1);
    assert.equal(timing.overdueBatches, 0);
    assert.ok(timing.lateness.maxMs >= 0 && timing.lateness.maxMs === timing.lateness.meanMs, 'one lateness recorded');
    close();
  });

  it('counts a pass’s batch that reaches the thread after its send time as overdue, and sends it at once', async () => {
    // No delay: every pass's batch is already due when it gets to the thread.
    const { time, thread, far, close } = await pacedSocket(0, new PortAllocator({ min: 47551, max: 47559 }));
    time.tick();
    time.tick();
    await far.next(2);
    assert.deepEqual(far.heard.map((h) => h.text), ['tick 1', 'tick 2']);
    const timing = await sendTimingOf(thread, 2);
    assert.equal(timing.overdueBatches, 2);
    assert.equal(timing.lateness.count, 2);
    close();
  });

  it('narrows a socket to its peer: once set, datagrams from elsewhere no longer arrive', async () => {
    const thread = new RtpIoThread({ bindAddress: '127.0.0.1', ports: new PortAllocator({ min: 47560, max: 47580 }) });
    threads.push(thread);
    const far = await peer();
    const stranger = await peer();
    const transport = await thread.open();
    const inbound = received(transport);

    transport.setPeer?.({ address: '127.0.0.1', port: far.port });
    // The connect is made on the I/O thread; a packet sent to the peer shows it has landed.
    const probe = text('to the peer');
    transport.send(probe, probe.length, far.port, '127.0.0.1');
    await far.next(1);
    stranger.socket.send('stranger', transport.localPort, '127.0.0.1');
    far.socket.send('from the peer', transport.localPort, '127.0.0.1');
    await inbound.next(1);
    // One more round trip to the I/O thread, so a stranger's datagram would have come by now.
    far.socket.send('again', transport.localPort, '127.0.0.1');
    await inbound.next(2);
    assert.deepEqual(inbound.packets.map((p) => p.text), ['from the peer', 'again']);

    transport.close();
    far.socket.close();
    stranger.socket.close();
  });

  it('when the thread dies, its sockets report it and free their ports, and the next socket starts a new thread', async () => {
    const ports = new PortAllocator({ min: 47630, max: 47650 });
    const thread = new RtpIoThread({ bindAddress: '127.0.0.1', ports });
    threads.push(thread);
    const errors: Error[] = [];
    const first = await thread.open((error) => errors.push(error));
    assert.equal(ports.available, ports.capacity - 1);
    // White-box: nothing public kills the thread, as nothing should.
    await (thread as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    for (let waited = 0; errors.length === 0 && waited < 5000; waited += 5) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.match(errors[0]?.message ?? '', /RTP I\/O thread exited/);
    assert.equal(ports.available, ports.capacity);
    first.close();

    const far = await peer();
    const second = await thread.open();
    const inbound = received(second);
    far.socket.send('still here', second.localPort, '127.0.0.1');
    await inbound.next(1);
    assert.equal(inbound.packets[0]?.text, 'still here');
    second.close();
    far.socket.close();
  });

  it('reports a port it cannot bind and moves on to the next free one', async () => {
    const taken = createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(47590, '127.0.0.1', resolve));
    const ports = new PortAllocator({ min: 47590, max: 47600 });
    const thread = new RtpIoThread({ bindAddress: '127.0.0.1', ports });
    threads.push(thread);
    const transport = await thread.open();
    assert.notEqual(transport.localPort, 47590);
    assert.equal(ports.available, ports.capacity - 1, 'the port another process holds is not kept');
    transport.close();
    taken.close();
  });
});

/** Nice values of this process's threads, from /proc (field 19 of each task's stat). */
function threadNices(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // The command name may hold spaces; the fields after it are plain numbers.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

describe('the RTP I/O thread’s priority', () => {
  it('is set on that thread alone', { skip: process.platform !== 'linux' }, async () => {
    // Lowering a priority (a higher nice) is allowed to anyone, so this runs as any user.
    const before = threadNices().filter((n) => n === 7).length;
    const mainNice = getPriority();
    const warnings: string[] = [];
    const thread = new RtpIoThread({ bindAddress: '127.0.0.1', ports: new PortAllocator({ min: 47610, max: 47620 }), threadNice: 7, log: (m) => warnings.push(m) });
    const transport = await thread.open();
    assert.equal(threadNices().filter((n) => n === 7).length, before + 1);
    assert.equal(getPriority(), mainNice, 'the main thread keeps its own');
    assert.deepEqual(warnings, []);
    transport.close();
    await thread.close();
  });
});

describe('packet batches between threads', () => {
  it('carry datagrams with their sockets, ports and addresses, naming each address once', () => {
    const pool: ArrayBuffer[] = [];
    const writer = new PacketBatchWriter(pool);
    const reader = new AddressBook();
    assert.ok(writer.append(7, 4000, '192.0.2.1', text('one'), 3));
    assert.ok(writer.append(8, 4002, '192.0.2.1', text('two and more'), 3));
    const first = writer.take(123.5);
    assert.ok(first);
    assert.equal(first.sendAt, 123.5);
    assert.deepEqual(first.addresses, [[1, '192.0.2.1']]);
    const seen: string[] = [];
    readPacketBatch(first, reader, (id, address, port, bytes, offset, length) => {
      seen.push(`${id} ${address}:${port} ${Buffer.from(bytes.subarray(offset, offset + length)).toString()}`);
    });
    assert.deepEqual(seen, ['7 192.0.2.1:4000 one', '8 192.0.2.1:4002 two']);

    // A known address is not named again; the reader still knows it.
    writer.append(7, 4000, '192.0.2.1', text('three'), 5);
    const second = writer.take();
    assert.ok(second);
    assert.equal(second.addresses, null);
    assert.equal(second.sendAt, 0);
    readPacketBatch(second, reader, (_id, address) => assert.equal(address, '192.0.2.1'));
  });

  it('start the address names over once the book is full, and the reader follows', () => {
    const writer = new PacketBatchWriter([]);
    const reader = new AddressBook();
    const addressOf = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    let batches = 0;
    let resets = 0;
    for (let i = 0; i < 5000; i++) {
      if (!writer.append(1, 5000, addressOf(i), text('x'), 1)) assert.fail('a one-byte record always fits a fresh batch');
      if (i % 100 === 99) {
        const batch = writer.take();
        assert.ok(batch);
        batches++;
        if (batch.resetAddresses) resets++;
        const names: string[] = [];
        readPacketBatch(batch, reader, (_id, address) => names.push(address));
        assert.deepEqual(names, Array.from({ length: 100 }, (_, k) => addressOf(i - 99 + k)));
      }
    }
    assert.equal(batches, 50);
    assert.equal(resets, 1);
  });

  it('refuse a record that does not fit, and drop one too large for RTP', () => {
    const writer = new PacketBatchWriter([]);
    const big = new Uint8Array(4000);
    let appended = 0;
    while (writer.append(1, 5000, '127.0.0.1', big, big.length)) appended++;
    assert.ok(appended >= 15 && appended <= 16);
    assert.equal(writer.count, appended);
    assert.ok(writer.append(1, 5000, '127.0.0.1', new Uint8Array(5000), 5000), 'dropped, not refused');
    assert.equal(writer.count, appended);
  });
});
