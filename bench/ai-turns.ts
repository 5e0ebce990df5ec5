/**
 * AI conversation latency and cost, in one process: test servers, virtual phones that speak (flite)
 * and an OpenAI-compatible test double standing in for a hosted model that answers at once. Prints
 * one JSON object:
 * - turn latency as the caller hears it: the end of the phone's speech → the first audio of the
 *   reply, from the phone's own log (its speech clip ends at most 50 ms after the last sound, since
 *   synthesis trims silence to a 50 ms pad; that pad is counted in, so the figure is an upper bound),
 *   for the offline form engine and for the local test LLM;
 * - the server's own split of each turn after the endpoint (transcription, thinking, synthesis) and
 *   whether transcription ran live;
 * - the endpointing delay (silence the detector waits for before it ends a turn);
 * - barge-in: the caller starts talking over the assistant → the assistant's speech stops;
 * - CPU per concurrent conversation that is listening.
 * Each server holds one warm-up conversation first, so engine start-up is not counted.
 *
 *   npx tsx bench/ai-turns.ts [turns=6] [concurrent=20]
 *
 * Env: SWITCHBOARD_AI_END_OF_TURN_MS sets the endpointing delay of the servers (config
 * ai.endOfTurnSilenceMs).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { defaultConfig } from '../src/config/config.js';
import { TestSwitchboard } from '../src/testing/harness.js';
import { WebhookReceiver } from '../src/testing/webhook-receiver.js';
import Telnyx from 'telnyx';

const turns = Math.max(1, Math.min(20, Number(process.argv[2] ?? 6) || 6));
const concurrent = Math.max(1, Math.min(200, Number(process.argv[3] ?? 20) || 20));
const endOfTurnSilenceMs = Number(process.env['SWITCHBOARD_AI_END_OF_TURN_MS'] ?? defaultConfig.ai.endOfTurnSilenceMs);
const APP = '+15550100600';
const ANSWER = 'four two seven one';
/** Synthesis trims silence to this much around the speech (src/speech/tts/pcm.ts). */
const TRIM_PAD_MS = 50;
const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth'];

/** A form of `count` account numbers, so one conversation has that many spoken answers. */
function form(count: number): object {
  const properties: Record<string, object> = {};
  for (let i = 0; i < count; i++) {
    properties[`account_${i}`] = { type: 'integer', description: `your ${ORDINALS[i % ORDINALS.length]} account number` };
  }
  return { type: 'object', properties, required: Object.keys(properties) };
}

/**
 * A stand-in for a hosted model that answers at once, so only Switchboard's own time is measured.
 * Every reply is new, so its speech is synthesised for real, not taken from the cache.
 */
async function fakeModel(): Promise<{ url: string; close: () => Promise<void> }> {
  let replies = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      id: 'x', object: 'chat.completion', model: 'fake',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: `Item ${++replies} is noted, thank you for that. Is there anything else I can help you with today?` } }],
    })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, close: () => new Promise((r) => server.close(() => r())) };
}

interface TurnRow { stt_mode: string; stt_ms: number; llm_ms: number; tts_ms: number; total_ms: number }
interface LogEntry { at: string; event: string; kind?: string }

/**
 * The recognisers this process started (one per listening conversation) and their total memory,
 * as PSS: the model files they map are shared between them and counted once.
 */
function recognisers(): { count: number; pssMb: number } {
  let count = 0;
  let pssKb = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.includes('(pocketsphinx_co') || stat.split(') ')[1]?.split(' ')[1] !== String(process.pid)) continue;
      count++;
      pssKb += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // The process ended while being read.
    }
  }
  return { count, pssMb: Math.round(pssKb / 1024) };
}

const micros = (iso: string): number => Date.parse(iso) + Number(/\.\d{3}(\d{3})Z$/.exec(iso)?.[1] ?? 0) / 1000;

