import type { HangupInfo } from '../../calls/leg-record.js';
import type { FarEndSignals, RemoteParty } from '../../calls/remote-party.js';
import type { AudioTap } from '../../calls/leg-audio.js';
import type { AudioSource } from '../../media/player/audio-source.js';
import type { SipOutgoingCall, OutgoingCallOptions } from '../sip/outgoing-call.js';
import type { SipResponse } from '../sip/message.js';
import { SDP, type LegMedia } from './leg-media.js';

/** Statuses for failures that carry no response from the far end. */
const NO_ANSWER_STATUS = 408;
const UNREACHABLE_STATUS = 503;

export interface OutboundLegDeps {
  engine: FarEndSignals;
  /** Binds this leg's RTP socket; rejects when no port is free. */
  openMedia(onDigit: (digit: string) => void): Promise<LegMedia>;
  /** Sends the INVITE. */
  invite(options: OutgoingCallOptions): SipOutgoingCall;
  log(message: string, fields?: object): void;
}

/**
 * A call an application dials to a SIP URI or through the gateway. `ring` binds media and sends
 * the INVITE with our offer; provisional responses, the answer and the final failure go back to
 * the engine as ringing, answered and refused (with the SIP status as the hangup cause).
 */
export class OutboundSipLeg implements RemoteParty {
  private call: SipOutgoingCall | null = null;
  private media: LegMedia | null = null;
  private over = false;
  private ringing = false;

  constructor(
    private readonly callControlId: string,
    private readonly target: Omit<OutgoingCallOptions, 'offer'>,
    private readonly deps: OutboundLegDeps,
  ) {}

  ring(): void {
    void this.place();
  }

  answered(): void {
    // Only incoming legs are answered by the application.
  }

  ended(_info: HangupInfo): void {
    if (this.over) return;
    this.over = true;
    this.call?.cancel();
    this.media?.close();
  }

  dtmf(digits: string, durationMs: number): void {
    if (!this.over) this.media?.sendDtmf(digits, durationMs);
  }

  setAudioSource(source: AudioSource | null): void {
    this.media?.setAudioSource(source);
  }

  collectingDigits(active: boolean): void {
    this.media?.collectingDigits(active);
  }

  setAudioTap(tap: AudioTap | null): void {
    this.media?.setAudioTap(tap);
  }

  get audioStarted(): boolean {
    return this.media?.media != null;
  }

  private async place(): Promise<void> {
    let media: LegMedia;
    try {
      media = await this.deps.openMedia((digit) => {
        if (!this.over) this.deps.engine.remoteDtmf(this.callControlId, digit);
      });
    } catch (error) {
      this.deps.log('cannot place a SIP call', { call_control_id: this.callControlId, error: String(error) });
      return this.refused(UNREACHABLE_STATUS);
    }
    if (this.over) return media.close();
    this.media = media;
    let call: SipOutgoingCall;
    try {
      call = this.deps.invite({ ...this.target, offer: { contentType: SDP, body: media.offer() } });
    } catch (error) {
      this.deps.log('cannot place a SIP call', { call_control_id: this.callControlId, error: String(error) });
      return this.refused(UNREACHABLE_STATUS);
    }
    this.call = call;
    call.onReinvite = (offer) => media.answerReoffer(offer);
    call.on('progress', (response) => this.progress(response));
    call.on('answered', (response) => this.answeredBy(response));
    call.on('failed', (failure) => {
      const status = failure.response?.status ?? (failure.cause === 'timeout' ? NO_ANSWER_STATUS : failure.status || UNREACHABLE_STATUS);
      this.refused(status);
    });
    call.on('ended', () => {
      if (this.over) return;
      this.over = true;
      media.close();
      this.deps.engine.remoteHangup(this.callControlId);
    });
  }

  private progress(response: SipResponse): void {
    if (this.over || response.status === 100) return;
    // Early media (183 with SDP): take the far end's answer now so its audio is heard.
    if (response.body.length > 0 && response.contentType() === SDP) this.media?.acceptAnswer(response.body.toString());
    if (this.ringing) return;
    this.ringing = true;
    this.deps.engine.remoteRinging(this.callControlId);
  }

  private answeredBy(response: SipResponse): void {
    if (this.over || !this.media) return;
    // A 2xx without SDP is acceptable only when a 183 already carried the answer.
    const usable = response.body.length > 0 ? this.media.acceptAnswer(response.body.toString()).ok : this.media.media !== null;
    if (usable) return this.deps.engine.remoteAnswered(this.callControlId);
    // Answered with no usable SDP: the call cannot carry audio, so it is hung up as refused.
    this.call?.bye();
    this.refused(488);
  }

  private refused(status: number): void {
    if (this.over) return;
    this.over = true;
    this.media?.close();
    this.deps.engine.remoteRefused(this.callControlId, status);
  }
}
