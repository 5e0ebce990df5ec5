import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PortAllocator } from '../../src/endpoints/rtp/port-allocator.js';
import { RtpPacket, parseRtpPacket } from '../../src/endpoints/rtp/rtp-packet.js';
import { RtpSession, type RtpMediaConfig } from '../../src/endpoints/rtp/rtp-session.js';
import { decodeTelephoneEvent, encodeTelephoneEvent, type TelephoneEvent } from '../../src/endpoints/rtp/telephone-event.js';
import type { RtpTransport } from '../../src/endpoints/rtp/udp-transport.js';
import { PCMA, PCMU } from '../../src/media/dsp/g711.js';
import { MediaScheduler } from '../../src/media/scheduler.js';
import { VirtualClock } from '../../src/util/clock.js';

class MemoryTransport implements RtpTransport {
  onPacket: ((data: Uint8Array, length: number, address: string, port: number) => void) | null = null;
  readonly sent: { packet: RtpPacket; address: string; port: number }[] = [];
  closes = 0;
  constructor(readonly localAddress = '10.0.0.1', readonly localPort = 20000) {}
  send(data: Uint8Array, length: number, port: number, address: string): void {
    this.sent.push({ packet: parseRtpPacket(data.slice(0, length)), address, port });
  }
  close(): void {
    this.closes++;
  }
  deliver(packet: RtpPacket, address = '10.0.0.2', port = 30000): void {
    const buf = new Uint8Array(packet.encodedLength());
    packet.serializeInto(buf);
    this.onPacket?.(buf, buf.length, address, port);
  }
}

const MEDIA: RtpMediaConfig = {
  remote: { address: '10.0.0.2', port: 30000 },
  codec: { name: 'PCMU', payloadType: 0 },
  telephoneEvent: { payloadType: 101 },
  payloadTypes: [{ payloadType: 0, format: 'PCMU' }, { payloadType: 8, format: 'PCMA' }, { payloadType: 101, format: 'telephone-event' }],
  direction: 'sendrecv',
};

function setup(options: ConstructorParameters<typeof RtpSession>[1] = {}) {
  const transport = new MemoryTransport();
  const clock = { now: 0 };
  const frames: { first: number; kind: string }[] = [];
  const dtmf: string[] = [];
  const session = new RtpSession(transport, {
    now: () => clock.now, ssrc: 0x11223344, initialSequence: 65534, initialTimestamp: 0xfffffe00,
    onFrame: (f, kind) => frames.push({ first: f[0]!, kind }),
    onDtmf: (d, ms) => dtmf.push(`${d}:${ms}`),
    jitter: { depthMs: 40 },
    ...options,
  });
  const tick = (n = 1): void => {
    for (let i = 0; i < n; i++) {
      session.tick();
      clock.now += 20;
    }
  };
  return { transport, session, clock, frames, dtmf, tick };
}

function audioPacket(seq: number, ts: number, value: number, ssrc = 0xabc, codec = PCMU): RtpPacket {
  const payload = new Uint8Array(160);
  codec.encodeInto(new Int16Array(160).fill(value), payload);
  const p = new RtpPacket();
  p.payloadType = codec.payloadType;
  p.sequenceNumber = seq;
  p.timestamp = ts;
  p.ssrc = ssrc;
  return p.setPayload(payload);
}

function eventPacket(seq: number, ts: number, ev: TelephoneEvent, ssrc = 0xabc): RtpPacket {
  const payload = new Uint8Array(4);
  encodeTelephoneEvent(ev, payload);
  const p = new RtpPacket();
  p.payloadType = 101;
  p.sequenceNumber = seq;
  p.timestamp = ts;
  p.ssrc = ssrc;
  return p.setPayload(payload);
}

