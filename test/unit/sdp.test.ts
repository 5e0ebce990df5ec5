import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'sdp-transform';
import { LocalSdp, parseAnswer, type AnswerResult, type NegotiatedMedia } from '../../src/endpoints/sip/sdp.js';

const sdp = (...lines: string[]): string => `${lines.join('\r\n')}\r\n`;
const LOCAL = { address: '192.0.2.10', port: 20000 };

function ok(result: AnswerResult): { sdp: string; media: NegotiatedMedia } {
  assert.equal(result.ok, true, JSON.stringify(result));
  if (!result.ok) throw new Error('unreachable');
  return result;
}

const SIPP_UAC = sdp(
  'v=0', 'o=user1 53655765 2353687637 IN IP4 127.0.1.1', 's=-', 'c=IN IP4 127.0.1.1', 't=0 0',
  'm=audio 6000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000',
);

const BARESIP = sdp(
  'v=0', 'o=- 1163979566 3411264131 IN IP4 192.168.1.20', 's=-', 'c=IN IP4 192.168.1.20', 't=0 0',
  'm=audio 10002 RTP/AVP 96 9 0 8 101 102', 'b=AS:128',
  'a=rtpmap:96 opus/48000/2', 'a=fmtp:96 stereo=1;sprop-stereo=1', 'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/48000',
  'a=rtpmap:102 telephone-event/8000', 'a=fmtp:102 0-15', 'a=sendrecv', 'a=label:1', 'a=rtcp-rsize',
  'a=ssrc:3418719213 cname:4c6a1b7e-0b0b-4a0c-8c44-2b2f0c0e5a31',
);

const ASTERISK = sdp(
  'v=0', 'o=- 1847206 1847206 IN IP4 203.0.113.5', 's=Asterisk', 'c=IN IP4 203.0.113.5', 't=0 0',
  'm=audio 17436 RTP/AVP 8 0 3 101', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:3 GSM/8000',
  'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=maxptime:150', 'a=sendrecv',
);

const asteriskReinvite = (version: number, direction: string, ip = '203.0.113.5'): string =>
  ASTERISK.replace('1847206 1847206', `1847206 ${version}`).replace('c=IN IP4 203.0.113.5', `c=IN IP4 ${ip}`).replace('a=sendrecv', `a=${direction}`);

const FREESWITCH = sdp(
  'v=0', 'o=FreeSWITCH 1700000000 1700000001 IN IP4 198.51.100.20', 's=FreeSWITCH', 'c=IN IP4 198.51.100.20', 't=0 0',
  'm=audio 24576 RTP/AVP 102 9 0 8 101 13', 'a=rtpmap:102 opus/48000/2',
  'a=fmtp:102 useinbandfec=1; maxaveragebitrate=30000; maxplaybackrate=48000; ptime=20; minptime=10; maxptime=40',
  'a=rtpmap:9 G722/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16', 'a=rtpmap:13 CN/8000', 'a=ptime:20', 'a=sendrecv', 'a=rtcp:24577 IN IP4 198.51.100.20',
);

