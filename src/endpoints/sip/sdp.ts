import { randomInt } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { parse, write, type MediaDescription, type SessionDescription } from 'sdp-transform';
import type { G711Name } from '../../media/dsp/g711.js';
import type { MediaAddress, MediaDirection, RtpFormat, RtpMediaConfig } from '../rtp/rtp-session.js';

/**
 * SDP offer/answer (RFC 3264) for our one audio stream: G.711 (PCMU, PCMA) and RFC 4733
 * telephone-events at 8 kHz, 20 ms packets. The result of a negotiation is a NegotiatedMedia that
 * RtpSession.applyMedia takes as is, for the first exchange and for every re-INVITE after it.
 */

export interface LocalMedia {
  /** Our media address as the far end must send to it (c= and o=). */
  address: string;
  /** The RtpSession's local port. */
  port: number;
  /** Our wish: sendonly puts the far end on hold, inactive stops media both ways. */
  direction?: MediaDirection;
  /** Codecs in our order of preference; both by default. */
  codecs?: readonly G711Name[];
}

export interface NegotiatedMedia extends RtpMediaConfig {
  /** The direction the far end's SDP stated. */
  remoteDirection: MediaDirection;
  /** The far end put the call on hold: a=sendonly, a=inactive or the RFC 2543 c=0.0.0.0. */
  remoteHold: boolean;
  /** The far end's a=ptime, when given; we always send 20 ms. */
  remotePtime: number | null;
}

export type SdpRejectReason = 'no-common-codec' | 'no-audio' | 'malformed';

/** A negotiation that cannot go ahead: the SIP layer answers 488 with this Warning. */
export interface SdpRejection {
  ok: false;
  reason: SdpRejectReason;
  sipStatus: 488;
  warning: { code: 304 | 305 | 399; text: string };
}

export type AnswerResult = { ok: true; sdp: string; media: NegotiatedMedia } | SdpRejection;
export type ParsedAnswer = { ok: true; media: NegotiatedMedia } | SdpRejection;

export const TELEPHONE_EVENT_PAYLOAD_TYPE = 101;
const PTIME = 20;
const CLOCK_RATE = 8000;
const SUPPORTED_EVENTS = 16;
const STATIC_PAYLOAD_TYPES: Readonly<Record<number, G711Name>> = { 0: 'PCMU', 8: 'PCMA' };
const DEFAULT_CODECS: readonly G711Name[] = ['PCMU', 'PCMA'];
const RTP_PROFILES = new Set(['RTP/AVP', 'RTP/AVPF']);

const REJECTIONS: Record<SdpRejectReason, SdpRejection['warning']> = {
  'no-common-codec': { code: 305, text: 'Incompatible media format' },
  'no-audio': { code: 304, text: 'Media type not available' },
  malformed: { code: 399, text: 'Malformed SDP' },
};

function reject(reason: SdpRejectReason): SdpRejection {
  return { ok: false, reason, sipStatus: 488, warning: REJECTIONS[reason] };
}

/**
 * Our side of one dialog's SDP: the o= line keeps its session id, and its version goes up only when
 * what we send changes, as RFC 3264 §8 requires of re-offers and answers to re-INVITEs.
 */
export class LocalSdp {
  private readonly sessionId: string;
  private version: number;
  private lastBody: string | null = null;

  constructor(private readonly username = 'switchboard') {
    this.sessionId = String(randomInt(1, 2 ** 47));
    this.version = randomInt(1, 2 ** 20);
  }

  /** Our offer (initial INVITE, or a re-INVITE to hold or resume). */
  offer(local: LocalMedia): string {
    const codecs = local.codecs ?? DEFAULT_CODECS;
    const rtp: MediaDescription['rtp'] = codecs.map((name) => ({ payload: payloadTypeOf(name), codec: name, rate: CLOCK_RATE }));
    rtp.push({ payload: TELEPHONE_EVENT_PAYLOAD_TYPE, codec: 'telephone-event', rate: CLOCK_RATE });
    return this.render(local, [{
      type: 'audio',
      port: local.port,
      protocol: 'RTP/AVP',
      payloads: rtp.map((r) => r.payload).join(' '),
      rtp,
      fmtp: [{ payload: TELEPHONE_EVENT_PAYLOAD_TYPE, config: `0-${SUPPORTED_EVENTS}` }],
      ptime: PTIME,
      direction: local.direction ?? 'sendrecv',
    }]);
  }

