import { loopTimes } from '../api/schemas/common.js';
import type { CallEngine } from '../calls/call-engine.js';
import type { CallAction } from '../calls/command-router.js';
import { prepareSpeech, type AudioSources } from './audio-sources.js';
import { checkTargetLegs } from './playback-actions.js';

const ok = { result: 'ok' };

/**
 * speak: the text is checked (voice, language, SSML) before the command is acknowledged, then
 * synthesised while it waits its turn in the same queue as playback.
 */
export function speakActions(engine: CallEngine, sources: AudioSources): Record<string, CallAction> {
  return {
    speak: {
      precondition: 'answered',
      run: ({ leg, body }) => {
        checkTargetLegs(body['target_legs']);
        const payload = String(body['payload']);
        const synthesize = prepareSpeech(sources, {
          payload,
          payloadType: body['payload_type'] === 'ssml' ? 'ssml' : 'text',
          voice: String(body['voice']),
          language: typeof body['language'] === 'string' ? body['language'] : undefined,
        });
        const stop = body['stop'];
        if (stop === 'current' || stop === 'all') engine.stopPlayback(leg.callControlId, stop, false);
        engine.play(leg.callControlId, {
          kind: 'speak', overlay: false, loops: loopTimes(body['loop']), audio: synthesize(), source: { text: payload }, events: true,
        });
        return { ...ok };
      },
    },
  };
}
