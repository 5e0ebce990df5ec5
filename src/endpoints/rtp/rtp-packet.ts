/**
 * RTP fixed header (RFC 3550 §5.1), parsed into a reusable object so the receive path allocates
 * nothing per packet: the payload stays in the datagram and is described by offset and length.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                           timestamp                           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |           synchronization source (SSRC) identifier            |
 *   +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *   |            contributing source (CSRC) identifiers             |
 *   |                             ....                              |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  defined by profile (X=1)     |  extension length (32-bit words)|
 *   |                        extension data ...                     |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                     payload ...       | padding ... | pad count |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */

export const RTP_VERSION = 2;
export const RTP_HEADER_LENGTH = 12;
export const RTP_MAX_CSRC = 15;

const OFFSET_FLAGS = 0;
const OFFSET_MARKER_PT = 1;
const OFFSET_SEQUENCE = 2;
const OFFSET_TIMESTAMP = 4;
const OFFSET_SSRC = 8;
const OFFSET_CSRC = 12;

const VERSION_SHIFT = 6;
const PADDING_BIT = 0x20;
const EXTENSION_BIT = 0x10;
const CSRC_COUNT_MASK = 0x0f;
const MARKER_BIT = 0x80;
const PAYLOAD_TYPE_MASK = 0x7f;
const EXTENSION_HEADER_LENGTH = 4;
const EXTENSION_LENGTH_OFFSET = 2;

export type RtpParseErrorCode =
  | 'too-short'
  | 'bad-version'
  | 'truncated-csrc'
  | 'truncated-extension'
  | 'bad-padding';

/** Thrown only by parseRtpPacket; the hot path uses RtpPacket.parse, which returns the code. */
export class RtpParseError extends Error {
  override readonly name = 'RtpParseError';
  constructor(readonly code: RtpParseErrorCode) {
    super(`malformed RTP packet: ${code}`);
  }
}

export class RtpPacket {
  version = RTP_VERSION;
  /** Whether the datagram carried padding (already removed from the payload). */
  padding = false;
  /** Whether the datagram carried a header extension (skipped, not kept). */
  extension = false;
  marker = false;
  payloadType = 0;
  sequenceNumber = 0;
  timestamp = 0;
  ssrc = 0;
  csrcCount = 0;
  /** Only the first csrcCount entries are meaningful. */
  readonly csrcs = new Uint32Array(RTP_MAX_CSRC);
  /** The bytes the payload lives in: the parsed datagram, or whatever setPayload was given. */
  payloadData: Uint8Array = new Uint8Array(0);
  payloadOffset = 0;
  payloadLength = 0;

  /** A view of the payload. Allocates a view object: hot paths read payloadData/payloadOffset. */
  get payload(): Uint8Array {
    return this.payloadData.subarray(this.payloadOffset, this.payloadOffset + this.payloadLength);
  }

  setPayload(data: Uint8Array, offset = 0, length = data.length - offset): this {
    this.payloadData = data;
    this.payloadOffset = offset;
    this.payloadLength = length;
    return this;
  }

