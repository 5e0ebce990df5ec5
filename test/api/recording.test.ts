import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { ConfigOverrides } from '../../src/config/config.js';
import { decodeAudio } from '../../src/media/audio/decode.js';
import { encodeWav, parseWav } from '../../src/media/audio/wav.js';
import { VirtualClock } from '../../src/util/clock.js';
import { soundSpans, toneShare } from '../helpers/audio-analysis.js';
import { pocketsphinxInstalled } from '../helpers/recognise.js';
import { startPhoneApp } from '../fixtures/phone-app.js';

const APP_NUMBER = '+15550100400';
const CALLER = '+15550409998';

/** `seconds` of a sine at `hz`, as base64 WAV for playback_content / a phone's play action. */
function toneWav(hz: number, seconds: number, amplitude = 8000): string {
  const pcm = new Int16Array(Math.round(seconds * 8000));
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / 8000));
  return Buffer.from(encodeWav(pcm)).toString('base64');
}

const toPcm = (channel: Float32Array): Int16Array => Int16Array.from(channel, (v) => Math.round(v * 32767));

/** A test server, its SDK client and webhook receiver, and a routed number. */
async function setup(options: { clock?: VirtualClock } = {}) {
  return setupWith({}, options.clock);
}

async function setupWith(config: ConfigOverrides, clock?: VirtualClock) {
  const app = await startPhoneApp({ number: APP_NUMBER, caller: CALLER, config, ...(clock ? { clock } : {}) });
  /** Downloads a recording URL from call.recording.saved (the API key is sent, and not needed). */
  const download = async (url: string): Promise<Uint8Array> => {
    const res = await fetch(url, { headers: { authorization: `Bearer ${app.sb.apiKey}` } });
    assert.equal(res.status, 200, `GET ${url}`);
    return new Uint8Array(await res.arrayBuffer());
  };
  return { ...app, download };
}

