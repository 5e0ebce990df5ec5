import type { HangupInfo } from '../../calls/leg-record.js';
import type { AudioTap, HeardPrompt } from '../../calls/leg-audio.js';
import { PromptPlayer } from '../../media/player/prompt-player.js';
import type { FarEndSignals, RemoteParty } from '../../calls/remote-party.js';
import type { AudioSource } from '../../media/player/audio-source.js';
import type { MediaRegistration, MediaScheduler } from '../../media/scheduler.js';
import { HeardAudio } from './heard-audio.js';
import type { Clock } from '../../util/clock.js';
import { isoMicros } from '../../util/time.js';
import type { AnswerMode } from '../../store/virtual-phone-repository.js';

export type VirtualCallState = 'ringing' | 'answered' | 'ended';

/** A virtual phone keeps at most five minutes of what it heard. */
const MAX_HEARD_SAMPLES = 5 * 60 * 8000;

export interface PhoneLogEntry {
  at: string;
  event: string;
  [detail: string]: unknown;
}

export interface VirtualCallView {
  id: string;
  call_control_id: string;
  /** outbound: the phone called an application. inbound: an application dialled the phone. */
  direction: 'outbound' | 'inbound';
  from: string;
  to: string;
  state: VirtualCallState;
  hangup_cause: string | null;
  log: PhoneLogEntry[];
}

/**
 * A phone call seen from the phone's side. It records everything the phone experienced, with
 * times from the engine clock, so a test can assert on what a caller would have noticed.
 */
export class VirtualCall implements RemoteParty {
  state: VirtualCallState = 'ringing';
  hangupCause: string | null = null;
  readonly log: PhoneLogEntry[] = [];
  private dtmfQueueEndsAt = 0;
  /** What the phone heard since answer; null when audio is not kept (no scheduler, or released). */
  private heardAudio: HeardAudio | null = null;
  private listening: MediaRegistration | null = null;
  private tap: AudioTap | null = null;
  /** What the person holding the phone says: audio and speech it sends into the call. */
  private readonly voice = new PromptPlayer();

  constructor(
    readonly id: string,
    readonly callControlId: string,
    readonly direction: 'outbound' | 'inbound',
    readonly from: string,
    readonly to: string,
    private readonly clock: Clock,
    private readonly engine: FarEndSignals,
    private readonly answerMode: AnswerMode = 'auto',
    private readonly answerDelayMs = 0,
    /** Ticks the phone's ear; without one the phone keeps no audio. */
    private readonly scheduler: MediaScheduler | null = null,
  ) {
    this.note(direction === 'outbound' ? 'dialing' : 'incoming_call', { from, to });
  }

  // ---- RemoteParty: what the engine tells the phone. Replies always go through a timer, never re-entrantly.

  ring(): void {
    this.note('ringing');
    this.clock.setTimer(0, () => this.engine.remoteRinging(this.callControlId));
    if (this.answerMode === 'never') return;
    this.clock.setTimer(this.answerDelayMs, () => {
      if (this.state !== 'ringing') return;
      if (this.answerMode === 'auto') this.answer();
      else this.finish(this.answerMode === 'busy' ? 'busy' : 'rejected');
    });
  }

  answered(): void {
    if (this.state !== 'ringing') return;
    this.state = 'answered';
    this.note('answered');
  }

