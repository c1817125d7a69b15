/** The time axis under the charts: ticks at round local times, labelled where they fit, and "now" at the right end. */
import { esc, type Frame } from './chart-frame.ts';

/** Tick steps an axis may use, in minutes: each divides a day, so ticks fall on round local times (06:00, 12:00, ...). */
const TICK_STEPS_MIN = [5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];
/** Most time labels besides "now": four "HH:MM" (~35 px each at .75rem) stay apart on a 330 px phone chart. */
const MAX_TICKS = 4;
/**
 * Ticks this close to an end (percent of the width) get no label: at the left it would be cut off (labels are centred
 * on their tick), at the right it would run into "now" (~25 px, right-aligned, plus half a label: ~15 % of a phone chart).
 */
const LEFT_CLEARANCE_PCT = 6;
const RIGHT_CLEARANCE_PCT = 15;

/** Minutes since local midnight of `ms`, read back from the page's own formatter ("14:05"), so ticks follow its time zone. */
function localMinute(f: Frame, ms: number): number {
  const m = /^(\d\d):(\d\d)/.exec(f.time(ms));
  return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
}

/** Instants in (sinceMs, untilMs) at round local times, every `step` minutes (a DST change re-aligns to the next one). */
export function axisTicks(f: Frame): number[] {
  const spanMin = (f.untilMs - f.sinceMs) / 60_000;
  const step = TICK_STEPS_MIN.find((s) => spanMin / s <= MAX_TICKS) ?? (TICK_STEPS_MIN.at(-1) as number);
  const align = (ms: number): number => {
    const whole = Math.ceil(ms / 60_000) * 60_000; // zone offsets are whole minutes: a UTC minute is a local one
    return whole + ((step - (localMinute(f, whole) % step)) % step) * 60_000;
  };
  const out: number[] = [];
  for (let t = align(f.sinceMs + 1); t < f.untilMs; t = align(t + step * 60_000)) out.push(t);
  return out;
}

/**
 * Time labels under the charts: each centred on its tick at a round local time, "now" at the right end. Labels are
 * placed where their time is on the chart (an evenly spaced row put "10:17" wherever the text widths left it) and
 * none is drawn where it would be cut off or collide with "now".
 */
export function timeAxis(f: Frame): string {
  const span = Math.max(1, f.untilMs - f.sinceMs);
  const ticks = axisTicks(f)
    .map((t) => ({ t, pct: Math.round(((t - f.sinceMs) / span) * 1000) / 10 }))
    .filter((x) => x.pct >= LEFT_CLEARANCE_PCT && x.pct <= 100 - RIGHT_CLEARANCE_PCT);
  return `<div class="axis">${ticks.map((x) => `<span style="left:${x.pct}%">${esc(f.time(x.t))}</span>`).join('')}<span class="now">now</span></div>`;
}
