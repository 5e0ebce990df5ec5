import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { toEngineFormat } from '../../src/media/audio/resample.js';
import { parseWav } from '../../src/media/audio/wav.js';
import { readWav, writeWav } from '../fixtures/dtmf-wav.js';
import { soundMs, soundSpans, toneShare } from '../helpers/audio-analysis.js';
import { pocketsphinxInstalled, recogniseWords } from '../helpers/recognise.js';
import { Baresip, baresipInstalled } from '../fixtures/baresip.js';
import { writeDtmfWav } from '../fixtures/dtmf-wav.js';
import { APP_NUMBER, startAppSide, type AppSide } from '../fixtures/sip-app.js';

/**
 * baresip as a real softphone, headless: it calls the app and keys digits as RFC 4733 events or
 * plays them as tones through its microphone, and it answers calls the app places.
 */
describe('baresip softphone', { skip: baresipInstalled ? false : 'baresip not installed' }, () => {
  let app: AppSide;
  let dir: string;

  before(async () => {
    app = await startAppSide();
    dir = mkdtempSync(join(tmpdir(), 'switchboard-baresip-'));
  });

  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const appUri = (): string => `sip:${APP_NUMBER}@127.0.0.1:${app.sb.server.sip?.port('UDP')}`;

  /** baresip calls the app; the app answers and gathers until `#`. Returns the gather's digits. */
  async function callAndGather(phone: Baresip, keyDigits: (() => Promise<void>) | null): Promise<{ ccid: string; digits: unknown; dtmf: unknown[] }> {
    await phone.dial(appUri());
    const initiated = await app.nextEvent('call.initiated');
    const ccid = String(initiated.payload['call_control_id']);
    assert.equal(initiated.payload['to'], APP_NUMBER);
    await app.client.calls.actions.answer(ccid, {});
    await app.nextEvent('call.answered', ccid);
    await app.client.calls.actions.gather(ccid, { minimum_digits: 1, maximum_digits: 10, terminating_digit: '#', timeout_millis: 15_000 });
    await phone.waitForEvent('CALL_ESTABLISHED');
    await keyDigits?.();
    const ended = await app.nextEvent('call.gather.ended', ccid, 20_000);
    const dtmf = app.receiver.received
      .filter((w) => w.body.data?.event_type === 'call.dtmf.received' && w.body.data.payload?.['call_control_id'] === ccid)
      .map((w) => w.body.data?.payload?.['digit']);
    await app.client.calls.actions.hangup(ccid, {});
    await app.nextEvent('call.hangup', ccid);
    await phone.waitForEvent('CALL_CLOSED');
    return { ccid, digits: ended.payload['digits'], dtmf };
  }

  it('dials in and keys digits as RFC 4733 events: call.gather.ended has exactly those digits', async () => {
    const phone = await Baresip.start();
    try {
      const result = await callAndGather(phone, () => phone.sendDtmf('4821#'));
      assert.equal(result.digits, '4821');
      assert.deepEqual(result.dtmf, ['4', '8', '2', '1', '#'], 'each key reported once');
    } finally {
      await phone.stop();
    }
  });

  it('dials in and plays the digits as tones: the in-band detector hears exactly those digits', async () => {
    const wav = join(dir, 'tones.wav');
    // Tones start 1.5 s after answer, once the gather is surely running.
    await writeDtmfWav(wav, '1357#', { leadInMs: 1500, toneMs: 100, gapMs: 100 });
    const phone = await Baresip.start({ microphoneWav: wav });
    try {
      const result = await callAndGather(phone, null);
      assert.equal(result.digits, '1357');
      assert.deepEqual(result.dtmf, ['1', '3', '5', '7', '#']);
    } finally {
      await phone.stop();
    }
  });

  it('is dialled by the app and answers automatically; send_dtmf reaches it as RFC 4733', async () => {
    const phone = await Baresip.start({ autoAnswer: true });
    try {
      const dialled = await app.client.calls.dial({ connection_id: app.connectionId, to: phone.uri, from: APP_NUMBER, timeout_secs: 10 });
      const ccid = String(dialled.data?.call_control_id);
      await app.nextEvent('call.initiated', ccid);
      await app.nextEvent('call.answered', ccid);
      await phone.waitForEvent('CALL_ESTABLISHED');
      await app.client.calls.actions.sendDtmf(ccid, { digits: '9' });
      const start = await phone.waitForEvent('CALL_DTMF_START');
      assert.equal(start.param, '9');
      await phone.hangup();
      const hangup = await app.nextEvent('call.hangup', ccid);
      assert.equal(hangup.payload['hangup_cause'], 'normal_clearing');
      assert.equal(hangup.payload['hangup_source'], 'callee');
    } finally {
      await phone.stop();
    }
  });

  it('hears what the app speaks: the recording holds the prompt, and pocketsphinx recognises its words', async (t) => {
    const prompt = 'Welcome to the support line. Press one for sales.';
    const recording = join(dir, 'heard.wav');
    const phone = await Baresip.start({ recordWav: recording });
    try {
      await phone.dial(appUri());
      const initiated = await app.nextEvent('call.initiated');
      const ccid = String(initiated.payload['call_control_id']);
      await app.client.calls.actions.answer(ccid, {});
      await app.nextEvent('call.answered', ccid);
      await phone.waitForEvent('CALL_ESTABLISHED');
      // flite's male voice is the one pocketsphinx's general English model follows best.
      await app.client.calls.actions.speak(ccid, { payload: prompt, voice: 'male', language: 'en-US' });
      await app.nextEvent('call.speak.ended', ccid, 15_000);
      // Let the last packets reach the phone before hanging up.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await app.client.calls.actions.hangup(ccid, {});
      await phone.waitForEvent('CALL_CLOSED');
    } finally {
      await phone.stop();
    }
    const wav = await readWav(recording);
    const heard = toEngineFormat(wav.samples, wav.sampleRate);
    const speechMs = soundMs(heard, 200);
    assert.ok(speechMs > 1500 && speechMs < 6000, `heard ${speechMs} ms of sound: ${JSON.stringify(soundSpans(heard, 200))}`);
    if (!pocketsphinxInstalled) return t.skip('pocketsphinx not installed');
    const words = await recogniseWords(heard, prompt);
    const keyWords = ['welcome', 'support', 'line', 'press', 'one', 'sales'];
    const found = keyWords.filter((word) => words.includes(word));
    assert.ok(found.length >= 4, `recognised ${JSON.stringify(words)}`);
  });

  it('is recorded on a SIP call: its microphone on the first channel of a dual recording', async () => {
    const mic = join(dir, 'hum.wav');
    const tone = new Int16Array(8000 * 3);
    for (let i = 0; i < tone.length; i++) tone[i] = Math.round(6000 * Math.sin((2 * Math.PI * 700 * i) / 8000));
    await writeWav(mic, tone);
    const phone = await Baresip.start({ microphoneWav: mic });
    try {
      await phone.dial(appUri());
      const ccid = String((await app.nextEvent('call.initiated')).payload['call_control_id']);
      await app.client.calls.actions.answer(ccid, {});
      await app.nextEvent('call.answered', ccid);
      await phone.waitForEvent('CALL_ESTABLISHED');
      await app.client.calls.actions.startRecording(ccid, { format: 'wav', channels: 'dual' });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await app.client.calls.actions.stopRecording(ccid, {});
      const saved = await app.nextEvent('call.recording.saved', ccid);
      const res = await fetch((saved.payload['recording_urls'] as Record<string, string>)['wav'] as string);
      const wav = parseWav(new Uint8Array(await res.arrayBuffer()));
      assert.equal(wav.channels, 2);
      const caller = Int16Array.from(wav.samples[0] as Float32Array, (v) => Math.round(v * 32767));
      const [span] = soundSpans(caller);
      assert.ok(span, 'the caller channel holds sound');
      assert.ok(toneShare(caller, 700, span[0], span[1]) > 0.8, 'the caller channel holds the microphone tone');
      await app.client.calls.actions.hangup(ccid, {});
      await phone.waitForEvent('CALL_CLOSED');
    } finally {
      await phone.stop();
    }
  });
});
