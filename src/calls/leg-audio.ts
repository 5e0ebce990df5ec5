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

export interface LegAudioSink {
  publish(event: BuiltEvent): void;
  heard(prompt: HeardPrompt): void;
}

/**
 * The audio an application plays on one answered leg: its player, and the events that report
 * it. Created at answer, closed at hangup (whatever plays then ends with `call_hangup`).
 */
export class LegAudio {
  readonly player = new PromptPlayer();

  constructor(private readonly leg: LegRecord, private readonly sink: LegAudioSink) {}

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
  }
}

function playbackFields(request: PlayRequest): { mediaUrl: string; mediaName: string; overlay: boolean } {
  return { mediaUrl: request.source.media_url ?? '', mediaName: request.source.media_name ?? '', overlay: request.overlay };
}
