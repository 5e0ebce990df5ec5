import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { encodeWav } from '../../src/media/audio/wav.js';
import { TtsError } from '../../src/speech/tts/errors.js';
import { OpenAiSpeechProvider } from '../../src/speech/tts/openai-speech.js';
import { createSpeechSynthesizer } from '../../src/speech/tts/speech-synthesizer.js';
import { parseVoice } from '../../src/speech/tts/voices.js';
import { LoopbackServer, readBody } from '../helpers/loopback-server.js';

interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

/**
 * Test double for an OpenAI-compatible speech server: records each request and answers with
 * whatever `respond` says (by default one second of a 440 Hz tone as 24 kHz WAV, like OpenAI).
 */
class FakeSpeechServer {
  readonly requests: RecordedRequest[] = [];
  respond: (res: ServerResponse) => void = (res) => {
    res.writeHead(200, { 'content-type': 'audio/wav' });
    res.end(FakeSpeechServer.toneWav(24000, 1));
  };
  private readonly server = new LoopbackServer((req, res) => {
    void readBody(req).then((body) => {
      const text = body.toString('utf8');
      this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: text ? JSON.parse(text) : {} });
      this.respond(res);
    });
  });

  static toneWav(rate: number, seconds: number): Uint8Array {
    const samples = new Int16Array(rate * seconds);
    for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate));
    return encodeWav(samples, rate);
  }

  start(): Promise<string> {
    return this.server.start();
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}

describe('OpenAI-compatible speech provider', () => {
  const server = new FakeSpeechServer();
  let baseUrl = '';
  before(async () => {
    baseUrl = await server.start();
  });
  after(() => server.stop());
  beforeEach(() => {
    server.requests.length = 0;
    server.respond = (res) => {
      res.writeHead(200, { 'content-type': 'audio/wav' });
      res.end(FakeSpeechServer.toneWav(24000, 1));
    };
  });

  it('posts model, input, voice and wav format with the bearer key, and returns 8 kHz audio', async () => {
    const provider = new OpenAiSpeechProvider({ baseUrl: `${baseUrl}/`, apiKey: 'sk-test', model: 'kokoro' });
    const pcm = await provider.synthesize('Hello there.', { voice: parseVoice('Telnyx.KokoroTTS.af_heart'), language: 'en-US' });
    assert.equal(pcm.length, 8000);
    const [request] = server.requests;
    assert.ok(request);
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/v1/audio/speech');
    assert.equal(request.headers.authorization, 'Bearer sk-test');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.deepEqual(request.body, { model: 'kokoro', input: 'Hello there.', voice: 'af_heart', response_format: 'wav' });
  });

  it('maps voices, sends speed for a rate, and sends no auth header without a key', async () => {
    const provider = new OpenAiSpeechProvider({ baseUrl, voices: { 'Polly.Joanna': 'nova', Matthew: 'onyx' } });
    await provider.synthesize('a', { voice: parseVoice('Polly.Joanna'), language: 'en-US', rate: 1.5 });
    await provider.synthesize('b', { voice: parseVoice('AWS.Polly.Matthew-Neural'), language: 'en-US' });
    assert.equal(server.requests[0]?.body.voice, 'nova');
    assert.equal(server.requests[0]?.body.speed, 1.5);
    assert.equal(server.requests[0]?.body.model, 'tts-1');
    assert.equal(server.requests[0]?.headers.authorization, undefined);
    assert.equal(server.requests[1]?.body.voice, 'onyx');
    assert.equal(server.requests[1]?.body.model, 'neural');
    assert.equal(provider.canSpeak(parseVoice('Polly.Amy'), 'en-GB'), false, 'unmapped voice');
  });

  it('limits languages when configured', () => {
    const provider = new OpenAiSpeechProvider({ baseUrl, languages: ['en', 'fr-FR'] });
    const voice = parseVoice('female');
    assert.equal(provider.canSpeak(voice, 'en-GB'), true);
    assert.equal(provider.canSpeak(voice, 'fr-FR'), true);
    assert.equal(provider.canSpeak(voice, 'de-DE'), false);
  });

  it('turns an HTTP error into provider_error with the status and body', async () => {
    server.respond = (res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":"model not loaded"}');
    };
    const provider = new OpenAiSpeechProvider({ baseUrl });
    await assert.rejects(provider.synthesize('x', { voice: parseVoice('female'), language: 'en-US' }), (error: unknown) => {
      assert.ok(error instanceof TtsError);
      assert.equal(error.code, 'provider_error');
      assert.match(error.message, /answered 500/);
      assert.match(error.message, /model not loaded/);
      return true;
    });
  });

  it('times out with provider_timeout', async () => {
    server.respond = () => {};
    const provider = new OpenAiSpeechProvider({ baseUrl, timeoutMs: 100 });
    await assert.rejects(provider.synthesize('x', { voice: parseVoice('female'), language: 'en-US' }), (error: unknown) => {
      assert.ok(error instanceof TtsError);
      assert.equal(error.code, 'provider_timeout');
      assert.match(error.message, /100 ms/);
      return true;
    });
  });

  it('reports audio that is not WAV', async () => {
    server.respond = (res) => {
      res.writeHead(200, { 'content-type': 'audio/mpeg' });
      res.end(Buffer.from('ID3\u0003mp3 data'));
    };
    const provider = new OpenAiSpeechProvider({ baseUrl });
    await assert.rejects(provider.synthesize('x', { voice: parseVoice('female'), language: 'en-US' }), { code: 'provider_error' });
  });

  it('reports an unreachable server', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const provider = new OpenAiSpeechProvider({ baseUrl: `http://127.0.0.1:${port}` });
    await assert.rejects(provider.synthesize('x', { voice: parseVoice('female'), language: 'en-US' }), (error: unknown) => {
      assert.ok(error instanceof TtsError);
      assert.equal(error.code, 'provider_error');
      assert.match(error.message, /unreachable.*ECONNREFUSED/);
      return true;
    });
  });

  it('serves a configured voice family through createSpeechSynthesizer', async () => {
    const synth = await createSpeechSynthesizer({
      flite: false,
      espeak: false,
      providers: [{ families: ['telnyx'], openai: { baseUrl, model: 'kokoro', voices: { af: 'af_bella' } } }],
    });
    try {
      const pcm = await synth.synthesize({ payload: 'Hi. Bye.', voice: 'Telnyx.KokoroTTS.af', language: 'en-US' });
      assert.deepEqual(server.requests.map((r) => r.body.input), ['Hi.', 'Bye.']);
      assert.equal(server.requests[0]?.body.voice, 'af_bella');
      assert.ok(pcm.length > 2 * 8000 * 0.9, `${pcm.length} samples for two one-second answers`);
      assert.throws(() => synth.route({ voice: 'female' }), (error: unknown) => {
        assert.ok(error instanceof TtsError);
        assert.equal(error.code, 'unsupported_language');
        assert.match(error.message, /flite engine is disabled/);
        return true;
      });
    } finally {
      await synth.close();
    }
  });
});
