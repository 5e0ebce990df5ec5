/** The stored form of a Call Control Application: the Telnyx resource shape, served as is. */
export interface Application {
  id: string;
  record_type: 'call_control_application';
  application_name: string;
  webhook_event_url: string;
  webhook_event_failover_url: string | null;
  webhook_timeout_secs: number | null;
  webhook_api_version: '1' | '2';
  active: boolean;
  anchorsite_override: string;
  dtmf_type: string;
  first_command_timeout: boolean;
  first_command_timeout_secs: number;
  call_cost_in_webhooks: boolean;
  redact_dtmf_debug_logging: boolean;
  inbound: Record<string, unknown>;
  outbound: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

/**
 * Values Telnyx gives a new application for every field the request leaves out (the same defaults
 * the create schema applies; these serve applications from the configuration file).
 */
export function applicationDefaults(): Omit<Application, 'id' | 'application_name' | 'webhook_event_url' | 'created_at' | 'updated_at'> {
  return {
    record_type: 'call_control_application',
    webhook_event_failover_url: '',
    webhook_timeout_secs: null,
    // Stored as Telnyx defaults it; Switchboard always sends API v2 envelopes either way.
    webhook_api_version: '1',
    active: true,
    anchorsite_override: 'Latency',
    dtmf_type: 'RFC 2833',
    first_command_timeout: false,
    first_command_timeout_secs: 30,
    call_cost_in_webhooks: false,
    redact_dtmf_debug_logging: false,
    inbound: { channel_limit: null, shaken_stir_enabled: false, sip_subdomain: null, sip_subdomain_receive_settings: 'from_anyone' },
    outbound: { channel_limit: null, outbound_voice_profile_id: null },
  };
}

/** Fields a client may set; everything else is owned by the server. */
export const writableApplicationFields = [
  'application_name', 'webhook_event_url', 'webhook_event_failover_url', 'webhook_timeout_secs', 'webhook_api_version',
  'active', 'anchorsite_override', 'dtmf_type', 'first_command_timeout', 'first_command_timeout_secs',
  'call_cost_in_webhooks', 'redact_dtmf_debug_logging', 'inbound', 'outbound',
] as const;
