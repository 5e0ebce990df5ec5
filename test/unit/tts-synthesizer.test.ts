import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { AudioCache } from '../../src/speech/tts/audio-cache.js';
import { TtsError } from '../../src/speech/tts/errors.js';
import { FliteProvider } from '../../src/speech/tts/flite.js';
import type { SynthesisOptions, TtsProvider } from '../../src/speech/tts/provider.js';
import { TtsRegistry } from '../../src/speech/tts/registry.js';
import { SENTENCE_GAP_MS, SpeechSynthesizer } from '../../src/speech/tts/speech-synthesizer.js';
import type { ResolvedVoice } from '../../src/speech/tts/voices.js';

const RATE = 8000;

/**
 * Test double for an engine: 100 ms of a loud square wave per call (no padding to trim), after an
 * optional delay; records every call and can be told to fail.
 */
class ScriptedProvider implements TtsProvider {
  readonly name = 'scripted';
  readonly calls: Array<{ text: string; language: string; rate: number | undefined }> = [];
  delayMs = 0;
  failWith: Error | null = null;
  canSpeak(): boolean {
    return true;
  }
  engineVoice(voice: ResolvedVoice): string {
    return voice.id;
  }
  async synthesize(text: string, options: SynthesisOptions): Promise<Int16Array> {
    this.calls.push({ text, language: options.language, rate: options.rate });
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (this.failWith !== null) throw this.failWith;
    const audio = new Int16Array(RATE / 10);
    for (let i = 0; i < audio.length; i++) audio[i] = i % 20 < 10 ? 8000 : -8000;
    return audio;
  }
}

function scripted(options: { cache?: AudioCache | false } = {}): { provider: ScriptedProvider; synth: SpeechSynthesizer } {
  const provider = new ScriptedProvider();
  const registry = new TtsRegistry({ flite: provider, espeak: null, routes: [{ families: ['*'], provider }] });
  return { provider, synth: new SpeechSynthesizer({ registry, ...(options.cache !== undefined ? { cache: options.cache } : {}) }) };
}

/** Silent stretches (ms) in the audio: runs of 10 ms windows whose RMS is below `floor`. */
function silentStretches(pcm: Int16Array, floor = 100): number[] {
  const window = RATE / 100;
  const stretches: number[] = [];
  let run = 0;
  for (let at = 0; at + window <= pcm.length; at += window) {
    let sum = 0;
    for (let i = at; i < at + window; i++) sum += (pcm[i] as number) ** 2;
    if (Math.sqrt(sum / window) < floor) run += 10;
    else {
      if (run > 0) stretches.push(run);
      run = 0;
    }
  }
  if (run > 0) stretches.push(run);
  return stretches;
}

describe('speech synthesizer: plan, pauses and chunks', () => {
  it('joins text and planned pauses in order', async () => {
    const { provider, synth } = scripted();
    const pcm = await synth.synthesize({ payload: '<speak>One<break time="500ms"/>Two</speak>', payloadType: 'ssml', voice: 'female' });
    assert.deepEqual(provider.calls.map((c) => c.text), ['One', 'Two']);
    assert.equal(pcm.length, RATE / 10 + RATE / 2 + RATE / 10);
    assert.deepEqual(silentStretches(pcm), [500]);
  });

  it('passes the resolved language and the prosody rate to the engine', async () => {
    const { provider, synth } = scripted();
    await synth.synthesize({ payload: '<speak><prosody rate="slow">Hallo</prosody></speak>', payloadType: 'ssml', voice: 'Polly.Hans', language: 'en-US' });
    assert.deepEqual(provider.calls, [{ text: 'Hallo', language: 'de-DE', rate: 0.8 }]);
  });

  it('splits long text into sentences with a gap between them', async () => {
    const { provider, synth } = scripted();
    const pcm = await synth.synthesize({ payload: 'First one. Second one! Third one?', voice: 'male' });
    assert.deepEqual(provider.calls.map((c) => c.text), ['First one.', 'Second one!', 'Third one?']);
    assert.deepEqual(silentStretches(pcm), [SENTENCE_GAP_MS, SENTENCE_GAP_MS]);
  });

  it('streams the pieces as they are ready, the first before the last is synthesized', async () => {
    const { provider, synth } = scripted();
    provider.delayMs = 30;
    const arrivals: Array<{ samples: number; callsSoFar: number }> = [];
    for await (const chunk of synth.stream({ payload: 'One. Two. Three. Four. Five.', voice: 'male' })) {
      arrivals.push({ samples: chunk.length, callsSoFar: provider.calls.length });
    }
    assert.equal(arrivals.length, 9, 'five sentences and four gaps');
    assert.ok((arrivals[0]?.callsSoFar ?? 0) < 5, 'the first piece came before every sentence had started');
  });

  it('rejects malformed SSML before calling any engine', async () => {
    const { provider, synth } = scripted();
    await assert.rejects(synth.synthesize({ payload: '<speak>oops', payloadType: 'ssml', voice: 'female' }), { code: 'invalid_ssml' });
    assert.equal(provider.calls.length, 0);
  });

  it('route() answers which engine would speak, without synthesizing', () => {
    const { provider, synth } = scripted();
    const route = synth.route({ voice: 'Telnyx.KokoroTTS.af', language: 'en-US' });
    assert.equal(route.provider, provider);
    assert.equal(route.engineVoice, 'af');
    assert.throws(() => synth.route({ voice: 'nobody' }), { code: 'invalid_voice' });
  });
});

