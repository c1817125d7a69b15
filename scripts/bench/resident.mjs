// Resident-page attribution: which parts of the node binary the idle agent keeps in RSS, and what came in while idle.
// Usage: npm run bench:resident -- [--seconds 150] [--every 10] [--extra-flags "--max-opt=2"] [--top 15]
// Starts the built agent like bench:footprint's unit variant (every feature on, the unit's flags and environment),
// snapshots /proc/PID/pagemap for the node binary's mappings every --every seconds, and maps each resident page to
// the symbols it holds (the pinned node binary is not stripped: `nm -S`). Needs root (pagemap's present bit is
// readable by the owner, the symbol table by anyone) and binutils (nm, c++filt).
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { startFootprintFixtures } from './footprint-fixtures.mjs';
import { serviceBaseEnv, unitEnv, unitFlags } from './unit-runtime.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : dflt);
/** Idle window: TurboFan's first compile came at 56 s in session 15's runs, so the default spans it. */
const SECONDS = Number(opt('seconds', '150'));
const EVERY_S = Number(opt('every', '10'));
const TOP = Number(opt('top', '15'));
const extraFlags = opt('extra-flags', '').split(/\s+/).filter(Boolean);
const PAGE = 4096;
const bin = process.execPath;

/** Symbol categories, first match wins: V8's tiers and subsystems, then Node's bundled libraries. */
/** @type {[string, RegExp][]} */
const CATEGORIES = [
  ['v8 embedded builtins', /^Builtins_/],
  ['v8 TurboFan/Turboshaft', /v8::internal::compiler::/],
  ['v8 Maglev', /v8::internal::maglev::/],
  ['v8 WebAssembly', /v8::internal::wasm::|wasm/i],
  ['v8 interpreter', /v8::internal::interpreter::/],
  ['v8 parser', /v8::internal::(Parser|PreParser|ParserBase|Scanner|Scope|DeclarationScope|AstValueFactory)/],
  ['v8 heap/GC', /v8::internal::(heap::|Heap|Scavenger|MarkCompact|Sweeper|Marking|MemoryAllocator|Evacuat)|cppgc/],
  ['v8 other', /^v8::|^v8_inspector/],
  ['ICU', /icu_\d+|^u[a-z]+_\d+|icudt/],
  ['OpenSSL', /^(SSL|EVP|OPENSSL|CRYPTO|ossl|BN_|RSA|EC_|X509|ASN1|BIO|ERR_|OBJ_|PEM|PKCS|bn_|ec_|OSSL|aesni|sha\d)/],
  ['simdjson', /simdjson/],
  ['ada (URL)', /^ada::/],
  ['node', /^node::|^napi_/],
  ['libuv', /^uv_/],
];
const category = (name) => CATEGORIES.find(([, re]) => re.test(name))?.[0] ?? 'other';

function loadSymbols() {
  const rows = execFileSync('nm', ['-S', '--defined-only', bin], { maxBuffer: 1 << 28, env: { LC_ALL: 'C', PATH: process.env.PATH } })
    .toString()
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length === 4 && Number.parseInt(f[1], 16) > 0)
    .map(([a, s, , n]) => ({ a: Number.parseInt(a, 16), s: Number.parseInt(s, 16), n, c: '' }));
  const names = execFileSync('c++filt', { input: rows.map((r) => r.n).join('\n'), maxBuffer: 1 << 28 })
    .toString()
    .split('\n');
  for (let i = 0; i < rows.length; i++) rows[i].c = category(names[i] ?? rows[i].n);
  return rows.sort((x, y) => x.a - y.a);
}

/** Section of an address, from `readelf -SW` (the binary is not position-independent: addresses are virtual). */
function loadSections() {
  const out = execFileSync('readelf', ['-SW', bin], { env: { LC_ALL: 'C', PATH: process.env.PATH } }).toString();
  return [...out.matchAll(/\]\s+(\.\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)/g)].map((m) => ({
    name: m[1],
    a: Number.parseInt(m[2], 16),
    b: Number.parseInt(m[2], 16) + Number.parseInt(m[3], 16),
  }));
}

