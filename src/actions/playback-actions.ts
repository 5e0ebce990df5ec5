import { errors, fieldError } from '../api/errors.js';
import { loopTimes } from '../api/schemas/common.js';
import type { CallEngine } from '../calls/call-engine.js';
import type { CallAction } from '../calls/command-router.js';
import { resolveAudio, type AudioHint, type AudioSources } from './audio-sources.js';

const ok = { result: 'ok' };

/**
 * playback_start and playback_stop. Audio is fetched and decoded after the command is
 * acknowledged; the clip keeps its place in the queue meanwhile, and a source that cannot be
 * played ends with call.playback.ended `file_not_found` or `failed` without touching the rest.
 */
export function playbackActions(engine: CallEngine, sources: AudioSources): Record<string, CallAction> {
  return {
    playback_start: {
      precondition: 'answered',
      run: ({ leg, body }) => {
        const overlay = body['overlay'] === true;
        checkTargetLegs(body['target_legs'], overlay);
        if (overlay && !engine.isPlaying(leg.callControlId)) {
          throw errors.validation([fieldError.invalid('/overlay',
            'An overlay is mixed on top of a playback: start one with overlay false first.')]);
        }
        const hint: AudioHint = body['audio_type'] === 'wav' ? 'wav' : 'mp3';
        const audio = resolveAudio(sources, { url: 'audio_url', media: 'media_name', content: 'playback_content' }, body, hint, body['cache_audio'] !== false);
        const stop = body['stop'];
        if (stop === 'current' || stop === 'all') engine.stopPlayback(leg.callControlId, stop, overlay);
        engine.play(leg.callControlId, {
          kind: 'playback', overlay, loops: loopTimes(body['loop']), audio: audio.load(), source: audio.source, events: true,
        });
        return { ...ok };
      },
    },
    playback_stop: {
      precondition: 'answered',
      run: ({ leg, body }) => {
        engine.stopPlayback(leg.callControlId, body['stop'] === 'current' ? 'current' : 'all', body['overlay'] === true);
        return { ...ok };
      },
    },
  };
}

/**
 * A leg plays to its own far end. Legs are never bridged to another here, so `opposite` has no
 * leg to play on and `both` is this one; an overlay is always `self`, as Telnyx requires.
 */
export function checkTargetLegs(targetLegs: unknown, overlay = false): void {
  if (targetLegs === undefined || targetLegs === 'self' || (targetLegs === 'both' && !overlay)) return;
  const detail = overlay
    ? "An overlay plays on this leg only: target_legs must be 'self'."
    : "This leg is not bridged to another, so there is no 'opposite' leg to play on.";
  throw errors.validation([fieldError.invalid('/target_legs', detail)]);
}
