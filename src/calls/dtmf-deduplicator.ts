/** Where a digit was heard. */
export type DtmfSource = 'rfc4733' | 'inband' | 'virtual';

/**
 * A digit can reach a leg twice: as RFC 4733 events and as the tones themselves, when the far end
 * sends both (or a gateway converts one into the other). Each press must be reported once.
 *
 * Rule: a digit is a duplicate when the last digit reported for the leg is the same symbol, came
 * from a different source, and started within `windowMs`. Each source already reports one press
 * once, so a digit from the same source is always a new press ("11" typed quickly stays two
 * digits); and a real second press of the same key cannot start within the window, because a
 * press and the gap after it last at least 80 ms on both paths.
 */
export class DtmfDeduplicator {
  private last: { digit: string; source: DtmfSource; atMs: number } | null = null;

  constructor(private readonly windowMs = 200) {}

  /** Returns true when the digit should be reported, false when it repeats one already reported. */
  accept(digit: string, source: DtmfSource, atMs: number): boolean {
    const last = this.last;
    if (last && last.digit === digit && last.source !== source && Math.abs(atMs - last.atMs) <= this.windowMs) {
      return false;
    }
    this.last = { digit, source, atMs };
    return true;
  }
}
