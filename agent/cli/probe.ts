/** CLI: registers `linkward probe` (one-off speed/latency test with live progress: probe-run.ts) and runs `linkward probe-server`. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { lwCodeOf, LwError, messageOf } from '../base/errors.ts';
import { Exit, exitForError } from './exit-codes.ts';
import { splitHostPort } from '../base/host-port.ts';
import { startProbeServer } from '../../probes/server.ts';
import { probeAction, type ProbeOptions } from './probe-run.ts';

/** Default probe-server address: loopback (anything else needs a token). */
export const DEFAULT_PROBE_LISTEN = '127.0.0.1:9781';

function fail(e: unknown, json: boolean | undefined): never {
  const code = lwCodeOf(e);
  if (json) process.stdout.write(JSON.stringify({ error: { code, message: messageOf(e) } }) + '\n');
  else process.stderr.write(`error: ${messageOf(e)}\n`);
  process.exit(exitForError(e));
}

/** Splits HOST:PORT / [v6]:PORT. */
export function parseListen(s: string): { host: string; port: number } {
  const hp = splitHostPort(s);
  if (!hp) throw new LwError('LW_CONFIG_INVALID', `--listen must be HOST:PORT (e.g. ${DEFAULT_PROBE_LISTEN}), got "${s}"`);
  return hp;
}

/** Registers `probe` and `probe-server` on the root program. */
export function registerProbeCommands(program: Command): void {
  program
    .command('probe')
    .description('One-off speed test: download, upload, RTT, jitter, loss and bytes used (live progress on stderr).')
    .option('--target <url>', 'throughput server base URL (default: probes.throughput.url)')
    .option('--uplink <name>', "bind to this uplink's source address")
    .option('--download', 'measure download (default: both)')
    .option('--upload', 'measure upload (default: both)')
    .option('--preset <preset>', 'endpoint layout: linkward | librespeed | cloudflare (default: guessed from the URL)')
    .option('--streams <n>', 'parallel streams')
    .option('--max-bytes <n>', 'byte cap per direction')
    .option('--token <token>', 'probe-server token (default: $LINKWARD_PROBE_TOKEN, probes.token)')
    .option('--json', 'print one JSON object: downloadMbps, uploadMbps, rttMs, jitterMs, lossPercent, bytesUsed, ...')
    .option('-c, --config <path>', 'config file (default: $LINKWARD_CONFIG, else /etc/linkward/config.yaml)')
    .action(async (o: ProbeOptions, cmd: Command) => {
      try {
        // the root program has -c/--config too, and commander gives it the option wherever it stands: read both
        await probeAction({ ...o, config: o.config ?? cmd.optsWithGlobals<{ config?: string }>().config });
      } catch (e) {
        fail(e, o.json);
      }
    });
  program
    .command('probe-server')
    .description('Serve download/upload/RTT endpoints and UDP echo for linkward probes (and LibreSpeed/Cloudflare-style clients).')
    .option('--listen <addr>', 'HOST:PORT (non-loopback requires a token)', DEFAULT_PROBE_LISTEN)
    .option('--token <token>', 'required Bearer token (default: $LINKWARD_PROBE_TOKEN)')
    .option('--token-file <path>', 'file holding the token')
    .option('--max-bytes <n>', 'per-request byte cap', String(64 * 1024 * 1024))
    .option('--max-connections <n>', 'concurrent TCP connections', '64')
    .action(async (o: { listen: string; token?: string; tokenFile?: string; maxBytes: string; maxConnections: string }) => {
      try {
        const token = o.token || (o.tokenFile ? readFileSync(o.tokenFile, 'utf8').trim() : '') || process.env.LINKWARD_PROBE_TOKEN || undefined;
        const { host, port } = parseListen(o.listen);
        const srv = await startProbeServer({
          host,
          port,
          maxBytesPerRequest: Number(o.maxBytes),
          maxConnections: Number(o.maxConnections),
          ...(token ? { token } : {}),
        });
        process.stderr.write(
          `linkward probe-server listening on ${host.includes(':') ? `[${host}]` : host}:${srv.port} (HTTP + UDP echo)${token ? ', token required' : ''}\n`,
        );
        const shutdown = (): void => void srv.close().then(() => process.exit(Exit.OK));
        process.once('SIGINT', shutdown);
        process.once('SIGTERM', shutdown);
      } catch (e) {
        fail(e, false);
      }
    });
}
