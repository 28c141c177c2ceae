// Problems in plain words, by their stable `code` (SPEC §8).
import type { Problem } from './types';
import type { components } from './schema';
import { t } from '../i18n';

type ProblemCode = components['schemas']['ProblemCode'];

/** Every problem code the client words itself (catalogue keys `problem.<code>`). */
export const PROBLEM_CODES = [
  'auction_on_hold',
  'auction_already_booked',
  'auction_not_started',
  'auction_closed',
  'regrab_not_allowed',
  'insufficient_capacity',
  'hold_expired',
  'invalid_state',
  'cancellation_closed',
  'check_in_not_open',
  'event_has_reservations',
  'turbo_already_active',
  'turbo_not_available',
  'validation_failed',
  'unauthorized',
  'token_revoked',
  'invalid_credentials',
  'last_platform_admin',
  'forbidden',
  'not_found',
  'route_not_found',
  'email_taken',
  'conflict',
  'rate_limited',
  'busy',
  'unavailable',
  'idempotency_in_progress',
  'network',
  'already_administers_a_studio',
  'auction_not_editable',
  'booking_not_allowed',
  'capacity_below_reserved',
  'event_not_open',
  'hold_already_exists',
  'invalid_refresh_token',
  'bad_body',
  'malformed_json',
  'database_unavailable',
  'payload_too_large',
  'internal',
  'bad_request',
  'unsupported_media_type',
  'method_not_allowed',
  'idempotency_key_reused',
  'payments_disabled',
  'payment_required',
  'payment_processing',
  'payment_declined',
  'payment_provider_unavailable',
  'event_cancelled',
  'auction_has_reservations',
  'token_invalid',
  'token_expired',
  'token_used',
  'invitation_for_another_address',
  'email_already_verified',
  'price_alert_exists',
  'seats_available',
  'already_waiting',
] as const satisfies readonly (ProblemCode | 'network')[];
const known = new Set<string>(PROBLEM_CODES);
// Every code the contract can answer with is worded: a new one fails the typecheck until it is.
type Unworded = Exclude<ProblemCode, (typeof PROBLEM_CODES)[number]>;
export const everyCodeWorded: [Unworded] extends [never] ? true : Unworded = true;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly problem: Partial<Problem> = {},
    /** Seconds the server asked us to wait (429/503 `Retry-After`). */
    readonly retryAfter: number | null = null,
  ) {
    super(describe(code, problem, retryAfter));
  }

  get fieldErrors(): Record<string, string[]> {
    return (this.problem.errors as Record<string, string[]> | null | undefined) ?? {};
  }
}

export function describe(code: string, problem: Partial<Problem> = {}, retryAfter: number | null = null): string {
  let text = known.has(code) ? t(`problem.${code}`) : (problem.detail ?? t('problem.unknown'));
  if (retryAfter !== null) text += ` ${t('problem.retryAfter', { seconds: retryAfter })}`;
  return text;
}

export function problemOf(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(0, 'network');
}
