import { DtmfGather, type GatherOutcome, type GatherParams } from '../actions/gather.js';
import { callEvents, type BuiltEvent } from '../events/catalogue.js';
import type { EventPublisher } from '../events/publisher.js';
import type { LegRepository } from '../store/leg-repository.js';
import type { Clock, Timer } from '../util/clock.js';
import type { IdSource } from '../util/ids.js';
import type { Direction, HangupInfo, LegRecord } from './leg-record.js';
import type { OutboundRouter, RemoteParty } from './remote-party.js';
import { causeForSipStatus } from './hangup-causes.js';
import { LegAudio, type AudioTap, type PlayRequest } from './leg-audio.js';
import type { PlaybackHandle } from '../media/player/prompt-player.js';
import { canTransition, nextState } from './state-machine.js';

/** Whatever collects the caller's digits: a plain gather, or one that plays prompts. */
export interface DigitCollector {
  digit(symbol: string): unknown;
  /** gather_stop, or replacement by a new gather. */
  stop(): boolean;
  hangup(): boolean;
}

/** A leg while it is alive: its record plus what only exists in memory. */
interface LiveLeg {
  record: LegRecord;
  remote: RemoteParty | null;
  gather: DigitCollector | null;
  /** What the application plays; exists from answer to hangup. */
  audio: LegAudio | null;
  ringTimer: Timer | null;
  timeLimitTimer: Timer | null;
  timeLimitSecs: number;
}

export interface DialRequest {
  connectionId: string;
  to: string;
  from: string;
  clientState: string | null;
  timeoutSecs: number;
  timeLimitSecs: number;
  webhookUrl: string | null;
  webhookFailoverUrl: string | null;
  linkTo: LegRecord | null;
}

export interface IncomingRequest {
  connectionId: string;
  from: string;
  to: string;
  /** Binds the caller to the new leg, once its id exists. */
  remoteFor(callControlId: string): RemoteParty;
}

export interface EngineDeps {
  legs: LegRepository;
  publisher: EventPublisher;
  clock: Clock;
  ids: IdSource;
  outbound: OutboundRouter;
}

const DEFAULT_TIME_LIMIT_SECS = 14_400;

/**
 * Owns every live leg. All inputs for a leg (commands, far-end signals, timers) run synchronously to
 * completion on the one event loop, so a leg is never seen half-changed. Each change is written to
 * the store before its event is published.
 */
export class CallEngine {
  private readonly live = new Map<string, LiveLeg>();
  private readonly answerListeners: ((leg: LegRecord) => void)[] = [];
  private readonly endListeners: ((leg: LegRecord) => void)[] = [];

  constructor(private readonly deps: EngineDeps) {}

  /** Told of every answered leg, once its audio exists (recording from answer). */
  onAnswered(listener: (leg: LegRecord) => void): void {
    this.answerListeners.push(listener);
  }

  /** Told of every leg that ended, after its call.hangup was published. */
  onEnded(listener: (leg: LegRecord) => void): void {
    this.endListeners.push(listener);
  }

  get liveCount(): number {
    return this.live.size;
  }

  /** A live leg's record, or the stored record of an ended one. */
  find(callControlId: string): LegRecord | undefined {
    return this.live.get(callControlId)?.record ?? this.deps.legs.get(callControlId);
  }

  isLive(callControlId: string): boolean {
    return this.live.has(callControlId);
  }

  incoming(req: IncomingRequest): LegRecord {
    const leg = this.createLeg('incoming', req.connectionId, req.from, req.to, null, null, null, null);
    const live: LiveLeg = { record: leg, remote: req.remoteFor(leg.callControlId), gather: null, audio: null, ringTimer: null, timeLimitTimer: null, timeLimitSecs: DEFAULT_TIME_LIMIT_SECS };
    this.live.set(leg.callControlId, live);
    this.persistAndPublish(live, callEvents.initiated(leg));
    return leg;
  }

  dial(req: DialRequest): LegRecord {
    const leg = this.createLeg('outgoing', req.connectionId, req.from, req.to, req.clientState, req.webhookUrl, req.webhookFailoverUrl, req.linkTo);
    const live: LiveLeg = { record: leg, remote: null, gather: null, audio: null, ringTimer: null, timeLimitTimer: null, timeLimitSecs: req.timeLimitSecs };
    this.live.set(leg.callControlId, live);
    this.persistAndPublish(live, callEvents.initiated(leg));
    const remote = this.deps.outbound.route(req.to, req.from, leg.callControlId);
    if (!remote) {
      // Nothing answers to this address. Reported asynchronously, as a SIP 404 would be.
      this.deps.clock.setTimer(0, () => this.end(live, { cause: 'not_found', source: 'callee', sipCause: '404' }));
      return leg;
    }
    live.remote = remote;
    live.ringTimer = this.deps.clock.setTimer(req.timeoutSecs * 1000, () => {
      live.ringTimer = null;
      this.end(live, { cause: 'timeout', source: 'callee', sipCause: '487' }, true);
    });
    remote.ring();
    return leg;
  }

