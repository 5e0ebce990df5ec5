import { performance } from 'node:perf_hooks';
import type { LegRecord } from '../../calls/leg-record.js';
import type { FarEndSignals, OutboundRouter, RemoteParty } from '../../calls/remote-party.js';
import type { IncomingRequest } from '../../calls/call-engine.js';
import type { SipConfig } from '../../config/config.js';
import type { MediaScheduler } from '../../media/scheduler.js';
import { PortAllocator } from '../rtp/port-allocator.js';
import { RtpIoThread } from '../rtp/rtp-io-thread.js';
import { LocalRtpSockets, type RtpSockets } from '../rtp/rtp-sockets.js';
import type { SendTimingSummary } from '../rtp/rtp-io-batch.js';
import type { RtpSessionStats } from '../rtp/rtp-session.js';
import type { SipIncomingCall } from '../sip/incoming-call.js';
import type { TransportProtocol } from '../sip/transport.js';
import { SipUserAgent } from '../sip/user-agent.js';
import { dialTarget, partyName, type DialContext } from './dial-targets.js';
import { InboundSipLeg } from './inbound-leg.js';
import { LegMedia } from './leg-media.js';
import { OutboundSipLeg } from './outbound-leg.js';

/** The engine as the SIP side sees it: far-end signals, and new incoming legs. */
export interface SipEngine extends FarEndSignals {
  incoming(request: IncomingRequest): LegRecord;
}

export interface SipEndpointDeps {
  config: SipConfig;
  /** Which application answers a called number or SIP user. */
  numbers: { applicationFor(number: string): string | undefined };
  scheduler: MediaScheduler;
  log: (message: string, fields?: object) => void;
  /** The SIP User-Agent / Server header. */
  userAgent: string;
}

/** RTP counters summed over SIP legs, for the operator's stats view. */
export interface SipRtpCounters {
  packetsSent: number;
  bytesSent: number;
  dtmfPacketsSent: number;
  packetsReceived: number;
  bytesReceived: number;
  /** Expected minus received, per stream (RFC 3550 A.3). */
  packetsLost: number;
  late: number;
  duplicate: number;
  concealedFrames: number;
  droppedFrames: number;
  /** Frames of delay added to play packets that came just too late, and quiet frames skipped to give it back. */
  slippedFrames: number;
  skippedQuietFrames: number;
  malformed: number;
  unknownPayloadType: number;
  foreignSource: number;
  outboundOverflow: number;
}

export interface SipMediaStats extends SipRtpCounters {
  /** Legs with an open RTP session now. */
  legs: number;
  /** Legs whose counters were folded into the totals when they closed. */
  endedLegs: number;
  /** The highest RFC 3550 interarrival jitter among live legs. */
  jitterMaxMs: number;
  /** Null when the sockets send from the main thread, as each pass makes its packets. */
  sendTiming: SendTimingSummary | null;
}

/**
 * Switchboard's SIP side: one user agent on the configured port, RTP ports from the configured
 * range, and a leg (a RemoteParty) per call. Incoming INVITEs are routed by called number or user
 * to an application; `dial` reaches `sip:` URIs directly and phone numbers through the gateway.
 */
export class SipEndpoint implements OutboundRouter {
  private engine: SipEngine | null = null;
  private readonly sockets: RtpSockets;
  private readonly context: DialContext;
  private readonly now = (): number => performance.now();
  private readonly liveMedia = new Set<LegMedia>();
  // Closed legs leave only their counters behind, so the totals cost nothing per ended call.
  private readonly endedTotals: SipRtpCounters = zeroCounters();
  private endedLegs = 0;

  private constructor(private readonly ua: SipUserAgent, private readonly deps: SipEndpointDeps) {
    const { config } = deps;
    const ports = new PortAllocator({ min: config.rtpPortMin, max: config.rtpPortMax });
    this.sockets = config.rtpThread
      ? new RtpIoThread({
        bindAddress: config.host, ports, scheduler: deps.scheduler, sendDelayMs: config.rtpSendDelayMs, threadNice: config.rtpThreadNice, log: (message) => deps.log(message),
      })
      : new LocalRtpSockets(config.host, ports);
    this.context = { localHost: ua.advertisedHost, gateway: config.gateway };
    ua.on('invite', (call) => void this.incoming(call));
    ua.on('rejected', (error, source) => deps.log('malformed SIP message refused', { from: `${source.host}:${source.port}`, error: error.message }));
  }

  static async start(deps: SipEndpointDeps): Promise<SipEndpoint> {
    const { config } = deps;
    const auth = config.inboundAuth;
    const ua = new SipUserAgent({
      host: config.host,
      ...(config.advertisedHost ? { advertisedHost: config.advertisedHost } : {}),
      udpPort: config.port,
      tcpPort: config.port,
      userAgent: deps.userAgent,
      ...(auth ? { inboundAuth: { realm: auth.realm, password: (user: string) => auth.users[user] } } : {}),
    });
    await ua.start();
    return new SipEndpoint(ua, deps);
  }

  /** The engine and the endpoint refer to each other; the engine is bound once both exist. */
  bind(engine: SipEngine): void {
    this.engine = engine;
  }

  port(protocol: TransportProtocol): number | null {
    return this.ua.port(protocol);
  }

  get advertisedHost(): string {
    return this.ua.advertisedHost;
  }

