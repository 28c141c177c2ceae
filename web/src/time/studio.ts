// Which clock a session is read on: its studio's (SPEC §12). The ONE place that
// knows where that zone comes from. Today auctions and events carry only
// `studio_id`, so the zone is fetched once per studio (GET /studios/{id},
// public) and cached; when they carry `studio: {timezone, …}` (issue 21), that
// field wins and the fetch never happens.
import { reactive } from 'vue';
import { api, call } from '../api/client';
import { intlLocale, t } from '../i18n';
import { DATE_TIME, deviceZone, formatInZone } from './zone';

export interface StudioRef {
  studio_id: number;
  studio?: { timezone?: string | null } | null;
}

const zones = reactive(new Map<number, string>());
const pending = new Map<number, Promise<string | null>>();

/** Resolves (and caches) studio `id`'s zone; null when it cannot be read. */
export function loadStudioZone(id: number): Promise<string | null> {
  const known = zones.get(id);
  if (known) return Promise.resolve(known);
  let p = pending.get(id);
  if (!p) {
    p = call(api.GET('/api/v1/studios/{id}', { params: { path: { id } } }))
      .then((studio) => {
        zones.set(id, studio.timezone);
        return studio.timezone;
      })
      .catch(() => {
        pending.delete(id);
        return null;
      });
    pending.set(id, p);
  }
  return p;
}

/** Remembers a zone already in hand (a studio the page loaded anyway). */
export function rememberStudioZone(id: number, zone: string): void {
  zones.set(id, zone);
}

/**
 * The zone of `item`'s studio; null while it is being fetched (reactive: a
 * template that reads it re-renders when it arrives).
 */
export function studioZoneOf(item: StudioRef | number): string | null {
  if (typeof item !== 'number' && item.studio?.timezone) return item.studio.timezone;
  const id = typeof item === 'number' ? item : item.studio_id;
  const known = zones.get(id);
  if (known) return known;
  void loadStudioZone(id);
  return null;
}

/**
 * A session time as its studio's clock shows it, in the page's language,
 * labelled with the studio's place when the device is in another zone
 * ("8 Mar 2026, 19:00 (Istanbul time)").
 */
export function sessionTime(item: StudioRef | number, at: string | number, options: Intl.DateTimeFormatOptions = DATE_TIME): string {
  const zone = studioZoneOf(item) ?? deviceZone();
  const { text, zone: label } = formatInZone(at, zone, intlLocale.value, options);
  return label ? t('time.inZone', { time: text, zone: label }) : text;
}

/** An instant that is not a session time (a feed entry): the device's clock. */
export function deviceTime(at: string | number, options: Intl.DateTimeFormatOptions = DATE_TIME): string {
  return formatInZone(at, deviceZone(), intlLocale.value, options).text;
}

/** The studio's clock reading alone, unlabelled (a chart's axis, under a labelled heading). */
export function studioClock(item: StudioRef | number, at: string | number, options: Intl.DateTimeFormatOptions = DATE_TIME): string {
  return formatInZone(at, studioZoneOf(item) ?? deviceZone(), intlLocale.value, options).text;
}