  // ---- Commands from the application. The command router has already checked existence and state.

  setClientState(callControlId: string, clientState: string | null): void {
    const live = this.mustLive(callControlId);
    live.record.clientState = clientState;
    this.deps.legs.save(live.record);
  }

  answer(callControlId: string): void {
    const live = this.mustLive(callControlId);
    this.toAnswered(live);
    live.remote?.answered();
  }

  hangup(callControlId: string): void {
    const live = this.mustLive(callControlId);
    const incoming = live.record.direction === 'incoming';
    let info: HangupInfo;
    if (live.record.state === 'answered') info = { cause: 'normal_clearing', source: incoming ? 'callee' : 'caller', sipCause: 'unspecified' };
    else if (incoming) info = { cause: 'call_rejected', source: 'callee', sipCause: '603' };
    else info = { cause: 'originator_cancel', source: 'caller', sipCause: '487' };
    this.end(live, info, true);
  }

  sendDtmf(callControlId: string, digits: string, durationMs: number): void {
    this.mustLive(callControlId).remote?.dtmf(digits, durationMs);
  }

  /** Starts a gather; a running one is stopped first and so ends `cancelled`. */
  startGather(callControlId: string, params: GatherParams): void {
    this.startCollector(callControlId, (report) => new DtmfGather({ params, clock: this.deps.clock, onEnd: report }));
  }

  /**
   * Starts a digit collector that reports its one outcome as call.gather.ended; a running one is
   * stopped first (it ends `cancelled`).
   */
  startCollector(callControlId: string, make: (report: (outcome: GatherOutcome) => void) => DigitCollector): void {
    const live = this.mustLive(callControlId);
    live.gather?.stop();
    let collector: DigitCollector | null = null;
    collector = make((outcome) => {
      if (live.gather === collector) this.setCollector(live, null);
      this.deps.publisher.publish(live.record, callEvents.gatherEnded(live.record, outcome));
    });
    this.setCollector(live, collector);
  }

  /** A collector that reports its end by other means (an AI gather) lets go of the leg's digits. */
  releaseCollector(callControlId: string, collector: DigitCollector): void {
    const live = this.live.get(callControlId);
    if (live?.gather === collector) this.setCollector(live, null);
  }

  private setCollector(live: LiveLeg, collector: DigitCollector | null): void {
    live.gather = collector;
    live.remote?.collectingDigits?.(collector !== null);
  }

  /** Queues audio on an answered leg (or mixes it, for an overlay). */
  play(callControlId: string, request: PlayRequest): PlaybackHandle {
    return this.mustAudio(callControlId).play(request);
  }

  /** Whether main-track audio is being heard on the leg. */
  isPlaying(callControlId: string): boolean {
    return this.live.get(callControlId)?.audio?.playing ?? false;
  }

  /** Listens to an answered leg's audio until hangup (recorders); returns its removal. */
  addAudioTap(callControlId: string, tap: AudioTap): () => void {
    return this.mustAudio(callControlId).addTap(tap);
  }

  /** Whether audio flows on the leg yet (record_start needs it: 90020). */
  audioStarted(callControlId: string): boolean {
    const live = this.live.get(callControlId);
    return live?.audio != null && (live.remote?.audioStarted ?? true);
  }

  stopPlayback(callControlId: string, which: 'current' | 'all', overlay: boolean): void {
    this.mustAudio(callControlId).stop(which, overlay);
  }

  /** Returns false when no gather was running. */
  stopGather(callControlId: string): boolean {
    const live = this.mustLive(callControlId);
    return live.gather?.stop() ?? false;
  }

  // ---- Signals from the far end.

  remoteRinging(callControlId: string): void {
    const live = this.live.get(callControlId);
    if (!live || !canTransition(live.record.state, 'ring') || live.record.direction !== 'outgoing') return;
    live.record.state = nextState(live.record.state, 'ring');
    this.deps.legs.save(live.record);
  }

  remoteAnswered(callControlId: string): void {
    const live = this.live.get(callControlId);
    if (!live || live.record.direction !== 'outgoing' || !canTransition(live.record.state, 'answer')) return;
    live.ringTimer?.cancel();
    live.ringTimer = null;
    this.toAnswered(live);
  }

  /**
   * The far end hung up (BYE), or the caller gave up before answer (CANCEL). An outgoing call the
   * callee hangs up before answering is declined (603). Returns how the leg ended, or null if it
   * already had.
   */
  remoteHangup(callControlId: string): HangupInfo | null {
    const live = this.live.get(callControlId);
    if (!live) return null;
    const incoming = live.record.direction === 'incoming';
    if (live.record.state === 'answered') {
      return this.end(live, { cause: 'normal_clearing', source: incoming ? 'caller' : 'callee', sipCause: 'unspecified' });
    }
    if (incoming) return this.end(live, { cause: 'originator_cancel', source: 'caller', sipCause: '487' });
    return this.remoteRefused(callControlId, 603);
  }

