/** ISO 8601 with microseconds and Z, the form Telnyx uses in occurred_at and start_time. */
export function isoMicros(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