describe('LocalSdp.offer', () => {
  it('offers PCMU, PCMA and telephone-event 101 at 20 ms, sendrecv, on our address', () => {
    const text = new LocalSdp().offer(LOCAL);
    const parsed = parse(text);
    assert.equal(parsed.connection?.ip, '192.0.2.10');
    assert.equal(parsed.origin.address, '192.0.2.10');
    const m = parsed.media[0]!;
    assert.equal(m.port, 20000);
    assert.equal(m.protocol, 'RTP/AVP');
    assert.equal(String(m.payloads), '0 8 101');
    assert.deepEqual(m.rtp.map((r) => `${r.payload} ${r.codec}/${r.rate}`), ['0 PCMU/8000', '8 PCMA/8000', '101 telephone-event/8000']);
    assert.deepEqual(m.fmtp, [{ payload: 101, config: '0-16' }]);
    assert.equal(m.ptime, 20);
    assert.equal(m.direction, 'sendrecv');
    assert.match(text, /\r\n$/);
  });

  it('keeps the o= version while the SDP is unchanged and bumps it when it changes', () => {
    const local = new LocalSdp();
    const v = (text: string): number => parse(text).origin.sessionVersion;
    const first = local.offer(LOCAL);
    assert.equal(v(local.offer(LOCAL)), v(first));
    const hold = local.offer({ ...LOCAL, direction: 'sendonly' });
    assert.equal(parse(hold).media[0]?.direction, 'sendonly');
    assert.equal(v(hold), v(first) + 1);
    assert.equal(parse(hold).origin.sessionId, parse(first).origin.sessionId);
  });

  it('writes IPv6 addresses as IP6', () => {
    const text = new LocalSdp().offer({ address: '2001:db8::5', port: 20000 });
    assert.match(text, /^c=IN IP6 2001:db8::5\r$/m);
    assert.match(text, /^o=\S+ \d+ \d+ IN IP6 2001:db8::5\r$/m);
  });
});