  /** The callee refused an outgoing call with a final SIP status (busy, declined, not found …). */
  remoteRefused(callControlId: string, sipStatus: number): HangupInfo | null {
    const live = this.live.get(callControlId);
    if (!live || live.record.direction !== 'outgoing' || live.record.state === 'answered') return null;
    return this.end(live, { cause: causeForSipStatus(sipStatus), source: 'callee', sipCause: String(sipStatus) });
  }

  remoteDtmf(callControlId: string, digit: string): void {
    const live = this.live.get(callControlId);
    // Digits before answer have no media path to arrive on.
    if (!live || live.record.state !== 'answered') return;
    this.deps.publisher.publish(live.record, callEvents.dtmfReceived(live.record, digit));
    live.gather?.digit(digit);
  }

  // ---- Lifecycle.

  /**
   * Legs stored as alive belong to a process that is gone: their media died with it. End each one
   * and tell the application, so no call is left dangling.
   */
  recoverAfterRestart(): number {
    const orphans = this.deps.legs.alive();
    for (const record of orphans) {
      record.state = 'ended';
      record.endMs = this.deps.clock.now();
      record.hangup = { cause: 'unspecified', source: 'unknown', sipCause: 'unspecified' };
      this.deps.legs.save(record);
      this.deps.publisher.publish(record, callEvents.hangup(record));
    }
    return orphans.length;
  }

  /** Ends every live leg (server shutdown). Their call.hangup events are in the outbox either way. */
  close(): void {
    for (const live of [...this.live.values()]) {
      this.end(live, { cause: 'normal_clearing', source: 'unknown', sipCause: 'unspecified' }, true);
    }
  }

  // ---- Internals.

  private createLeg(direction: Direction, connectionId: string, from: string, to: string, clientState: string | null,
    webhookUrl: string | null, webhookFailoverUrl: string | null, linkTo: LegRecord | null): LegRecord {
    const { ids, clock } = this.deps;
    return {
      callControlId: ids.callControlId(),
      callLegId: ids.uuid(),
      callSessionId: linkTo?.callSessionId ?? ids.uuid(),
      connectionId,
      direction,
      from,
      to,
      state: 'initiated',
      clientState,
      startMs: clock.now(),
      answerMs: null,
      endMs: null,
      hangup: null,
      webhookUrl,
      webhookFailoverUrl,
    };
  }

  private toAnswered(live: LiveLeg): void {
    live.record.state = nextState(live.record.state, 'answer');
    live.record.answerMs = this.deps.clock.now();
    const audio = new LegAudio(live.record, {
      publish: (event) => this.deps.publisher.publish(live.record, event),
      heard: (prompt) => live.remote?.heard?.(prompt),
      listen: (tap) => live.remote?.setAudioTap?.(tap),
    });
    live.audio = audio;
    live.remote?.setAudioSource?.(audio.player);
    for (const listener of this.answerListeners) listener(live.record);
    live.timeLimitTimer = this.deps.clock.setTimer(live.timeLimitSecs * 1000, () => {
      live.timeLimitTimer = null;
      this.end(live, { cause: 'time_limit', source: 'unknown', sipCause: 'unspecified' }, true);
    });
    this.persistAndPublish(live, callEvents.answered(live.record));
  }

  /** The one way a leg ends: stop its actions, free its timers, store and report the hangup. */
  private end(live: LiveLeg, info: HangupInfo, tellRemote = false): HangupInfo {
    if (live.record.state === 'ended') return info;
    live.gather?.hangup();
    live.audio?.close();
    live.remote?.setAudioSource?.(null);
    live.remote?.setAudioTap?.(null);
    live.ringTimer?.cancel();
    live.timeLimitTimer?.cancel();
    live.record.state = nextState(live.record.state, 'hangup');
    live.record.endMs = this.deps.clock.now();
    live.record.hangup = info;
    this.live.delete(live.record.callControlId);
    this.persistAndPublish(live, callEvents.hangup(live.record));
    if (tellRemote) live.remote?.ended(info);
    for (const listener of this.endListeners) listener(live.record);
    return info;
  }

  private persistAndPublish(live: LiveLeg, event: BuiltEvent): void {
    this.deps.legs.save(live.record);
    this.deps.publisher.publish(live.record, event);
  }

  private mustAudio(callControlId: string): LegAudio {
    const audio = this.mustLive(callControlId).audio;
    if (!audio) throw new Error(`leg ${callControlId} has no audio before it is answered`);
    return audio;
  }

  private mustLive(callControlId: string): LiveLeg {
    const live = this.live.get(callControlId);
    if (!live) throw new Error(`no live leg ${callControlId}`);
    return live;
  }
}
