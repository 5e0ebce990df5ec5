import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, describe, it } from 'node:test';
import { PortAllocator } from '../../src/endpoints/rtp/port-allocator.js';
import { RtpPacket } from '../../src/endpoints/rtp/rtp-packet.js';
import { RtpSession, type RtpMediaConfig } from '../../src/endpoints/rtp/rtp-session.js';
import { UdpTransport } from '../../src/endpoints/rtp/udp-transport.js';
import { PCMU } from '../../src/media/dsp/g711.js';

// Real UDP on 127.0.0.1 only. Ticks are driven by the test (not wall time) so it runs in well under
// a second; each tick waits just until every datagram in flight has been delivered.

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function udp(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return s;
}

type Fault = 'pass' | 'drop' | 'dup' | 'hold';

/**
 * A media relay between A and B that injects faults on the A→B direction: it drops, duplicates,
 * and holds a packet back until the next one has gone (reordering). B→A passes untouched.
 */
class FaultyRelay {
  fromA = 0;
  toB = 0;
  fromB = 0;
  toA = 0;
  private held: Buffer | null = null;
  private constructor(readonly facingA: Socket, readonly facingB: Socket) {}

  static async create(): Promise<FaultyRelay> {
    return new FaultyRelay(await udp(), await udp());
  }

  connect(aPort: number, bPort: number, plan: (packet: RtpPacket) => Fault): void {
    const parsed = new RtpPacket();
    this.facingA.on('message', (msg) => {
      this.fromA++;
      assert.equal(parsed.parse(msg), null);
      const fault = plan(parsed);
      if (fault === 'drop') return;
      if (fault === 'hold' && this.held === null) {
        this.held = Buffer.from(msg);
        return;
      }
      const copies = fault === 'dup' ? 2 : 1;
      for (let i = 0; i < copies; i++) this.forward(this.facingB, msg, bPort);
      if (this.held) {
        this.forward(this.facingB, this.held, bPort);
        this.held = null;
      }
    });
    this.facingB.on('message', (msg) => {
      this.fromB++;
      this.toA++;
      this.facingA.send(msg, aPort, '127.0.0.1');
    });
  }

  private forward(socket: Socket, msg: Buffer, port: number): void {
    this.toB++;
    socket.send(msg, port, '127.0.0.1');
  }

  port(side: Socket): number {
    return side.address().port;
  }

  close(): void {
    this.facingA.close();
    this.facingB.close();
  }
}

async function until(check: () => boolean, what: string, timeoutMs = 500): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

const media = (port: number): RtpMediaConfig => ({
  remote: { address: '127.0.0.1', port },
  codec: { name: 'PCMU', payloadType: 0 },
  telephoneEvent: { payloadType: 101 },
  payloadTypes: [{ payloadType: 0, format: 'PCMU' }, { payloadType: 101, format: 'telephone-event' }],
  direction: 'sendrecv',
});

const sockets: { close(): void }[] = [];
after(() => {
  for (const s of sockets) s.close();
});