/** For each time the phone finished speaking: how long until the reply started, in ms. */
function heardGaps(log: readonly LogEntry[]): number[] {
  const gaps: number[] = [];
  for (let i = 0; i < log.length; i++) {
    const entry = log[i] as LogEntry;
    if (entry.event !== 'sending_ended' || entry.kind !== 'speak') continue;
    const reply = log.slice(i + 1).find((e) => e.event === 'prompt_started');
    if (reply) gaps.push(micros(reply.at) - micros(entry.at));
  }
  return gaps;
}

function stat(values: number[]): { p50: number | null; max: number | null } {
  const v = [...values].sort((a, b) => a - b);
  const round = (x: number | undefined): number | null => (x === undefined ? null : Math.round(x));
  return { p50: round(v[Math.floor(v.length / 2)]), max: round(v.at(-1)) };
}

async function run(): Promise<void> {
  const model = await fakeModel();
  const receiver = await new WebhookReceiver().start();
  const ai = { endOfTurnSilenceMs };
  const sb = await TestSwitchboard.start({ config: { ai: { ...ai, llm: { baseUrl: model.url, model: 'fake' } } } });
  const offline = await TestSwitchboard.start({ config: { ai: { ...ai, llm: null } } });
  const client = (s: TestSwitchboard): Telnyx => new Telnyx({ apiKey: s.apiKey, baseURL: s.baseURL, maxRetries: 0 });
  try {
    await sb.createApplication(receiver.url, [APP]);
    await offline.createApplication(receiver.url, [APP]);

    /** Places a call, starts a conversation, has the phone answer `count` times; returns the phone's gaps and the server's turns. */
    const converse = async (server: TestSwitchboard, count: number, start: (ccid: string) => Promise<string>): Promise<{ gaps: number[]; turns: TurnRow[] }> => {
      const placed = await server.placeCall('+15550409000', APP);
      await client(server).calls.actions.answer(placed.call_control_id, {});
      const id = await start(placed.call_control_id);
      const log = async (): Promise<LogEntry[]> => (await server.virtualCall(placed.id)).log as LogEntry[];
      const prompts = async (): Promise<{ started: number; ended: number }> => {
        const entries = await log();
        return { started: entries.filter((e) => e.event === 'prompt_started').length, ended: entries.filter((e) => e.event === 'prompt_ended').length };
      };
      const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
      /** Until a reply that started after `before` prompts has been heard whole (its sentences play one after another). */
      const replyHeard = async (before: number): Promise<void> => {
        for (let waited = 0; waited < 300; waited++) {
          const now = await prompts();
          if (now.ended > before && now.ended === now.started) {
            await sleep(250);
            if ((await prompts()).started === now.started) return;
          }
          await sleep(50);
        }
      };
      await replyHeard(0);
      for (let i = 0; i < count; i++) {
        const before = (await prompts()).ended;
        await server.say(placed.id, ANSWER, 'male');
        await replyHeard(before);
      }
      const view = await server.request<{ turns: TurnRow[] }>('GET', `/switchboard/v1/conversations/${id}`);
      const gaps = heardGaps(await log());
      await client(server).calls.actions.hangup(placed.call_control_id, {});
      return { gaps, turns: view.turns.filter((t) => t.stt_mode !== 'none') };
    };
    const assistant = (ccid: string) => async (): Promise<string> => {
      const res = await client(sb).calls.actions.startAIAssistant(ccid, { greeting: 'Hello.' });
      return String((res.data as { conversation_id?: string }).conversation_id);
    };
    const gather = (count: number) => async (ccid: string): Promise<string> => {
      const res = await client(offline).calls.actions.gatherUsingAI(ccid, { parameters: form(count) as never, user_response_timeout_ms: 60_000 });
      return String((res.data as { conversation_id?: string }).conversation_id);
    };
    await converse(sb, 1, (ccid) => assistant(ccid)());
    await converse(offline, 1, gather(1));
    const llm = await converse(sb, turns, (ccid) => assistant(ccid)());
    const offlineForm = await converse(offline, turns, gather(turns));

    // Barge-in: the phone talks over a long greeting; how soon after its speech starts the greeting stops.
    const bargeIns: number[] = [];
    for (let i = 0; i < 5; i++) {
      const placed = await sb.placeCall('+15550409001', APP);
      await client(sb).calls.actions.answer(placed.call_control_id, {});
      await client(sb).calls.actions.startAIAssistant(placed.call_control_id, {
        greeting: 'Welcome to the bank. Our opening hours are nine to five on weekdays and ten to two on Saturdays.',
      });
      const log = async (): Promise<LogEntry[]> => (await sb.virtualCall(placed.id)).log as LogEntry[];
      for (let waited = 0; waited < 100 && !(await log()).some((e) => e.event === 'prompt_started'); waited++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 400));
      await sb.say(placed.id, 'Hello, I need help with my card please.', 'male');
      for (let waited = 0; waited < 100 && !(await log()).some((e) => e.event === 'prompt_ended' && (e as { interrupted?: boolean }).interrupted); waited++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const entries = await log();
      const spoke = entries.find((e) => e.event === 'sending_started');
      const cut = entries.find((e) => e.event === 'prompt_ended' && (e as { interrupted?: boolean }).interrupted);
      if (spoke && cut) bargeIns.push(micros(cut.at) - micros(spoke.at));
      await client(sb).calls.actions.hangup(placed.call_control_id, {});
    }

    // CPU of conversations that listen to a quiet line (the steady cost: VAD on every frame).
    const calls: string[] = [];
    for (let i = 0; i < concurrent; i++) {
      const placed = await sb.placeCall(`+1555041${String(i).padStart(4, '0')}`, APP);
      await client(sb).calls.actions.answer(placed.call_control_id, {});
      await client(sb).calls.actions.startAIAssistant(placed.call_control_id, {});
      calls.push(placed.call_control_id);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 5000));
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - t0;
    const idleCpu = ((cpu.user + cpu.system) / 1000 / wall) * 100;
    const listening = recognisers();
    for (const ccid of calls) await client(sb).calls.actions.hangup(ccid, {});

    const summary = (result: { gaps: number[]; turns: TurnRow[] }) => ({
      turns: result.turns.length,
      stt_modes: [...new Set(result.turns.map((r) => r.stt_mode))],
      end_of_speech_to_first_audio_ms: stat(result.gaps.map((g) => g + TRIM_PAD_MS)),
      // The phone's answers and the server's turns pair up in order: what the turn's own time
      // leaves of the heard latency is the endpointing (the configured silence, the detector's
      // hangover and the 20 ms frames), an upper bound like the latency.
      endpointing_ms: stat(result.turns.map((turn, i) => (result.gaps[i] ?? NaN) + TRIM_PAD_MS - turn.total_ms).filter(Number.isFinite)),
      after_endpoint: {
        stt_ms: stat(result.turns.map((r) => r.stt_ms)),
        think_ms: stat(result.turns.map((r) => r.llm_ms)),
        tts_ms: stat(result.turns.map((r) => r.tts_ms)),
        total_ms: stat(result.turns.map((r) => r.total_ms)),
      },
    });
    process.stdout.write(`${JSON.stringify({
      endpointing_delay_ms: endOfTurnSilenceMs,
      offline_form_engine: summary(offlineForm),
      local_test_llm: summary(llm),
      // From the first sample of the caller's speech (the clip has at most 50 ms of quiet before it).
      barge_in_ms: { ...stat(bargeIns), trials: bargeIns.length },
      listening_conversations: concurrent,
      cpu_pct_per_listening_conversation: Number((idleCpu / concurrent).toFixed(3)),
      // Each listening conversation keeps a recogniser started, waiting for the caller's next turn.
      recognisers_waiting: listening.count,
      recogniser_pss_mb_each: listening.count > 0 ? Math.round(listening.pssMb / listening.count) : null,
      target: { end_of_speech_to_first_audio_excluding_llm_ms: 500, barge_in_ms: 200 },
    })}\n`);
  } finally {
    await sb.close();
    await offline.close();
    await receiver.close();
    await model.close();
  }
}

await run();
