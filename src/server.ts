import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { callControlActions } from './actions/call-control.js';
import { gatherActions } from './actions/gather-actions.js';
import { aiActions } from './actions/ai-actions.js';
import { Conversations } from './ai/conversations.js';
import { playbackActions } from './actions/playback-actions.js';
import { recordFromAnswerRequest, recordingActions } from './actions/recording-actions.js';
import { promptGatherActions } from './actions/prompt-gather-actions.js';
import { speakActions } from './actions/speak-actions.js';
import { createHttpApp } from './api/app.js';
import { registerApplicationRoutes } from './api/routes/call-control-applications.js';
import { registerCallRoutes } from './api/routes/calls.js';
import { registerMediaRoutes } from './api/routes/media.js';
import { registerRecordingTranscriptionRoutes } from './api/routes/recording-transcriptions.js';
import { registerRecordingRoutes } from './api/routes/recordings.js';
import { registerStatsRoutes } from './api/routes/stats.js';
import { registerVirtualPhoneRoutes } from './api/routes/virtual-phones.js';
import { registerWebhookDeliveryRoutes } from './api/routes/webhook-deliveries.js';
import { createRequestValidator } from './api/schemas/index.js';
import { clientStateActions } from './actions/client-state.js';
import { CallEngine } from './calls/call-engine.js';
import { firstRouter } from './calls/remote-party.js';
import { CommandRouter } from './calls/command-router.js';
import type { Config } from './config/config.js';
import { SipEndpoint } from './endpoints/sip-legs/sip-endpoint.js';
import { VirtualPhones } from './endpoints/virtual/virtual-phones.js';
import { AudioLibrary } from './media/audio/audio-cache.js';
import { PlaybackSources } from './media/playback-sources.js';
import { MediaScheduler, monotonicTime } from './media/scheduler.js';
import { speechPreparer } from './speech/speech-preparer.js';
import { createTranscriber } from './speech/stt/index.js';
import { RecordingService } from './recordings/recording-service.js';
import { recordingMedia } from './recordings/recording-media.js';
import { decodeAudio } from './media/audio/decode.js';
import { createSpeechSynthesizer, type ConfiguredProvider } from './speech/tts/index.js';
import { EventPublisher } from './events/publisher.js';
import { MediaLibrary } from './media-storage/media-library.js';
import { RecordingFiles } from './recordings/recording-files.js';
import { ApplicationRepository } from './store/application-repository.js';
import { CommandRepository } from './store/command-repository.js';
import { openDatabase, type Db } from './store/db.js';
import { LegRepository } from './store/leg-repository.js';
import { MediaRepository } from './store/media-repository.js';
import { NumberRepository } from './store/number-repository.js';
import { OutboxRepository } from './store/outbox-repository.js';
import { RecordingRepository } from './store/recording-repository.js';
import { SettingsRepository } from './store/settings-repository.js';
import { VirtualPhoneRepository } from './store/virtual-phone-repository.js';
import { SystemClock, VirtualClock, type Clock } from './util/clock.js';
import { randomIds, type IdSource } from './util/ids.js';
import { WebhookDispatcher } from './webhooks/dispatcher.js';
import { generateSigningKey, WebhookSigner } from './webhooks/signing.js';

export interface ServerOptions {
  /** The engine's clock. Webhook delivery always runs on wall time. */
  clock?: Clock;
  ids?: IdSource;
  log?: (msg: string, fields?: object) => void;
  /** How playback audio is fetched (tests substitute one). */
  fetch?: typeof fetch;
  /**
   * Start the speech engines in the background at start, so the first prompt of the day is not
   * late (about 0.8 s of start-up). The command does; test servers, which rarely speak, do not.
   */
  warmUp?: boolean;
}

/** Credentials generated on first start, reported so the operator can hand them to the SDK. */
export interface GeneratedCredentials {
  apiKey: string | null;
  signingKeyCreated: boolean;
}

export interface Switchboard {
  /** e.g. http://127.0.0.1:8080 — the SDK's base URL is this plus /v2. */
  readonly url: string;
  readonly apiKeys: readonly string[];
  /** The webhook public key in the form TELNYX_PUBLIC_KEY takes. */
  readonly publicKey: string;
  readonly generated: GeneratedCredentials;
  readonly http: FastifyInstance;
  readonly engine: CallEngine;
  readonly phones: VirtualPhones;
  readonly publisher: EventPublisher;
  /** Null when SIP is disabled. */
  readonly sip: SipEndpoint | null;
  readonly scheduler: MediaScheduler;
  /** Media Storage (/v2/media): what a command's media_name resolves to, via `read(name)`. */
  readonly media: MediaLibrary;
  /** Call recordings and their transcriptions (rows). */
  readonly recordings: RecordingRepository;
  /** The recordings directory: file paths, deletion, and the download/public URLs (`webhookUrls(row)`). */
  readonly recordingFiles: RecordingFiles;
  close(): Promise<void>;
}

