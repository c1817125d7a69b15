/** The HTTP fast path: serves the plainest ingest POSTs on a connection itself and hands anything else to node:http. */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { lwCodeOf, messageOf } from '../base/errors.ts';
import { errorBody } from '../base/http-respond.ts';
import type { FastAnswer, FastRequest } from '../runtime/component.ts';
import { parseFastRequest } from './fast-parse.ts';

/**
 * node:http's keepAliveTimeoutBuffer default: an idle connection is kept this much longer than the Keep-Alive header
 * says, so a client reusing it right at the advertised limit does not meet a closed socket.
 */
const KEEP_ALIVE_BUFFER_MS = 1_000;

/** The timeouts (ms) of a fast-path connection: node:http's own in server.ts, so a client sees one server. */
export interface FastTimeouts {
  /** headersTimeout: a connection that sends nothing is closed after this long. */
  firstByteMs: number;
  /** keepAliveTimeout: an idle keep-alive connection is closed after this long (also the Keep-Alive header). */
  keepAliveMs: number;
}

export interface FastPathDeps {
  /** The answer to a parsed request, or null when the fast path must not serve it (node:http does, from its first byte). */
  serve(req: FastRequest): Promise<FastAnswer> | null;
  /** Gives the connection to node:http (its 'connection' listener); unread bytes are back in the socket. */
  handOff(socket: Socket): void;
  /** Wall-clock ms for the Date header. */
  nowMs(): number;
  /** An error no answer could carry, or a 500: logged by the server. */
  onError(e: unknown): void;
}

let dateCache = { second: -1, text: '' };

/**
 * The response bytes node:http would send for sendJson(status, json): on a keep-alive connection (`keepAliveMs`, the
 * idle timeout it advertises) or on its last answer before the server closes it (null).
 */
export function encodeAnswer(a: FastAnswer, nowMs: number, keepAliveMs: number | null): string {
  const second = Math.floor(nowMs / 1000);
  if (dateCache.second !== second) dateCache = { second, text: new Date(second * 1000).toUTCString() };
  const body = JSON.stringify(a.json);
  return (
    `HTTP/1.1 ${a.status} ${STATUS_CODES[a.status] ?? ''}\r\ncontent-type: application/json; charset=utf-8\r\ncache-control: no-store\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nDate: ${dateCache.text}\r\n` +
    `${keepAliveMs === null ? 'Connection: close' : `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(keepAliveMs / 1000)}`}\r\n\r\n${body}`
  );
}

/** Where a fast-path connection is: no request yet, serving one, or idle between requests. */
type ConnState = 'fresh' | 'busy' | 'idle';

/** The connections the fast path serves and where each is (what a server close needs). */
export class FastConnections {
  readonly #state = new Map<Socket, ConnState>();
  #closing = false;
  /** Requests the fast path answered, and connections it gave to node:http (bench and tests read them). */
  served = 0;
  handedOff = 0;

  get closing(): boolean {
    return this.#closing;
  }

  get size(): number {
    return this.#state.size;
  }

  set(socket: Socket, state: ConnState): void {
    this.#state.set(socket, state);
  }

  delete(socket: Socket): void {
    this.#state.delete(socket);
  }

  /**
   * Server close, as node:http's closeIdleConnections: connections idle after a request are cut now (none of their
   * requests is read any more); a busy one, or a new one's first request, is answered with `Connection: close`; any
   * left are cut after `graceMs`.
   */
  close(graceMs: number): void {
    this.#closing = true;
    for (const [s, state] of this.#state) if (state === 'idle') s.destroy();
    setTimeout(() => {
      for (const s of this.#state.keys()) s.destroy();
    }, graceMs).unref();
  }
}

/**
 * Serves `socket` while its requests stay in the strict subset, one at a time: the socket is paused while a request is
 * served, so what the client sends meanwhile waits in the socket's buffer (at most its highWaterMark). The first
 * request that is declined or not whole in one read, and any requests pipelined behind a served one (node:http starts
 * those concurrently, so they share group commits), go with every byte after them to node:http, which keeps the
 * connection from then on.
 */
export function adoptConnection(socket: Socket, deps: FastPathDeps, open: FastConnections, timeouts: FastTimeouts): void {
  let pending: Buffer | null = null;
  let state: ConnState = 'fresh';
  let ended = false;
  let gone = false;

  const onData = (chunk: Buffer): void => {
    pending = pending === null ? chunk : Buffer.concat([pending, chunk]);
    if (state !== 'busy') serveOne().catch(fail);
  };
  const onEnd = (): void => {
    ended = true;
    if (state !== 'busy') socket.end();
  };
  const onTimeout = (): void => {
    socket.destroy();
  };
  const onError = (): void => {}; // 'close' follows; nothing to answer
  const onClose = (): void => {
    gone = true;
    open.delete(socket);
  };
  // A throw outside the answer (a route's own check, a write on a closing socket): logged, the connection cut.
  const fail = (e: unknown): void => {
    deps.onError(e);
    socket.destroy();
  };
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('timeout', onTimeout);
  socket.on('error', onError);
  socket.on('close', onClose);
  socket.setTimeout(timeouts.firstByteMs);
  const enter = (next: ConnState): void => {
    state = next;
    open.set(socket, next);
  };
  enter('fresh');

  const handOff = (): void => {
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('timeout', onTimeout);
    socket.off('error', onError);
    socket.off('close', onClose);
    socket.setTimeout(0);
    open.delete(socket);
    open.handedOff++;
    // After the client's FIN there is no stream to give back: the requests before were answered; this one is dropped.
    if (ended) {
      socket.destroy();
      return;
    }
    socket.pause();
    if (pending !== null) socket.unshift(pending);
    pending = null;
    deps.handOff(socket);
    socket.resume();
  };

  const serveOne = async (): Promise<void> => {
    if (open.closing && state === 'idle') return void socket.destroy(); // closing: like node:http, an idle connection reads no more
    const parsed = parseFastRequest(pending!);
    const work = parsed.kind === 'request' ? deps.serve(parsed.request) : null;
    if (parsed.kind !== 'request' || work === null) return handOff();
    const rest = parsed.end === pending!.length ? null : pending!.subarray(parsed.end);
    pending = null;
    enter('busy');
    socket.pause();
    socket.setTimeout(0); // node:http's requestTimeout covers receiving a request, never a slow answer
    let answer: FastAnswer;
    try {
      answer = await work;
    } catch (e) {
      deps.onError(e);
      answer = { status: 500, json: errorBody(lwCodeOf(e), messageOf(e)) };
    }
    if (gone) return;
    open.served++;
    const last = ended || open.closing;
    const flushed = socket.write(encodeAnswer(answer, deps.nowMs(), last ? null : timeouts.keepAliveMs));
    enter('idle');
    if (last) return void socket.end();
    // Pipelined requests (in this read, or arrived while paused) go to node:http, which serves them concurrently.
    if (rest !== null || socket.readableLength > 0) {
      pending = rest;
      return handOff();
    }
    // Idle from here, as node:http after its response: a client that never reads its answer does not hold the socket.
    socket.setTimeout(timeouts.keepAliveMs + KEEP_ALIVE_BUFFER_MS);
    if (!flushed) {
      await drained(socket);
      if (gone) return;
    }
    socket.resume();
  };
}

/** Resolves once `socket` drained its write buffer or closed. */
function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