describe('speech synthesizer: cache', () => {
  it('serves a repeat from the cache: the engine is called once', async () => {
    const { provider, synth } = scripted();
    const request = { payload: 'Press one for sales.', voice: 'female', language: 'en-US' };
    const first = await synth.synthesize(request);
    const second = await synth.synthesize(request);
    assert.equal(provider.calls.length, 1);
    assert.deepEqual(second, first);
    assert.equal(synth.cacheStats()?.hits, 1);
  });

  it('keys on voice, language, payload type and payload', async () => {
    const { provider, synth } = scripted();
    await synth.synthesize({ payload: 'Hi', voice: 'female' });
    await synth.synthesize({ payload: 'Hi', voice: 'male' });
    await synth.synthesize({ payload: 'Hi', voice: 'female', language: 'en-GB' });
    await synth.synthesize({ payload: 'Hi', voice: 'female', payloadType: 'ssml' });
    await synth.synthesize({ payload: 'Hi!', voice: 'female' });
    assert.equal(provider.calls.length, 5);
  });

  it('shares one synthesis between concurrent identical requests', async () => {
    const { provider, synth } = scripted();
    provider.delayMs = 20;
    const request = { payload: 'Please hold.', voice: 'female' };
    const streamed: Int16Array[] = [];
    const [a, b, c] = await Promise.all([
      synth.synthesize(request),
      synth.synthesize(request),
      (async () => {
        for await (const chunk of synth.stream(request)) streamed.push(chunk);
        return streamed[0] as Int16Array;
      })(),
    ]);
    assert.equal(provider.calls.length, 1);
    assert.deepEqual(a, b);
    assert.deepEqual(c, a);
  });

  it('hands out copies: changing one does not change the cache', async () => {
    const { synth } = scripted();
    const request = { payload: 'Copy me.', voice: 'female' };
    const first = await synth.synthesize(request);
    first.fill(0);
    const second = await synth.synthesize(request);
    assert.notEqual(second[5], 0);
  });

  it('does not cache a failure: every sharer sees it and the next request tries again', async () => {
    const { provider, synth } = scripted();
    provider.delayMs = 10;
    provider.failWith = new TtsError('provider_error', 'engine down');
    const request = { payload: 'Fail once.', voice: 'female' };
    const results = await Promise.allSettled([synth.synthesize(request), synth.synthesize(request)]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
    assert.equal(provider.calls.length, 1);
    provider.failWith = null;
    await synth.synthesize(request);
    assert.equal(provider.calls.length, 2);
  });

  it('works with the cache disabled', async () => {
    const { provider, synth } = scripted({ cache: false });
    await synth.synthesize({ payload: 'x', voice: 'male' });
    await synth.synthesize({ payload: 'x', voice: 'male' });
    assert.equal(provider.calls.length, 2);
    assert.equal(synth.cacheStats(), null);
  });
});

describe('audio cache', () => {
  it('evicts the least recently used entries to stay within its byte budget', () => {
    const cache = new AudioCache({ maxBytes: 2000 });
    const audio = (): Int16Array => new Int16Array(400); // 800 bytes
    cache.set('a', audio());
    cache.set('b', audio());
    assert.ok(cache.get('a'));
    cache.set('c', audio());
    assert.equal(cache.get('b'), undefined, 'b was least recently used');
    assert.ok(cache.get('a'));
    assert.ok(cache.get('c'));
    assert.ok(cache.stats().bytes <= 2000);
    assert.equal(cache.stats().evictions, 1);
  });

  it('does not keep an entry larger than the whole budget', () => {
    const cache = new AudioCache({ maxBytes: 100 });
    cache.set('big', new Int16Array(1000));
    assert.equal(cache.stats().entries, 0);
  });
});

describe('speech synthesizer with flite', () => {
  const flite = new FliteProvider({ workers: 1 });
  const synth = new SpeechSynthesizer({ registry: new TtsRegistry({ flite, espeak: null }) });
  after(() => synth.close());

  it('a 1 s <break> is a 1 s silence in the audio', async () => {
    const pcm = await synth.synthesize({
      payload: '<speak>Hello there.<break time="1s"/>Goodbye now.</speak>',
      payloadType: 'ssml',
      voice: 'female',
    });
    const longest = Math.max(...silentStretches(pcm));
    // The break plus at most the short margin kept around each stretch of speech.
    assert.ok(longest >= 1000 && longest <= 1150, `longest silence ${longest} ms`);
  });

  it('trims the engine padding so speech starts almost at once', async () => {
    const pcm = await synth.synthesize({ payload: 'Welcome.', voice: 'male' });
    // flite itself starts with ~200 ms of silence.
    const leading = silentStretches(pcm.subarray(0, RATE / 5)).at(0) ?? 0;
    const startsSilent = silentStretches(pcm.subarray(0, RATE / 100)).length > 0;
    assert.ok(!startsSilent || leading <= 60, `leading silence ${leading} ms`);
  });

  it('a cached repeat costs under 5 ms', async () => {
    const request = { payload: 'Your call is important to us, please stay on the line.', voice: 'female' };
    await synth.synthesize(request);
    let best = Infinity;
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      await synth.synthesize(request);
      best = Math.min(best, performance.now() - start);
    }
    assert.ok(best < 5, `cached repeat took ${best.toFixed(2)} ms`);
  });
});
