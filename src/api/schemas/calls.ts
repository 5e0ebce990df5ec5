/** Request bodies for dial (POST /calls) and the call-leg actions answer, hangup, send_dtmf, client_state_update. */
import {
  DTMF_DIGITS, bool, callAssistant, clientState, commandFields, conversationRelayConfig, customHeaders,
  deepfakeDetection, int, obj, stringEnum, requestBody, sipHeaders, soundModifications, str,
  transcriptionStartConfig, webhookRetriesPolicies, webhookUrls,
} from './common.js';
import type { JsonSchema } from './common.js';

const STREAM_CODECS = ['PCMU', 'PCMA', 'G722', 'OPUS', 'AMR-WB', 'L16'];
const HTTP_METHODS = ['POST', 'GET'];

/** Recording started on answer; dial and answer share these (the limits differ from record_start). */
const recordOnAnswer: Record<string, JsonSchema> = {
  record: stringEnum(['record-from-answer']),
  record_channels: stringEnum(['single', 'dual'], 'dual'),
  record_custom_file_name: { type: 'string', minLength: 1, maxLength: 40 },
  record_format: stringEnum(['wav', 'mp3'], 'mp3'),
  record_max_length: int({ min: 0, max: 43200, default: 0 }),
  record_timeout_secs: int({ min: 0, default: 0 }),
  record_track: stringEnum(['both', 'inbound', 'outbound'], 'both'),
  record_trim: stringEnum(['trim-silence']),
};

const streaming: Record<string, JsonSchema> = {
  stream_bidirectional_codec: stringEnum(STREAM_CODECS, 'PCMU'),
  stream_bidirectional_mode: stringEnum(['mp3', 'rtp'], 'mp3'),
  stream_bidirectional_target_legs: stringEnum(['both', 'self', 'opposite'], 'opposite'),
  stream_codec: stringEnum([...STREAM_CODECS, 'default'], 'default'),
  stream_track: stringEnum(['inbound_track', 'outbound_track', 'both_tracks'], 'inbound_track'),
  stream_url: str,
};

const webhookRouting: Record<string, JsonSchema> = {
  webhook_retries_policies: webhookRetriesPolicies,
  webhook_url: str,
  webhook_url_method: stringEnum(HTTP_METHODS, 'POST'),
  webhook_urls: webhookUrls,
  webhook_urls_method: stringEnum(HTTP_METHODS, 'POST'),
};

/** Fields that describe how a leg behaves once it is up, accepted both when dialling and answering. */
const legSetup: Record<string, JsonSchema> = {
  ...commandFields,
  assistant: callAssistant,
  billing_group_id: str,
  conversation_relay_config: conversationRelayConfig,
  custom_headers: customHeaders,
  deepfake_detection: deepfakeDetection,
  ...recordOnAnswer,
  send_silence_when_idle: bool(false),
  sip_headers: sipHeaders,
  sound_modifications: soundModifications,
  ...streaming,
  transcription: bool(false),
  transcription_config: transcriptionStartConfig,
  ...webhookRouting,
};

const amdMillis = (dflt: number): JsonSchema => int({ min: 0, default: dflt });

const answeringMachineDetectionConfig = obj({
  after_greeting_silence_millis: amdMillis(800),
  between_words_silence_millis: amdMillis(50),
  greeting_duration_millis: amdMillis(3500),
  greeting_silence_duration_millis: amdMillis(1500),
  greeting_total_analysis_time_millis: amdMillis(5000),
  initial_silence_millis: amdMillis(3500),
  maximum_number_of_words: int({ min: 0, default: 5 }),
  maximum_word_length_millis: amdMillis(3500),
  silence_threshold: int({ min: 0, default: 256 }),
  total_analysis_time_millis: amdMillis(3500),
});

