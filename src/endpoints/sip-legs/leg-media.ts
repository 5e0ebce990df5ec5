import { DtmfDeduplicator, type DtmfSource } from '../../calls/dtmf-deduplicator.js';
import { DtmfDetector } from '../../media/dsp/dtmf-detector.js';
import { addDtmf, isDtmfDigit, toPcm16, type DtmfDigit } from '../../media/dsp/tone-generator.js';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../../media/frame.js';
import type { AudioTap } from '../../calls/leg-audio.js';
import type { AudioSource } from '../../media/player/audio-source.js';
import type { MediaScheduler } from '../../media/scheduler.js';
import { RtpSession, type RtpSessionStats } from '../rtp/rtp-session.js';
import type { RtpSockets } from '../rtp/rtp-sockets.js';
import type { SessionBody } from '../sip/ua-core.js';
import { LocalSdp, parseAnswer, type AnswerResult, type NegotiatedMedia, type ParsedAnswer } from '../sip/sdp.js';

export interface LegMediaOptions {
  /** Where the leg's RTP socket comes from. */
  sockets: RtpSockets;
  /** Address the far end sends RTP to (our c= line). */
  advertisedAddress: string;
  scheduler: MediaScheduler;
  /** Also listen for DTMF tones in the audio. */
  inbandDtmf: boolean;
  /** Monotonic milliseconds. */
  now: () => number;
  /** One press of a key, however it arrived, reported once. */
  onDigit: (digit: string) => void;
  onSocketError?: (error: Error) => void;
  /** Called once, on the first close, while the session's final counters can still be read. */
  onClosed?: (media: LegMedia) => void;
}

export const SDP = 'application/sdp';

/** Pause between digits sent as tones, when the far end takes no RFC 4733 events. */
const INBAND_GAP_MS = 100;
/** Telnyx's pause characters in send_dtmf digits. */
const PAUSES: Readonly<Record<string, number>> = { w: 500, W: 1000 };

/**
 * One SIP leg's media: its RTP session, its side of the SDP offer/answer, and DTMF both ways.
 * Digits arrive as RFC 4733 events and, optionally, as tones heard by the in-band detector; a
 * deduplicator makes one report of a press that came both ways.
 */
export class LegMedia {
  private readonly sdp = new LocalSdp();
  private readonly deduplicator = new DtmfDeduplicator();
  private readonly detector: DtmfDetector | null;
  private negotiated: NegotiatedMedia | null = null;
  private audio: AudioSource | null = null;
  private tones: Int16Array | null = null;
  private tonesAt = 0;
  // One tick's audio both ways, copied as it passes and handed to the tap at the start of the
  // next tick (the outbound frame is pulled before the inbound one is played out).
  private tap: AudioTap | null = null;
  private readonly tapIn = new Int16Array(FRAME_SAMPLES);
  private readonly tapOut = new Int16Array(FRAME_SAMPLES);
  private tapHasIn = false;
  private tapHasOut = false;
  private tapPending = false;
  private collecting = false;

  private constructor(private readonly rtp: RtpSession, private readonly options: LegMediaOptions) {
    this.detector = options.inbandDtmf ? new DtmfDetector({ onDigit: (event) => this.heard(event.digit, 'inband') }) : null;
    rtp.onDtmfStart = (digit) => this.heard(digit, 'rfc4733');
    rtp.setOutboundSource(() => this.nextOutbound());
    rtp.onFrame = (frame, kind) => {
      // Concealed and silent frames are made up locally: only what came off the wire is analysed.
      if (this.detector && this.listenInband && (kind === 'audio' || kind === 'partial')) this.detector.process(frame);
      if (this.tap) {
        this.tapIn.set(frame);
        this.tapHasIn = true;
      }
    };
  }

  static async open(options: LegMediaOptions): Promise<LegMedia> {
    const transport = await options.sockets.open(options.onSocketError);
    return new LegMedia(new RtpSession(transport, { scheduler: options.scheduler, now: options.now }), options);
  }

  get localPort(): number {
    return this.rtp.localPort;
  }

  /** What offer/answer last settled on; null before it has. */
  get media(): NegotiatedMedia | null {
    return this.negotiated;
  }

  /** Our offer, for an INVITE we send or a 2xx to an INVITE that came without one. */
  offer(): string {
    return this.sdp.offer(this.local());
  }

  /**
   * Our answer to the far end's offer. Media starts only with `start`, so nothing is sent before
   * the call is answered; a rejection changes nothing.
   */
  negotiate(offerSdp: string): AnswerResult {
    return this.sdp.answer(offerSdp, this.local());
  }

