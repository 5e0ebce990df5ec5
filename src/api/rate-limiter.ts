/**
 * Requests per API key, as a token bucket: `burst` requests at once, refilled at
 * `requestsPerSecond`. A refused request learns how long until a token is back, which the SDKs
 * honour through `retry-after`.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly limit: { requestsPerSecond: number; burst: number }, private readonly now: () => number = () => performance.now()) {}

  /** 0 when the request may go ahead (and is counted), else the wait in milliseconds. */
  take(key: string): number {
    const now = this.now();
    const { requestsPerSecond, burst } = this.limit;
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * requestsPerSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / requestsPerSecond) * 1000);
  }
}
