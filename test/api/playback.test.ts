import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type Telnyx from 'telnyx';
import { encodeWav } from '../../src/media/audio/wav.js';
import { TestSwitchboard } from '../../src/testing/harness.js';
import { VirtualClock } from '../../src/util/clock.js';
import { WebhookReceiver } from '../../src/testing/webhook-receiver.js';
import { soundMs, soundSpans, toneShare } from '../helpers/audio-analysis.js';
import { sdkClient, verify, type VerifiedEvent } from '../helpers/sdk.js';

const APP_NUMBER = '+15550100300';

/**
 * playback_start, playback_stop, speak, gather_using_audio and gather_using_speak on virtual phones,
 * driven through the official SDK: the events the app gets, and what the phone heard.
 */
describe('playback and speech on virtual phones', () => {
  let sb: TestSwitchboard;
  let receiver: WebhookReceiver;
  let client: Telnyx;
  let files: Server;
  let filesUrl: string;
  let dir: string;
  const requests: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-playback-'));
    // Fixtures made here with sox and lame: a 16 kHz stereo WAV (resampled and downmixed on the
    // way in) and an MP3, each a steady tone so what the phone heard can be measured.
    execFileSync('sox', ['-n', '-r', '16000', '-c', '2', '-b', '16', join(dir, 'tone440.wav'), 'synth', '0.6', 'sine', '440', 'vol', '0.5']);
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', join(dir, 'tone1000.wav'), 'synth', '0.3', 'sine', '1000', 'vol', '0.5']);
    execFileSync('sox', ['-n', '-r', '22050', '-c', '1', '-b', '16', join(dir, 'tone660.wav'), 'synth', '0.6', 'sine', '660', 'vol', '0.5']);
    execFileSync('lame', ['--quiet', '-b', '64', join(dir, 'tone660.wav'), join(dir, 'tone660.mp3')]);
    const served: Record<string, Buffer> = {
      '/tone440.wav': readFileSync(join(dir, 'tone440.wav')),
      '/tone1000.wav': readFileSync(join(dir, 'tone1000.wav')),
      '/tone660.mp3': readFileSync(join(dir, 'tone660.mp3')),
      '/corrupt.mp3': Buffer.from('this is not audio at all, just text pretending to be an mp3 file'),
    };
    files = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0] as string;
      const body = served[path];
      const etag = body ? `"${body.length}"` : '';
      requests.push(`${req.url} ${req.headers['if-none-match'] ?? '-'}`);
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', etag }).end(body);
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    const address = files.address();
    filesUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    receiver = await new WebhookReceiver().start();
    sb = await TestSwitchboard.start();
    client = sdkClient(sb);
    await sb.createApplication(receiver.url, [APP_NUMBER], 'playback');
  });

  after(async () => {
    await sb.close();
    await receiver.close();
    await new Promise((resolve) => files.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const seen = new Set<string>();
  async function next(type: string, ccid: string, timeoutMs = 10_000): Promise<VerifiedEvent> {
    const webhook = await receiver.waitFor((w) => w.body.data?.event_type === type && w.body.data.payload?.['call_control_id'] === ccid && !seen.has(String(w.body.data.id)), timeoutMs);
    const event = await verify(client, webhook);
    seen.add(event.id);
    return event;
  }

  /** A virtual phone calls the app, which answers. */
  async function answeredCall(): Promise<{ phone: string; ccid: string }> {
    const placed = await sb.placeCall('+15550409999', APP_NUMBER);
    await client.calls.actions.answer(placed.call_control_id, {});
    await next('call.answered', placed.call_control_id);
    return { phone: placed.id, ccid: placed.call_control_id };
  }

  async function hangUp(ccid: string): Promise<void> {
    await client.calls.actions.hangup(ccid, {});
    await next('call.hangup', ccid);
  }

  it('plays a WAV from a URL: playback events, and the phone hears the tone for its length', async () => {
    const { phone, ccid } = await answeredCall();
    await client.calls.actions.startPlayback(ccid, { audio_url: `${filesUrl}/tone440.wav` });
    const started = await next('call.playback.started', ccid);
    assert.equal(started.payload['media_url'], `${filesUrl}/tone440.wav`);
    assert.equal(started.payload['overlay'], false);
    const ended = await next('call.playback.ended', ccid);
    assert.equal(ended.payload['status'], 'completed');
    await hangUp(ccid);
    const heard = await sb.heardAudio(phone);
    const spans = soundSpans(heard);
    assert.equal(spans.length, 1, JSON.stringify(spans));
    const [start, end] = spans[0] as [number, number];
    assert.ok(Math.abs(end - start - 600) <= 40, `heard ${end - start} ms of a 600 ms clip`);
    assert.ok(toneShare(heard, 440, start, end) > 0.9, 'the tone survives resampling and downmix');
    const log = (await sb.virtualCall(phone)).log.filter((e) => e.event.startsWith('prompt_'));
    assert.deepEqual(log.map((e) => [e.event, e['media_url'], e['interrupted']]), [
      ['prompt_started', `${filesUrl}/tone440.wav`, undefined],
      ['prompt_ended', `${filesUrl}/tone440.wav`, false],
    ]);
  });

  it('plays an MP3, loops it, and queues a second playback behind it', async () => {
    const { phone, ccid } = await answeredCall();
    await client.calls.actions.startPlayback(ccid, { audio_url: `${filesUrl}/tone660.mp3`, loop: 2 });
    await client.calls.actions.startPlayback(ccid, { audio_url: `${filesUrl}/tone1000.wav`, audio_type: 'wav' });
    await next('call.playback.ended', ccid);
    const second = await next('call.playback.ended', ccid);
    assert.equal(second.payload['media_url'], `${filesUrl}/tone1000.wav`);
    await hangUp(ccid);
    const heard = await sb.heardAudio(phone);
    const [first] = soundSpans(heard);
    assert.ok(first);
    // Two loops of 0.6 s, then 0.3 s of the second clip, back to back.
    assert.ok(Math.abs(first[1] - first[0] - 1500) <= 80, `heard ${first[1] - first[0]} ms`);
    assert.ok(toneShare(heard, 660, first[0] + 100, first[0] + 1100) > 0.8);
    assert.ok(toneShare(heard, 1000, first[1] - 250, first[1] - 50) > 0.8);
  });

  it('mixes an overlay on top of the main playback, and playback_stop with overlay stops only it', async () => {
    const { phone, ccid } = await answeredCall();
    await client.calls.actions.startPlayback(ccid, { audio_url: `${filesUrl}/tone440.wav`, loop: 'infinity' });
    await next('call.playback.started', ccid);
    await client.calls.actions.startPlayback(ccid, { audio_url: `${filesUrl}/tone1000.wav`, overlay: true, loop: 'infinity' });
    const overlay = await next('call.playback.started', ccid);
    assert.equal(overlay.payload['overlay'], true);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await client.calls.actions.stopPlayback(ccid, { overlay: true });
    const overlayEnded = await next('call.playback.ended', ccid);
    assert.deepEqual([overlayEnded.payload['overlay'], overlayEnded.payload['status']], [true, 'cancelled']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await client.calls.actions.stopPlayback(ccid, {});
    const mainEnded = await next('call.playback.ended', ccid);
    assert.deepEqual([mainEnded.payload['overlay'], mainEnded.payload['status']], [false, 'cancelled']);
    await hangUp(ccid);
    const heard = await sb.heardAudio(phone);
    const [span] = soundSpans(heard);
    assert.ok(span);
    // Early on both tones are heard; at the end only the main one.
    assert.ok(toneShare(heard, 1000, span[0] + 200, span[0] + 300) > 0.2);
    assert.ok(toneShare(heard, 440, span[0] + 200, span[0] + 300) > 0.2);
    assert.ok(toneShare(heard, 1000, span[1] - 150, span[1] - 50) < 0.05);
  });

  it('stop: current skips to the next queued clip; stop: all on a new playback clears the queue first', async () => {
    const { ccid } = await answeredCall();
    await client.calls.actions.startPlayback(ccid, { audio_url: `${filesUrl}/tone440.wav`, loop: 'infinity' });
    await client.calls.actions.startPlayback(ccid, { audio_url: `${filesUrl}/tone660.mp3`, loop: 'infinity' });
    await client.calls.actions.startPlayback(ccid, { audio_url: `${filesUrl}/tone1000.wav` });
    await next('call.playback.started', ccid);
    await client.calls.actions.stopPlayback(ccid, { stop: 'current' });
    assert.equal((await next('call.playback.ended', ccid)).payload['status'], 'cancelled');
    assert.equal((await next('call.playback.started', ccid)).payload['media_url'], `${filesUrl}/tone660.mp3`);
    await client.calls.actions.startPlayback(ccid, { audio_url: `${filesUrl}/tone1000.wav`, stop: 'all' });
    assert.equal((await next('call.playback.ended', ccid)).payload['media_url'], `${filesUrl}/tone660.mp3`);
    const last = await next('call.playback.started', ccid);
    assert.equal(last.payload['media_url'], `${filesUrl}/tone1000.wav`);
    assert.equal((await next('call.playback.ended', ccid)).payload['status'], 'completed');
    await hangUp(ccid);
  });

  it('reports an unreachable URL as file_not_found and a corrupt file as failed, and plays the rest', async () => {
    const { ccid } = await answeredCall();
    await client.calls.actions.startPlayback(ccid, { audio_url: `${filesUrl}/missing.wav` });
    await client.calls.actions.startPlayback(ccid, { audio_url: `${filesUrl}/corrupt.mp3` });
    await client.calls.actions.startPlayback(ccid, { audio_url: `${filesUrl}/tone1000.wav` });
    const missing = await next('call.playback.ended', ccid);
    assert.equal(missing.payload['status'], 'file_not_found');
    assert.match(String(missing.payload['status_detail']), /404/);
    const corrupt = await next('call.playback.ended', ccid);
    assert.equal(corrupt.payload['status'], 'failed');
    assert.ok(String(corrupt.payload['status_detail']).length > 0);
    const good = await next('call.playback.ended', ccid);
    assert.equal(good.payload['status'], 'completed');
    await hangUp(ccid);
  });

  it('plays stored media by media_name and inline playback_content', async () => {
    const { ccid } = await answeredCall();
    const upload = await fetch(`${sb.baseURL}/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sb.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ media_url: `${filesUrl}/tone440.wav`, media_name: 'greeting' }),
    });
    assert.equal(upload.status, 201);
    await client.calls.actions.startPlayback(ccid, { media_name: 'greeting' });
    const byName = await next('call.playback.ended', ccid);
    assert.deepEqual([byName.payload['media_name'], byName.payload['status']], ['greeting', 'completed']);
    const content = readFileSync(join(dir, 'tone1000.wav')).toString('base64');
    await client.calls.actions.startPlayback(ccid, { playback_content: content, audio_type: 'wav' });
    const inline = await next('call.playback.ended', ccid);
    assert.deepEqual([inline.payload['media_url'], inline.payload['media_name'], inline.payload['status']], ['', '', 'completed']);
    await hangUp(ccid);
  });

  it('caches audio: a second playback of the same URL is a conditional request', async () => {
    const { ccid } = await answeredCall();
    const url = `${filesUrl}/tone1000.wav?cache-test`;
    const before = requests.length;
    await client.calls.actions.startPlayback(ccid, { audio_url: url });
    await next('call.playback.ended', ccid);
    await client.calls.actions.startPlayback(ccid, { audio_url: url });
    await next('call.playback.ended', ccid);
    await hangUp(ccid);
    const size = readFileSync(join(dir, 'tone1000.wav')).length;
    assert.deepEqual(requests.slice(before), ['/tone1000.wav?cache-test -', `/tone1000.wav?cache-test "${size}"`]);
  });

  it('refuses bad requests with a pointer and plays nothing', async () => {
    const { ccid } = await answeredCall();
    const refusal = async (body: Record<string, unknown>): Promise<string> => {
      const res = await fetch(`${sb.baseURL}/calls/${ccid}/actions/playback_start`, {
        method: 'POST', headers: { authorization: `Bearer ${sb.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
      assert.equal(res.status, 422);
      const json = (await res.json()) as { errors: { source?: { pointer?: string } }[] };
      return json.errors[0]?.source?.pointer ?? '';
    };
    assert.equal(await refusal({ audio_url: `${filesUrl}/tone440.wav`, media_name: 'greeting' }), '/media_name');
    assert.equal(await refusal({ media_name: 'no-such-media' }), '/media_name');
    assert.equal(await refusal({ audio_url: 'ftp://example.com/a.wav' }), '/audio_url');
    assert.equal(await refusal({ playback_content: '%%%not base64%%%' }), '/playback_content');
    assert.equal(await refusal({ audio_url: `${filesUrl}/tone440.wav`, overlay: true }), '/overlay');
    assert.equal(await refusal({ audio_url: `${filesUrl}/tone440.wav`, target_legs: 'opposite' }), '/target_legs');
    await hangUp(ccid);
    assert.equal(receiver.received.filter((w) => w.body.data?.payload?.['call_control_id'] === ccid && String(w.body.data.event_type).startsWith('call.playback')).length, 0);
  });

  it('accepts a playback with no audio, as the contract requires nothing, and reports it failed', async () => {
    const { ccid } = await answeredCall();
    await client.calls.actions.startPlayback(ccid, {});
    const ended = await next('call.playback.ended', ccid);
    assert.equal(ended.payload['status'], 'failed');
    assert.match(String(ended.payload['status_detail']), /audio_url/);
    // gather_using_audio without audio gathers with no prompt.
    await client.calls.actions.gatherUsingAudio(ccid, { maximum_digits: 1 });
    await hangUp(ccid);
  });

  it('a hangup ends what plays with call_hangup, before call.hangup', async () => {
    const { ccid } = await answeredCall();
    await client.calls.actions.startPlayback(ccid, { audio_url: `${filesUrl}/tone440.wav`, loop: 'infinity' });
    await next('call.playback.started', ccid);
    await client.calls.actions.hangup(ccid, {});
    const ended = await next('call.playback.ended', ccid);
    assert.equal(ended.payload['status'], 'call_hangup');
    await next('call.hangup', ccid);
    const types = receiver.received.filter((w) => w.body.data?.payload?.['call_control_id'] === ccid).map((w) => w.body.data?.event_type);
    assert.ok(types.indexOf('call.playback.ended') < types.indexOf('call.hangup'));
  });

  it('speaks text with the embedded voice: speak events, and speech-like sound of a plausible length', async () => {
    const { phone, ccid } = await answeredCall();
    await client.calls.actions.speak(ccid, { payload: 'Welcome to the support line. Please hold.', voice: 'female', language: 'en-US' });
    await next('call.speak.started', ccid);
    const ended = await next('call.speak.ended', ccid);
    assert.equal(ended.payload['status'], 'completed');
    await hangUp(ccid);
    const heard = await sb.heardAudio(phone);
    const ms = soundMs(heard, 200);
    assert.ok(ms > 1200 && ms < 5000, `heard ${ms} ms of speech`);
    const log = (await sb.virtualCall(phone)).log.filter((e) => e.event === 'prompt_started');
    assert.equal(log[0]?.['text'], 'Welcome to the support line. Please hold.');
  });

  it('speaks SSML with a break, and refuses malformed SSML with a pointer', async () => {
    const { phone, ccid } = await answeredCall();
    await client.calls.actions.speak(ccid, {
      payload: '<speak>One.<break time="1s"/>Two.</speak>', payload_type: 'ssml', voice: 'male',
    });
    await next('call.speak.ended', ccid);
    const heard = await sb.heardAudio(phone);
    const spans = soundSpans(heard, 200, 120);
    assert.ok(spans.length >= 2, JSON.stringify(spans));
    const gaps = spans.slice(1).map((span, i) => span[0] - (spans[i] as [number, number])[1]);
    assert.ok(gaps.some((gap) => gap >= 900 && gap <= 1400), `gaps ${JSON.stringify(gaps)}`);
    const res = await fetch(`${sb.baseURL}/calls/${ccid}/actions/speak`, {
      method: 'POST', headers: { authorization: `Bearer ${sb.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ payload: '<speak>unclosed', payload_type: 'ssml', voice: 'female' }),
    });
    assert.equal(res.status, 422);
    const refusal = (await res.json()) as { errors: { source?: { pointer?: string } }[] };
    assert.equal(refusal.errors[0]?.source?.pointer, '/payload');
    await hangUp(ccid);
  });

  it('gather_using_audio: the first digit stops the prompt at once, and the digits are gathered', async () => {
    const { phone, ccid } = await answeredCall();
    await client.calls.actions.gatherUsingAudio(ccid, { audio_url: `${filesUrl}/tone440.wav`, maximum_digits: 3, timeout_millis: 5000 });
    await next('call.playback.started', ccid);
    await sb.pressDigits(phone, '12#', 60, 60);
    const prompt = await next('call.playback.ended', ccid);
    assert.equal(prompt.payload['status'], 'cancelled');
    const ended = await next('call.gather.ended', ccid);
    assert.deepEqual([ended.payload['digits'], ended.payload['status']], ['12', 'valid']);
    await hangUp(ccid);
    const log = (await sb.virtualCall(phone)).log;
    const promptEnd = log.find((e) => e.event === 'prompt_ended');
    assert.equal(promptEnd?.['interrupted'], true);
    const firstDigit = log.find((e) => e.event === 'dtmf_sent');
    assert.ok(promptEnd && firstDigit);
    // Barge-in: the prompt ends on the digit's own media tick.
    assert.ok(Date.parse(promptEnd.at) - Date.parse(firstDigit.at) <= 40, `${firstDigit.at} → ${promptEnd.at}`);
  });

  it('gather_using_speak: invalid input plays the invalid prompt, then the prompt, and the retry counts', async () => {
    const { phone, ccid } = await answeredCall();
    await client.calls.actions.gatherUsingSpeak(ccid, {
      payload: 'Press one or two.', invalid_payload: 'Sorry.', voice: 'female', valid_digits: '12', maximum_digits: 1, timeout_millis: 3000,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await sb.pressDigits(phone, '9', 60, 60);
    await new Promise((resolve) => setTimeout(resolve, 800));
    await sb.pressDigits(phone, '2', 60, 60);
    const ended = await next('call.gather.ended', ccid);
    assert.deepEqual([ended.payload['digits'], ended.payload['status']], ['2', 'valid']);
    await hangUp(ccid);
    const texts = (await sb.virtualCall(phone)).log.filter((e) => e.event === 'prompt_started').map((e) => e['text']);
    assert.deepEqual(texts, ['Press one or two.', 'Sorry.', 'Press one or two.'].slice(0, texts.length));
    assert.ok(texts.length >= 2 && texts[1] === 'Sorry.', JSON.stringify(texts));
    const speakEvents = receiver.received.filter((w) => w.body.data?.payload?.['call_control_id'] === ccid && String(w.body.data.event_type).startsWith('call.speak'));
    assert.equal(speakEvents.length, 0, 'gather_using_speak prompts send no speak events');
  });
});

describe('speech through a configured OpenAI-compatible server', () => {
  it('speaks Telnyx.* voices with the configured server, and the phone hears its audio', async () => {
    // A test double for a hosted TTS service: answers /v1/audio/speech with a 0.5 s 500 Hz tone.
    const tone = new Int16Array(4000);
    for (let i = 0; i < tone.length; i++) tone[i] = Math.round(8000 * Math.sin((2 * Math.PI * 500 * i) / 8000));
    const bodies: Record<string, unknown>[] = [];
    const server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => { raw += chunk.toString(); });
      req.on('end', () => {
        bodies.push({ url: req.url, auth: req.headers.authorization, ...(JSON.parse(raw) as Record<string, unknown>) });
        res.writeHead(200, { 'content-type': 'audio/wav' }).end(Buffer.from(encodeWav(tone)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const receiver = await new WebhookReceiver().start();
    const sb = await TestSwitchboard.start({
      config: { speech: { providers: [{ families: ['telnyx'], baseUrl, apiKey: 'sk-test', model: 'kokoro' }] } },
    });
    try {
      const client = sdkClient(sb);
      await sb.createApplication(receiver.url, [APP_NUMBER], 'tts');
      const placed = await sb.placeCall('+15550409999', APP_NUMBER);
      await client.calls.actions.answer(placed.call_control_id, {});
      await client.calls.actions.speak(placed.call_control_id, { payload: 'Hello from the hosted voice.', voice: 'Telnyx.KokoroTTS.af' });
      const ended = await receiver.waitForEvent('call.speak.ended', placed.call_control_id, 10_000);
      assert.equal((await verify(client, ended)).payload['status'], 'completed');
      await client.calls.actions.hangup(placed.call_control_id, {});
      await receiver.waitForEvent('call.hangup', placed.call_control_id);
      assert.equal(bodies.length, 1);
      assert.equal(bodies[0]?.['url'], '/v1/audio/speech');
      assert.equal(bodies[0]?.['auth'], 'Bearer sk-test');
      assert.equal(bodies[0]?.['model'], 'kokoro');
      assert.equal(bodies[0]?.['input'], 'Hello from the hosted voice.');
      const heard = await sb.heardAudio(placed.id);
      const [span] = soundSpans(heard);
      assert.ok(span, 'the phone heard the provider audio');
      assert.ok(toneShare(heard, 500, span[0], span[1]) > 0.9);
    } finally {
      await sb.close();
      await receiver.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('playback on virtual time', () => {
  it('plays as the test advances the clock, frame by frame', async () => {
    const clock = new VirtualClock();
    const receiver = await new WebhookReceiver().start();
    const sb = await TestSwitchboard.start({ clock });
    try {
      const client = sdkClient(sb);
      await sb.createApplication(receiver.url, [APP_NUMBER], 'virtual-time');
      const placed = await sb.placeCall('+15550409999', APP_NUMBER);
      await client.calls.actions.answer(placed.call_control_id, {});
      const tone = new Int16Array(8000).fill(5000); // 1 s
      await client.calls.actions.startPlayback(placed.call_control_id, { playback_content: Buffer.from(encodeWav(tone)).toString('base64'), audio_type: 'wav' });
      // Let the decode finish, then move time: nothing plays until the clock moves.
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(receiver.eventTypes(placed.call_control_id).includes('call.playback.started'), false);
      clock.advance(500);
      await receiver.waitForEvent('call.playback.started', placed.call_control_id);
      assert.equal(receiver.eventTypes(placed.call_control_id).includes('call.playback.ended'), false, 'half-way through');
      clock.advance(600);
      await receiver.waitForEvent('call.playback.ended', placed.call_control_id);
      const heard = await sb.heardAudio(placed.id);
      assert.equal(heard.length, 1100 * 8, 'one frame per 20 ms of virtual time');
      assert.equal(soundMs(heard), 1000);
    } finally {
      await sb.close();
      await receiver.close();
    }
  });
});
