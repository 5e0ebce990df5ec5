import dgram from 'node:dgram';
import net from 'node:net';
import { SipParseError } from './errors.js';
import type { SipHeaders } from './headers/header-list.js';
import { splitList } from './headers/split.js';
import { formatVia } from './headers/via.js';
import { SipStreamFramer } from './framing.js';
import type { SipMessage, SipRequest } from './message.js';
import { DEFAULT_PARSE_LIMITS, parseMessage } from './parser.js';
import type { ParseLimits } from './parser.js';
import { serializeMessage } from './serializer.js';
import { rejectionResponse } from './stateless.js';
import { hostAddress } from './uri.js';
import { validateMessage } from './validate.js';

/**
 * UDP and TCP listeners (RFC 3261 §18). Incoming bytes become validated messages with
 * received/rport stamped on requests (§18.2.1, RFC 3581); malformed requests are answered
 * statelessly where the headers allow. Transactions see only the SipSender interface.
 */
export type TransportProtocol = 'UDP' | 'TCP';

export interface SipAddress {
  protocol: TransportProtocol;
  /** An IP address or host name, without IPv6 brackets. */
  host: string;
  port: number;
  /** TCP: the connection a request came in on, preferred for its responses (§18.2.2). */
  connectionId?: number;
}

export interface InboundMessage {
  message: SipMessage;
  source: SipAddress;
}

/** All a transaction needs of a transport. */
export interface SipSender {
  send(message: SipMessage, destination: SipAddress, onError?: (err: Error) => void): void;
}

/** Retransmissions happen only over unreliable transports (§17.1.1.2, §17.1.2.2). */
export function isReliable(protocol: TransportProtocol): boolean {
  return protocol === 'TCP';
}

export interface SipTransportOptions {
  /** Address to bind; default 0.0.0.0. */
  host?: string;
  /** Default 5060; 0 picks a free port; null disables UDP. */
  udpPort?: number | null;
  /** Default 5060; 0 picks a free port; null disables TCP. */
  tcpPort?: number | null;
  limits?: Partial<ParseLimits>;
  /** Open TCP connections, inbound and outbound together. Default 1024. */
  maxConnections?: number;
}

export interface SipTransportHandlers {
  onMessage(inbound: InboundMessage): void;
  /** A message was refused as malformed (after any stateless error response was sent). */
  onRejected?(err: SipParseError, source: SipAddress): void;
  /** Every message accepted or sent, for SIP traces. */
  onTrace?(direction: 'in' | 'out', message: SipMessage, peer: SipAddress): void;
}

interface Connection {
  id: number;
  socket: net.Socket;
  framer: SipStreamFramer;
  host: string;
  port: number;
  /** Error callbacks of writes not yet flushed, failed together if the socket dies. */
  pending: Set<(err: Error) => void>;
}

export class SipTransport implements SipSender {
  private udp: dgram.Socket | null = null;
  private server: net.Server | null = null;
  private readonly connections = new Map<number, Connection>();
  private readonly byRemote = new Map<string, Connection>();
  private nextConnectionId = 1;
  private readonly limits: ParseLimits;

  constructor(
    private readonly options: SipTransportOptions,
    private readonly handlers: SipTransportHandlers,
  ) {
    this.limits = { ...DEFAULT_PARSE_LIMITS, ...options.limits };
  }

  get host(): string {
    return this.options.host ?? '0.0.0.0';
  }

  async start(): Promise<void> {
    const udpPort = this.options.udpPort === undefined ? 5060 : this.options.udpPort;
    const tcpPort = this.options.tcpPort === undefined ? 5060 : this.options.tcpPort;
    if (udpPort !== null) this.udp = await bindUdp(this.host, udpPort, (data, rinfo) => this.onDatagram(data, rinfo));
    if (tcpPort !== null) this.server = await listenTcp(this.host, tcpPort, (socket) => this.accept(socket));
  }

