import type { LocationQueryValue } from 'vue-router';

/** The `?token=` of an emailed link, or null without one. */
export function tokenOf(value: LocationQueryValue | LocationQueryValue[] | undefined): string | null {
  const token = Array.isArray(value) ? value[0] : value;
  return typeof token === 'string' && token.trim() !== '' ? token.trim() : null;
}
