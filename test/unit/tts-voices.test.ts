import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TTS_LANGUAGES } from '../../src/api/schemas/languages.js';
import { ESPEAK_LANGUAGE_VOICES, EspeakNgProvider, espeakVoiceFor, parseVoiceListing } from '../../src/speech/tts/espeak-ng.js';
import { TtsError } from '../../src/speech/tts/errors.js';
import type { SynthesisOptions, TtsProvider } from '../../src/speech/tts/provider.js';
import { TtsRegistry, describeVoiceFallbacks, formatVoiceFallbacks } from '../../src/speech/tts/registry.js';
import { parseVoice, type ResolvedVoice } from '../../src/speech/tts/voices.js';
import { FliteProvider } from '../../src/speech/tts/flite.js';

/** Stands in for a configured remote provider: speaks whatever it is asked, records nothing. */
class FakeRemoteProvider implements TtsProvider {
  constructor(
    readonly name: string,
    private readonly languages?: readonly string[],
  ) {}
  canSpeak(_voice: ResolvedVoice, language: string): boolean {
    return this.languages === undefined || this.languages.includes(language);
  }
  engineVoice(voice: ResolvedVoice): string {
    return voice.id;
  }
  async synthesize(_text: string, _options: SynthesisOptions): Promise<Int16Array> {
    return new Int16Array(80);
  }
}

// Constructing FliteProvider starts nothing: workers start on the first synthesis.
const flite = new FliteProvider();
const espeak = new EspeakNgProvider(['de', 'fr-fr', 'es', 'es-419', 'en-us', 'en-gb', 'cmn', 'ar', 'ja', 'pt-br', 'pt']);

describe('voice strings', () => {
  const cases: Array<[string, Partial<ResolvedVoice>]> = [
    ['male', { family: 'basic', id: 'male', gender: 'male' }],
    ['Female', { family: 'basic', id: 'female', gender: 'female' }],
    ['Polly.Joanna', { family: 'polly', id: 'Joanna', gender: 'female', language: 'en-US' }],
    ['Polly.Hans', { family: 'polly', id: 'Hans', gender: 'male', language: 'de-DE' }],
    ['Polly.Céline', { family: 'polly', id: 'Céline', gender: 'female', language: 'fr-FR' }],
    ['AWS.Polly.Matthew-Neural', { family: 'polly', id: 'Matthew', model: 'neural', gender: 'male', language: 'en-US' }],
    ['aws.Polly.Generative.Lucia', { family: 'polly', id: 'Lucia', model: 'generative', language: 'es-ES' }],
    ['Polly.Nobody', { family: 'polly', id: 'Nobody' }],
    ['Azure.de-DE-KatjaNeural', { family: 'azure', id: 'de-DE-KatjaNeural', language: 'de-DE' }],
    ['ElevenLabs.eleven_multilingual_v2.21m00Tcm4TlvDq8ikWAM', { family: 'elevenlabs', model: 'eleven_multilingual_v2', id: '21m00Tcm4TlvDq8ikWAM' }],
    ['Telnyx.KokoroTTS.af', { family: 'telnyx', model: 'KokoroTTS', id: 'af', gender: 'female', language: 'en-US' }],
    ['Telnyx.KokoroTTS.bm_george', { family: 'telnyx', model: 'KokoroTTS', id: 'bm_george', gender: 'male', language: 'en-GB' }],
    ['Telnyx.NaturalHD.astra', { family: 'telnyx', model: 'NaturalHD', id: 'astra' }],
    ['Minimax.speech-02-hd.Wise_Woman', { family: 'minimax', model: 'speech-02-hd', id: 'Wise_Woman' }],
    ['Rime.mist.cove', { family: 'rime', model: 'mist', id: 'cove' }],
    ['Resemble.Turbo.abc123', { family: 'resemble', id: 'abc123' }],
    ['Inworld.Max.Ashley', { family: 'inworld', id: 'Ashley' }],
    ['FishAudio.s1.0123abcd', { family: 'fishaudio', id: '0123abcd' }],
    ['xAI.grok.Ara', { family: 'xai', id: 'Ara' }],
    ['Humain.v1.Noor', { family: 'humain', id: 'Noor' }],
  ];
  for (const [voice, expected] of cases) {
    it(voice, () => {
      const parsed = parseVoice(voice);
      assert.equal(parsed.requested, voice);
      for (const [field, value] of Object.entries(expected)) {
        assert.equal(parsed[field as keyof ResolvedVoice], value, `${voice}: ${field}`);
      }
    });
  }

  it('rejects unknown formats with invalid_voice and lists the accepted ones', () => {
    for (const voice of ['', 'robot', 'Google.en-US-Wavenet-A', 'Polly.', 'Azure']) {
      assert.throws(
        () => parseVoice(voice),
        (error: unknown) => {
          assert.ok(error instanceof TtsError);
          assert.equal(error.code, 'invalid_voice');
          assert.match(error.message, /Polly\.<Voice>/);
          return true;
        },
        voice,
      );
    }
  });
});

