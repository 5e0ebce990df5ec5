import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EspeakNgProvider } from '../../src/speech/tts/espeak-ng.js';
import { TtsError } from '../../src/speech/tts/errors.js';
import { parseVoice } from '../../src/speech/tts/voices.js';

const espeak = await EspeakNgProvider.detect();
const skip = espeak === null ? 'espeak-ng is not installed' : false;

function rms(pcm: Int16Array): number {
  let sum = 0;
  for (const v of pcm) sum += v * v;
  return Math.sqrt(sum / Math.max(1, pcm.length));
}

describe('espeak-ng provider', () => {
  it('is detected as absent when the program does not exist', async () => {
    assert.equal(await EspeakNgProvider.detect({ command: '/nonexistent/espeak-ng' }), null);
  });

  it('speaks German', { skip }, async () => {
    const provider = espeak as EspeakNgProvider;
    const voice = parseVoice('female');
    assert.equal(provider.canSpeak(voice, 'de-DE'), true);
    const pcm = await provider.synthesize('Guten Tag, bitte warten Sie einen Moment.', { voice, language: 'de-DE' });
    const seconds = pcm.length / 8000;
    assert.ok(seconds > 1 && seconds < 5, `${seconds} s`);
    assert.ok(rms(pcm) > 300, `RMS ${rms(pcm).toFixed(0)}`);
  });

  it('speaks slower at a lower rate', { skip }, async () => {
    const provider = espeak as EspeakNgProvider;
    const options = { voice: parseVoice('male'), language: 'de-DE' };
    const normal = await provider.synthesize('eins zwei drei vier fünf', options);
    const slow = await provider.synthesize('eins zwei drei vier fünf', { ...options, rate: 0.5 });
    assert.ok(slow.length > normal.length * 1.4, `${slow.length} vs ${normal.length}`);
  });

  it('reads text starting with a dash as text, not as an option', { skip }, async () => {
    const provider = espeak as EspeakNgProvider;
    const pcm = await provider.synthesize('-v xx --help', { voice: parseVoice('male'), language: 'en-US' });
    assert.ok(pcm.length > 0);
  });

  it('refuses a language it has no voice for', { skip }, async () => {
    const provider = new EspeakNgProvider(['de']);
    await assert.rejects(provider.synthesize('hello', { voice: parseVoice('male'), language: 'xx-YY' }), (error: unknown) => {
      assert.ok(error instanceof TtsError);
      assert.equal(error.code, 'unsupported_language');
      return true;
    });
  });
});