  /** Answers the far end's offer, or says why not. Nothing is remembered when it is rejected. */
  answer(offerSdp: string, local: LocalMedia): AnswerResult {
    const offer = parseSdp(offerSdp);
    if (offer === null) return reject('malformed');
    const allowed = local.codecs ?? DEFAULT_CODECS;
    let chosen: { index: number; stream: StreamChoice } | null = null;
    let sawAudio = false;
    for (const [index, m] of offer.media.entries()) {
      if (m.type !== 'audio' || m.port === 0 || chosen !== null) continue;
      sawAudio = true;
      if (!RTP_PROFILES.has(m.protocol)) continue;
      const stream = chooseStream(m, allowed);
      if (stream !== null) chosen = { index, stream };
    }
    if (chosen === null) return reject(sawAudio ? 'no-common-codec' : 'no-audio');
    const { stream } = chosen;
    const m = offer.media[chosen.index] as MediaDescription;
    const remote = remoteAddress(offer, m);
    if (remote === undefined) return reject('malformed');

    const remoteDirection = directionOf(offer, m);
    const direction = intersect(mirror(remoteDirection), local.direction ?? 'sendrecv');
    const rtp: MediaDescription['rtp'] = [{ payload: stream.codec.payloadType, codec: stream.codec.name, rate: CLOCK_RATE }];
    const fmtp: MediaDescription['fmtp'] = [];
    if (stream.event !== null) {
      rtp.push({ payload: stream.event.payloadType, codec: 'telephone-event', rate: CLOCK_RATE });
      fmtp.push({ payload: stream.event.payloadType, config: stream.event.events });
    }
    // RFC 3264 §6: one m= line per offered one, in order; the ones we do not take get port 0.
    const media: MediaDescription[] = offer.media.map((om, i) =>
      i === chosen.index
        ? { type: 'audio', port: local.port, protocol: m.protocol, payloads: rtp.map((r) => r.payload).join(' '), rtp, fmtp, ptime: PTIME, direction }
        : { type: om.type, port: 0, protocol: om.protocol, payloads: String(om.payloads ?? ''), rtp: [], fmtp: [] },
    );
    return {
      ok: true,
      sdp: this.render(local, media),
      media: {
        remote,
        codec: stream.codec,
        telephoneEvent: stream.event && { payloadType: stream.event.payloadType },
        payloadTypes: stream.receive,
        direction,
        remoteDirection,
        remoteHold: remoteDirection === 'sendonly' || remoteDirection === 'inactive' || remote === null,
        remotePtime: m.ptime ?? null,
      },
    };
  }

  private render(local: LocalMedia, media: MediaDescription[]): string {
    const ipVer = isIPv6(local.address) ? 6 : 4;
    const description = (version: number): SessionDescription => ({
      version: 0,
      origin: { username: this.username, sessionId: this.sessionId, sessionVersion: version, netType: 'IN', ipVer, address: local.address },
      name: 'Switchboard',
      connection: { version: ipVer, ip: local.address },
      timing: { start: 0, stop: 0 },
      media,
    });
    const body = write(description(0));
    if (body !== this.lastBody) {
      this.version++;
      this.lastBody = body;
    }
    return write(description(this.version));
  }
}

/**
 * Reads the far end's answer to our offer (made with LocalSdp.offer). Pass what the offer was
 * made with (codecs, direction) when it was not the default.
 */
export function parseAnswer(answerSdp: string, ourOffer: Pick<LocalMedia, 'codecs' | 'direction'> = {}): ParsedAnswer {
  const offered = ourOffer.codecs ?? DEFAULT_CODECS;
  const answer = parseSdp(answerSdp);
  if (answer === null) return reject('malformed');
  // We offered one audio stream, so the answer's first m= line is its answer to it.
  const m = answer.media[0];
  if (m === undefined || m.type !== 'audio' || m.port === 0) return reject('no-audio');
  const stream = chooseStream(m, offered);
  if (stream === null) return reject('no-common-codec');
  const remote = remoteAddress(answer, m);
  if (remote === undefined) return reject('malformed');
  // Answerers should send with the offer's payload types but some use their own: accept both.
  const receive = [...stream.receive];
  const taken = new Set(receive.map((r) => r.payloadType));
  const ours: { payloadType: number; format: RtpFormat }[] = [
    ...offered.map((name) => ({ payloadType: payloadTypeOf(name), format: name })),
    { payloadType: TELEPHONE_EVENT_PAYLOAD_TYPE, format: 'telephone-event' },
  ];
  for (const entry of ours) if (!taken.has(entry.payloadType)) receive.push(entry);
  const remoteDirection = directionOf(answer, m);
  return {
    ok: true,
    media: {
      remote,
      codec: stream.codec,
      telephoneEvent: stream.event && { payloadType: stream.event.payloadType },
      payloadTypes: receive,
      // An answerer may only narrow what we offered; one that widens it is held to our offer.
      direction: intersect(mirror(remoteDirection), ourOffer.direction ?? 'sendrecv'),
      remoteDirection,
      remoteHold: remoteDirection === 'sendonly' || remoteDirection === 'inactive' || remote === null,
      remotePtime: m.ptime ?? null,
    },
  };
}