  async stop(): Promise<void> {
    for (const conn of this.connections.values()) conn.socket.destroy();
    const udp = this.udp;
    const server = this.server;
    this.udp = null;
    this.server = null;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The bound port, or null when that transport is off. */
  port(protocol: TransportProtocol): number | null {
    if (protocol === 'UDP') return this.udp ? this.udp.address().port : null;
    const address = this.server?.address();
    return address && typeof address === 'object' ? address.port : null;
  }

  send(message: SipMessage, destination: SipAddress, onError?: (err: Error) => void): void {
    const data = serializeMessage(message);
    this.handlers.onTrace?.('out', message, destination);
    if (destination.protocol === 'UDP') {
      if (!this.udp) return void onError?.(new Error('UDP transport is not running'));
      this.udp.send(data, destination.port, destination.host, (err) => {
        if (err) onError?.(err);
      });
      return;
    }
    const conn = this.connectionFor(destination);
    if (!conn) return void onError?.(new Error('too many TCP connections'));
    write(conn, data, onError);
  }

  private onDatagram(data: Buffer, rinfo: dgram.RemoteInfo): void {
    this.deliver(data, { protocol: 'UDP', host: rinfo.address, port: rinfo.port }, 'datagram');
  }

  private deliver(data: Buffer, source: SipAddress, framing: 'datagram' | 'stream'): void {
    let message: SipMessage | undefined;
    try {
      message = parseMessage(data, { limits: this.limits, framing });
      validateMessage(message);
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
      // Parsed but invalid: answer requests only. Unparseable: whatever headers the parser saved.
      const headers = message ? (message.kind === 'request' ? message.headers : undefined) : err.requestHeaders;
      this.reject(err, headers, source);
      return;
    }
    if (message.kind === 'request') stampVia(message, source);
    this.handlers.onTrace?.('in', message, source);
    this.handlers.onMessage({ message, source });
  }

  private reject(err: SipParseError, requestHeaders: SipHeaders | undefined, source: SipAddress): void {
    if (err.code === 'empty') return;
    const response = requestHeaders ? rejectionResponse(err, requestHeaders) : null;
    // The Via may be what is broken, so the answer goes back where the bytes came from.
    if (response) this.send(response, source);
    this.handlers.onRejected?.(err, source);
  }

  private accept(socket: net.Socket): void {
    if (this.connections.size >= (this.options.maxConnections ?? 1024)) {
      socket.destroy();
      return;
    }
    this.register(socket, socket.remoteAddress ?? '', socket.remotePort ?? 0);
  }

  private connectionFor(destination: SipAddress): Connection | null {
    const byId = destination.connectionId !== undefined ? this.connections.get(destination.connectionId) : undefined;
    if (byId && !byId.socket.destroyed) return byId;
    const existing = this.byRemote.get(remoteKey(destination.host, destination.port));
    if (existing && !existing.socket.destroyed) return existing;
    if (this.connections.size >= (this.options.maxConnections ?? 1024)) return null;
    const socket = net.connect({ host: destination.host, port: destination.port });
    return this.register(socket, destination.host, destination.port);
  }

  private register(socket: net.Socket, host: string, port: number): Connection {
    const limits = { maxHeaderBytes: this.limits.maxHeaderBytes, maxBodyBytes: this.limits.maxBodyBytes, maxHeaders: this.limits.maxHeaders };
    const conn: Connection = { id: this.nextConnectionId++, socket, framer: new SipStreamFramer(limits), host, port, pending: new Set() };
    this.connections.set(conn.id, conn);
    this.byRemote.set(remoteKey(host, port), conn);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('error', (err) => failPending(conn, err));
    socket.on('close', () => {
      failPending(conn, new Error('TCP connection closed'));
      this.connections.delete(conn.id);
      if (this.byRemote.get(remoteKey(host, port)) === conn) this.byRemote.delete(remoteKey(host, port));
    });
    return conn;
  }

  private onData(conn: Connection, chunk: Buffer): void {
    const source: SipAddress = { protocol: 'TCP', host: conn.host, port: conn.port, connectionId: conn.id };
    let frames: Buffer[];
    try {
      frames = conn.framer.push(chunk);
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
      this.handlers.onRejected?.(err, source);
      conn.socket.destroy();
      return;
    }
    for (const frame of frames) this.deliver(frame, source, 'stream');
  }
}

function write(conn: Connection, data: Buffer, onError?: (err: Error) => void): void {
  let settled = false;
  const fail = (err: Error): void => {
    if (settled) return;
    settled = true;
    conn.pending.delete(fail);
    onError?.(err);
  };
  conn.pending.add(fail);
  conn.socket.write(data, (err) => {
    if (err) fail(err);
    settled = true;
    conn.pending.delete(fail);
  });
}

function failPending(conn: Connection, err: Error): void {
  for (const fail of [...conn.pending]) fail(err);
}

function remoteKey(host: string, port: number): string {
  return `${host.toLowerCase()}:${port}`;
}

/**
 * §18.2.1 and RFC 3581 §4: record the packet's source address in the top Via when it differs
 * from sent-by, and always when the client asked for rport, so responses find their way back
 * through NAT.
 */
export function stampVia(request: SipRequest, source: SipAddress): void {
  const top = request.topVia();
  const wantsRport = top.params.has('rport') && top.params.get('rport') === null;
  if (!wantsRport && hostAddress(top.host).toLowerCase() === source.host.toLowerCase()) return;
  top.params.set('received', source.host);
  if (wantsRport) top.params.set('rport', String(source.port));
  const lines = request.headers.getAll('via');
  const values = lines.flatMap((line) => splitList(line));
  values[0] = formatVia(top);
  request.headers.replaceList('Via', values);
}

async function bindUdp(host: string, port: number, onMessage: (data: Buffer, rinfo: dgram.RemoteInfo) => void): Promise<dgram.Socket> {
  const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('message', onMessage);
  // Send failures are reported per datagram through the send callback; nothing else to do.
  socket.on('error', () => undefined);
  return socket;
}

async function listenTcp(host: string, port: number, onConnection: (socket: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => undefined);
  return server;
}