describe('voice resolution', () => {
  const registry = new TtsRegistry({ flite, espeak });

  const table: Array<[voice: string, language: string | undefined, engine: string, engineVoice: string, fallback: boolean]> = [
    ['female', undefined, 'flite', 'slt', false],
    ['male', 'en-US', 'flite', 'rms', false],
    ['male', 'en-GB', 'flite', 'rms', false],
    ['female', 'de-DE', 'espeak-ng', 'de+f3', false],
    ['male', 'fr-FR', 'espeak-ng', 'fr-fr', false],
    ['male', 'es-MX', 'espeak-ng', 'es-419', false],
    ['female', 'cmn-CN', 'espeak-ng', 'cmn+f3', false],
    ['male', 'arb', 'espeak-ng', 'ar', false],
    // Vendor voices with no provider configured: a local engine by language, keeping gender.
    ['Polly.Joanna', undefined, 'flite', 'slt', true],
    ['Polly.Matthew', 'en-US', 'flite', 'rms', true],
    // Polly voices speak their own language; `language` is ignored, as on Telnyx.
    ['Polly.Hans', 'en-US', 'espeak-ng', 'de', true],
    ['Azure.fr-FR-DeniseNeural', undefined, 'espeak-ng', 'fr-fr+f3', true],
    ['Azure.fr-FR-DeniseNeural', 'en-US', 'flite', 'slt', true],
    ['Telnyx.KokoroTTS.am_adam', undefined, 'flite', 'rms', true],
    ['ElevenLabs.eleven_turbo_v2.abc', 'es-ES', 'espeak-ng', 'es+f3', true],
  ];
  for (const [voice, language, engine, engineVoice, fallback] of table) {
    it(`${voice} ${language ?? '(no language)'} → ${engine} ${engineVoice}`, () => {
      const route = registry.resolve(voice, language);
      assert.equal(route.provider.name, engine);
      assert.equal(route.engineVoice, engineVoice);
      assert.equal(route.fallback, fallback);
    });
  }

  it('sends a family to its configured provider, and falls back when it cannot speak the language', () => {
    const kokoro = new FakeRemoteProvider('openai:kokoro', ['en-US', 'en-GB']);
    const routed = new TtsRegistry({ flite, espeak, routes: [{ families: ['telnyx'], provider: kokoro }] });
    const route = routed.resolve('Telnyx.KokoroTTS.af', 'en-US');
    assert.equal(route.provider, kokoro);
    assert.equal(route.engineVoice, 'af');
    assert.equal(route.fallback, false);
    assert.equal(routed.resolve('Telnyx.KokoroTTS.af', 'de-DE').provider.name, 'espeak-ng');
    assert.equal(routed.resolve('Polly.Joanna').provider.name, 'flite');
  });

  it('a catch-all route takes every family, basic voices included', () => {
    const remote = new FakeRemoteProvider('remote');
    const routed = new TtsRegistry({ flite, espeak, routes: [{ families: ['*'], provider: remote }] });
    assert.equal(routed.resolve('male').provider, remote);
    assert.equal(routed.resolve('Rime.mist.cove', 'ja-JP').provider, remote);
  });

  it('without espeak-ng, a non-English language is unsupported_language naming what to install', () => {
    const fliteOnly = new TtsRegistry({ flite, espeak: null });
    assert.equal(fliteOnly.resolve('female', 'en-AU').provider.name, 'flite');
    assert.throws(
      () => fliteOnly.resolve('female', 'de-DE'),
      (error: unknown) => {
        assert.ok(error instanceof TtsError);
        assert.equal(error.code, 'unsupported_language');
        assert.match(error.message, /"de-DE"/);
        assert.match(error.message, /English only/);
        assert.match(error.message, /apt-get install espeak-ng/);
        assert.match(error.message, /configure a speech provider/);
        return true;
      },
    );
  });

  it('with espeak-ng lacking the language, the message says so instead of suggesting an install', () => {
    assert.throws(
      () => registry.resolve('male', 'ko-KR'),
      (error: unknown) => {
        assert.ok(error instanceof TtsError);
        assert.equal(error.code, 'unsupported_language');
        assert.match(error.message, /espeak-ng has no voice/);
        assert.doesNotMatch(error.message, /apt-get/);
        return true;
      },
    );
  });

  it('an invalid voice is invalid_voice, before any language question', () => {
    assert.throws(() => registry.resolve('robot', 'xx-XX'), { code: 'invalid_voice' });
  });
});

