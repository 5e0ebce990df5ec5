/**
 * AI conversation latency and cost, in one process: a test server, virtual phones that speak (flite)
 * and an OpenAI-compatible test double standing in for a hosted model. Prints one JSON object:
 * - turn latency, end of caller speech → first audio of the reply, per stage (transcription,
 *   thinking, synthesis), for the offline form engine and for the local test LLM;
 * - the endpointing delay (silence the detector waits for before it ends a turn);
 * - CPU per concurrent conversation that is listening.
 *
 *   npx tsx bench/ai-turns.ts [turns=6] [concurrent=20]
 */
import { createServer } from 'node:http';
import { DEFAULT_END_SILENCE_MS } from '../src/speech/utterances.js';
import { TestSwitchboard } from '../src/testing/harness.js';
import { WebhookReceiver } from '../src/testing/webhook-receiver.js';
import Telnyx from 'telnyx';

const turns = Math.max(1, Math.min(20, Number(process.argv[2] ?? 6) || 6));
const concurrent = Math.max(1, Math.min(200, Number(process.argv[3] ?? 20) || 20));
const APP = '+15550100600';
const FORM = {
  type: 'object',
  properties: { account_number: { type: 'integer', description: 'your account number' } },
  required: ['account_number'],
};

/** A stand-in for a hosted model that answers at once, so only Switchboard's own time is measured. */
async function fakeModel(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      id: 'x', object: 'chat.completion', model: 'fake',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Thanks. Anything else?' } }],
    })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, close: () => new Promise((r) => server.close(() => r())) };
}

interface TurnRow { stt_ms: number; llm_ms: number; tts_ms: number; total_ms: number }

async function run(): Promise<void> {
  const model = await fakeModel();
  const receiver = await new WebhookReceiver().start();
  const sb = await TestSwitchboard.start({ config: { ai: { llm: { baseUrl: model.url, model: 'fake' } } } });
  const offline = await TestSwitchboard.start();
  const client = (s: TestSwitchboard): Telnyx => new Telnyx({ apiKey: s.apiKey, baseURL: s.baseURL, maxRetries: 0 });
  try {
    await sb.createApplication(receiver.url, [APP]);
    await offline.createApplication(receiver.url, [APP]);

    /** Places a call, starts a conversation, has the phone answer `turns` times; returns the turn timings. */
    const converse = async (server: TestSwitchboard, start: (ccid: string) => Promise<string>): Promise<TurnRow[]> => {
      const placed = await server.placeCall('+15550409000', APP);
      await client(server).calls.actions.answer(placed.call_control_id, {});
      const id = await start(placed.call_control_id);
      const prompts = async (): Promise<number> => (await server.virtualCall(placed.id)).log.filter((e) => e.event === 'prompt_ended').length;
      for (let i = 0; i < turns; i++) {
        const before = await prompts();
        await server.say(placed.id, 'four two seven one', 'male');
        for (let waited = 0; waited < 200 && (await prompts()) <= before; waited++) await new Promise((r) => setTimeout(r, 50));
      }
      const view = await server.request<{ turns: TurnRow[] }>('GET', `/switchboard/v1/conversations/${id}`);
      await client(server).calls.actions.hangup(placed.call_control_id, {});
      return view.turns;
    };
    const assistantTurns = await converse(sb, async (ccid) => {
      const res = await client(sb).calls.actions.startAIAssistant(ccid, { greeting: 'Hello.' });
      return String((res.data as { conversation_id?: string }).conversation_id);
    });
    const formTurns = await converse(offline, async (ccid) => {
      const res = await client(offline).calls.actions.gatherUsingAI(ccid, { parameters: FORM, user_response_timeout_ms: 60_000 });
      return String((res.data as { conversation_id?: string }).conversation_id);
    });

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
    for (const ccid of calls) await client(sb).calls.actions.hangup(ccid, {});

    const summary = (rows: TurnRow[]) => {
      const stat = (pick: (r: TurnRow) => number) => {
        const v = rows.map(pick).sort((a, b) => a - b);
        return { p50: v[Math.floor(v.length / 2)] ?? null, max: v.at(-1) ?? null };
      };
      return { turns: rows.length, stt_ms: stat((r) => r.stt_ms), think_ms: stat((r) => r.llm_ms), tts_ms: stat((r) => r.tts_ms), after_endpoint_ms: stat((r) => r.total_ms) };
    };
    const endpointingMs = DEFAULT_END_SILENCE_MS;
    const form = summary(formTurns);
    const llm = summary(assistantTurns);
    process.stdout.write(`${JSON.stringify({
      endpointing_delay_ms: endpointingMs,
      offline_form_engine: { ...form, end_of_speech_to_first_audio_p50_ms: (form.after_endpoint_ms.p50 ?? 0) + endpointingMs },
      local_test_llm: {
        ...llm,
        end_of_speech_to_first_audio_p50_ms: (llm.after_endpoint_ms.p50 ?? 0) + endpointingMs,
        excluding_llm_p50_ms: (llm.after_endpoint_ms.p50 ?? 0) - (llm.think_ms.p50 ?? 0) + endpointingMs,
      },
      listening_conversations: concurrent,
      cpu_pct_per_listening_conversation: Number((idleCpu / concurrent).toFixed(3)),
      target: { end_of_speech_to_first_audio_excluding_llm_ms: 500 },
    })}\n`);
  } finally {
    await sb.close();
    await offline.close();
    await receiver.close();
    await model.close();
  }
}

await run();