  /** OutboundRouter: a `sip:` URI, or a number when a gateway is configured. */
  route(to: string, from: string, callControlId: string): RemoteParty | null {
    const target = dialTarget(to, from, this.context);
    if (!target) return null;
    return new OutboundSipLeg(callControlId, target, {
      engine: this.mustEngine(),
      openMedia: (onDigit) => this.openMedia(onDigit),
      invite: (options) => this.ua.invite(options),
      log: this.deps.log,
    });
  }

  /** Totals over live legs plus every leg closed so far. Walks the live legs: meant for occasional polling. */
  mediaStats(): SipMediaStats {
    const totals = { ...this.endedTotals };
    let jitterMaxMs = 0;
    for (const media of this.liveMedia) {
      const stats = media.stats();
      addCounters(totals, stats);
      if (stats.jitter.jitterMs > jitterMaxMs) jitterMaxMs = stats.jitter.jitterMs;
    }
    return { ...totals, legs: this.liveMedia.size, endedLegs: this.endedLegs, jitterMaxMs, sendTiming: this.sockets.sendTiming?.() ?? null };
  }

  /** Hangs up what is still up (the engine has already ended its legs) and closes the sockets. */
  async stop(): Promise<void> {
    await this.ua.stop();
    await this.sockets.close();
  }

  private async incoming(call: SipIncomingCall): Promise<void> {
    const engine = this.mustEngine();
    const calledUri = call.request.requestUri();
    const called = partyName(calledUri);
    const connectionId = this.applicationFor(called) ?? this.applicationFor(partyName(call.to.uri));
    if (!connectionId) {
      this.deps.log('no application for an incoming SIP call', { to: called });
      call.reject(404);
      return;
    }
    let leg: InboundSipLeg | null = null;
    let media: LegMedia;
    try {
      media = await this.openMedia((digit) => leg?.digit(digit));
    } catch (error) {
      this.deps.log('cannot take an incoming SIP call', { error: String(error) });
      call.reject(503);
      return;
    }
    // The caller may have cancelled while the socket was being bound.
    if (call.state !== 'ringing') return media.close();

    let answer: { sdp: string; media: NonNullable<LegMedia['media']> } | null = null;
    const offer = call.offer;
    if (offer) {
      const result = media.negotiate(offer.body.toString());
      if (!result.ok) {
        media.close();
        call.reject(result.sipStatus, undefined, [['Warning', `${result.warning.code} ${this.ua.advertisedHost} "${result.warning.text}"`]]);
        return;
      }
      answer = { sdp: result.sdp, media: result.media };
    }
    const inbound = new InboundSipLeg(call, media, answer, engine);
    leg = inbound;
    engine.incoming({
      connectionId,
      from: partyName(call.from.uri),
      to: called,
      remoteFor: (callControlId) => inbound.bind(callControlId),
    });
    call.progress(180);
  }

  /** Numbers are stored as written; a caller may dial them with or without the leading +. */
  private applicationFor(name: string): string | undefined {
    const { numbers } = this.deps;
    return numbers.applicationFor(name)
      ?? (name.startsWith('+') ? numbers.applicationFor(name.slice(1)) : numbers.applicationFor(`+${name}`));
  }

  private async openMedia(onDigit: (digit: string) => void): Promise<LegMedia> {
    const media = await LegMedia.open({
      sockets: this.sockets,
      advertisedAddress: this.ua.advertisedHost,
      scheduler: this.deps.scheduler,
      inbandDtmf: this.deps.config.inbandDtmf,
      now: this.now,
      onDigit,
      onSocketError: (error) => this.deps.log('RTP socket error', { error: error.message }),
      onClosed: (closed) => this.mediaClosed(closed),
    });
    this.liveMedia.add(media);
    return media;
  }

  private mediaClosed(media: LegMedia): void {
    if (!this.liveMedia.delete(media)) return;
    addCounters(this.endedTotals, media.stats());
    this.endedLegs++;
  }

  private mustEngine(): SipEngine {
    if (!this.engine) throw new Error('SIP endpoint used before the call engine was bound');
    return this.engine;
  }
}

function zeroCounters(): SipRtpCounters {
  return {
    packetsSent: 0, bytesSent: 0, dtmfPacketsSent: 0, packetsReceived: 0, bytesReceived: 0, packetsLost: 0, late: 0,
    duplicate: 0, concealedFrames: 0, droppedFrames: 0, slippedFrames: 0, skippedQuietFrames: 0, malformed: 0, unknownPayloadType: 0, foreignSource: 0, outboundOverflow: 0,
  };
}

function addCounters(into: SipRtpCounters, s: RtpSessionStats): void {
  into.packetsSent += s.packetsSent;
  into.bytesSent += s.bytesSent;
  into.dtmfPacketsSent += s.dtmfPacketsSent;
  into.packetsReceived += s.packetsReceived;
  into.bytesReceived += s.bytesReceived;
  into.packetsLost += s.jitter.lost;
  into.late += s.jitter.late;
  into.duplicate += s.jitter.duplicate;
  into.concealedFrames += s.jitter.concealedFrames;
  into.droppedFrames += s.jitter.droppedFrames;
  into.slippedFrames += s.jitter.slippedFrames;
  into.skippedQuietFrames += s.jitter.skippedQuietFrames;
  into.malformed += s.malformed;
  into.unknownPayloadType += s.unknownPayloadType;
  into.foreignSource += s.foreignSource;
  into.outboundOverflow += s.outboundOverflow;
}
