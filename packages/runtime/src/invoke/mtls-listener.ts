/**
 * The internal (sidecar-to-sidecar) port under mTLS. One port carries both hops, told apart by ALPN:
 * `http/1.1` for HTTP service invocation (the caller's undici pool) and `h2` for proxied gRPC calls.
 * Every client must present a certificate that the trust anchors verify.
 *
 * A caller that speaks plain text (mTLS off on its sidecar) gets a Dapr error naming TLS as the
 * problem instead of a dropped connection: the first byte of a TLS connection is always 0x16
 * (handshake record), so anything else is answered in plain HTTP and closed.
 */
import http from 'node:http';
import type http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { ApiError } from '../errors/index.js';
import type { Logger } from '../logging/logger.js';
import type { Mtls } from '../security/mtls.js';

/** Options of {@link MtlsListener}. */
export interface MtlsListenerOptions {
  mtls: Mtls;
  /** Takes HTTP/1.1 connections (not listening itself). */
  http1: http.Server;
  /** Takes HTTP/2 connections (not listening itself). */
  http2: http2.Http2Server;
  /** The error a plain-text caller receives. */
  plaintextError(): ApiError;
  logger: Logger;
}

const TLS_HANDSHAKE_RECORD = 0x16;
/** How long a connection may stay silent before its first byte. */
const FIRST_BYTE_TIMEOUT_MS = 30_000;

/** The listening side of the internal port with mTLS. */
export class MtlsListener {
  private readonly front: net.Server;
  private readonly tlsServer: tls.Server;
  private readonly raw = new Set<net.Socket>();
  private readonly secure = new Map<tls.TLSSocket, { busy: number }>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly unsubscribe: () => void;
  private closing = false;

  constructor(private readonly options: MtlsListenerOptions) {
    const { mtls, logger } = options;
    this.tlsServer = tls.createServer({ ...mtls.serverOptions(), ALPNProtocols: ['h2', 'http/1.1'] }, (socket) => this.dispatch(socket));
    this.tlsServer.on('tlsClientError', (err, socket) => {
      logger.warn(`refused a TLS connection to the internal port from ${socket.remoteAddress ?? '?'}: ${err.message.trim().split('\n')[0] ?? ''}`);
    });
    this.unsubscribe = mtls.onChange(() => this.tlsServer.setSecureContext(mtls.contextOptions()));
    options.http1.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const state = this.secure.get(req.socket as tls.TLSSocket);
      if (!state) return;
      state.busy++;
      res.once('close', () => {
        state.busy--;
        if (this.closing && state.busy === 0) req.socket.destroy();
      });
    });
    options.http2.on('session', (session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
    });
    this.front = net.createServer((socket) => this.accept(socket));
  }

  /** Starts listening; resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.front.once('error', reject);
      this.front.listen(port, host, () => {
        this.front.off('error', reject);
        resolve((this.front.address() as AddressInfo).port);
      });
    });
  }

  /** Stops accepting; idle connections close at once, busy ones after `graceMs`. */
  close(graceMs = 2000): Promise<void> {
    this.closing = true;
    this.unsubscribe();
    return new Promise((resolve) => {
      this.front.close(() => resolve());
      for (const session of this.sessions) session.close();
      for (const [socket, state] of this.secure) if (state.busy === 0 && socket.alpnProtocol !== 'h2') socket.destroy();
      setTimeout(() => {
        for (const session of this.sessions) session.destroy();
        for (const socket of this.raw) socket.destroy();
      }, graceMs).unref();
    });
  }

  private accept(socket: net.Socket): void {
    this.raw.add(socket);
    socket.once('close', () => this.raw.delete(socket));
    socket.on('error', () => {});
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE_RECORD) this.tlsServer.emit('connection', socket);
      else this.refusePlaintext(socket);
    });
  }

  private dispatch(socket: tls.TLSSocket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.secure.set(socket, { busy: 0 });
    socket.once('close', () => this.secure.delete(socket));
    if (socket.alpnProtocol === 'h2') this.options.http2.emit('connection', socket);
    else this.options.http1.emit('connection', socket);
  }

  private refusePlaintext(socket: net.Socket): void {
    const error = this.options.plaintextError();
    this.options.logger.warn(`refused a plain-text connection to the internal port from ${socket.remoteAddress ?? '?'}: mTLS is required`);
    const body = JSON.stringify(error.toJSON());
    socket.end(
      `HTTP/1.1 ${error.httpStatus} ${http.STATUS_CODES[error.httpStatus] ?? 'Error'}\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
    // Read (and drop) what the caller still sends, so it sees the answer rather than a reset.
    socket.resume();
    socket.setTimeout(5_000, () => socket.destroy());
  }
}