describe('RtpSession sending', () => {
  it('sends one packet per tick: own SSRC, seq +1 (wrapping), timestamp +160, marker on the first', () => {
    const { transport, session, tick } = setup();
    tick(); // not negotiated yet: nothing to send, the clock still runs
    assert.equal(transport.sent.length, 0);
    session.applyMedia(MEDIA);
    const frame = new Int16Array(160).fill(1000);
    session.queueOutbound(frame);
    tick(4);
    const packets = transport.sent.map((s) => s.packet);
    assert.deepEqual(packets.map((p) => p.sequenceNumber), [65534, 65535, 0, 1]);
    assert.deepEqual(packets.map((p) => p.timestamp), [0xfffffe00 + 160, 0xffffff40, 0xffffffe0, 0x80]);
    assert.deepEqual(packets.map((p) => p.marker), [true, false, false, false]);
    assert.ok(packets.every((p) => p.ssrc === 0x11223344 && p.payloadType === 0 && p.payloadLength === 160));
    assert.ok(transport.sent.every((s) => s.address === '10.0.0.2' && s.port === 30000));
    assert.ok(packets[0]!.payload.every((b) => b === PCMU.encodeSample(1000)));
    assert.ok(packets[1]!.payload.every((b) => b === 0xff), 'silence when nothing is queued');
  });

  it('pulls from the outbound source, and marks the talk spurt after not transmitting', () => {
    const { transport, session, tick } = setup({ idleAudio: 'none' });
    session.applyMedia({ ...MEDIA, codec: { name: 'PCMA', payloadType: 8 } });
    const frame = new Int16Array(160).fill(-500);
    let give = [true, true, false, false, true];
    session.setOutboundSource(() => (give.shift() ? frame : null));
    tick(5);
    const packets = transport.sent.map((s) => s.packet);
    assert.deepEqual(packets.map((p) => p.marker), [true, false, true]);
    assert.equal(((packets[2]!.timestamp - packets[1]!.timestamp) >>> 0), 3 * 160);
    assert.ok(packets.every((p) => p.payloadType === 8 && p.payload[0] === PCMA.encodeSample(-500)));
    give = [];
  });

  it('bounds the outbound queue', () => {
    const { session } = setup({ outboundQueueFrames: 2 });
    const f = new Int16Array(160);
    assert.deepEqual([session.queueOutbound(f), session.queueOutbound(f), session.queueOutbound(f)], [true, true, false]);
    assert.equal(session.stats().outboundOverflow, 1);
  });

  it('stops sending on hold and marks the first packet after resuming', () => {
    const { transport, session, tick } = setup();
    session.applyMedia(MEDIA);
    tick(2);
    session.applyMedia({ ...MEDIA, direction: 'recvonly' });
    tick(3);
    session.applyMedia({ ...MEDIA, remote: null });
    tick(1);
    assert.equal(transport.sent.length, 2);
    session.applyMedia(MEDIA);
    tick(2);
    assert.deepEqual(transport.sent.map((s) => s.packet.marker), [true, false, true, false]);
  });

  it('sends DTMF as RFC 4733 events instead of audio, with continuous sequence numbers', () => {
    const { transport, session, tick } = setup({ dtmf: { durationMs: 60, gapMs: 40 } });
    assert.equal(session.sendDtmf('1'), false); // nothing negotiated yet
    session.applyMedia(MEDIA);
    tick(1);
    assert.equal(session.sendDtmf('1*'), true);
    assert.equal(session.sendDtmf('1x'), false);
    tick(16);
    const packets = transport.sent.map((s) => s.packet);
    const ev: TelephoneEvent = { event: 0, end: false, volume: 0, duration: 0 };
    const summary = packets.map((p) => {
      if (p.payloadType !== 101) return 'audio';
      decodeTelephoneEvent(p.payloadData, p.payloadOffset, p.payloadLength, ev);
      return `${ev.event}@${(p.timestamp - packets[0]!.timestamp) >>> 0}:${ev.duration}${ev.end ? 'E' : ''}${p.marker ? 'M' : ''}`;
    });
    assert.deepEqual(summary, [
      'audio',
      '1@160:160M', '1@160:320', '1@160:480E', '1@160:480E', '1@160:480E',
      'audio', 'audio',
      '10@1280:160M', '10@1280:320', '10@1280:480E', '10@1280:480E', '10@1280:480E',
      'audio', 'audio', 'audio', 'audio',
    ]);
    const seqs = packets.map((p) => p.sequenceNumber);
    seqs.forEach((s, i) => i > 0 && assert.equal(s, (seqs[i - 1]! + 1) & 0xffff));
    assert.equal(session.sendDtmf('1'), true);
    session.applyMedia({ ...MEDIA, telephoneEvent: null });
    assert.equal(session.sendingDtmf, false);
    assert.equal(session.sendDtmf('1'), false);
  });
});

