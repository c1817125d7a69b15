// esbuild plugin: node-cron reads the local wall clock without Intl when no timezone is given (saves ICU's memory).
//
// node-cron 4 turns every tick's Date into fields with Intl.DateTimeFormat('en-US', ...).formatToParts, even for the
// process's own time zone. That maps ICU's locale and zone data into the daemon for good (measured with
// `npm run bench:footprint`: docs/BENCHMARKS.md). For the process's own zone the Date getters give the same fields, so
// buildDateParts is patched to use them when `timezone` is unset; schedules with an explicit timezone still use Intl.
// test/integration/scripts/local-time.test.ts proves the patched and the original bundle agree on next runs across zones.
// getTimezoneGMT (the zone offset when turning fields back into a timestamp) gets the same treatment.
import { readFileSync } from 'node:fs';

/** node-cron's file holding buildDateParts (4.x); the build fails if it moves, rather than silently not patching. */
const TARGET = /node-cron[\\/]dist[\\/]_shared\.js$/;
/** Each function that reaches Intl, and the line put first in its body for schedules without a timezone. */
const PATCHES = [
  ['function buildDateParts(date, timezone) {', 'if (!timezone) return lwLocalDateParts(date);'],
  ['function getTimezoneGMT(date, timezone) {', 'if (!timezone) return lwLocalGmt(date);'],
];

/** Same fields as node-cron's buildDateParts, from Date getters (the process's zone, like Intl without timeZone). */
const LOCAL_PARTS = `
const LW_WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
function lwLocalGmt(date) {
    const off = -date.getTimezoneOffset();
    if (off === 0) return 'Z';
    const abs = Math.abs(off);
    return 'GMT' + (off < 0 ? '-' : '+') + String(Math.floor(abs / 60)).padStart(2, '0') + ':' + String(abs % 60).padStart(2, '0');
}
function lwLocalDateParts(date) {
    const result = {
        day: date.getDate(),
        month: date.getMonth() + 1,
        year: date.getFullYear(),
        hour: date.getHours(),
        minute: date.getMinutes(),
        second: date.getSeconds(),
        millisecond: date.getMilliseconds(),
        weekday: LW_WEEKDAYS[date.getDay()]
    };
    let gmt;
    Object.defineProperty(result, 'gmt', { enumerable: true, configurable: true, get() { return gmt ??= lwLocalGmt(date); } });
    return result;
}
`;

/** Returns node-cron's _shared.js source with the Intl-free path for schedules without a timezone. */
export function patchNodeCron(source) {
  let out = source;
  for (const [anchor, line] of PATCHES) {
    const at = out.indexOf(anchor);
    if (at < 0 || out.indexOf(anchor, at + 1) >= 0) {
      throw new Error(`build: node-cron's "${anchor}" not found exactly once (node-cron updated?); update scripts/build-local-time.mjs`);
    }
    out = `${out.slice(0, at + anchor.length)}\n    ${line}${out.slice(at + anchor.length)}`;
  }
  return LOCAL_PARTS + out;
}

/** The esbuild plugin; `patched()` tells whether node-cron was seen (the build checks it was). */
export function localTimePlugin() {
  let seen = false;
  return {
    patched: () => seen,
    plugin: {
      name: 'node-cron-local-time',
      setup(b) {
        b.onLoad({ filter: TARGET }, (args) => {
          seen = true;
          return { contents: patchNodeCron(readFileSync(args.path, 'utf8')), loader: 'js' };
        });
      },
    },
  };
}