  ended(info: HangupInfo): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.voice.close();
    this.hangupCause = info.cause;
    this.note('hangup', { by: 'remote', hangup_cause: info.cause, sip_hangup_cause: info.sipCause });
  }

  dtmf(digits: string, durationMs: number): void {
    this.note('dtmf_heard', { digits, duration_ms: durationMs });
  }

  /** The phone listens from answer to hangup, one frame per media tick. */
  setAudioSource(source: AudioSource | null): void {
    if (this.listening) this.scheduler?.unregister(this.listening);
    this.listening = null;
    if (!source || !this.scheduler) return;
    const heard = (this.heardAudio ??= new HeardAudio(MAX_HEARD_SAMPLES));
    this.listening = this.scheduler.register({
      tick: () => {
        const outbound = source.nextFrame();
        heard.append(outbound);
        const inbound = this.voice.nextFrame();
        this.tap?.frame(inbound, outbound);
      },
    });
  }

  setAudioTap(tap: AudioTap | null): void {
    this.tap = tap;
  }

  /**
   * The phone sends audio into the answered call (a recording, or speech), queued after what it
   * is already sending. False when the call is not answered.
   */
  send(kind: 'play' | 'speak', audio: Promise<Int16Array>, source: Record<string, string>): boolean {
    if (this.state !== 'answered') return false;
    this.voice.enqueue({
      overlay: false,
      loops: 1,
      audio,
      onStart: () => this.note('sending_started', { kind, ...source }),
      onEnd: (status, detail) => this.note('sending_ended', { kind, ...source, status, ...(detail ? { detail } : {}) }),
    });
    return true;
  }

  heard(prompt: HeardPrompt): void {
    const detail: Record<string, unknown> = { kind: prompt.kind, ...prompt.source };
    if (prompt.phase === 'ended') {
      detail['status'] = prompt.status;
      detail['interrupted'] = prompt.status !== 'completed';
    }
    this.note(prompt.phase === 'started' ? 'prompt_started' : 'prompt_ended', detail);
  }

  /** Everything heard since answer (8 kHz mono PCM), or null when none was kept. */
  heardPcm(): Int16Array | null {
    return this.heardAudio?.pcm() ?? null;
  }

  /** Frees the heard audio of a call that ended long ago. */
  releaseAudio(): void {
    this.heardAudio = null;
  }

  // ---- What the person holding the phone does.

  /** Returns false when there is nothing to answer. */
  answer(): boolean {
    if (this.direction !== 'inbound' || this.state !== 'ringing') return false;
    this.state = 'answered';
    this.note('answered');
    this.engine.remoteAnswered(this.callControlId);
    return true;
  }

  /** Hangs up, or cancels a call not yet answered. Returns false when already ended. */
  hangup(): boolean {
    return this.finish('hangup');
  }

  /**
   * Presses keys: each digit is held for durationMs, then a gap follows. The engine hears each digit
   * when its tone ends, as a receiver of RFC 4733 end events would. Queued presses follow earlier ones.
   */
  sendDtmf(digits: string, durationMs: number, gapMs: number): boolean {
    if (this.state !== 'answered') return false;
    const now = this.clock.now();
    let startAt = Math.max(now, this.dtmfQueueEndsAt);
    for (const digit of digits) {
      const endAt = startAt + durationMs;
      this.clock.setTimer(endAt - now, () => {
        if (this.state !== 'answered') return;
        this.note('dtmf_sent', { digit, duration_ms: durationMs });
        this.engine.remoteDtmf(this.callControlId, digit);
      });
      startAt = endAt + gapMs;
    }
    this.dtmfQueueEndsAt = startAt;
    return true;
  }

  view(): VirtualCallView {
    return {
      id: this.id,
      call_control_id: this.callControlId,
      direction: this.direction,
      from: this.from,
      to: this.to,
      state: this.state,
      hangup_cause: this.hangupCause,
      log: this.log.map((entry) => ({ ...entry })),
    };
  }

  private finish(reason: 'hangup' | 'busy' | 'rejected'): boolean {
    if (this.state === 'ended') return false;
    const wasRinging = this.state === 'ringing';
    this.state = 'ended';
    this.voice.close();
    const info = reason === 'hangup'
      ? this.engine.remoteHangup(this.callControlId)
      : this.engine.remoteRefused(this.callControlId, reason === 'busy' ? 486 : 603);
    this.hangupCause = info?.cause ?? null;
    this.note(reason === 'hangup' ? (wasRinging ? 'cancelled' : 'hangup') : reason,
      { by: 'phone', hangup_cause: this.hangupCause, sip_hangup_cause: info?.sipCause ?? null });
    return true;
  }

  private note(event: string, detail: Record<string, unknown> = {}): void {
    this.log.push({ at: isoMicros(this.clock.now()), event, ...detail });
  }
}