describe('LocalSdp.answer', () => {
  it('answers SIPp\'s PCMU-only offer without telephone-event', () => {
    const { sdp: answer, media } = ok(new LocalSdp().answer(SIPP_UAC, LOCAL));
    assert.deepEqual(media.remote, { address: '127.0.1.1', port: 6000 });
    assert.deepEqual(media.codec, { name: 'PCMU', payloadType: 0 });
    assert.equal(media.telephoneEvent, null);
    assert.equal(media.direction, 'sendrecv');
    assert.equal(media.remoteHold, false);
    const m = parse(answer).media[0]!;
    assert.equal(String(m.payloads), '0');
    assert.equal(m.port, 20000);
    assert.equal(m.ptime, 20);
  });

  it('picks PCMU and the 8 kHz telephone-event from baresip\'s offer', () => {
    const { sdp: answer, media } = ok(new LocalSdp().answer(BARESIP, LOCAL));
    assert.deepEqual(media.codec, { name: 'PCMU', payloadType: 0 });
    assert.deepEqual(media.telephoneEvent, { payloadType: 102 });
    assert.deepEqual(media.payloadTypes, [{ payloadType: 0, format: 'PCMU' }, { payloadType: 102, format: 'telephone-event' }]);
    const m = parse(answer).media[0]!;
    assert.equal(String(m.payloads), '0 102');
    assert.deepEqual(m.fmtp, [{ payload: 102, config: '0-15' }]);
  });

  it('follows the offerer\'s order: PCMA first from Asterisk', () => {
    const { sdp: answer, media } = ok(new LocalSdp().answer(ASTERISK, LOCAL));
    assert.deepEqual(media.codec, { name: 'PCMA', payloadType: 8 });
    assert.deepEqual(media.telephoneEvent, { payloadType: 101 });
    assert.equal(media.remotePtime, 20);
    assert.equal(String(parse(answer).media[0]?.payloads), '8 101');
    assert.deepEqual(parse(answer).media[0]?.fmtp, [{ payload: 101, config: '0-16' }]);
  });

  it('skips opus and G722 in FreeSWITCH\'s offer', () => {
    const { media } = ok(new LocalSdp().answer(FREESWITCH, LOCAL));
    assert.deepEqual(media.codec, { name: 'PCMU', payloadType: 0 });
    assert.deepEqual(media.remote, { address: '198.51.100.20', port: 24576 });
  });

  it('respects our codec list and static payload types without rtpmap', () => {
    const offer = sdp('v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', 'm=audio 4000 RTP/AVP 0 8');
    assert.equal(ok(new LocalSdp().answer(offer, { ...LOCAL, codecs: ['PCMA'] })).media.codec.name, 'PCMA');
    // No telephone-event fmtp means events 0-15 (RFC 4733 §2.4.1).
    const te = sdp('v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', 'm=audio 4000 RTP/AVP 0 100', 'a=rtpmap:100 telephone-event/8000');
    assert.deepEqual(parse(ok(new LocalSdp().answer(te, LOCAL)).sdp).media[0]?.fmtp, [{ payload: 100, config: '0-15' }]);
  });

  it('returns a typed 488 when there is no common codec or no usable audio', () => {
    const g729 = sdp('v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', 'm=audio 4000 RTP/AVP 18 96', 'a=rtpmap:18 G729/8000', 'a=rtpmap:96 opus/48000/2');
    assert.deepEqual(new LocalSdp().answer(g729, LOCAL), {
      ok: false, reason: 'no-common-codec', sipStatus: 488, warning: { code: 305, text: 'Incompatible media format' },
    });
    const srtp = BARESIP.replace('RTP/AVP', 'RTP/SAVP');
    const srtpResult = new LocalSdp().answer(srtp, LOCAL);
    assert.ok(!srtpResult.ok && srtpResult.reason === 'no-common-codec');
    const video = sdp('v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', 'm=video 5000 RTP/AVP 96', 'a=rtpmap:96 H264/90000');
    const noAudio = new LocalSdp().answer(video, LOCAL);
    assert.ok(!noAudio.ok && noAudio.reason === 'no-audio' && noAudio.warning.code === 304);
    for (const bad of ['', 'hello', 'v=0\r\nm=audio 4000 RTP/AVP 0\r\n']) {
      const r = new LocalSdp().answer(bad, LOCAL);
      assert.ok(!r.ok && r.reason === 'malformed' && r.sipStatus === 488, bad);
    }
  });

  it('rejects the streams it does not take with port 0, one m= line per offered one', () => {
    const offer = sdp(
      'v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0',
      'm=audio 4000 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/8000',
      'm=video 4002 RTP/AVP 96', 'a=rtpmap:96 VP8/90000',
    );
    const media = parse(ok(new LocalSdp().answer(offer, LOCAL)).sdp).media;
    assert.deepEqual(media.map((m) => `${m.type} ${m.port} ${m.payloads}`), ['audio 20000 0 101', 'video 0 96']);
  });

  it('mirrors hold and resume re-INVITEs and keeps its o= version when nothing changes', () => {
    const local = new LocalSdp();
    const version = (text: string): number => parse(text).origin.sessionVersion;
    const initial = ok(local.answer(ASTERISK, LOCAL));

    const hold = ok(local.answer(asteriskReinvite(1847207, 'sendonly'), LOCAL));
    assert.equal(hold.media.direction, 'recvonly');
    assert.equal(hold.media.remoteDirection, 'sendonly');
    assert.equal(hold.media.remoteHold, true);
    assert.equal(parse(hold.sdp).media[0]?.direction, 'recvonly');
    assert.equal(version(hold.sdp), version(initial.sdp) + 1);

    const inactive = ok(local.answer(asteriskReinvite(1847208, 'inactive'), LOCAL));
    assert.equal(inactive.media.direction, 'inactive');
    assert.equal(inactive.media.remoteHold, true);

    // RFC 2543 hold: c=0.0.0.0, still sendrecv. Nothing may be sent.
    const oldHold = ok(local.answer(asteriskReinvite(1847209, 'sendrecv', '0.0.0.0'), LOCAL));
    assert.equal(oldHold.media.remote, null);
    assert.equal(oldHold.media.remoteHold, true);

    const resume = ok(local.answer(asteriskReinvite(1847210, 'sendrecv'), LOCAL));
    assert.equal(resume.media.direction, 'sendrecv');
    assert.equal(resume.media.remoteHold, false);
    assert.deepEqual(resume.media.remote, { address: '203.0.113.5', port: 17436 });
    assert.equal(parse(resume.sdp).media[0]?.direction, 'sendrecv');

    // A session refresh re-INVITE with the same offer gets the same answer, same version.
    const again = ok(local.answer(asteriskReinvite(1847211, 'sendrecv'), LOCAL));
    assert.equal(version(again.sdp), version(resume.sdp));
  });

  it('takes the direction from the session level and combines it with ours', () => {
    const offer = SIPP_UAC.replace('t=0 0', 't=0 0\r\na=recvonly');
    const { media } = ok(new LocalSdp().answer(offer, LOCAL));
    assert.equal(media.direction, 'sendonly');
    const ours = ok(new LocalSdp().answer(SIPP_UAC, { ...LOCAL, direction: 'sendonly' }));
    assert.equal(ours.media.direction, 'sendonly');
    assert.equal(parse(ours.sdp).media[0]?.direction, 'sendonly');
  });
});