  /**
   * Fills this object from `data[0, length)`. Returns null on success or the reason the packet is
   * malformed, in which case the fields are unspecified. Never throws.
   */
  parse(data: Uint8Array, length = data.length): RtpParseErrorCode | null {
    const end = Math.min(length, data.length);
    if (end < RTP_HEADER_LENGTH) return 'too-short';
    const flags = data[OFFSET_FLAGS] as number;
    const version = flags >> VERSION_SHIFT;
    if (version !== RTP_VERSION) return 'bad-version';
    const csrcCount = flags & CSRC_COUNT_MASK;
    let offset = OFFSET_CSRC + csrcCount * 4;
    if (offset > end) return 'truncated-csrc';

    const markerPt = data[OFFSET_MARKER_PT] as number;
    this.version = version;
    this.padding = (flags & PADDING_BIT) !== 0;
    this.extension = (flags & EXTENSION_BIT) !== 0;
    this.marker = (markerPt & MARKER_BIT) !== 0;
    this.payloadType = markerPt & PAYLOAD_TYPE_MASK;
    this.sequenceNumber = readU16(data, OFFSET_SEQUENCE);
    this.timestamp = readU32(data, OFFSET_TIMESTAMP);
    this.ssrc = readU32(data, OFFSET_SSRC);
    this.csrcCount = csrcCount;
    for (let i = 0; i < csrcCount; i++) this.csrcs[i] = readU32(data, OFFSET_CSRC + i * 4);

    if (this.extension) {
      if (offset + EXTENSION_HEADER_LENGTH > end) return 'truncated-extension';
      const words = readU16(data, offset + EXTENSION_LENGTH_OFFSET);
      offset += EXTENSION_HEADER_LENGTH + words * 4;
      if (offset > end) return 'truncated-extension';
    }

    let payloadEnd = end;
    if (this.padding) {
      // The last octet counts the padding octets including itself, so zero is not valid.
      const padCount = data[end - 1] as number;
      if (padCount === 0 || payloadEnd - padCount < offset) return 'bad-padding';
      payloadEnd -= padCount;
    }
    this.payloadData = data;
    this.payloadOffset = offset;
    this.payloadLength = payloadEnd - offset;
    return null;
  }

  /** Bytes serializeInto writes: header and CSRCs, no extension or padding, then the payload. */
  encodedLength(): number {
    return RTP_HEADER_LENGTH + this.csrcCount * 4 + this.payloadLength;
  }

  /**
   * Writes the packet at `buf[offset]` and returns the number of bytes written. Throws a
   * RangeError when `buf` is too small: that is a bug in the caller, not bad input from the wire.
   */
  serializeInto(buf: Uint8Array, offset = 0): number {
    const length = this.encodedLength();
    if (offset < 0 || offset + length > buf.length) {
      throw new RangeError(`RTP packet needs ${length} bytes at offset ${offset}, buffer has ${buf.length}`);
    }
    const csrcCount = Math.min(this.csrcCount, RTP_MAX_CSRC);
    buf[offset + OFFSET_FLAGS] = (RTP_VERSION << VERSION_SHIFT) | csrcCount;
    buf[offset + OFFSET_MARKER_PT] = (this.marker ? MARKER_BIT : 0) | (this.payloadType & PAYLOAD_TYPE_MASK);
    writeU16(buf, offset + OFFSET_SEQUENCE, this.sequenceNumber);
    writeU32(buf, offset + OFFSET_TIMESTAMP, this.timestamp);
    writeU32(buf, offset + OFFSET_SSRC, this.ssrc);
    for (let i = 0; i < csrcCount; i++) writeU32(buf, offset + OFFSET_CSRC + i * 4, this.csrcs[i] as number);
    const payloadAt = offset + OFFSET_CSRC + csrcCount * 4;
    if (this.payloadLength > 0 && !(this.payloadData === buf && this.payloadOffset === payloadAt)) {
      buf.set(this.payloadData.subarray(this.payloadOffset, this.payloadOffset + this.payloadLength), payloadAt);
    }
    return length;
  }
}

/** Parses into a new RtpPacket, throwing RtpParseError for malformed input. */
export function parseRtpPacket(data: Uint8Array, length = data.length): RtpPacket {
  const packet = new RtpPacket();
  const error = packet.parse(data, length);
  if (error) throw new RtpParseError(error);
  return packet;
}

function readU16(data: Uint8Array, at: number): number {
  return ((data[at] as number) << 8) | (data[at + 1] as number);
}

function readU32(data: Uint8Array, at: number): number {
  return (((data[at] as number) << 24) | ((data[at + 1] as number) << 16) | ((data[at + 2] as number) << 8) | (data[at + 3] as number)) >>> 0;
}

function writeU16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = (value >>> 8) & 0xff;
  buf[at + 1] = value & 0xff;
}

function writeU32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = (value >>> 24) & 0xff;
  buf[at + 1] = (value >>> 16) & 0xff;
  buf[at + 2] = (value >>> 8) & 0xff;
  buf[at + 3] = value & 0xff;
}
