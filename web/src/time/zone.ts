// Session times are the studio's wall-clock times (SPEC §2, §12): shown in the
// studio's IANA zone, labelled when the device is elsewhere, and typed into
// the studio's forms as wall-clock times there. Pure functions over Intl; no
// time-zone database of our own.

const MINUTE = 60_000;

const partsFormatters = new Map<string, Intl.DateTimeFormat>();
function partsIn(zone: string): Intl.DateTimeFormat {
  let f = partsFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      era: 'short',
    });
    partsFormatters.set(zone, f);
  }
  return f;
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

/** The wall-clock reading in `zone` at instant `t` (ms), to the second. */
function wallAt(t: number, zone: string): Wall & { second: number } {
  const out: Record<string, string> = {};
  for (const part of partsIn(zone).formatToParts(new Date(t))) out[part.type] = part.value;
  let year = Number(out.year);
  if (out.era === 'BC' || out.era === 'B') year = 1 - year;
  return {
    year,
    month: Number(out.month),
    day: Number(out.day),
    hour: Number(out.hour) % 24,
    minute: Number(out.minute),
    second: Number(out.second),
  };
}

function utcOf(w: Wall & { second?: number }): number {
  const d = new Date(0);
  d.setUTCFullYear(w.year, w.month - 1, w.day);
  d.setUTCHours(w.hour, w.minute, w.second ?? 0, 0);
  return d.getTime();
}

/** The zone's offset from UTC at instant `t`, in ms (Istanbul: +3 h). */
export function offsetAt(t: number, zone: string): number {
  const whole = Math.floor(t / 1000) * 1000;
  return utcOf(wallAt(whole, zone)) - whole;
}

/** Whether `zone` is an IANA name this browser knows. */
export function isZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function deviceZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

function parseLocal(value: string): Wall | null {
  const m = /^(\d{4,6})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value);
  if (!m) return null;
  return { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: Number(m[4]), minute: Number(m[5]) };
}

/**
 * A `datetime-local` value ("2026-03-08T19:00") read as wall-clock time in
 * `zone`, as a UTC instant (ms); NaN when it is not such a value. Like
 * Temporal's "compatible" disambiguation: a time that happens twice (the
 * hour clocks go back) is the earlier one; a time that never happens (the
 * hour clocks skip) is moved forward by the gap (02:30 → 03:30).
 */
export function zonedToUtc(value: string, zone: string): number {
  const wall = parseLocal(value);
  if (!wall) return NaN;
  const naive = utcOf(wall);
  const before = offsetAt(naive - 86_400_000, zone);
  const after = offsetAt(naive + 86_400_000, zone);
  const candidates = [...new Set([naive - before, naive - after])]
    .filter((t) => utcOf(wallAt(t, zone)) === naive)
    .sort((a, b) => a - b);
  if (candidates.length > 0) return candidates[0]!;
  // In the gap: the offset before the change, which lands after it.
  return naive - before;
}

/** The `datetime-local` value (minutes) that shows instant `t` in `zone`. */
export function utcToZoned(t: number, zone: string): string {
  const w = wallAt(t, zone);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}`;
}

/** "Istanbul", "New York": the place part of an IANA name. */
export function zoneCity(zone: string): string {
  return (zone.split('/').pop() ?? zone).replace(/_/g, ' ');
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(locale: string, zone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale} ${zone} ${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { ...options, timeZone: zone });
    formatters.set(key, f);
  }
  return f;
}

export const DATE_TIME: Intl.DateTimeFormatOptions = { dateStyle: 'medium', timeStyle: 'short' };
export const TIME: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };

export interface ZonedText {
  /** The time as the studio's clock shows it. */
  text: string;
  /** The studio's place when the device is in another zone (label it), else null. */
  zone: string | null;
}

/**
 * Instant `at` (ISO or ms) as read on a clock in `zone`, in `locale`; `zone`
 * is named when it is not the device's (and differs from it at that instant).
 */
export function formatInZone(
  at: string | number,
  zone: string,
  locale: string,
  options: Intl.DateTimeFormatOptions = DATE_TIME,
  device: string = deviceZone(),
): ZonedText {
  const t = typeof at === 'number' ? at : Date.parse(at);
  const text = formatter(locale, zone, options).format(new Date(t));
  const elsewhere = zone !== device && offsetAt(t, zone) !== offsetAt(t, device);
  return { text, zone: elsewhere ? zoneCity(zone) : null };
}

export { MINUTE };