describe('parseAnswer', () => {
  it('reads the codec, telephone-event and address of an answer to our offer', () => {
    const answer = sdp(
      'v=0', 'o=- 2 2 IN IP4 198.51.100.9', 's=-', 'c=IN IP4 198.51.100.9', 't=0 0',
      'm=audio 31000 RTP/AVP 8 96', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:96 telephone-event/8000', 'a=fmtp:96 0-15', 'a=ptime:30',
    );
    const result = parseAnswer(answer);
    assert.ok(result.ok);
    assert.deepEqual(result.media.remote, { address: '198.51.100.9', port: 31000 });
    assert.deepEqual(result.media.codec, { name: 'PCMA', payloadType: 8 });
    assert.deepEqual(result.media.telephoneEvent, { payloadType: 96 });
    assert.equal(result.media.remotePtime, 30);
    // Their payload types, plus the ones we offered (some answerers send with those).
    const byPt = new Map(result.media.payloadTypes.map((p) => [p.payloadType, p.format]));
    assert.equal(byPt.get(8), 'PCMA');
    assert.equal(byPt.get(96), 'telephone-event');
    assert.equal(byPt.get(101), 'telephone-event');
    assert.equal(byPt.get(0), 'PCMU');
  });

  it('negotiates end to end between two LocalSdps, including hold', () => {
    const a = new LocalSdp();
    const b = new LocalSdp();
    const answered = ok(b.answer(a.offer(LOCAL), { address: '198.51.100.7', port: 30000 }));
    const parsed = parseAnswer(answered.sdp);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.media.codec, { name: 'PCMU', payloadType: 0 });
    assert.deepEqual(parsed.media.telephoneEvent, { payloadType: 101 });
    assert.deepEqual(answered.media.remote, { address: '192.0.2.10', port: 20000 });

    const holdAnswer = ok(b.answer(a.offer({ ...LOCAL, direction: 'sendonly' }), { address: '198.51.100.7', port: 30000 }));
    assert.equal(holdAnswer.media.direction, 'recvonly');
    const held = parseAnswer(holdAnswer.sdp, { direction: 'sendonly' });
    assert.ok(held.ok && held.media.direction === 'sendonly' && held.media.remoteDirection === 'recvonly');
    // An answerer that ignores our hold and says sendrecv does not make us receive.
    const sloppy = parseAnswer(holdAnswer.sdp.replace('a=recvonly', 'a=sendrecv'), { direction: 'sendonly' });
    assert.ok(sloppy.ok && sloppy.media.direction === 'sendonly');
  });

  it('rejects answers that refuse the stream or pick nothing we offered', () => {
    const base = ['v=0', 'o=- 2 2 IN IP4 198.51.100.9', 's=-', 'c=IN IP4 198.51.100.9', 't=0 0'];
    const refused = parseAnswer(sdp(...base, 'm=audio 0 RTP/AVP 0'));
    assert.ok(!refused.ok && refused.reason === 'no-audio');
    const wrong = parseAnswer(sdp(...base, 'm=audio 3000 RTP/AVP 18', 'a=rtpmap:18 G729/8000'));
    assert.ok(!wrong.ok && wrong.reason === 'no-common-codec');
    const pcmuOnly = parseAnswer(sdp(...base, 'm=audio 3000 RTP/AVP 0'), { codecs: ['PCMA'] });
    assert.ok(!pcmuOnly.ok && pcmuOnly.reason === 'no-common-codec');
    const garbage = parseAnswer('nonsense');
    assert.ok(!garbage.ok && garbage.reason === 'malformed');
  });
});