describe('recording on virtual phones', () => {
  let t: Awaited<ReturnType<typeof setup>>;
  before(async () => { t = await setup(); });
  after(async () => { await t.close(); });

  it('dual channels: the caller on the first channel, what the app plays on the second', async () => {
    const { ccid, phone } = await t.call();
    await t.client.calls.actions.startRecording(ccid, { format: 'wav', channels: 'dual' });
    await t.client.calls.actions.startPlayback(ccid, { playback_content: toneWav(440, 1), audio_type: 'wav' });
    await t.sb.sendAudio(phone, { playback_content: toneWav(1000, 1), audio_type: 'wav' });
    await t.next('call.playback.ended', ccid);
    await t.client.calls.actions.stopRecording(ccid, {});
    const saved = await t.next('call.recording.saved', ccid);
    assert.equal(saved.payload['channels'], 'dual');
    assert.equal(saved.payload['format'], 'wav');
    assert.match(String(saved.payload['recording_id']), /^[0-9a-f-]{36}$/);
    const urls = saved.payload['recording_urls'] as Record<string, string>;
    const wav = parseWav(await t.download(urls['wav'] as string));
    assert.equal(wav.channels, 2);
    assert.equal(wav.sampleRate, 8000);
    const [caller, app] = wav.samples.map(toPcm) as [Int16Array, Int16Array];
    const [span] = soundSpans(caller);
    assert.ok(span, 'the caller channel has sound');
    assert.ok(toneShare(caller, 1000, span[0] + 100, span[1] - 100) > 0.9, 'caller channel: 1000 Hz');
    assert.ok(toneShare(caller, 440, span[0] + 100, span[1] - 100) < 0.02);
    const [appSpan] = soundSpans(app);
    assert.ok(appSpan);
    assert.ok(toneShare(app, 440, appSpan[0] + 100, appSpan[1] - 100) > 0.9, 'app channel: 440 Hz');
    assert.ok(toneShare(app, 1000, appSpan[0] + 100, appSpan[1] - 100) < 0.02);
    await t.client.calls.actions.hangup(ccid, {});
  });

  it('single channel mixes both sides; MP3 output decodes to the recorded length', async () => {
    const { ccid, phone } = await t.call();
    await t.client.calls.actions.startRecording(ccid, { format: 'mp3', channels: 'single' });
    await t.sb.sendAudio(phone, { playback_content: toneWav(1000, 0.5), audio_type: 'wav' });
    await t.client.calls.actions.startPlayback(ccid, { playback_content: toneWav(440, 0.5), audio_type: 'wav' });
    await t.next('call.playback.ended', ccid);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await t.client.calls.actions.stopRecording(ccid, {});
    const saved = await t.next('call.recording.saved', ccid);
    const urls = saved.payload['recording_urls'] as Record<string, string>;
    assert.ok(urls['mp3']);
    const pcm = await decodeAudio(await t.download(urls['mp3'] as string), 'mp3');
    const duration = Number(saved.payload['duration_millis']);
    assert.ok(Math.abs((pcm.length / 8) - duration) <= 80, `decoded ${pcm.length / 8} ms vs duration ${duration} ms`);
    assert.ok(toneShare(pcm, 1000) > 0.2 && toneShare(pcm, 440) > 0.2, 'both sides are in the mix');
    await t.client.calls.actions.hangup(ccid, {});
  });

  it('hanging up saves an active recording', async () => {
    const { ccid } = await t.call();
    await t.client.calls.actions.startRecording(ccid, { format: 'wav', channels: 'single' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await t.client.calls.actions.hangup(ccid, {});
    const saved = await t.next('call.recording.saved', ccid);
    assert.ok(Number(saved.payload['duration_millis']) >= 200);
    const list = await t.client.recordings.list({ filter: { call_leg_id: String(saved.payload['call_leg_id']) } } as never);
    assert.equal(list.data?.length, 1);
  });

  it('refuses record_stop with no recording, and record_start with bad values, changing nothing', async () => {
    const { ccid } = await t.call();
    const res = await fetch(`${t.sb.baseURL}/calls/${ccid}/actions/record_stop`, {
      method: 'POST', headers: { authorization: `Bearer ${t.sb.apiKey}`, 'content-type': 'application/json' }, body: '{}',
    });
    assert.equal(res.status, 404);
    const bad = await fetch(`${t.sb.baseURL}/calls/${ccid}/actions/record_start`, {
      method: 'POST', headers: { authorization: `Bearer ${t.sb.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ format: 'ogg', channels: 'single' }),
    });
    assert.equal(bad.status, 422);
    const body = (await bad.json()) as { errors: { source?: { pointer?: string } }[] };
    assert.equal(body.errors[0]?.source?.pointer, '/format');
    await t.client.calls.actions.hangup(ccid, {});
    await t.next('call.hangup', ccid);
    assert.equal(t.receiver.eventTypes(ccid).filter((e) => e.startsWith('call.recording')).length, 0);
  });

  it('answer with record-from-answer returns the recording_id and records from the answer', async () => {
    const placed = await t.sb.placeCall(CALLER, APP_NUMBER);
    const answered = await t.client.calls.actions.answer(placed.call_control_id, { record: 'record-from-answer', record_format: 'wav', record_channels: 'single' });
    const recordingId = (answered.data as { recording_id?: string }).recording_id;
    assert.match(String(recordingId), /^[0-9a-f-]{36}$/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await t.client.calls.actions.hangup(placed.call_control_id, {});
    const saved = await t.next('call.recording.saved', placed.call_control_id);
    assert.equal(saved.payload['recording_id'], recordingId);
  });
});

describe('recording timing on virtual time', () => {
  let t: Awaited<ReturnType<typeof setup>>;
  let clock: VirtualClock;
  before(async () => {
    clock = new VirtualClock();
    t = await setup({ clock });
  });
  after(async () => { await t.close(); });

  /** Advances virtual time in media-tick steps, letting I/O run between them. */
  async function advance(ms: number): Promise<void> {
    for (let done = 0; done < ms; done += 100) {
      clock.advance(100);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  it('pause and resume: the paused span is missing and the duration adds up', async () => {
    const { ccid } = await t.call();
    await t.client.calls.actions.startRecording(ccid, { format: 'wav', channels: 'single' });
    await advance(1000);
    await t.client.calls.actions.pauseRecording(ccid, {});
    await advance(2000);
    await t.client.calls.actions.resumeRecording(ccid, {});
    await advance(500);
    await t.client.calls.actions.stopRecording(ccid, {});
    const saved = await t.next('call.recording.saved', ccid);
    assert.equal(saved.payload['duration_millis'], 1500);
    await t.client.calls.actions.hangup(ccid, {});
  });

  it('max_length ends the recording at that length', async () => {
    const { ccid } = await t.call();
    await t.client.calls.actions.startRecording(ccid, { format: 'wav', channels: 'single', max_length: 2 });
    await advance(3000);
    const saved = await t.next('call.recording.saved', ccid);
    assert.equal(saved.payload['duration_millis'], 2000);
    await t.client.calls.actions.hangup(ccid, {});
  });

  it('timeout_secs: silence after speech ends the recording; silence before speech does not', async () => {
    const { ccid, phone } = await t.call();
    await t.client.calls.actions.startRecording(ccid, { format: 'wav', channels: 'single', timeout_secs: 1, recording_track: 'inbound' });
    await advance(2000);
    assert.equal(t.receiver.eventTypes(ccid).includes('call.recording.saved'), false, 'no speech yet: still recording');
    await t.sb.say(phone, 'Hello, I would like to check my balance please.');
    // Synthesis runs on real time; give it a moment before the clock moves on.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await advance(8000);
    const saved = await t.next('call.recording.saved', ccid);
    const duration = Number(saved.payload['duration_millis']);
    const log = (await t.sb.virtualCall(phone)).log;
    const spoke = log.find((e) => e.event === 'sending_ended');
    assert.ok(spoke, 'the phone finished speaking');
    // 2 s of silence, the sentence, then 1 s of silence ends it.
    const startedAt = Date.parse(String(saved.payload['recording_started_at']));
    const expected = Date.parse(spoke.at) - startedAt + 1000;
    assert.ok(Math.abs(duration - expected) <= 300, `recorded ${duration} ms, expected about ${expected} ms`);
    await t.client.calls.actions.hangup(ccid, {});
  });
});

describe('recording transcription', () => {
  it('transcribes a sentence the caller spoke with pocketsphinx, or reports its absence clearly', async () => {
    const t = await setup();
    try {
      const { ccid, phone } = await t.call();
      await t.client.calls.actions.startRecording(ccid, { format: 'wav', channels: 'single', recording_track: 'inbound', transcription: true, transcription_language: 'en-US' });
      const sentence = 'Please transfer me to the billing department.';
      // flite's male voice is the one pocketsphinx's general English model follows best (see docs).
      await t.sb.say(phone, sentence, 'male');
      for (let i = 0; i < 100 && !(await t.sb.virtualCall(phone)).log.some((e) => e.event === 'sending_ended'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await t.client.calls.actions.stopRecording(ccid, {});
      const saved = await t.next('call.recording.saved', ccid);
      if (!pocketsphinxInstalled) {
        const error = await t.next('call.recording.error', ccid);
        assert.match(String(error.payload['detail']), /pocketsphinx|transcription/i);
        return;
      }
      const transcribed = await t.next('call.recording.transcription.saved', ccid, 30_000);
      assert.equal(transcribed.payload['recording_id'], saved.payload['recording_id']);
      assert.equal(transcribed.payload['status'], 'completed');
      const words = String(transcribed.payload['transcription_text']).toLowerCase();
      const keyWords = ['transfer', 'billing', 'department'];
      assert.ok(keyWords.filter((w) => words.includes(w)).length >= 2, `transcribed: ${words}`);
      const list = await t.client.recordingTranscriptions.list();
      assert.ok(list.data?.some((r) => r.id === transcribed.payload['recording_transcription_id']));
      await t.client.calls.actions.hangup(ccid, {});
    } finally {
      await t.close();
    }
  });

  it('uses a configured OpenAI-compatible transcription server, and with no engine still saves the recording', async () => {
    // A test double for a hosted speech-to-text service.
    const requests: string[] = [];
    const fake = createServer((req, res) => {
      let size = 0;
      req.on('data', (chunk: Buffer) => { size += chunk.length; });
      req.on('end', () => {
        requests.push(`${req.method} ${req.url} ${req.headers['content-type']?.split(';')[0]} ${size > 1000}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: 'hello from the fake server' }));
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const address = fake.address();
    const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const t = await setupWith({ speech: { pocketsphinx: false, transcriptionServer: { baseUrl, model: 'whisper-1', apiKey: 'sk-stt' } } });
    const none = await setupWith({ speech: { pocketsphinx: false, transcriptionServer: null } });
    try {
      for (const [side, expectText] of [[t, true], [none, false]] as const) {
        const { ccid, phone } = await side.call();
        await side.client.calls.actions.startRecording(ccid, { format: 'wav', channels: 'single', transcription: true });
        await side.sb.sendAudio(phone, { playback_content: toneWav(300, 0.5), audio_type: 'wav' });
        await new Promise((resolve) => setTimeout(resolve, 700));
        await side.client.calls.actions.stopRecording(ccid, {});
        await side.next('call.recording.saved', ccid);
        if (expectText) {
          const transcribed = await side.next('call.recording.transcription.saved', ccid);
          assert.equal(transcribed.payload['transcription_text'], 'hello from the fake server');
        } else {
          const error = await side.next('call.recording.error', ccid);
          assert.match(String(error.payload['detail']), /apt-get install pocketsphinx|transcription server|configure/i);
        }
        await side.client.calls.actions.hangup(ccid, {});
      }
      assert.deepEqual(requests, ['POST /v1/audio/transcriptions multipart/form-data true']);
    } finally {
      await t.close();
      await none.close();
      await new Promise((resolve) => fake.close(resolve));
    }
  });
});
