import type { LegRecord } from '../calls/leg-record.js';
import { isoMicros } from '../util/time.js';

/**
 * One builder per Telnyx event: the payload fields beyond the five every call event carries.
 * Field names and enums follow the Telnyx call event schemas.
 */
export function commonPayload(leg: LegRecord): Record<string, unknown> {
  return {
    call_control_id: leg.callControlId,
    call_leg_id: leg.callLegId,
    call_session_id: leg.callSessionId,
    // Real deliveries carry "" when no client_state was ever set; apps often base64-decode it blindly.
    client_state: leg.clientState ?? '',
    connection_id: leg.connectionId,
  };
}

function parties(leg: LegRecord): { from: string; to: string } {
  return { from: leg.from, to: leg.to };
}

export const callEvents = {
  initiated: (leg: LegRecord) => ({
    type: 'call.initiated',
    payload: {
      ...parties(leg),
      direction: leg.direction,
      state: leg.direction === 'incoming' ? 'parked' : 'bridging',
      caller_id_name: leg.from,
      start_time: isoMicros(leg.startMs),
      custom_headers: [],
      sip_headers: [],
      tags: [],
    },
  }),
  answered: (leg: LegRecord) => ({
    type: 'call.answered',
    payload: { ...parties(leg), state: 'answered', start_time: isoMicros(leg.startMs), custom_headers: [], sip_headers: [], tags: [] },
  }),
  hangup: (leg: LegRecord) => ({
    type: 'call.hangup',
    payload: {
      ...parties(leg),
      state: 'hangup',
      hangup_cause: leg.hangup?.cause ?? 'unspecified',
      hangup_source: leg.hangup?.source ?? 'unknown',
      sip_hangup_cause: leg.hangup?.sipCause ?? 'unspecified',
      start_time: isoMicros(leg.startMs),
      end_time: isoMicros(leg.endMs ?? leg.startMs),
      call_quality_stats: null,
      custom_headers: [],
      sip_headers: [],
      tags: [],
    },
  }),
  dtmfReceived: (leg: LegRecord, digit: string) => ({
    type: 'call.dtmf.received',
    payload: { ...parties(leg), digit },
  }),
  playbackStarted: (leg: LegRecord, media: { mediaUrl: string; mediaName: string; overlay: boolean }) => ({
    type: 'call.playback.started',
    payload: { media_url: media.mediaUrl, media_name: media.mediaName, overlay: media.overlay },
  }),
  playbackEnded: (leg: LegRecord, media: { mediaUrl: string; mediaName: string; overlay: boolean; status: string; statusDetail: string }) => ({
    type: 'call.playback.ended',
    payload: { media_url: media.mediaUrl, media_name: media.mediaName, overlay: media.overlay, status: media.status, status_detail: media.statusDetail },
  }),
  speakStarted: (_leg: LegRecord) => ({ type: 'call.speak.started', payload: {} }),
  speakEnded: (_leg: LegRecord, status: string) => ({ type: 'call.speak.ended', payload: { status } }),
  gatherEnded: (leg: LegRecord, outcome: { status: string; digits: string; gatherId: string }) => ({
    type: 'call.gather.ended',
    payload: { ...parties(leg), digits: outcome.digits, status: outcome.status, gather_id: outcome.gatherId },
  }),
};

export type BuiltEvent = { type: string; payload: Record<string, unknown> };
