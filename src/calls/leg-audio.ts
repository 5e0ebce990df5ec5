import { callEvents, type BuiltEvent } from '../events/catalogue.js';
import type { LegRecord } from './leg-record.js';
import { PromptPlayer, type PlaybackEndStatus, type PlaybackHandle } from '../media/player/prompt-player.js';

export type PlayKind = 'playback' | 'speak';

/** What the far end heard, for logs that show it (virtual phones). */
export interface HeardPrompt {
  phase: 'started' | 'ended';
  kind: PlayKind;
  /** Where it came from: media_url / media_name / text. */
  source: Record<string, string>;
  status?: PlaybackEndStatus;
}

export interface PlayRequest {
  kind: PlayKind;
  overlay: boolean;
  /** Times to play; Infinity until stopped. */
  loops: number;
  audio: Int16Array | Promise<Int16Array>;
  /** Shown in playback events as media_url / media_name, and in what a virtual phone heard. */
  source: { media_url?: string; media_name?: string; text?: string };
  /** Whether call.playback.* / call.speak.* are published (gather_using_speak prompts: not). */
  events: boolean;
  onEnded?: (status: PlaybackEndStatus) => void;
}

/**
 * Sees a leg's audio once per 20 ms tick: what the far end sent (inbound) and what was sent to
 * it (outbound), null for a tick without that side. Frames are valid only during the call.
 */
export interface AudioTap {
  frame(inbound: Int16Array | null, outbound: Int16Array | null): void;
  /** The leg's audio has ended (hangup); no more frames follow. */
  closed?(): void;
}

export interface LegAudioSink {
  publish(event: BuiltEvent): void;
  heard(prompt: HeardPrompt): void;
  /**
   * Connects this LegAudio to the far end's audio while it has listeners, and disconnects it
   * (null) when the last one goes: a leg nobody listens to copies no frames.
   */
  listen(tap: AudioTap | null): void;
}

/**
 * The audio an application plays on one answered leg: its player, and the events that report
 * it. Created at answer, closed at hangup (whatever plays then ends with `call_hangup`).
 */
export class LegAudio implements AudioTap {
  readonly player = new PromptPlayer();
  /** Replaced, never mutated, so a tap may remove itself from inside frame(). */
  private taps: readonly AudioTap[] = [];

  constructor(private readonly leg: LegRecord, private readonly sink: LegAudioSink) {}

  /** Adds a listener to the leg's audio (a recorder); returns its removal. */
  addTap(tap: AudioTap): () => void {
    this.taps = [...this.taps, tap];
    if (this.taps.length === 1) this.sink.listen(this);
    return () => {
      const before = this.taps.length;
      this.taps = this.taps.filter((t) => t !== tap);
      if (before > 0 && this.taps.length === 0) this.sink.listen(null);
    };
  }

  frame(inbound: Int16Array | null, outbound: Int16Array | null): void {
    // Runs every tick for every leg with a listener: an index loop, so no iterator is involved.
    const taps = this.taps;
    for (let i = 0; i < taps.length; i++) (taps[i] as AudioTap).frame(inbound, outbound);
  }

  play(request: PlayRequest): PlaybackHandle {
    const { leg, sink } = this;
    const source = Object.fromEntries(Object.entries(request.source).filter(([, v]) => v !== undefined)) as Record<string, string>;
    return this.player.enqueue({
      overlay: request.overlay,
      loops: request.loops,
      audio: request.audio,
      onStart: () => {
        sink.heard({ phase: 'started', kind: request.kind, source });
        if (!request.events) return;
        sink.publish(request.kind === 'speak' ? callEvents.speakStarted(leg) : callEvents.playbackStarted(leg, playbackFields(request)));
      },
      onEnd: (status, detail) => {
        sink.heard({ phase: 'ended', kind: request.kind, source, status });
        if (request.events) {
          sink.publish(request.kind === 'speak'
            ? callEvents.speakEnded(leg, status)
            : callEvents.playbackEnded(leg, { ...playbackFields(request), status, statusDetail: detail }));
        }
        request.onEnded?.(status);
      },
    });
  }

  /** Whether something is audible on the main track (an overlay needs that). */
  get playing(): boolean {
    return this.player.playing;
  }

  stop(which: 'current' | 'all', overlay: boolean): void {
    this.player.stop(which, overlay);
  }

  close(): void {
    this.player.close();
    const taps = this.taps;
    this.taps = [];
    for (const tap of taps) tap.closed?.();
  }
}

function playbackFields(request: PlayRequest): { mediaUrl: string; mediaName: string; overlay: boolean } {
  return { mediaUrl: request.source.media_url ?? '', mediaName: request.source.media_name ?? '', overlay: request.overlay };
}