describe('UdpTransport', () => {
  it('skips ports another process holds and frees its port on close', async () => {
    const ports = new PortAllocator({ min: 47100, max: 47120 });
    const squatter = createSocket('udp4');
    sockets.push(squatter);
    const taken = await new Promise<boolean>((resolve) => {
      squatter.once('error', () => resolve(false));
      squatter.bind(47100, '127.0.0.1', () => resolve(true));
    });
    const transport = await UdpTransport.open({ bindAddress: '127.0.0.1', ports });
    sockets.push(transport);
    if (taken) assert.equal(transport.localPort, 47102);
    assert.equal(transport.localPort % 2, 0);
    assert.equal(ports.available, ports.capacity - 1);
    transport.close();
    transport.close();
    assert.equal(ports.available, ports.capacity);
    if (taken) {
      const single = new PortAllocator({ min: 47100, max: 47100 });
      await assert.rejects(UdpTransport.open({ bindAddress: '127.0.0.1', ports: single }), /no free RTP port in 47100-47100/);
      assert.equal(single.available, 1);
    }
  });
  it('keeps packets sent back to back in one turn intact (catch-up ticks)', async () => {
    const ports = new PortAllocator({ min: 47150, max: 47170 });
    const transport = await UdpTransport.open({ bindAddress: '127.0.0.1', ports });
    const sink = await udp();
    sockets.push(transport, sink);
    const got: number[] = [];
    sink.on('message', (msg) => got.push(msg[0]!));
    // More than the transport's ring of send buffers, all before dgram gets to send the first.
    const scratch = new Uint8Array(3);
    for (let i = 0; i < 12; i++) {
      scratch[0] = i;
      transport.send(scratch, 3, sink.address().port, '127.0.0.1');
    }
    transport.send(new Uint8Array(600).fill(99), 600, sink.address().port, '127.0.0.1');
    await until(() => got.length === 13, 'datagrams');
    assert.deepEqual(got.sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 99]);
  });

  it('narrowed to a peer, hears only that peer until opened again, and sends anywhere', async () => {
    const ports = new PortAllocator({ min: 47180, max: 47190 });
    const errors: Error[] = [];
    const transport = await UdpTransport.open({ bindAddress: '127.0.0.1', ports, onError: (e) => errors.push(e) });
    const peer = await udp();
    const stranger = await udp();
    sockets.push(transport, peer, stranger);
    const heard: string[] = [];
    transport.onPacket = (data, length, _address, port) => heard.push(`${port === peer.address().port ? 'peer' : 'stranger'}:${data[0]}:${length}`);
    const atPeer: number[] = [];
    const atStranger: number[] = [];
    peer.on('message', (msg) => atPeer.push(msg[0]!));
    stranger.on('message', (msg) => atStranger.push(msg[0]!));
    const to = (socket: Socket, byte: number): void => socket.send(Uint8Array.of(byte), transport.localPort, '127.0.0.1');

    transport.setPeer({ address: '127.0.0.1', port: peer.address().port });
    // Sent while the connect is still in flight: held, then sent to the peer.
    transport.send(Uint8Array.of(1), 1, peer.address().port, '127.0.0.1');
    await until(() => atPeer.length === 1, 'packet sent while connecting');
    transport.send(Uint8Array.of(2), 1, peer.address().port, '127.0.0.1');
    await until(() => atPeer.length === 2, 'packet to the peer');
    // Back to back from one reused buffer, more than the ring holds: each leaves intact.
    const scratch = new Uint8Array(1);
    for (let i = 10; i < 22; i++) {
      scratch[0] = i;
      transport.send(scratch, 1, peer.address().port, '127.0.0.1');
    }
    await until(() => atPeer.length === 14, 'burst to the peer');
    assert.deepEqual(atPeer.slice(2), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]);
    atPeer.splice(2);
    to(stranger, 3);
    to(peer, 4);
    await until(() => heard.length === 1, 'packet from the peer');
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(heard, ['peer:4:1'], 'the stranger is not heard while narrowed');

    transport.setPeer(null);
    to(stranger, 5);
    await until(() => heard.length === 2, 'packet from the stranger');
    assert.equal(heard[1], 'stranger:5:1');

    // Narrowed again, a packet for somewhere else opens the socket up rather than fail.
    transport.setPeer({ address: '127.0.0.1', port: peer.address().port });
    await new Promise((r) => setTimeout(r, 5));
    transport.send(Uint8Array.of(6), 1, stranger.address().port, '127.0.0.1');
    await until(() => atStranger.length === 1, 'packet to another address');
    assert.deepEqual([atPeer, atStranger], [[1, 2], [6]]);

    // A peer that has gone answers with ICMP port unreachable: expected at hang-up, not reported.
    const gone = await udp();
    const gonePort = gone.address().port;
    gone.close();
    transport.setPeer({ address: '127.0.0.1', port: gonePort });
    for (let i = 0; i < 3; i++) {
      transport.send(Uint8Array.of(7), 1, gonePort, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(errors, []);
  });
});