interface StreamChoice {
  codec: { name: G711Name; payloadType: number };
  event: { payloadType: number; events: string } | null;
  receive: { payloadType: number; format: RtpFormat }[];
}

/** The first offered G.711 codec we allow, in the offerer's order, and its telephone-event. */
function chooseStream(m: MediaDescription, allowed: readonly G711Name[]): StreamChoice | null {
  let codec: StreamChoice['codec'] | null = null;
  let event: StreamChoice['event'] = null;
  const receive: StreamChoice['receive'] = [];
  for (const pt of payloadList(m)) {
    const map = m.rtp.find((r) => r.payload === pt);
    const name = map ? map.codec.toUpperCase() : STATIC_PAYLOAD_TYPES[pt];
    const rate = map ? map.rate : CLOCK_RATE;
    if (rate !== CLOCK_RATE || (map?.encoding !== undefined && map.encoding !== 1)) continue;
    if ((name === 'PCMU' || name === 'PCMA') && allowed.includes(name)) {
      codec ??= { name, payloadType: pt };
      if (codec.name === name) receive.push({ payloadType: pt, format: name });
    } else if (name === 'TELEPHONE-EVENT' && event === null) {
      const config = m.fmtp.find((f) => f.payload === pt)?.config;
      // RFC 4733 §2.4.1: no fmtp means events 0-15.
      const events = supportedEvents(config ?? '0-15');
      if (events !== null) event = { payloadType: pt, events };
    }
  }
  if (codec === null) return null;
  if (event !== null) receive.push({ payloadType: event.payloadType, format: 'telephone-event' });
  return { codec, event, receive };
}

/** The offered event list cut down to the ones we handle (0-16), as an fmtp value; null if none. */
function supportedEvents(config: string): string | null {
  const have = new Uint8Array(SUPPORTED_EVENTS + 1);
  for (const part of config.split(',')) {
    const match = /^\s*(\d+)(?:\s*-\s*(\d+))?\s*$/.exec(part);
    if (!match) continue;
    const from = Number(match[1]);
    const to = Math.min(SUPPORTED_EVENTS, Number(match[2] ?? match[1]));
    for (let e = from; e <= to; e++) have[e] = 1;
  }
  const ranges: string[] = [];
  for (let e = 0; e <= SUPPORTED_EVENTS; e++) {
    if (have[e] !== 1) continue;
    let end = e;
    while (end < SUPPORTED_EVENTS && have[end + 1] === 1) end++;
    ranges.push(end === e ? String(e) : `${e}-${end}`);
    e = end;
  }
  return ranges.length > 0 ? ranges.join(',') : null;
}

function parseSdp(text: string): SessionDescription | null {
  if (typeof text !== 'string' || !/^v=0\s*$/m.test(text)) return null;
  try {
    const sdp = parse(text);
    return Array.isArray(sdp.media) ? sdp : null;
  } catch {
    return null;
  }
}

function payloadList(m: MediaDescription): number[] {
  return String(m.payloads ?? '')
    .split(/\s+/)
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((p) => p <= 127);
}

/** null: the far end wants no media sent to it; undefined: no c= line at all (malformed). */
function remoteAddress(sdp: SessionDescription, m: MediaDescription): MediaAddress | null | undefined {
  const ip = m.connection?.ip ?? sdp.connection?.ip;
  if (ip === undefined) return undefined;
  // Multicast c= lines carry a TTL suffix ("/127"); we only do unicast but tolerate the form.
  const address = ip.split('/')[0] ?? ip;
  if (address === '0.0.0.0' || address === '::') return null;
  return { address, port: m.port };
}

function payloadTypeOf(name: G711Name): number {
  return name === 'PCMU' ? 0 : 8;
}

function directionOf(sdp: SessionDescription, m: MediaDescription): MediaDirection {
  return m.direction ?? sdp.direction ?? 'sendrecv';
}

function mirror(direction: MediaDirection): MediaDirection {
  if (direction === 'sendonly') return 'recvonly';
  if (direction === 'recvonly') return 'sendonly';
  return direction;
}

function intersect(a: MediaDirection, b: MediaDirection): MediaDirection {
  const send = a !== 'recvonly' && a !== 'inactive' && b !== 'recvonly' && b !== 'inactive';
  const recv = a !== 'sendonly' && a !== 'inactive' && b !== 'sendonly' && b !== 'inactive';
  return send && recv ? 'sendrecv' : send ? 'sendonly' : recv ? 'recvonly' : 'inactive';
}
