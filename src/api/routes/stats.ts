import type { FastifyInstance } from 'fastify';
import type { Conversations } from '../../ai/conversations.js';
import { errors } from '../errors.js';
import type { SipEndpoint } from '../../endpoints/sip-legs/sip-endpoint.js';
import type { MediaScheduler } from '../../media/scheduler.js';

export interface StatsView {
  live_calls: number;
  media: {
    sessions: number;
    ticks: number;
    skipped_ticks: number;
    catch_ups: number;
    errors: number;
    lateness_mean_ms: number;
    lateness_p50_ms: number;
    lateness_p99_ms: number;
    lateness_max_ms: number;
    pass_mean_ms: number;
    pass_max_ms: number;
  };
  /** Null when SIP is disabled. Counters cover live legs plus every leg ended since the start. */
  rtp: {
    legs: number;
    ended_legs: number;
    packets_sent: number;
    bytes_sent: number;
    dtmf_packets_sent: number;
    packets_received: number;
    bytes_received: number;
    packets_lost: number;
    late: number;
    duplicate: number;
    concealed_frames: number;
    dropped_frames: number;
    slipped_frames: number;
    skipped_quiet_frames: number;
    malformed: number;
    unknown_payload_type: number;
    foreign_source: number;
    outbound_overflow: number;
    jitter_max_ms: number;
    /**
     * With the RTP I/O thread: how long after its send time (due time plus the send delay) the
     * last packet of each tick's batch left, and how many batches came too late to wait. Null
     * when the sockets are on the main thread, whose lateness is `media.lateness_*`.
     */
    send_timing: {
      batches: number;
      overdue_batches: number;
      lateness_mean_ms: number;
      lateness_p50_ms: number;
      lateness_p99_ms: number;
      lateness_max_ms: number;
    } | null;
  } | null;
  process: {
    /** process.cpuUsage() since the start, in microseconds. */
    cpu_user_us: number;
    cpu_system_us: number;
    rss_bytes: number;
    heap_used_bytes: number;
    uptime_s: number;
  };
}

export interface StatsDeps {
  engine: { readonly liveCount: number };
  scheduler: MediaScheduler;
  sip: SipEndpoint | null;
  conversations: Conversations;
}

/**
 * Switchboard's own load view (not a Telnyx endpoint): live calls, media clock health, RTP totals
 * and the process's CPU and memory, for load tests and dashboards. It walks every live SIP leg, so
 * it is meant to be polled every few seconds, not per call.
 */
export function registerStatsRoutes(app: FastifyInstance, deps: StatsDeps): void {
  app.get('/switchboard/v1/stats', async (): Promise<{ data: StatsView & { conversation_latency: ReturnType<Conversations['latency']> } }> => ({
    data: { ...statsView(deps), conversation_latency: deps.conversations.latency() },
  }));
  // One AI conversation (gather_using_ai or assistant): its history and the latency of every turn.
  app.get<{ Params: { id: string } }>('/switchboard/v1/conversations/:id', async (request) => {
    const view = deps.conversations.view(request.params.id);
    if (!view) throw errors.notFound('Conversation not found', `No conversation has the id '${request.params.id}'.`, '/conversation_id');
    return { data: view };
  });
}

function statsView({ engine, scheduler, sip }: StatsDeps): StatsView {
  const m = scheduler.stats();
  const r = sip?.mediaStats() ?? null;
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  return {
    live_calls: engine.liveCount,
    media: {
      sessions: m.sessions,
      ticks: m.ticks,
      skipped_ticks: m.skippedTicks,
      catch_ups: m.catchUps,
      errors: m.errors,
      lateness_mean_ms: m.latenessMeanMs,
      lateness_p50_ms: m.latenessP50Ms,
      lateness_p99_ms: m.latenessP99Ms,
      lateness_max_ms: m.latenessMaxMs,
      pass_mean_ms: m.passMeanMs,
      pass_max_ms: m.passMaxMs,
    },
    rtp: r && {
      legs: r.legs,
      ended_legs: r.endedLegs,
      packets_sent: r.packetsSent,
      bytes_sent: r.bytesSent,
      dtmf_packets_sent: r.dtmfPacketsSent,
      packets_received: r.packetsReceived,
      bytes_received: r.bytesReceived,
      packets_lost: r.packetsLost,
      late: r.late,
      duplicate: r.duplicate,
      concealed_frames: r.concealedFrames,
      dropped_frames: r.droppedFrames,
      slipped_frames: r.slippedFrames,
      skipped_quiet_frames: r.skippedQuietFrames,
      malformed: r.malformed,
      unknown_payload_type: r.unknownPayloadType,
      foreign_source: r.foreignSource,
      outbound_overflow: r.outboundOverflow,
      jitter_max_ms: r.jitterMaxMs,
      send_timing: r.sendTiming && {
        batches: r.sendTiming.lateness.count,
        overdue_batches: r.sendTiming.overdueBatches,
        lateness_mean_ms: r.sendTiming.lateness.meanMs,
        lateness_p50_ms: r.sendTiming.lateness.p50Ms,
        lateness_p99_ms: r.sendTiming.lateness.p99Ms,
        lateness_max_ms: r.sendTiming.lateness.maxMs,
      },
    },
    process: {
      cpu_user_us: cpu.user,
      cpu_system_us: cpu.system,
      rss_bytes: memory.rss,
      heap_used_bytes: memory.heapUsed,
      uptime_s: process.uptime(),
    },
  };
}