  start(media: NegotiatedMedia): void {
    this.negotiated = media;
    this.rtp.applyMedia(media);
  }

  /** Takes the far end's answer to our offer. */
  acceptAnswer(answerSdp: string): ParsedAnswer {
    const result = parseAnswer(answerSdp);
    if (result.ok) this.start(result.media);
    return result;
  }

  /**
   * A re-INVITE's offer (hold, resume, moved media): our answer, null to refuse it with 488, or
   * undefined, when it carried no offer, to repeat our last answer as a session refresh.
   */
  answerReoffer(offer: SessionBody | null): SessionBody | null | undefined {
    if (offer === null) return undefined;
    const result = this.negotiate(offer.body.toString());
    if (!result.ok) return null;
    this.start(result.media);
    return { contentType: SDP, body: result.sdp };
  }

  /**
   * Sends digits as RFC 4733 events when the far end takes them, otherwise as tones in the audio.
   * False when there is no media to send on yet.
   */
  sendDtmf(digits: string, durationMs: number): boolean {
    if (this.negotiated === null || this.rtp.isClosed) return false;
    if (this.negotiated.telephoneEvent !== null) return this.rtp.sendDtmf(digits, durationMs);
    this.playTones(digits, durationMs);
    return true;
  }

  /** What the application plays to the far end; DTMF tones, while they last, take its place. */
  setAudioSource(source: AudioSource | null): void {
    this.audio = source;
  }

  /**
   * In-band detection costs more per frame than anything else on a leg. A far end that sends RFC
   * 4733 events is listened to for tones only while digits are being collected; one that cannot
   * send events is listened to all the time.
   */
  collectingDigits(active: boolean): void {
    if (this.collecting === active) return;
    this.collecting = active;
    if (active) this.detector?.reset();
  }

  private get listenInband(): boolean {
    return this.collecting || this.negotiated?.telephoneEvent == null;
  }

  /** Hands both directions of the audio, tick by tick, to a listener (recordings). */
  setAudioTap(tap: AudioTap | null): void {
    this.tap = tap;
    this.tapPending = false;
  }

  stats(): RtpSessionStats {
    return this.rtp.stats();
  }

  close(): void {
    const wasOpen = !this.rtp.isClosed;
    this.rtp.close();
    this.tones = null;
    if (wasOpen) this.options.onClosed?.(this);
  }

  private local(): { address: string; port: number } {
    return { address: this.options.advertisedAddress, port: this.rtp.localPort };
  }

  private heard(digit: string, source: DtmfSource): void {
    if (this.deduplicator.accept(digit, source, this.options.now())) this.options.onDigit(digit);
  }

  /**
   * Renders the digits once (tone, then gap, per digit); each tick then sends one 20 ms view of
   * it, so the media path allocates nothing.
   */
  private playTones(digits: string, durationMs: number): void {
    const samples = (ms: number): number => Math.round((ms * SAMPLE_RATE) / 1000);
    const plan: { key: DtmfDigit; at: number }[] = [];
    let length = 0;
    for (const char of digits) {
      const pauseMs = PAUSES[char];
      if (pauseMs !== undefined) {
        length += samples(pauseMs);
        continue;
      }
      const key = char.toUpperCase();
      if (!isDtmfDigit(key)) continue;
      plan.push({ key, at: length });
      length += samples(durationMs + INBAND_GAP_MS);
    }
    const signal = new Float64Array(Math.ceil(length / FRAME_SAMPLES) * FRAME_SAMPLES);
    for (const { key, at } of plan) addDtmf(signal, at, samples(durationMs), key, { levelDbm0: -8 });
    this.tones = toPcm16(signal);
    this.tonesAt = 0;
  }

  private nextOutbound(): Int16Array | null {
    const tap = this.tap;
    if (tap && this.tapPending) tap.frame(this.tapHasIn ? this.tapIn : null, this.tapHasOut ? this.tapOut : null);
    const frame = this.outboundFrame();
    if (tap) {
      this.tapPending = true;
      this.tapHasIn = false;
      this.tapHasOut = frame !== null;
      if (frame) this.tapOut.set(frame);
    }
    return frame;
  }

  private outboundFrame(): Int16Array | null {
    const tones = this.tones;
    if (tones !== null) {
      if (this.tonesAt < tones.length) {
        const frame = tones.subarray(this.tonesAt, this.tonesAt + FRAME_SAMPLES);
        this.tonesAt += FRAME_SAMPLES;
        return frame;
      }
      this.tones = null;
    }
    return this.audio?.nextFrame() ?? null;
  }
}