const conferenceConfig = obj({
  beep_enabled: stringEnum(['always', 'never', 'on_enter', 'on_exit']),
  conference_name: str,
  early_media: bool(true),
  end_conference_on_exit: bool(),
  hold: bool(),
  hold_audio_url: str,
  hold_media_name: str,
  id: str,
  mute: bool(),
  soft_end_conference_on_exit: bool(),
  start_conference_on_create: bool(),
  start_conference_on_enter: bool(),
  supervisor_role: stringEnum(['barge', 'monitor', 'none', 'whisper']),
  whisper_call_control_ids: { type: 'array', items: str },
});

export const dialSchema = requestBody({
  ...legSetup,
  connection_id: str,
  to: {
    anyOf: [str, { type: 'array', items: str, minItems: 1 }],
    'x-detail': 'The value must be a destination string or a non-empty array of destination strings.',
  },
  from: str,
  answering_machine_detection: stringEnum(
    ['premium', 'detect', 'detect_beep', 'detect_words', 'greeting_end', 'disabled'], 'disabled'),
  answering_machine_detection_config: answeringMachineDetectionConfig,
  audio_url: str,
  bridge_intent: bool(false),
  bridge_on_answer: bool(false),
  conference_config: conferenceConfig,
  dialogflow_config: obj({ analyze_sentiment: bool(false), partial_automated_agent_reply: bool(false) }),
  enable_dialogflow: bool(false),
  from_display_name: {
    type: 'string',
    maxLength: 128,
    pattern: '^[A-Za-z0-9 _~!.+-]*$',
    'x-detail': 'The value may contain only letters, digits, spaces and -_~!.+ (at most 128 characters).',
  },
  link_to: str,
  media_encryption: stringEnum(['disabled', 'SRTP', 'DTLS'], 'disabled'),
  media_name: str,
  park_after_unbridge: str,
  preferred_codecs: str,
  prevent_double_bridge: bool(false),
  privacy: stringEnum(['id', 'none']),
  retry_on_timeout: bool(true),
  send_digits_on_answer: {
    type: 'string',
    maxLength: 64,
    pattern: `^[${DTMF_DIGITS}wW]*$`,
    'x-detail': 'The value may contain only 0-9, A-D, *, #, w and W (at most 64 characters).',
  },
  sip_auth_password: str,
  sip_auth_username: str,
  sip_region: stringEnum(['US', 'Europe', 'Canada', 'Australia', 'Middle East'], 'US'),
  sip_transport_protocol: stringEnum(['UDP', 'TCP', 'TLS'], 'UDP'),
  stream_auth_token: { type: 'string', maxLength: 4000 },
  stream_bidirectional_sampling_rate: { type: 'integer', enum: [8000, 16000, 22050, 24000, 48000], default: 8000 },
  stream_establish_before_call_originate: bool(false),
  supervise_call_control_id: str,
  supervisor_role: stringEnum(['barge', 'whisper', 'monitor'], 'barge'),
  time_limit_secs: int({ min: 30, max: 14400, default: 14400 }),
  timeout_secs: int({ min: 5, max: 600, default: 30 }),
  // Sent by telnyx 7.24.0 but absent from the OpenAPI snapshot.
  route_to_mobile: bool(false),
  diversion: str,
}, ['connection_id', 'to', 'from']);

/** Dial fields the SDK sends that the OpenAPI spec does not declare (yet). */
export const dialSdkOnlyFields = ['route_to_mobile', 'diversion'] as const;

export const answerSchema = requestBody({
  ...legSetup,
  // The spec pins answer's codec list to this single literal (dial takes any string).
  preferred_codecs: stringEnum(['G722,PCMU,PCMA,G729,OPUS,VP8,H264']),
});

export const hangupSchema = requestBody({ ...commandFields, custom_headers: customHeaders });

export const sendDtmfSchema = requestBody({
  ...commandFields,
  digits: {
    type: 'string',
    pattern: `^[${DTMF_DIGITS}wW]+$`,
    'x-detail': 'The value must be one or more of 0-9, A-D, *, # and the pauses w and W.',
  },
  duration_millis: int({ min: 100, max: 500, default: 250 }),
}, ['digits']);

/** PUT; the spec declares no command_id here, so none is accepted. */
export const clientStateUpdateSchema = requestBody({ client_state: clientState }, ['client_state']);
