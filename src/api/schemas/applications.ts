/** Request bodies for POST /call_control_applications and PATCH /call_control_applications/{id}. */
import { bool, int, obj, stringEnum, requestBody, str } from './common.js';
import type { JsonSchema } from './common.js';

const ANCHORSITES = [
  'Latency', 'Chicago, IL', 'Ashburn, VA', 'San Jose, CA', 'London, UK', 'Chennai, IN', 'Amsterdam, Netherlands',
  'Toronto, Canada', 'Sydney, Australia',
];

/** Webhooks are HTTP deliveries, so a URL without an http(s) scheme can never work. */
const HTTP_URL = '^https?://\\S+$';
const URL_DETAIL = "The value must be an absolute http:// or https:// URL.";

const channelLimit: JsonSchema = { type: ['integer', 'null'], minimum: 0, default: null };

const applicationFields: Record<string, JsonSchema> = {
  active: bool(true),
  anchorsite_override: stringEnum(ANCHORSITES, 'Latency'),
  application_name: { type: 'string', minLength: 1 },
  call_cost_in_webhooks: bool(false),
  dtmf_type: stringEnum(['RFC 2833', 'Inband', 'SIP INFO'], 'RFC 2833'),
  first_command_timeout: bool(false),
  first_command_timeout_secs: int({ min: 1, default: 30 }),
  inbound: obj({
    channel_limit: channelLimit,
    shaken_stir_enabled: bool(false),
    sip_subdomain: { type: ['string', 'null'], default: null },
    sip_subdomain_receive_settings: stringEnum(['only_my_connections', 'from_anyone'], 'from_anyone'),
  }),
  outbound: obj({ channel_limit: channelLimit, outbound_voice_profile_id: str }),
  redact_dtmf_debug_logging: bool(false),
  webhook_api_version: stringEnum(['1', '2'], '1'),
  // Empty string is the documented "no failover" value.
  webhook_event_failover_url: { type: ['string', 'null'], pattern: '^(?:https?://\\S+)?$', default: '', 'x-detail': URL_DETAIL },
  webhook_event_url: { type: 'string', pattern: HTTP_URL, 'x-detail': URL_DETAIL },
  webhook_timeout_secs: { type: ['integer', 'null'], minimum: 0, maximum: 30, default: null },
};

const REQUIRED = ['application_name', 'webhook_event_url'];

export const applicationCreateSchema = requestBody(applicationFields, REQUIRED);

/**
 * The spec and the SDK both require the name and webhook URL on PATCH too, so we do as well.
 * Defaults are never applied to an update (see index.ts): absent means "leave unchanged".
 */
export const applicationUpdateSchema = requestBody({ ...applicationFields, tags: { type: 'array', items: str } }, REQUIRED);
