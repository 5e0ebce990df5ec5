import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { LegMedia } from '../../src/endpoints/sip-legs/leg-media.js';
import { PortAllocator } from '../../src/endpoints/rtp/port-allocator.js';
import { LocalRtpSockets } from '../../src/endpoints/rtp/rtp-sockets.js';
import { MediaScheduler } from '../../src/media/scheduler.js';

/** Two legs' media on loopback, ticked by one real scheduler, each recording the digits it heard. */
async function pair(): Promise<{ a: LegMedia; b: LegMedia; heardByB: string[]; close(): void }> {
  const scheduler = new MediaScheduler();
  const sockets = new LocalRtpSockets('127.0.0.1', new PortAllocator({ min: 47000, max: 47400 }));
  const heardByB: string[] = [];
  const open = (onDigit: (digit: string) => void): Promise<LegMedia> => LegMedia.open({
    sockets, advertisedAddress: '127.0.0.1', scheduler, inbandDtmf: true, now: () => performance.now(), onDigit,
  });
  const a = await open(() => undefined);
  const b = await open((digit) => heardByB.push(digit));
  return { a, b, heardByB, close: () => { a.close(); b.close(); scheduler.stop(); } };
}

async function until(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Removes telephone-event (PT 101) from an offer, as a peer without RFC 4733 support would. */
function withoutTelephoneEvent(sdp: string): string {
  return sdp.split('\r\n').filter((line) => !/^a=(rtpmap|fmtp):101 /.test(line)).map((line) => line.replace(/^(m=audio .*) 101$/, '$1')).join('\r\n');
}

describe('a SIP leg’s media', () => {
  it('sends digits as RFC 4733 events when negotiated; the far end reports each press once', async () => {
    const { a, b, heardByB, close } = await pair();
    try {
      const answer = b.negotiate(a.offer());
      assert.ok(answer.ok);
      b.start(answer.media);
      assert.ok(a.acceptAnswer(answer.sdp).ok);
      assert.equal(a.media?.telephoneEvent?.payloadType, 101);
      assert.equal(a.sendDtmf('7#', 100), true);
      await until(() => heardByB.length >= 2, 3000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(heardByB, ['7', '#']);
      assert.equal(b.stats().dtmf.events, 2);
    } finally {
      close();
    }
  });

  it('falls back to tones in the audio when the far end takes no telephone-events', async () => {
    const { a, b, heardByB, close } = await pair();
    try {
      const answer = b.negotiate(withoutTelephoneEvent(a.offer()));
      assert.ok(answer.ok);
      b.start(answer.media);
      assert.ok(a.acceptAnswer(answer.sdp).ok);
      assert.equal(a.media?.telephoneEvent, null);
      assert.equal(a.sendDtmf('4w2', 100), true);
      await until(() => heardByB.length >= 2, 4000);
      assert.deepEqual(heardByB, ['4', '2']);
      assert.equal(b.stats().dtmf.events, 0, 'nothing came as events');
    } finally {
      close();
    }
  });

  it('refuses to send before anything was negotiated, and answers a re-offer for hold', async () => {
    const { a, b, close } = await pair();
    try {
      assert.equal(a.sendDtmf('1', 100), false);
      const hold = a.offer().replace('a=sendrecv', 'a=sendonly');
      const answer = b.answerReoffer({ contentType: 'application/sdp', body: hold });
      assert.ok(answer);
      assert.match(String(answer.body), /a=recvonly/);
      assert.equal(b.answerReoffer({ contentType: 'application/sdp', body: 'v=0\r\nnonsense' }), null);
      assert.equal(b.answerReoffer(null), undefined);
    } finally {
      close();
    }
  });
});
