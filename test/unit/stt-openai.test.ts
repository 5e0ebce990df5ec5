import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { parseWav } from '../../src/media/audio/wav.js';
import { SttError } from '../../src/speech/stt/errors.js';
import { OpenAiTranscriptionProvider } from '../../src/speech/stt/openai-transcription.js';
import { LoopbackServer, readBody } from '../helpers/loopback-server.js';

interface FormPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  parts: Map<string, FormPart>;
}

/** Splits a multipart/form-data body into its parts, by field name. */
function parseMultipart(body: Buffer, contentType: string): Map<string, FormPart> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  const delimiter = Buffer.from(`--${boundary?.[1] ?? boundary?.[2] ?? ''}`);
  const parts = new Map<string, FormPart>();
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    // Each part: CRLF, headers, blank line, data, CRLF before the next delimiter.
    const part = body.subarray(start + 2, next - 2);
    const split = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, split).toString('utf8');
    const disposition = /content-disposition:[^\r\n]*/i.exec(head)?.[0] ?? '';
    const name = /\bname="([^"]*)"/.exec(disposition)?.[1] ?? '';
    const filename = /\bfilename="([^"]*)"/.exec(disposition)?.[1];
    const type = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1];
    parts.set(name, { name, data: part.subarray(split + 4), ...(filename ? { filename } : {}), ...(type ? { contentType: type } : {}) });
    at = next;
  }
  return parts;
}

/**
 * Test double for an OpenAI-compatible transcription server: records each request, its
 * multipart form split into fields, and answers as `respond` says (by default `{ text }` with a
 * leading space and trailing newline, as whisper.cpp writes it).
 */
class FakeTranscriptionServer {
  readonly requests: RecordedRequest[] = [];
  respond: (res: ServerResponse, request: RecordedRequest) => void = FakeTranscriptionServer.answer;
  private readonly server = new LoopbackServer((req, res) => {
    void readBody(req).then((body) => {
      const request: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        parts: parseMultipart(body, req.headers['content-type'] ?? ''),
      };
      this.requests.push(request);
      this.respond(res, request);
    });
  });

  static answer(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ text: ' Please transfer me to billing.\n' }));
  }

  start(): Promise<string> {
    return this.server.start();
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}

/** Half a second of a 440 Hz tone at 8 kHz, standing in for speech. */
function tone(): Int16Array {
  const pcm = new Int16Array(4000);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
  return pcm;
}

