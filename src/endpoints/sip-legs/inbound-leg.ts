import type { HangupInfo } from '../../calls/leg-record.js';
import type { FarEndSignals, RemoteParty } from '../../calls/remote-party.js';
import type { AudioTap } from '../../calls/leg-audio.js';
import type { AudioSource } from '../../media/player/audio-source.js';
import type { SipIncomingCall } from '../sip/incoming-call.js';
import type { NegotiatedMedia } from '../sip/sdp.js';
import { SDP, type LegMedia } from './leg-media.js';

/** The SIP status that refuses a ringing call, from how the engine ended it. */
function rejectStatus(info: HangupInfo): number {
  const status = Number(info.sipCause);
  if (Number.isInteger(status) && status >= 400 && status <= 699) return status;
  // Shutdown or a time limit before answer: nothing wrong with the caller, try again later.
  return 480;
}

/**
 * A call a SIP peer placed to an application. It rings until the application answers (200 OK
 * with our SDP answer) or hangs up (a final error response), and it reports the caller's CANCEL,
 * BYE and DTMF to the engine.
 *
 * An INVITE without an offer (late offer) is answered with our offer in the 200, and the far
 * end's answer is taken from its ACK.
 */
export class InboundSipLeg implements RemoteParty {
  private callControlId = '';
  private over = false;

  constructor(
    private readonly call: SipIncomingCall,
    private readonly media: LegMedia,
    /** Settled when the INVITE was routed; null for a late offer. */
    private readonly answer: { sdp: string; media: NegotiatedMedia } | null,
    private readonly engine: FarEndSignals,
  ) {
    call.onReinvite = (offer) => media.answerReoffer(offer);
    call.on('ended', () => this.remoteEnded());
    call.on('confirmed', (ack) => {
      if (this.answer !== null || this.over) return;
      const result = ack.body.length > 0 ? media.acceptAnswer(ack.body.toString()) : null;
      if (!result?.ok) call.bye();
    });
  }

  /** The engine's id for this leg, known once `incoming` created it. */
  bind(callControlId: string): this {
    this.callControlId = callControlId;
    return this;
  }

  ring(): void {
    // An incoming call is already ringing: the caller hears 180 from the moment it was routed.
  }

  answered(): void {
    if (this.over) return;
    if (this.answer) {
      this.media.start(this.answer.media);
      this.call.accept({ contentType: SDP, body: this.answer.sdp });
    } else {
      this.call.accept({ contentType: SDP, body: this.media.offer() });
    }
  }

  ended(info: HangupInfo): void {
    if (this.over) return;
    this.over = true;
    if (this.call.state === 'ringing') this.call.reject(rejectStatus(info));
    else this.call.bye();
    this.media.close();
  }

  dtmf(digits: string, durationMs: number): void {
    if (!this.over) this.media.sendDtmf(digits, durationMs);
  }

  setAudioSource(source: AudioSource | null): void {
    this.media.setAudioSource(source);
  }

  collectingDigits(active: boolean): void {
    this.media.collectingDigits(active);
  }

  setAudioTap(tap: AudioTap | null): void {
    this.media.setAudioTap(tap);
  }

  get audioStarted(): boolean {
    return this.media.media != null;
  }

  /** The caller cancelled or hung up, or the dialog failed (no ACK, transport error). */
  private remoteEnded(): void {
    if (this.over) return;
    this.over = true;
    this.media.close();
    this.engine.remoteHangup(this.callControlId);
  }

  /** RTP digits reach the engine through here (wired by the endpoint). */
  digit(digit: string): void {
    if (!this.over) this.engine.remoteDtmf(this.callControlId, digit);
  }
}