describe('two RtpSessions over UDP loopback', () => {
  it('exchange audio both ways and DTMF exactly once through loss, duplication and reordering', async () => {
    const ports = new PortAllocator({ min: 47200, max: 47300 });
    const relay = await FaultyRelay.create();
    const blackhole = await udp();
    let strays = 0;
    blackhole.on('message', () => strays++);
    sockets.push(relay, blackhole);

    let now = 0;
    const clock = () => now;
    const digits: string[] = [];
    const bFrames: number[] = [];
    const aFrames: number[] = [];
    const a = await RtpSession.open({ bindAddress: '127.0.0.1', ports, now: clock, dtmf: { durationMs: 100, gapMs: 60 }, jitter: { depthMs: 60 } });
    const b = await RtpSession.open({
      bindAddress: '127.0.0.1', ports, now: clock, jitter: { depthMs: 60 },
      onDtmf: (d) => digits.push(d),
      onFrame: (f, kind) => kind === 'audio' && bFrames.push(PCMU.encodeSample(f[0]!) - 0x80),
    });
    sockets.push(a, b); // closed by the after hook even when an assertion fails first
    a.onFrame = (f, kind) => {
      if (kind === 'audio') aFrames.push(f[0]!);
    };
    // A is told the relay's address; B is told a wrong one and must latch onto the relay.
    a.applyMedia(media(relay.port(relay.facingA)));
    b.applyMedia(media(blackhole.address().port));

    const rand = prng(42);
    let digitIndex = -1;
    let eventTs = -1;
    let eventPacket = 0;
    relay.connect(a.localPort, b.localPort, (p) => {
      if (p.payloadType !== 101) {
        const r = rand();
        return r < 0.05 ? 'drop' : r < 0.1 ? 'dup' : r < 0.15 ? 'hold' : 'pass';
      }
      if (p.timestamp !== eventTs) {
        eventTs = p.timestamp;
        eventPacket = 0;
        digitIndex++;
      }
      const i = eventPacket++;
      switch (digitIndex) {
        case 0: return 'dup'; // every packet twice
        case 1: return i < 2 ? 'drop' : i === 2 ? 'hold' : 'pass'; // start lost, then reordered
        case 2: return i >= 4 ? 'drop' : 'pass'; // all three end packets lost
        default: return i === 0 ? 'drop' : i === 4 ? 'hold' : i === 6 ? 'dup' : 'pass';
      }
    });

    const frame = new Int16Array(160);
    const toneB = new Int16Array(160).fill(1234);
    for (let tick = 0; tick < 150; tick++) {
      // Each frame is tagged by its µ-law code so B can check order and uniqueness.
      frame.fill(PCMU.decodeSample(0x80 + (tick % 120)));
      a.queueOutbound(frame);
      b.queueOutbound(toneB);
      if (tick === 10) assert.equal(a.sendDtmf('1234'), true);
      a.tick();
      b.tick();
      now += 20;
      await until(() => relay.fromA === a.stats().packetsSent
        && b.stats().packetsReceived === relay.toB
        && relay.fromB + strays === b.stats().packetsSent
        && a.stats().packetsReceived === relay.toA, `tick ${tick} traffic`);
    }

    assert.deepEqual(digits, ['1', '2', '3', '4']);
    // '3' lost its end packets; '4' started before the idle timeout and ended it.
    assert.equal(b.stats().dtmf.endedByReplacement, 1);
    assert.ok(b.stats().dtmf.ignoredPackets >= 5, 'duplicates and retransmitted ends were seen and ignored');
    assert.equal(strays, 1, 'B sent once to its SDP address, then latched onto the relay');
    assert.deepEqual(b.stats().latchedTo, { address: '127.0.0.1', port: relay.port(relay.facingB) });
    assert.deepEqual(a.stats().latchedTo, { address: '127.0.0.1', port: relay.port(relay.facingA) });

    // B heard A's frames in order, each at most once, most of them despite the faults.
    const ids = bFrames.filter((id) => id < 120);
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]! || ids[i - 1]! - ids[i]! > 60, `order at ${i}: ${ids[i - 1]} ${ids[i]}`);
    const audioSent = a.stats().packetsSent - a.stats().dtmfPacketsSent;
    assert.ok(ids.length >= audioSent * 0.8, `${ids.length} of ${audioSent}`);
    const jb = b.stats().jitter;
    assert.ok(jb.duplicate > 0 && jb.lost > 0, JSON.stringify(jb));
    // A heard B's tone, untouched by faults.
    assert.ok(aFrames.length > 100 && aFrames.every((v) => v === PCMU.decodeSample(PCMU.encodeSample(1234))));
    assert.equal(a.stats().jitter.lost, 0);

    a.close();
    b.close();
    assert.equal(ports.available, ports.capacity);
  });
});
