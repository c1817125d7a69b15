/** The closed registry of linkward error codes: every code, what it means, what the operator does (OPERATIONS.md is generated from it). */

/** One registered code. */
export interface ErrorCodeInfo {
  /** What happened, in the operator's words (one line of the troubleshooting table). */
  readonly meaning: string;
  /** What the operator does about it. */
  readonly action: string;
  /**
   * How a one-shot command that stops on this code exits (agent/exit-codes.ts maps it): `input` → 2, the input is
   * wrong (config, usage), fix it; `unreachable` → 3, the daemon could not be reached, start it; absent → 1.
   */
  readonly exit?: 'input' | 'unreachable';
}

/**
 * Every code linkward raises, logs or answers with, in the order of the troubleshooting table. `LwCode` is the union
 * of these keys, so a code that is not here fails the typecheck; test/unit/base/error-registry.test.ts fails when a code
 * here is never raised or the table in docs/OPERATIONS.md is stale (`node scripts/gen-error-table.ts`).
 */
export const ERROR_CODES = {
  // foundation: config, state directory, listeners, daemon, CLI
  LW_CONFIG_INVALID: {
    meaning: 'the config file has errors (all listed as `path: message`)',
    action: '`linkward config validate FILE`; fix each line; restart',
    exit: 'input',
  },
  LW_CONFIG_UNREADABLE: {
    meaning: 'config file or `server.tokenFile` cannot be read',
    action: 'check the path and permissions (`ls -l /etc/linkward`)',
    exit: 'input',
  },
  LW_STATE_DIR_UNWRITABLE: {
    meaning: 'state directory missing or not writable',
    action: 'under systemd it is `/var/lib/linkward` (`StateDirectory=`); elsewhere set `state.dir` to a writable directory',
  },
  LW_STATE_LOCKED: {
    meaning: 'another linkward uses this state directory (pid given)',
    action: 'stop the other one (`systemctl stop linkward`, or a manual `linkward run`), or use another `state.dir`',
  },
  LW_STATE_DB_FAILED: {
    meaning: '`state.db` or its lock file cannot be opened (disk full, permissions)',
    action: 'free disk space; check the permissions of the state directory',
  },
  LW_STATE_DB_QUARANTINED: {
    meaning: '`state.db` was damaged at start: moved aside and replaced (a warning; the agent runs on with no history)',
    action: 'nothing to do; the moved file (`state.db.corrupt-<ms>`) can be deleted once looked at',
  },
  LW_LISTEN_INSECURE: {
    meaning: '`server.listen` is not loopback and no token is set',
    action: 'set `server.tokenFile`, or listen on `127.0.0.1`',
  },
  LW_LISTEN_FAILED: {
    meaning: 'the status port, the page listener or `buffer.socket` cannot be bound (e.g. in use)',
    action: '`ss -ltnp | grep 9780`; change `server.listen` (or the path of `buffer.socket`)',
  },
  LW_DAEMON_UNREACHABLE: {
    meaning: 'the CLI cannot reach the daemon',
    action: '`systemctl start linkward`; check `server.listen` matches',
    exit: 'unreachable',
  },
  LW_DAEMON_BAD_RESPONSE: {
    meaning: 'the daemon answered something unexpected (wrong token or another service on the port)',
    action: 'check `server.listen`/token; `curl -s 127.0.0.1:9780/healthz`',
    exit: 'unreachable',
  },
  LW_INTERNAL: {
    meaning: 'an unexpected failure (a bug in linkward)',
    action: 'collect `journalctl -u linkward` and report it',
  },
  // status server
  LW_HTTP_UNAUTHORIZED: {
    meaning: 'missing/wrong bearer token on `/v1/*` or the page',
    action: 'send `Authorization: Bearer <token>`',
  },
  LW_HTTP_NOT_FOUND: {
    meaning: 'request to an unknown path of the status server',
    action: 'fix the client (see the endpoints in this document)',
  },
  LW_HTTP_METHOD: {
    meaning: 'HTTP method not allowed on that path',
    action: 'fix the client (GET for reads, POST for actions)',
  },
  LW_HTTP_BAD_REQUEST: {
    meaning: 'malformed request body or parameter',
    action: 'fix the client; the message names the problem',
  },
  LW_HTTP_BODY_TOO_LARGE: { meaning: 'request body over the limit of the endpoint', action: 'send a smaller body' },
  LW_HTTP_CLIENT_GONE: {
    meaning: 'the client closed the connection before sending its whole body (logged only)',
    action: "nothing, unless frequent: check the client's timeouts",
  },
  // external commands
  LW_COMMAND_NOT_FOUND: {
    meaning: '`ip`, `nft`, `ping` or `conntrack` missing',
    action: '`apt-get install iproute2 nftables iputils-ping conntrack`',
  },
  LW_COMMAND_FAILED: {
    meaning: 'an external command failed',
    action: 'the log shows the command and its stderr; check capabilities (unit drop-ins must keep `CAP_NET_ADMIN CAP_NET_RAW`)',
  },
  LW_COMMAND_TIMEOUT: {
    meaning: 'an external command hung and was stopped',
    action: 'the log shows the command; a stuck netlink or a loaded host: retried on the next tick',
  },
  // probes
  LW_PROBE_TARGET_INVALID: {
    meaning: 'a `probes.targets` entry cannot be parsed',
    action: 'use `HOST:PORT`, `tcp://`, `udp://`, `icmp://HOST`, `linkward://HOST:PORT` or an http(s) URL',
  },
  LW_PROBE_NO_SOURCE: {
    meaning: "an uplink's interface is missing or has no IPv4 address",
    action: 'check `ip -br addr`; fix `uplinks[].interface`',
  },
  LW_PROBE_NO_URL: {
    meaning: 'throughput probe requested without `probes.throughput.url` or `--target`',
    action: 'set the URL, or disable throughput probes',
    exit: 'input',
  },
  LW_PROBE_HTTP_STATUS: {
    meaning: 'the throughput server answered non-2xx',
    action: 'check the URL/preset and the server',
  },
  LW_PROBE_BAD_ANSWER: {
    meaning: 'the throughput server answered in a form the preset cannot read (e.g. an upload answer without arrival ticks: not a `linkward probe-server`)',
    action: 'point at a `linkward probe-server`, or give the right `--preset` (`cloudflare`, `librespeed`)',
  },
  LW_PROBE_TARGET_REFUSED: {
    meaning: '`linkward probe`: the target host answers every connect with a TCP reset (the path works, nothing listens on that port)',
    action: 'start `linkward probe-server` there, or fix `--target` / `probes.throughput.url`',
  },
  LW_PROBE_THROUGHPUT_DISABLED: {
    meaning: 'a throughput probe was requested (CLI/API) while `probes.throughput.enabled` is false',
    action: 'enable throughput probes in the config, or rely on light probes',
  },
  LW_PROBE_UNKNOWN_UPLINK: {
    meaning: 'a probe command or request named an uplink not in the config',
    action: 'use a name from `uplinks`',
    exit: 'input',
  },
  LW_PROBE_SERVER_INSECURE: {
    meaning: '`linkward probe-server` asked to listen beyond loopback without a token',
    action: 'give a token (`--token-file`) for non-loopback',
  },
  LW_PROBE_SERVER_LISTEN_FAILED: {
    meaning: '`linkward probe-server` cannot bind its port',
    action: 'free the port or choose another `--listen`',
  },
  LW_PROBE_UNAUTHORIZED: {
    meaning: 'a client of the probe server sent a missing or wrong token',
    action: 'fix `probes.token` / the client',
  },
  LW_PROBE_NOT_FOUND: {
    meaning: 'a client of the probe server asked for an unknown path',
    action: 'fix `probes.throughput.url` / the preset',
  },
  LW_PROBE_BAD_REQUEST: {
    meaning: 'a client of the probe server sent a bad `bytes` parameter',
    action: 'fix the client',
  },
  LW_PROBE_TOO_LARGE: {
    meaning: 'a client of the probe server asked for or sent more than the per-request cap',
    action: "lower the probe size, or raise the server's cap",
  },
  // link, history
  LW_LINK_BAD_QUERY: {
    meaning: 'bad query to the link endpoints (`/readyz/link`, `check`)',
    action: 'fix the parameters as the message says',
  },
  LW_HISTORY_BAD_SINCE: {
    meaning: '`since` of `/v1/history` / `linkward history` is not a duration, or longer than the kept history',
    action: 'use a duration such as `6h`, `90m` or `2d` within the kept history',
  },
  // node actions (Kubernetes)
  LW_K8S_NO_CLUSTER: {
    meaning: 'no kubeconfig and no in-cluster ServiceAccount: node actions off',
    action: 'expected without k3s; else set `kubernetes.kubeconfig`',
  },
  LW_K8S_CONFIG_INVALID: {
    meaning: 'the kubeconfig cannot be loaded',
    action: 'check `/etc/rancher/k3s/k3s.yaml` / `kubernetes.kubeconfig`',
  },
  LW_K8S_LEAN_UNSUPPORTED: {
    meaning: 'the kubeconfig needs something only the full client does (exec plugin, auth-provider, proxy)',
    action: 'set `kubernetes.client: client-node`, or use a token/certificate kubeconfig',
  },
  LW_K8S_FORBIDDEN: {
    meaning: 'RBAC or admission policy refused a change',
    action: 'apply the RBAC in `deploy/fleet/base/rbac.yaml`',
  },
  LW_K8S_UNAVAILABLE: {
    meaning: 'the API server is unreachable or failing',
    action: 'retried with backoff; the desired state is applied once it answers',
  },
  LW_K8S_TIMEOUT: {
    meaning: 'the API server did not answer in time',
    action: 'retried with backoff; check the link to the API server',
  },
  LW_K8S_CONFLICT: {
    meaning: 'concurrent update (resourceVersion)',
    action: 'retried automatically; persistent → another controller fights over the node',
  },
  LW_K8S_TOO_MANY_REQUESTS: {
    meaning: 'throttled, or an eviction blocked by a PodDisruptionBudget',
    action: 'retried; check PDBs if a drain never finishes',
  },
  LW_K8S_GONE: {
    meaning: "a watch fell behind the API server's history (410 Gone)",
    action: 'nothing: the Node is read again and the watch restarts',
  },
  LW_K8S_NOT_FOUND: { meaning: 'the Node is missing', action: 'check `node.name` matches `kubectl get nodes`' },
  LW_K8S_REJECTED: {
    meaning: 'the API rejected a request (another 4xx)',
    action: 'the log names the request; check `node.name` and admission policies',
  },
  // uplink failover
  LW_ROUTE_K3S_UNPINNED: {
    meaning: 'k3s does not pin `node-ip`/`flannel-iface`; switching routes would move them',
    action: 'add them to `/etc/rancher/k3s/config.yaml`, or set `uplinks.policy.allowUnpinnedK3s: true`',
  },
  LW_ROUTE_UPLINK_UNRESOLVED: {
    meaning: "an uplink's interface, gateway or source address is unknown, so its table is not set up",
    action: 'check `ip route`, the interface and `uplinks[]` settings',
  },
  LW_ROUTE_STATE_UNKNOWN: {
    meaning: "a read of the kernel's routes, rules or addresses failed, timed out or printed garbage: nothing was changed",
    action: 'retried within 10 s (or failover.reapplyInterval if shorter); persistent → see the log line for the `ip` command',
  },
  LW_ROUTE_APPLY_FAILED: {
    meaning: '`ip` commands failed while applying routes or switching',
    action: 'see the log for the command; check `CAP_NET_ADMIN`',
  },
  LW_ROUTE_CONFIRM_FAILED: {
    meaning: 'a switch was not confirmed in time and was rolled back',
    action: 'the backup uplink did not work; check it',
  },
  LW_ROUTE_HELPER_FAILED: {
    meaning: 'the route revert helper could not start; the switch was not made',
    action: 'check the journal; under systemd see `KillMode=process` above',
  },
  LW_ROUTE_CONNTRACK_MISSING: {
    meaning: '`conntrack` is not installed, so flows of the old uplink were not flushed after a switch (the switch itself happened)',
    action: '`apt-get install conntrack`, or set `uplinks.policy.flushConntrack: false`',
  },
  LW_ROUTE_CONNTRACK_FAILED: {
    meaning: '`conntrack -D` failed or timed out after a switch (the switch stands)',
    action:
      'the journal shows the command and its stderr; check `CAP_NET_ADMIN`; the unit cannot load kernel modules (`ProtectKernelModules=yes`), so if the kernel does not load `nf_conntrack_netlink` on demand, load it at boot (`echo nf_conntrack_netlink > /etc/modules-load.d/linkward.conf`)',
  },
  LW_ROUTE_IP_OUTPUT: { meaning: '`ip` printed unexpected output', action: 'report it with `ip -V` and `ip -j route`' },
  LW_ROUTE_UNKNOWN_UPLINK: {
    meaning: '`linkward route use` named an unknown uplink',
    action: 'use a configured uplink name',
  },
  // store-and-forward buffer
  LW_BUFFER_FULL: {
    meaning: 'the buffer is at its bound (reject-new policy): HTTP 507',
    action: 'expected during long outages; raise `buffer` bounds or change the drop policy',
  },
  LW_BUFFER_DISK_FULL: {
    meaning: 'the disk under the state directory is full',
    action: 'free space, or wait: draining the backlog gives space back and ingest resumes by itself; records are rejected, never acknowledged then lost',
  },
  LW_BUFFER_INVALID_PAYLOAD: {
    meaning: "ingest body the sink's protocol cannot deliver (bad JSON line, wrong Content-Type, undecodable remote write): HTTP 400, nothing stored",
    action: 'fix the client; the message names the problem',
  },
  LW_BUFFER_CORRUPT: {
    meaning: '`buffer.db` was corrupt at start and moved aside; a fresh one is used',
    action: 'nothing to do; keep the moved file for support (`linkward buffer salvage FILE` copies out what is readable)',
  },
  LW_BUFFER_UNAVAILABLE: {
    meaning: 'the buffer store could not be opened (ingest answers 503)',
    action: 'see the log line; disk and permissions of the state directory',
  },
  LW_BUFFER_UNKNOWN_SINK: {
    meaning: 'ingest or a buffer command named a sink that is not configured',
    action: 'fix the client or the `sinks` config',
  },
  LW_BUFFER_TOO_LARGE: {
    meaning: 'an ingested record is over `buffer.maxRecordBytes`',
    action: 'split the payload or raise `buffer.maxRecordBytes`',
  },
  LW_BUFFER_EMPTY: { meaning: 'ingest with an empty body', action: 'fix the client' },
  LW_BUFFER_SECRET_MISSING: {
    meaning: 'a sink header secret (env var or file) is missing',
    action: 'create the file / set the variable (drop-in `Environment=`)',
  },
  LW_BUFFER_SALVAGE_PATH: {
    meaning: "`linkward buffer salvage FILE`: the path is not absolute, is the live buffer, or does not exist on the daemon's host",
    action: "give the absolute path of the moved-aside file on the daemon's host",
  },
} as const satisfies Record<`LW_${string}`, ErrorCodeInfo>;

/** A registered error code (a closed union: a typo fails the typecheck). */
export type LwCode = keyof typeof ERROR_CODES;

/** True when `s` is a registered code (for codes that arrive as data, e.g. in a daemon's JSON answer). */
export function isLwCode(s: unknown): s is LwCode {
  return typeof s === 'string' && Object.hasOwn(ERROR_CODES, s);
}
