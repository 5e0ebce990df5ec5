import type { FastifyInstance } from 'fastify';
import type { VirtualCall } from '../../endpoints/virtual/virtual-call.js';
import type { VirtualPhones } from '../../endpoints/virtual/virtual-phones.js';
import type { ApplicationRepository } from '../../store/application-repository.js';
import type { NumberRepository } from '../../store/number-repository.js';
import type { AnswerMode, VirtualPhoneRecord } from '../../store/virtual-phone-repository.js';
import { prepareSpeech, resolveAudio, type AudioSources } from '../../actions/audio-sources.js';
import { encodeWav } from '../../media/audio/wav.js';
import { isoMicros } from '../../util/time.js';
import { ApiError, errors, fieldError, type ErrorItem } from '../errors.js';

export interface VirtualRoutesDeps {
  phones: VirtualPhones;
  /** Where the audio a phone sends (play, speak) comes from. */
  sources: AudioSources;
  applications: ApplicationRepository;
  numbers: NumberRepository;
}

type Body = Record<string, unknown>;
const DTMF = /^[0-9*#A-D]+$/;
const ANSWER_MODES: AnswerMode[] = ['auto', 'never', 'busy', 'reject'];

/**
 * `/switchboard/v1`: the testing surface that has no Telnyx equivalent. Virtual phones, their calls,
 * and the routing of numbers to applications.
 */
export function registerVirtualPhoneRoutes(app: FastifyInstance, deps: VirtualRoutesDeps): void {
  const { phones, applications, numbers, sources } = deps;

  app.post('/switchboard/v1/virtual_calls', async (request) => {
    const body = objectBody(request.body);
    const problems: ErrorItem[] = [];
    const from = requiredString(body, 'from', problems);
    const to = requiredString(body, 'to', problems);
    const connectionId = optionalString(body, 'connection_id', problems);
    if (problems.length) throw errors.validation(problems);
    const appId = connectionId ?? numbers.applicationFor(to as string);
    if (!appId) {
      throw errors.validation([fieldError.invalid('/to',
        `No application answers calls to ${to}. Route the number with POST /switchboard/v1/numbers, or pass connection_id.`)]);
    }
    if (!applications.get(appId)) throw errors.invalidConnection();
    const call = phones.placeCall(from as string, to as string, appId);
    return { data: { id: call.id, call_control_id: call.callControlId, state: call.state } };
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/switchboard/v1/virtual_calls', async (request) => {
    const q = request.query;
    const calls = phones.listCalls({ number: q['number'], callControlId: q['call_control_id'], state: q['state'] });
    return { data: calls.map((c) => c.view()) };
  });

  app.get<{ Params: { id: string } }>('/switchboard/v1/virtual_calls/:id', async (request) => ({
    data: mustCall(phones, request.params.id).view(),
  }));

  // What the phone heard from answer on, as 8 kHz mono 16-bit WAV.
  app.get<{ Params: { id: string } }>('/switchboard/v1/virtual_calls/:id/audio', async (request, reply) => {
    const call = mustCall(phones, request.params.id);
    const pcm = call.heardPcm();
    if (!pcm) throw errors.notFound('Audio not available', 'This call kept no audio: it was never answered, or ended too long ago.');
    return reply.type('audio/wav').send(Buffer.from(encodeWav(pcm)));
  });

  app.post<{ Params: { id: string; action: string } }>('/switchboard/v1/virtual_calls/:id/actions/:action', async (request) => {
    const call = mustCall(phones, request.params.id);
    const body = objectBody(request.body ?? {});
    switch (request.params.action) {
      case 'answer':
        if (!call.answer()) throw stateError('Only a ringing call that an application dialled can be answered.');
        break;
      case 'hangup':
        if (!call.hangup()) throw stateError('The call has already ended.');
        break;
      case 'send_dtmf': {
        const problems: ErrorItem[] = [];
        const digits = requiredString(body, 'digits', problems);
        if (digits !== undefined && !DTMF.test(digits)) problems.push(fieldError.invalid('/digits', 'Digits may only be 0-9, *, # and A-D.'));
        const duration = optionalInt(body, 'duration_ms', 40, 5000, problems) ?? 100;
        const gap = optionalInt(body, 'gap_ms', 0, 5000, problems) ?? 100;
        if (problems.length) throw errors.validation(problems);
        if (!call.sendDtmf(digits as string, duration, gap)) throw stateError('Digits can only be sent on an answered call.');
        break;
      }
      case 'play': {
        const hint = body['audio_type'] === 'wav' ? 'wav' : 'mp3';
        const audio = resolveAudio(sources, { url: 'audio_url', media: 'media_name', content: 'playback_content' }, body, hint, true);
        if (!call.send('play', audio.load(), audio.source)) throw stateError('Audio can only be sent on an answered call.');
        break;
      }
      case 'speak': {
        const problems: ErrorItem[] = [];
        const text = requiredString(body, 'text', problems);
        const voice = optionalString(body, 'voice', problems) ?? 'female';
        const language = optionalString(body, 'language', problems);
        if (problems.length) throw errors.validation(problems);
        const synthesize = prepareSpeech(sources, { payload: text as string, payloadType: 'text', voice, language }, '/text');
        if (!call.send('speak', synthesize(), { text: text as string })) throw stateError('Speech can only be sent on an answered call.');
        break;
      }
      default:
        throw errors.routeNotFound('POST', request.url);
    }
    return { data: { result: 'ok', state: call.state } };
  });

  app.post('/switchboard/v1/virtual_phones', async (request) => {
    const body = objectBody(request.body);
    const problems: ErrorItem[] = [];
    const number = requiredString(body, 'number', problems);
    const answer = (body['answer'] ?? 'auto') as AnswerMode;
    if (!ANSWER_MODES.includes(answer)) problems.push(fieldError.enumValue('/answer', ANSWER_MODES));
    const delay = optionalInt(body, 'answer_delay_ms', 0, 600_000, problems) ?? 0;
    if (problems.length) throw errors.validation(problems);
    return { data: phoneView(phones.register({ number: number as string, answer, answer_delay_ms: delay })) };
  });

  app.get('/switchboard/v1/virtual_phones', async () => ({ data: phones.listPhones().map(phoneView) }));

  app.get<{ Params: { number: string } }>('/switchboard/v1/virtual_phones/:number', async (request) => {
    const phone = phones.phone(request.params.number);
    if (!phone) throw errors.notFound('Resource not found', 'No virtual phone has this number.');
    return { data: phoneView(phone) };
  });

  app.delete<{ Params: { number: string } }>('/switchboard/v1/virtual_phones/:number', async (request) => {
    if (!phones.unregister(request.params.number)) throw errors.notFound('Resource not found', 'No virtual phone has this number.');
    return { data: { result: 'ok' } };
  });

  app.post('/switchboard/v1/numbers', async (request) => {
    const body = objectBody(request.body);
    const problems: ErrorItem[] = [];
    const number = requiredString(body, 'number', problems);
    const connectionId = requiredString(body, 'connection_id', problems);
    if (problems.length) throw errors.validation(problems);
    if (!applications.get(connectionId as string)) throw errors.invalidConnection();
    numbers.route(number as string, connectionId as string);
    return { data: { number, connection_id: connectionId } };
  });

  app.get('/switchboard/v1/numbers', async () => ({
    data: numbers.list().map((n) => ({ number: n.number, connection_id: n.application_id })),
  }));

  app.delete<{ Params: { number: string } }>('/switchboard/v1/numbers/:number', async (request) => {
    if (!numbers.unroute(request.params.number)) throw errors.notFound('Resource not found', 'This number is not routed.');
    return { data: { result: 'ok' } };
  });
}

function mustCall(phones: VirtualPhones, id: string): VirtualCall {
  const call = phones.call(id);
  if (!call) throw errors.notFound('Resource not found', 'No virtual call has this id.', '/id');
  return call;
}

function phoneView(p: VirtualPhoneRecord): Record<string, unknown> {
  return { number: p.number, answer: p.answer, answer_delay_ms: p.answer_delay_ms, created_at: isoMicros(p.created_ms) };
}

function stateError(detail: string): ApiError {
  return new ApiError(422, [{ code: '90018', title: 'Virtual call cannot do that now', detail }]);
}

function objectBody(body: unknown): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw errors.validation([{ code: '10015', title: 'Invalid request body', detail: 'The body must be a JSON object.', source: { pointer: '' } }]);
  }
  return body as Body;
}

function requiredString(body: Body, name: string, problems: ErrorItem[]): string | undefined {
  const value = body[name];
  if (value === undefined || value === '') problems.push(fieldError.missing(`/${name}`, name));
  else if (typeof value !== 'string') problems.push(fieldError.type(`/${name}`, 'string'));
  else return value;
  return undefined;
}

function optionalString(body: Body, name: string, problems: ErrorItem[]): string | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') problems.push(fieldError.type(`/${name}`, 'string'));
  else return value;
  return undefined;
}

function optionalInt(body: Body, name: string, min: number, max: number, problems: ErrorItem[]): number | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) problems.push(fieldError.type(`/${name}`, 'integer'));
  else if (value < min || value > max) problems.push(fieldError.range(`/${name}`, `The value must be between ${min} and ${max}.`));
  else return value;
  return undefined;
}
