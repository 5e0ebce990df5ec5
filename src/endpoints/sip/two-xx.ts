import type { Clock, Timer } from '../../util/clock.js';
import type { SipTimers } from './transaction/types.js';

/**
 * §13.3.1.4: the INVITE server transaction ends when the 2xx goes out, so the UAS core itself
 * resends the 2xx until the ACK arrives, starting at T1 and doubling up to T2, and gives up
 * after 64*T1. This happens over TCP too, because a proxy further on may use UDP.
 */
export class TwoXxRetransmitter {
  private retransmit: Timer | null = null;
  private giveUp: Timer | null = null;
  private interval: number;

  constructor(
    private readonly clock: Clock,
    private readonly timers: SipTimers,
    private readonly resend: () => void,
    private readonly onGiveUp: () => void,
  ) {
    this.interval = timers.T1;
  }

  get active(): boolean {
    return this.giveUp !== null;
  }

  /** Call right after the first 2xx was sent. */
  start(): void {
    this.giveUp = this.clock.setTimer(64 * this.timers.T1, () => {
      this.stop();
      this.onGiveUp();
    });
    this.schedule();
  }

  /** The ACK arrived. */
  stop(): void {
    this.retransmit?.cancel();
    this.giveUp?.cancel();
    this.retransmit = null;
    this.giveUp = null;
  }

  private schedule(): void {
    this.retransmit = this.clock.setTimer(this.interval, () => {
      this.resend();
      this.interval = Math.min(this.interval * 2, this.timers.T2);
      this.schedule();
    });
  }
}
