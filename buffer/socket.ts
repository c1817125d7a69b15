/** Optional unix-socket listener serving the ingest route (file permissions are its access control). */
import { createServer, type Server } from 'node:http';
import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import { LwError, messageOf } from '../agent/base/errors.ts';
import { sendError } from '../agent/base/http-respond.ts';
import { handleIngest, INGEST_PREFIX, type IngestDeps } from './ingest.ts';

/** Owner and group may write: local apps join the service's group to get access. */
const SOCKET_MODE = 0o660;

/** Starts listening on `path` (a stale socket file is replaced; any other file is left alone and refused). */
export async function listenIngestSocket(path: string, deps: IngestDeps): Promise<Server> {
  if (existsSync(path)) {
    if (!lstatSync(path).isSocket())
      throw new LwError('LW_LISTEN_FAILED', `buffer.socket ${path} exists and is not a socket; remove it or choose another path`);
    unlinkSync(path);
  }
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(INGEST_PREFIX)) {
      req.resume();
      return sendError(res, 404, 'LW_HTTP_NOT_FOUND', `only POST ${INGEST_PREFIX}{sink} is served on this socket`);
    }
    handleIngest(deps, req, res, url).catch((e: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'LW_INTERNAL', messageOf(e));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new LwError('LW_LISTEN_FAILED', `cannot listen on buffer.socket ${path}: ${messageOf(e)}`, { cause: e })));
    server.listen(path, () => resolve());
  });
  chmodSync(path, SOCKET_MODE);
  return server;
}

/** Stops the listener and removes the socket file. */
export async function closeIngestSocket(server: Server, path: string): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
