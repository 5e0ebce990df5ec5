import type { PortAllocator } from './port-allocator.js';
import type { SendTimingSummary } from './rtp-io-batch.js';
import { UdpTransport, type RtpTransport } from './udp-transport.js';

/** Where legs get their RTP sockets: one bound UDP port each, from the configured range. */
export interface RtpSockets {
  /** A socket on a free port of the range; `onError` hears socket errors after binding. */
  open(onError?: (error: Error) => void): Promise<RtpTransport>;
  /** Closes whatever the source still runs; sockets already handed out are their owners' to close. */
  close(): Promise<void>;
  /** Sockets that send on a clock of their own (the I/O thread) say how well they keep to it. */
  sendTiming?(): SendTimingSummary;
}

/** Sockets on the calling thread's own event loop. */
export class LocalRtpSockets implements RtpSockets {
  constructor(private readonly bindAddress: string, private readonly ports: PortAllocator) {}

  open(onError?: (error: Error) => void): Promise<RtpTransport> {
    return UdpTransport.open({ bindAddress: this.bindAddress, ports: this.ports, ...(onError ? { onError } : {}) });
  }

  async close(): Promise<void> {
    // Nothing shared to stop.
  }
}
