import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SttError } from '../../src/speech/stt/errors.js';
import { OpenAiTranscriptionProvider } from '../../src/speech/stt/openai-transcription.js';
import { PocketsphinxProvider } from '../../src/speech/stt/pocketsphinx.js';
import type { SttProvider, TranscribeOptions, Transcript } from '../../src/speech/stt/provider.js';
import { POCKETSPHINX_INSTALL, Transcriber, createTranscriber } from '../../src/speech/stt/transcriber.js';
import { LoopbackServer, readBody } from '../helpers/loopback-server.js';

const pocketsphinx = await PocketsphinxProvider.detect();
const needsPocketsphinx = pocketsphinx === null ? 'pocketsphinx is not installed' : false;

/** Test double for a Whisper server: answers every transcription with the same text. */
class FakeWhisperServer {
  requests = 0;
  private readonly server = new LoopbackServer((req, res) => {
    void readBody(req).then(() => {
      this.requests++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"text":"hello from whisper"}');
    });
  });

  start(): Promise<string> {
    return this.server.start();
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}

/** Test double for an engine: records what it was asked and answers with its name. */
class RecordingProvider implements SttProvider {
  readonly calls: TranscribeOptions[] = [];
  constructor(
    readonly name: string,
    readonly model: string,
    private readonly languages: readonly string[],
  ) {}

  supports(language: string): boolean {
    return this.languages.includes(language.split('-')[0] ?? '');
  }

  async transcribe(_pcm: Int16Array, options: TranscribeOptions): Promise<Transcript> {
    this.calls.push(options);
    return { text: `from ${this.name}`, confidence: 0.5 };
  }
}

const speech = new Int16Array(800).fill(1000);

function noEngine(check: (message: string) => void): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof SttError, String(error));
    assert.equal(error.code, 'no_engine');
    check(error.message);
    return true;
  };
}

describe('transcriber', () => {
  const server = new FakeWhisperServer();
  let baseUrl = '';
  before(async () => {
    baseUrl = await server.start();
  });
  after(() => server.stop());

  it('with no engine at all, says what to install or configure', async () => {
    const transcriber = await createTranscriber({ pocketsphinx: false });
    assert.deepEqual(transcriber.providers, []);
    assert.equal(transcriber.canTranscribe('en-US'), false);
    await assert.rejects(
      transcriber.transcribe(speech, { language: 'en-US' }),
      noEngine((message) => {
        assert.match(message, /no speech-to-text engine here transcribes language "en-US"/);
        assert.match(message, /pocketsphinx is disabled/);
        assert.ok(message.includes(POCKETSPHINX_INSTALL), message);
        assert.match(message, /configure an OpenAI-compatible transcription server/);
      }),
    );
  });

  it('says to install pocketsphinx when it is missing', async () => {
    const transcriber = await createTranscriber({ pocketsphinx: { command: '/nonexistent/pocketsphinx_continuous' } });
    assert.equal(transcriber.pocketsphinx, 'not_installed');
    assert.throws(
      () => transcriber.providerFor('en-GB'),
      noEngine((message) => {
        assert.match(message, /pocketsphinx is not installed/);
        assert.ok(message.includes(`install pocketsphinx (Debian/Ubuntu: ${POCKETSPHINX_INSTALL})`), message);
      }),
    );
  });

  it('picks the configured server first and reports its model', async () => {
    const transcriber = await createTranscriber({ openai: { baseUrl, model: 'whisper-1' } });
    assert.ok(transcriber.providers[0] instanceof OpenAiTranscriptionProvider);
    const before = server.requests;
    const result = await transcriber.transcribe(speech, { language: 'en-US' });
    assert.deepEqual(result, { text: 'hello from whisper', provider: `openai:${baseUrl}`, model: 'whisper-1' });
    assert.equal(server.requests, before + 1);
  });

  it('falls back to pocketsphinx for English the server does not take', { skip: needsPocketsphinx }, async () => {
    const transcriber = await createTranscriber({ openai: { baseUrl, model: 'whisper-1', languages: ['de', 'fr'] } });
    assert.equal(transcriber.pocketsphinx, 'installed');
    assert.equal(transcriber.providerFor('de-DE').name, `openai:${baseUrl}`);
    assert.equal(transcriber.providerFor('en-US').name, 'pocketsphinx');
    const result = await transcriber.transcribe(new Int16Array(8000), { language: 'en-US' });
    assert.equal(result.provider, 'pocketsphinx');
    assert.equal(result.model, 'pocketsphinx-en-us');
    assert.equal(result.text, '');
    assert.throws(
      () => transcriber.providerFor('es-ES'),
      noEngine((message) => {
        assert.match(message, /openai:.* is not configured for it/);
        assert.match(message, /pocketsphinx transcribes English only/);
        assert.doesNotMatch(message, /apt-get/);
        assert.match(message, /that handles es-ES/);
      }),
    );
  });

  it('transcribes live only with the engine that would transcribe whole', { skip: needsPocketsphinx }, async () => {
    const withServer = await createTranscriber({ openai: { baseUrl, model: 'whisper-1' } });
    assert.equal(withServer.providerFor('en', { streaming: true }).name, 'pocketsphinx');
    // The configured server transcribes English whole; a live pocketsphinx would be less accurate.
    assert.equal(withServer.liveStream({ language: 'en' }), null);

    const pocketsphinxOnly = await createTranscriber({});
    const stream = pocketsphinxOnly.liveStream({ language: 'en' });
    assert.ok(stream, 'pocketsphinx transcribes live');
    stream.close();
    assert.equal(pocketsphinxOnly.liveStream({ language: 'de' }), null);

    const serverOnly = await createTranscriber({ openai: { baseUrl, model: 'whisper-1' }, pocketsphinx: false });
    assert.equal(serverOnly.liveStream({ language: 'en' }), null);
    assert.throws(
      () => serverOnly.providerFor('en', { streaming: true }),
      noEngine((message) => {
        assert.match(message, /transcribes language "en" live/);
        assert.match(message, /transcribe the whole recording instead/);
        assert.match(message, /whole recordings only/);
        assert.ok(message.includes(POCKETSPHINX_INSTALL), message);
      }),
    );
  });

  it('tries engines in order, by language, and passes the options through', async () => {
    const first = new RecordingProvider('first', 'm1', ['de']);
    const second = new RecordingProvider('second', 'm2', ['de', 'en']);
    const transcriber = new Transcriber({ providers: [first, second], pocketsphinx: 'disabled' });
    const grammar = ['ja', 'nein'];
    assert.deepEqual(await transcriber.transcribe(speech, { language: 'de-AT', grammar }), {
      text: 'from first', confidence: 0.5, provider: 'first', model: 'm1',
    });
    assert.deepEqual(first.calls[0]?.grammar, grammar);
    assert.equal((await transcriber.transcribe(speech, { language: 'en-US' })).provider, 'second');
    assert.throws(() => transcriber.providerFor('fr-FR'), { code: 'no_engine' });
  });
});