describe('OpenAI-compatible transcription provider', () => {
  const server = new FakeTranscriptionServer();
  let baseUrl = '';
  before(async () => {
    baseUrl = await server.start();
  });
  after(() => server.stop());
  beforeEach(() => {
    server.requests.length = 0;
    server.respond = FakeTranscriptionServer.answer;
  });

  it('posts a multipart form with a 16 kHz WAV, model, primary language and json format, with the bearer key', async () => {
    const provider = new OpenAiTranscriptionProvider({ baseUrl: `${baseUrl}/`, apiKey: 'sk-test', model: 'whisper-1' });
    assert.equal(provider.model, 'whisper-1');
    const transcript = await provider.transcribe(tone(), { language: 'en-US' });
    assert.deepEqual(transcript, { text: 'Please transfer me to billing.' });

    const [request] = server.requests;
    assert.ok(request);
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/v1/audio/transcriptions');
    assert.equal(request.headers.authorization, 'Bearer sk-test');
    assert.match(request.headers['content-type'] ?? '', /^multipart\/form-data; boundary=/);
    assert.deepEqual([...request.parts.keys()].sort(), ['file', 'language', 'model', 'response_format']);
    assert.equal(request.parts.get('model')?.data.toString(), 'whisper-1');
    assert.equal(request.parts.get('language')?.data.toString(), 'en');
    assert.equal(request.parts.get('response_format')?.data.toString(), 'json');

    const file = request.parts.get('file');
    assert.ok(file);
    assert.equal(file.filename, 'audio.wav');
    assert.equal(file.contentType, 'audio/wav');
    const wav = parseWav(new Uint8Array(file.data));
    assert.equal(wav.sampleRate, 16_000);
    assert.equal(wav.channels, 1);
    assert.equal(wav.samples[0]?.length, 8000);
  });

  it('sends no auth header without a key, accepts a base URL ending in /v1, and sends grammar phrases as the prompt', async () => {
    const provider = new OpenAiTranscriptionProvider({ baseUrl: `${baseUrl}/v1`, model: 'Systran/faster-whisper-small' });
    await provider.transcribe(tone(), { language: 'fr-CA', grammar: ['Facturation', ' Support technique ', ''] });
    const [request] = server.requests;
    assert.ok(request);
    assert.equal(request.url, '/v1/audio/transcriptions');
    assert.equal(request.headers.authorization, undefined);
    assert.equal(request.parts.get('language')?.data.toString(), 'fr');
    assert.equal(request.parts.get('model')?.data.toString(), 'Systran/faster-whisper-small');
    assert.equal(request.parts.get('prompt')?.data.toString(), 'Facturation, Support technique');
  });

  it('does not call the server for empty audio', async () => {
    const provider = new OpenAiTranscriptionProvider({ baseUrl, model: 'whisper-1' });
    assert.deepEqual(await provider.transcribe(new Int16Array(0), { language: 'en' }), { text: '' });
    assert.equal(server.requests.length, 0);
  });

  it('limits languages when configured', async () => {
    const provider = new OpenAiTranscriptionProvider({ baseUrl, model: 'whisper-1', languages: ['en', 'fr-FR'] });
    assert.equal(provider.supports('en-GB'), true);
    assert.equal(provider.supports('fr-FR'), true);
    assert.equal(provider.supports('fr-CA'), false);
    assert.equal(provider.supports('de-DE'), false);
    await assert.rejects(provider.transcribe(tone(), { language: 'de-DE' }), { name: 'SttError', code: 'unsupported_language' });
    assert.equal(server.requests.length, 0);
  });

  it('turns an HTTP error into provider_error with the status and body', async () => {
    server.respond = (res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"model not loaded"}}');
    };
    const provider = new OpenAiTranscriptionProvider({ baseUrl, model: 'whisper-1' });
    await assert.rejects(provider.transcribe(tone(), { language: 'en' }), (error: unknown) => {
      assert.ok(error instanceof SttError);
      assert.equal(error.code, 'provider_error');
      assert.match(error.message, /answered 500/);
      assert.match(error.message, /model not loaded/);
      return true;
    });
  });

  it('rejects an answer that is not JSON with a text string', async () => {
    const provider = new OpenAiTranscriptionProvider({ baseUrl, model: 'whisper-1' });
    server.respond = (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('hello there');
    };
    await assert.rejects(provider.transcribe(tone(), { language: 'en' }), { code: 'provider_error', message: /other than JSON/ });
    server.respond = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"segments":[]}');
    };
    await assert.rejects(provider.transcribe(tone(), { language: 'en' }), { code: 'provider_error', message: /"text"/ });
  });

  it('times out with provider_timeout', async () => {
    server.respond = () => {};
    const provider = new OpenAiTranscriptionProvider({ baseUrl, model: 'whisper-1', timeoutMs: 100 });
    await assert.rejects(provider.transcribe(tone(), { language: 'en' }), (error: unknown) => {
      assert.ok(error instanceof SttError);
      assert.equal(error.code, 'provider_timeout');
      assert.match(error.message, /100 ms/);
      return true;
    });
  });

  it('gives up when the caller aborts, with the caller’s reason', async () => {
    server.respond = () => {};
    const provider = new OpenAiTranscriptionProvider({ baseUrl, model: 'whisper-1' });
    const controller = new AbortController();
    const pending = provider.transcribe(tone(), { language: 'en', signal: controller.signal });
    setTimeout(() => controller.abort(new Error('call hung up')), 50);
    await assert.rejects(pending, { message: 'call hung up' });
  });

  it('reports an unreachable server', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const provider = new OpenAiTranscriptionProvider({ baseUrl: `http://127.0.0.1:${port}`, model: 'whisper-1' });
    await assert.rejects(provider.transcribe(tone(), { language: 'en' }), (error: unknown) => {
      assert.ok(error instanceof SttError);
      assert.equal(error.code, 'provider_error');
      assert.match(error.message, /unreachable.*ECONNREFUSED/);
      return true;
    });
  });
});