/** Resident pages (addresses) of the mappings of the node binary in process `pid`. */
function residentPages(pid) {
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .filter((l) => l.endsWith(` ${bin}`));
  const fd = openSync(`/proc/${pid}/pagemap`, 'r');
  const pages = [];
  try {
    for (const line of maps) {
      const [a, b] = line
        .split(' ')[0]
        .split('-')
        .map((h) => Number.parseInt(h, 16));
      const n = (b - a) / PAGE;
      const buf = Buffer.alloc(n * 8);
      readSync(fd, buf, 0, n * 8, (a / PAGE) * 8);
      for (let i = 0; i < n; i++) if (buf.readBigUInt64LE(i * 8) >> 63n) pages.push(a + i * PAGE);
    }
  } finally {
    closeSync(fd);
  }
  return pages;
}

/** MiB per "section / category": each page is shared among the symbols it holds, by bytes. */
function attribute(pages, syms, sections) {
  const out = new Map();
  const add = (k, pagesWorth) => out.set(k, (out.get(k) ?? 0) + pagesWorth);
  for (const p of pages) {
    const sec = sections.find((s) => p < s.b && p + PAGE > s.a)?.name ?? '(headers, symbol tables)';
    let lo = 0;
    let hi = syms.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (syms[m].a + syms[m].s <= p) lo = m + 1;
      else hi = m;
    }
    const w = new Map();
    for (let k = lo; k < syms.length && syms[k].a < p + PAGE; k++) {
      const overlap = Math.min(syms[k].a + syms[k].s, p + PAGE) - Math.max(syms[k].a, p);
      if (overlap > 0) w.set(syms[k].c, (w.get(syms[k].c) ?? 0) + overlap);
    }
    const total = [...w.values()].reduce((x, y) => x + y, 0);
    if (!total) add(`${sec} / (no symbol)`, 1);
    for (const [c, v] of w) add(`${sec} / ${c}`, v / total);
  }
  /** @type {[string, number][]} */
  const mib = [...out].map(([k, v]) => [k, (v * PAGE) / 2 ** 20]);
  return new Map(mib.sort((x, y) => y[1] - x[1]));
}

const print = (title, m) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].slice(0, TOP)) console.log(`  ${v.toFixed(2).padStart(6)} MiB  ${k}`);
};

const syms = loadSymbols();
const sections = loadSections();
const fixtures = await startFootprintFixtures();
const dir = mkdtempSync(join(tmpdir(), 'lw-resident-'));
const cfg = join(dir, 'config.yaml');
writeFileSync(cfg, stringify({ ...fixtures.config, server: { listen: '127.0.0.1:0' }, state: { dir }, log: { level: 'warn' } }));
const flags = [...unitFlags(), ...extraFlags];
const child = spawn(bin, [...flags, join(root, 'dist', 'linkward.mjs'), '--config', cfg, 'run'], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...serviceBaseEnv(), ...unitEnv() },
});
const exited = new Promise((r) => child.on('exit', r));
console.log(`node ${process.versions.node}, flags: ${flags.join(' ')}; every ${EVERY_S} s for ${SECONDS} s`);
console.log('    s  RSS MiB  anon  file  binary resident  change');
const snaps = [];
try {
  for (let t = EVERY_S; t <= SECONDS; t += EVERY_S) {
    await new Promise((r) => setTimeout(r, EVERY_S * 1000));
    if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode}`);
    const st = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const kb = (re) => Number(re.exec(st)?.[1] ?? 0) / 1024;
    const pages = residentPages(child.pid);
    const prev = snaps.at(-1)?.pages.length ?? pages.length;
    snaps.push({ t, pages });
    const row = [
      t,
      kb(/VmRSS:\s+(\d+)/),
      kb(/RssAnon:\s+(\d+)/),
      kb(/RssFile:\s+(\d+)/),
      (pages.length * PAGE) / 2 ** 20,
      ((pages.length - prev) * PAGE) / 2 ** 20,
    ];
    console.log(row.map((v, i) => (i ? v.toFixed(1) : String(v)).padStart(i ? [0, 8, 6, 6, 16, 8][i] : 5)).join(' '));
  }
} finally {
  child.kill('SIGTERM');
  await exited;
  await fixtures.stop();
  rmSync(dir, { recursive: true, force: true });
}
const last = snaps.at(-1).pages;
const first = new Set(snaps[0].pages);
print(`resident pages of ${bin} at ${snaps.at(-1).t} s, by section / symbol category`, attribute(last, syms, sections));
const added = last.filter((p) => !first.has(p));
print(
  `pages that came in between ${snaps[0].t} s and ${snaps.at(-1).t} s (${((added.length * PAGE) / 2 ** 20).toFixed(2)} MiB)`,
  attribute(added, syms, sections),
);