describe('RtpSession receiving', () => {
  it('decodes PCMU and PCMA into 20 ms frames through the jitter buffer', () => {
    const { transport, session, tick, frames } = setup();
    session.applyMedia(MEDIA);
    for (let i = 0; i < 6; i++) {
      transport.deliver(audioPacket(100 + i, 8000 + i * 160, 1000 + i * 1000, 0xabc, i % 2 ? PCMA : PCMU));
      tick();
    }
    const audio = frames.filter((f) => f.kind === 'audio').map((f) => f.first);
    assert.deepEqual(audio, [1000, 2000, 3000, 4000].map((v, i) => (i % 2 ? PCMA : PCMU).decodeSample((i % 2 ? PCMA : PCMU).encodeSample(v))));
    assert.equal(session.stats().jitter.received, 6);
  });

  it('drops unknown payload types, malformed datagrams, and everything before negotiation', () => {
    const { transport, session, tick, frames } = setup();
    transport.deliver(audioPacket(1, 0, 100));
    session.applyMedia(MEDIA);
    const p = audioPacket(2, 160, 100);
    p.payloadType = 18;
    transport.deliver(p);
    transport.onPacket?.(Uint8Array.of(1, 2, 3), 3, '10.0.0.2', 30000);
    tick(5);
    assert.equal(frames.length, 0);
    const s = session.stats();
    assert.equal(s.unknownPayloadType, 2);
    assert.equal(s.malformed, 1);
    assert.equal(s.latchedTo, null);
  });

  it('latches to the source of the first packet and re-latches only per the rule', () => {
    const { transport, session, tick, clock } = setup({ relatchAfterMs: 1000 });
    session.applyMedia(MEDIA);
    tick();
    assert.equal(transport.sent.at(-1)?.address, '10.0.0.2'); // the SDP address until something arrives
    transport.deliver(audioPacket(1, 0, 0), '203.0.113.9', 41000); // behind NAT: a different address
    tick();
    assert.deepEqual([transport.sent.at(-1)?.address, transport.sent.at(-1)?.port], ['203.0.113.9', 41000]);
    // Another source while the latched one is alive: dropped, latch kept.
    transport.deliver(audioPacket(2, 160, 0), '198.51.100.66', 5000);
    tick();
    assert.equal(session.stats().foreignSource, 1);
    assert.equal(transport.sent.at(-1)?.address, '203.0.113.9');
    // The latched source goes quiet past relatchAfterMs: the next source takes over (NAT rebinding).
    clock.now += 1000;
    transport.deliver(audioPacket(3, 320, 0), '203.0.113.9', 41002);
    tick();
    assert.equal(transport.sent.at(-1)?.port, 41002);
    assert.equal(session.stats().relatches, 1);
    // A re-INVITE that moves the media drops the latch: back to the (new) SDP address.
    session.applyMedia({ ...MEDIA, remote: { address: '10.0.0.3', port: 32000 } });
    tick();
    assert.deepEqual([transport.sent.at(-1)?.address, transport.sent.at(-1)?.port], ['10.0.0.3', 32000]);
    // Re-applying the same SDP (e.g. a session refresh) keeps the latch.
    transport.deliver(audioPacket(4, 480, 0), '203.0.113.9', 41002);
    session.applyMedia({ ...MEDIA, remote: { address: '10.0.0.3', port: 32000 } });
    tick();
    assert.equal(transport.sent.at(-1)?.port, 41002);
  });

  it('follows an SSRC change and drops stragglers of the old one', () => {
    const { transport, session, tick, frames, clock } = setup();
    session.applyMedia(MEDIA);
    for (let i = 0; i < 4; i++) {
      transport.deliver(audioPacket(10 + i, 1000 + i * 160, 1000, 0xaaa));
      tick();
    }
    transport.deliver(audioPacket(500, 90000, 2000, 0xbbb));
    transport.deliver(audioPacket(14, 1000 + 4 * 160, 1000, 0xaaa));
    for (let i = 1; i < 5; i++) {
      transport.deliver(audioPacket(500 + i, 90000 + i * 160, 2000, 0xbbb));
      tick();
    }
    const s = session.stats();
    assert.equal(s.ssrcChanges, 1);
    assert.equal(s.staleSsrc, 1);
    assert.equal(frames.at(-1)?.first, PCMU.decodeSample(PCMU.encodeSample(2000)));
    // Much later the old SSRC is a genuine switch back, not a straggler.
    clock.now += 1000;
    transport.deliver(audioPacket(20, 5000, 1000, 0xaaa));
    assert.equal(session.stats().ssrcChanges, 2);
  });

  it('discards audio buffered before a hold when receiving resumes', () => {
    const { transport, session, tick, frames } = setup();
    session.applyMedia(MEDIA);
    for (let i = 0; i < 5; i++) {
      transport.deliver(audioPacket(i, i * 160, 1000));
      tick();
    }
    session.applyMedia({ ...MEDIA, direction: 'sendonly' });
    const before = frames.length;
    tick(50);
    assert.equal(frames.length, before, 'no playout while not receiving');
    session.applyMedia(MEDIA);
    for (let i = 5; i < 10; i++) {
      transport.deliver(audioPacket(i, i * 160, 2000));
      tick();
    }
    const resumed = frames.slice(before).filter((f) => f.kind === 'audio').map((f) => f.first);
    assert.ok(resumed.length > 0 && resumed.every((v) => v === PCMU.decodeSample(PCMU.encodeSample(2000))));
  });

  it('reports received DTMF once and nothing while not receiving', () => {
    const { transport, session, tick, dtmf } = setup();
    session.applyMedia(MEDIA);
    let seq = 1;
    for (const [dur, end] of [[160, false], [320, false], [480, true], [480, true], [480, true]] as const) {
      transport.deliver(eventPacket(seq++, 4000, { event: 11, end, volume: 10, duration: dur }));
      tick();
    }
    assert.deepEqual(dtmf, ['#:60']);
    session.applyMedia({ ...MEDIA, direction: 'sendonly' });
    transport.deliver(eventPacket(seq++, 9000, { event: 1, end: true, volume: 10, duration: 800 }));
    tick(20);
    assert.deepEqual(dtmf, ['#:60']);
  });

  it('counts RFC 4733 packets between audio packets as received, not as lost audio', () => {
    const { transport, session, tick } = setup();
    session.applyMedia(MEDIA);
    let seq = 100;
    let ts = 8000;
    const audio = (): void => {
      transport.deliver(audioPacket(seq++, ts, 1000));
      ts += 160;
      tick();
    };
    audio();
    audio();
    for (const [dur, end] of [[160, false], [320, false], [480, true], [480, true]] as const) {
      transport.deliver(eventPacket(seq++, ts, { event: 5, end, volume: 10, duration: dur }));
      tick();
    }
    audio();
    seq++; // one audio packet really lost
    ts += 160;
    audio();
    const stats = session.stats().jitter;
    assert.equal(stats.lost, 1);
  });

  it('closes once: unregisters, closes the transport, ignores later ticks and packets', () => {
    const clock = new VirtualClock(0);
    const scheduler = new MediaScheduler({ time: clock });
    const transport = new MemoryTransport();
    const session = new RtpSession(transport, { scheduler });
    session.applyMedia(MEDIA);
    clock.advance(100);
    assert.equal(transport.sent.length, 5);
    session.close();
    session.close();
    assert.equal(transport.closes, 1);
    assert.equal(scheduler.size, 0);
    assert.equal(session.isClosed, true);
    session.tick();
    clock.advance(100);
    assert.equal(transport.sent.length, 5);
    assert.equal(session.sendDtmf('1'), false);
  });
});

describe('PortAllocator', () => {
  it('hands out even ports and reuses freed ones last', () => {
    const ports = new PortAllocator({ min: 40001, max: 40009 });
    assert.equal(ports.capacity, 4);
    const got = [ports.allocate(), ports.allocate(), ports.allocate(), ports.allocate()];
    assert.deepEqual(got, [40002, 40004, 40006, 40008]);
    assert.equal(ports.allocate(), null);
    ports.release(40004);
    ports.release(40004); // double free ignored
    ports.release(40005); // not ours
    ports.release(12345);
    assert.equal(ports.available, 1);
    assert.equal(ports.allocate(), 40004);
    ports.release(40006);
    ports.release(40002);
    assert.deepEqual([ports.allocate(), ports.allocate()], [40006, 40002]);
    assert.throws(() => new PortAllocator({ min: 500, max: 600 }), RangeError);
    assert.throws(() => new PortAllocator({ min: 40010, max: 40000 }), RangeError);
  });
});
