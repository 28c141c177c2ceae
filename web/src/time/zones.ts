// The time zones a platform admin picks a studio's from: every IANA zone the
// browser knows (`Intl.supportedValuesOf`), else a short list of the usual
// ones; Istanbul first (the first studios are there), then the studio's own
// zone if it is another, then the rest in order. The server checks the name.

export const HOME_ZONE = 'Europe/Istanbul';

/** Used where the browser cannot list its zones. */
export const COMMON_ZONES: readonly string[] = [
  'Europe/Istanbul',
  'UTC',
  'Europe/London',
  'Europe/Lisbon',
  'Europe/Dublin',
  'Europe/Paris',
  'Europe/Berlin',
  'Europe/Amsterdam',
  'Europe/Madrid',
  'Europe/Rome',
  'Europe/Vienna',
  'Europe/Zurich',
  'Europe/Stockholm',
  'Europe/Warsaw',
  'Europe/Prague',
  'Europe/Budapest',
  'Europe/Athens',
  'Europe/Bucharest',
  'Europe/Sofia',
  'Europe/Helsinki',
  'Europe/Kyiv',
  'Europe/Moscow',
  'Asia/Nicosia',
  'Asia/Tbilisi',
  'Asia/Baku',
  'Asia/Dubai',
  'Asia/Tehran',
  'Asia/Jerusalem',
  'Asia/Riyadh',
  'Africa/Cairo',
  'Africa/Casablanca',
  'Africa/Lagos',
  'Africa/Johannesburg',
  'Asia/Karachi',
  'Asia/Kolkata',
  'Asia/Bangkok',
  'Asia/Singapore',
  'Asia/Shanghai',
  'Asia/Tokyo',
  'Asia/Seoul',
  'Australia/Sydney',
  'Pacific/Auckland',
  'America/Sao_Paulo',
  'America/Argentina/Buenos_Aires',
  'America/Mexico_City',
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Los_Angeles',
  'America/Toronto',
  'America/Vancouver',
];

/** The zones this browser knows, or null when it cannot say. */
export function browserZones(): string[] | null {
  try {
    return typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : null;
  } catch {
    return null;
  }
}

/** The choices, Istanbul first, then `current` (a studio's zone, kept even if the list lacks it), UTC always there. */
export function zoneChoices(known: readonly string[] | null, current: string | null = null): string[] {
  const rest = [...new Set([...(known ?? COMMON_ZONES), 'UTC'])].filter((z) => z !== HOME_ZONE && z !== current);
  rest.sort((a, b) => (a === 'UTC' ? -1 : b === 'UTC' ? 1 : a.localeCompare(b)));
  return [HOME_ZONE, ...(current && current !== HOME_ZONE ? [current] : []), ...rest];
}
