/** The pre-started revert helper's program (plain JS, node builtins only), run as `node -e SOURCE SOCKET_PATH` outside the agent. */

/** While a plan is armed the helper re-checks the shared monotonic clock this often (its timer may fire late under load). */
export const HELPER_TICK_MS = 50;
/** A helper nobody connects to within this long exits (its agent died before arming anything). */
export const HELPER_IDLE_EXIT_MS = 30_000;
/** Each revert command gets this long (`ip` answers in milliseconds; 5 s means it is stuck). */
export const HELPER_COMMAND_TIMEOUT_MS = 5_000;

/**
 * Protocol (one JSON object per line on a unix socket, one agent connection):
 * - agent → `{"op":"arm","file":F}`: the helper reads plan F and answers `{"op":"armed","file":F}`; from then on it
 *   reverts at `plan.revertAtMono` (CLOCK_MONOTONIC ms, the same clock the agent's deadline is on) unless the plan is
 *   gone by then.
 * - agent → `{"op":"disarm","file":F}`: forget F (the agent confirmed or claimed it; the rename below decides anyway).
 * - agent → `{"op":"exit"}`, or the connection closes (agent stopped, crashed or was killed -9): an armed plan is
 *   reverted now (the switch was never confirmed), then the helper exits.
 * Ownership of a plan is a rename: F → F.reverting by the helper, F → F.agent by the agent. Exactly one wins. When the
 * agent is gone the helper also takes F.agent (the agent died between claiming and finishing).
 */
export const REVERT_HELPER_SOURCE = `
const fs = require('node:fs'); const net = require('node:net'); const cp = require('node:child_process');
const sock = process.argv[process.argv.length - 1];
const mono = () => Number(process.hrtime.bigint()) / 1e6;
let armed = null; let timer = null; let client = null; let done = false;
const revert = (agentGone) => {
  if (!armed) return;
  const { file, plan } = armed; armed = null; clearTimeout(timer);
  let took = false;
  try { fs.renameSync(file, file + '.reverting'); took = true; } catch {}
  if (!took && agentGone) { try { fs.renameSync(file + '.agent', file + '.reverting'); took = true; } catch {} }
  if (!took) return;
  const startedAtMono = mono();
  const errors = [];
  for (const args of plan.commands) {
    try { cp.execFileSync(plan.cmd, args, { env: { ...process.env, LC_ALL: 'C' }, timeout: ${HELPER_COMMAND_TIMEOUT_MS}, stdio: ['ignore', 'ignore', 'pipe'] }); }
    catch (e) { const s = String(e.stderr || e.message); if (!/File exists|No such process/.test(s)) errors.push({ args, error: s.slice(0, 300) }); }
  }
  // Written whole, then renamed: a reader that sees '.result' never sees it half written.
  try { fs.writeFileSync(file + '.result.tmp', JSON.stringify({ revertedAtMs: Date.now(), startedAtMono, revertedAtMono: mono(), by: 'helper', agentGone, errors })); fs.renameSync(file + '.result.tmp', file + '.result'); } catch {}
};
const tick = () => {
  if (!armed) return;
  const left = armed.plan.revertAtMono - mono();
  if (left > 0) { timer = setTimeout(tick, Math.min(left, ${HELPER_TICK_MS})); return; }
  revert(false);
};
const finish = () => { if (done) return; done = true; revert(true); try { fs.unlinkSync(sock); } catch {} process.exit(0); };
const idle = setTimeout(() => { if (!client) finish(); }, ${HELPER_IDLE_EXIT_MS});
try { fs.unlinkSync(sock); } catch {}
const server = net.createServer((c) => {
  if (client) { c.destroy(); return; }
  client = c; clearTimeout(idle); server.close();
  let buf = '';
  c.setEncoding('utf8');
  c.on('data', (d) => {
    buf += d;
    for (let i = buf.indexOf('\\n'); i >= 0; i = buf.indexOf('\\n')) {
      const line = buf.slice(0, i); buf = buf.slice(i + 1);
      let m; try { m = JSON.parse(line); } catch { continue; }
      if (m.op === 'arm') {
        let plan = null; try { plan = JSON.parse(fs.readFileSync(m.file, 'utf8')); } catch {}
        if (!plan || !Array.isArray(plan.commands) || typeof plan.revertAtMono !== 'number') { c.write(JSON.stringify({ op: 'refused', file: m.file }) + '\\n'); continue; }
        if (armed) revert(false);
        armed = { file: m.file, plan }; tick();
        c.write(JSON.stringify({ op: 'armed', file: m.file, atMono: mono() }) + '\\n');
      } else if (m.op === 'disarm') { if (armed && armed.file === m.file) { armed = null; clearTimeout(timer); } }
      else if (m.op === 'exit') finish();
    }
  });
  c.on('close', finish); c.on('error', () => {});
});
server.on('error', () => process.exit(1));
server.listen(sock, () => { try { fs.chmodSync(sock, 0o600); } catch {} });
process.on('SIGTERM', () => {});
process.on('SIGINT', () => {});
`;