/** Audio fetched for playback: bounded, since the URLs come from API callers. */
const AUDIO_FETCH_TIMEOUT_MS = 10_000;
const AUDIO_MAX_BYTES = 20 * 1024 * 1024;

/** Wiring only: config → store → engine → api → listen. */
export async function startServer(config: Config, options: ServerOptions = {}): Promise<Switchboard> {
  const clock = options.clock ?? new SystemClock();
  const ids = options.ids ?? randomIds;
  const log = options.log ?? (() => {});

  const dataDir = resolve(config.dataDir);
  const db = openDatabase(join(dataDir, 'switchboard.db'));
  const settings = new SettingsRepository(db);
  const applications = new ApplicationRepository(db);
  const numbers = new NumberRepository(db);
  const legs = new LegRepository(db);
  const commands = new CommandRepository(db);
  const outbox = new OutboxRepository(db);
  const recordings = new RecordingRepository(db);
  // The base URL is final once the server listens (setBaseUrl below); a configured public one is known now.
  const recordingFiles = new RecordingFiles({ dir: join(dataDir, 'recordings'), settings, log, ...(config.publicBaseUrl ? { baseUrl: config.publicBaseUrl } : {}) });

  const signingKey = settings.getOrCreate('webhook_signing_key', () => generateSigningKey().privateKeyPem);
  const signer = new WebhookSigner(signingKey.value);
  let generatedApiKey: string | null = null;
  let apiKeys = config.apiKeys;
  if (apiKeys.length === 0) {
    const stored = settings.getOrCreate('api_key', () => `KEY${randomBytes(24).toString('base64url')}`);
    apiKeys = [stored.value];
    generatedApiKey = stored.value;
  }
  const now = new Date(clock.now());
  for (const app of config.applications) applications.upsertConfigured({ ...app }, now);
  for (const [number, appId] of Object.entries(config.numbers)) numbers.route(number, appId);
  const media = new MediaLibrary({ dir: join(dataDir, 'media'), repository: new MediaRepository(db), clock, ids, log });
  try {
    await media.open();
  } catch (err) {
    db.close();
    throw err;
  }
  // Engines start lazily: the first speak pays flite's start-up, later ones do not.
  const speech = await createSpeechSynthesizer({
    espeak: config.speech.espeak,
    cache: { maxBytes: config.speech.cacheBytes },
    providers: config.speech.providers.map(({ families, ...openai }) => ({ families: families as ConfiguredProvider['families'], openai })),
  });

  const dispatcher = new WebhookDispatcher({
    outbox,
    signer,
    clock: new SystemClock(),
    policy: { maxRounds: config.webhooks.maxRounds, baseDelayMs: config.webhooks.baseDelayMs, multiplier: 2, maxDelayMs: config.webhooks.maxDelayMs },
    log,
  });
  const publisher = new EventPublisher({
    outbox, delivery: dispatcher, applications, clock, ids, defaultWebhookTimeoutMs: config.webhooks.defaultTimeoutMs,
  });
  const scheduler = new MediaScheduler({
    // A test on virtual time gets its media on virtual time too, so prompts play out as it advances.
    time: clock instanceof VirtualClock ? clock : monotonicTime,
    onError: (error) => log('media tick failed', { error: String(error) }),
  });
  const phones = new VirtualPhones(new VirtualPhoneRepository(db), clock, ids, scheduler);
  let sip: SipEndpoint | null = null;
  if (config.sip.enabled) {
    try {
      sip = await SipEndpoint.start({ config: config.sip, numbers, scheduler, log, userAgent: 'Switchboard' });
    } catch (err) {
      media.close();
      await speech.close();
      await dispatcher.stop();
      db.close();
      throw err;
    }
  }
  const engine = new CallEngine({ legs, publisher, clock, ids, outbound: sip ? firstRouter(phones, sip) : phones });
  phones.bind(engine);
  sip?.bind(engine);
  const recovered = engine.recoverAfterRestart();
  if (recovered > 0) log('ended calls left alive by the previous run', { count: recovered });
  dispatcher.start();

  const router = new CommandRouter({ engine, commands, clock });
  const keySet = new Set(apiKeys);
  const http = createHttpApp({ isValidApiKey: (key) => keySet.has(key), rateLimit: config.rateLimit });
  const validator = createRequestValidator();
  const sources = new PlaybackSources({
    library: new AudioLibrary({ timeoutMs: AUDIO_FETCH_TIMEOUT_MS, maxBytes: AUDIO_MAX_BYTES, ...(options.fetch ? { fetch: options.fetch } : {}) }),
    media,
    speech: speechPreparer(speech),
  });
  const transcriber = await createTranscriber({
    pocketsphinx: config.speech.pocketsphinx,
    ...(config.speech.transcriptionServer ? { openai: config.speech.transcriptionServer } : {}),
  });
  const recordingService = new RecordingService({
    engine, repository: recordings, dir: recordingFiles.dir, media: recordingMedia(log),
    publish: (leg, event) => publisher.publish(leg, event),
    findLeg: (callControlId) => engine.find(callControlId),
    urls: (row) => recordingFiles.webhookUrls(row),
    transcribe: async (file, language) => {
      const pcm = await decodeAudio(await readFile(file));
      const result = await transcriber.transcribe(pcm, { language });
      return { text: result.text, engine: result.model };
    },
    clock, ids, log,
  });
  const conversations = new Conversations({
    engine, sources, llm: config.ai.llm, endOfTurnSilenceMs: config.ai.endOfTurnSilenceMs, clock, ids, log,
    publish: (leg, event) => publisher.publish(leg, event),
    stt: {
      transcribe: (pcm, options) => transcriber.transcribe(pcm, options),
      listen: (options) => transcriber.liveStream(options),
      modelFor: (language) => (transcriber.canTranscribe(language) ? transcriber.providerFor(language).model : null),
    },
  });
  engine.onAnswered((leg) => recordingService.answered(leg));
  engine.onEnded((leg) => recordingService.forget(leg.callControlId));
  registerCallRoutes(http, {
    engine, router, applications, commands, clock, validator,
    dialed: (leg, body) => {
      const record = recordFromAnswerRequest(body);
      if (record) recordingService.startOnAnswer(leg.callControlId, record);
    },
    actions: {
      ...callControlActions(engine, recordingService), ...gatherActions(engine, ids), ...clientStateActions(),
      ...recordingActions(engine, recordingService), ...aiActions(conversations),
      ...playbackActions(engine, sources), ...speakActions(engine, sources), ...promptGatherActions(engine, sources, clock, ids),
    },
  });
  registerApplicationRoutes(http, { applications, clock, validator });
  registerVirtualPhoneRoutes(http, { phones, applications, numbers, sources });
  registerWebhookDeliveryRoutes(http, { outbox });
  registerStatsRoutes(http, { engine, scheduler, sip, conversations });
  registerMediaRoutes(http, { media });
  registerRecordingRoutes(http, { recordings, files: recordingFiles });
  registerRecordingTranscriptionRoutes(http, { recordings });

  const pruneTimer = setInterval(() => commands.prune(clock.now()), 60_000);
  pruneTimer.unref();

  let address: string;
  try {
    address = await http.listen({ host: config.host, port: config.port });
  } catch (err) {
    clearInterval(pruneTimer);
    engine.close();
    await sip?.stop();
    scheduler.stop();
    media.close();
    await speech.close();
    await dispatcher.stop();
    db.close();
    throw err;
  }
  const url = localUrl(address, config.publicBaseUrl);
  recordingFiles.setBaseUrl(url);
  // After listening: the saved events of recordings a crash cut short carry URLs to this server.
  if (options.warmUp) void speech.warmUp().catch((error: unknown) => log('speech engines did not start', { error: String(error) }));
  const recoveredRecordings = await recordingService.recoverAfterRestart();
  if (recoveredRecordings > 0) log('finished recordings left open by the previous run', { count: recoveredRecordings });

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(pruneTimer);
      await http.close();
      engine.close();
      // Hangups stop every recording; their files are finished before the store closes.
      await recordingService.idle();
      await sip?.stop();
      scheduler.stop();
      media.close();
      await speech.close();
      await dispatcher.stop();
      closeDb(db);
    })();
    return closing;
  };

  return {
    url, apiKeys, publicKey: signer.publicKey, http, engine, phones, publisher, sip, scheduler, media, recordings, recordingFiles, close,
    generated: { apiKey: generatedApiKey, signingKeyCreated: signingKey.created },
  };
}

function closeDb(db: Db): void {
  if (db.open) db.close();
}

/** A URL a client on this machine can use; a wildcard listen address is reached on loopback. */
function localUrl(address: string, publicBaseUrl: string | null): string {
  if (publicBaseUrl) return publicBaseUrl.replace(/\/$/, '');
  return address.replace('://0.0.0.0', '://127.0.0.1').replace('://[::]', '://127.0.0.1');
}