describe('espeak-ng language map', () => {
  it('covers every Telnyx speak language', () => {
    assert.deepEqual(Object.keys(ESPEAK_LANGUAGE_VOICES).sort(), [...TTS_LANGUAGES].sort());
  });

  it('falls back from region to language, and knows zh is cmn', () => {
    const installed = new Set(['de', 'cmn', 'en-us']);
    assert.equal(espeakVoiceFor('de-AT', installed), 'de');
    assert.equal(espeakVoiceFor('zh-CN', installed), 'cmn');
    assert.equal(espeakVoiceFor('fi-FI', installed), undefined);
  });

  it('reads the voice list espeak-ng prints', () => {
    const listing = 'Pty Language       Age/Gender VoiceName          File                 Other Languages\n' +
      ' 5  af              --/M      Afrikaans          gmw/af\n' +
      ' 5  en-us           --/M      English_(America)  gmw/en-US            (en 3)\n';
    assert.deepEqual(parseVoiceListing(listing), ['af', 'en-us']);
  });
});

describe('fallback table', () => {
  it('lists every family and every Telnyx language, with unsupported ones marked', () => {
    const table = describeVoiceFallbacks(new TtsRegistry({ flite, espeak: null }), TTS_LANGUAGES);
    assert.equal(table.families.length, 12);
    assert.equal(table.languages.length, TTS_LANGUAGES.length);
    assert.deepEqual(table.languages.find((row) => row.language === 'en-US'), { language: 'en-US', engine: 'flite', male: 'rms', female: 'slt' });
    assert.deepEqual(table.languages.find((row) => row.language === 'de-DE'), { language: 'de-DE', engine: null, male: null, female: null });
    const markdown = formatVoiceFallbacks(table);
    assert.match(markdown, /\| de-DE \| none \(unsupported_language\)/);
    assert.match(markdown, /\| en-US \| flite \| rms \| slt \|/);
  });

  it('shows configured providers per family', () => {
    const routes = [{ families: ['telnyx', 'elevenlabs'] as const, provider: new FakeRemoteProvider('openai:http://kokoro:8880') }];
    const table = describeVoiceFallbacks(new TtsRegistry({ flite, espeak, routes: routes.map((r) => ({ ...r, families: [...r.families] })) }));
    assert.deepEqual(table.families.find((row) => row.family === 'telnyx')?.providers, ['openai:http://kokoro:8880']);
    assert.deepEqual(table.families.find((row) => row.family === 'polly')?.providers, []);
    assert.equal(table.languages.find((row) => row.language === 'de-DE')?.female, 'de+f3');
  });
});
