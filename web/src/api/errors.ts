// Problems in plain words, by their stable `code` (SPEC §8).
import type { Problem } from './types';

const words: Record<string, string> = {
  auction_on_hold: 'Someone is holding this slot right now. If they do not confirm, it comes back.',
  auction_already_booked: 'This slot has been booked.',
  auction_not_started: 'This auction has not started yet.',
  auction_closed: 'This auction has ended.',
  regrab_not_allowed: 'You already had this slot once; it cannot be grabbed again.',
  insufficient_capacity: 'Not enough seats left for that many.',
  hold_expired: 'Your hold ran out before it was confirmed.',
  invalid_state: 'This reservation can no longer be changed that way.',
  cancellation_closed: 'It is too close to the session to cancel.',
  event_has_reservations: 'This event has reservations and cannot be deleted.',
  turbo_already_active: 'Turbo is already running.',
  turbo_not_available: 'Turbo is not available for this auction now.',
  validation_failed: 'Some fields need fixing.',
  unauthorized: 'Please sign in again.',
  token_revoked: 'You were signed out on every device. Please sign in again.',
  invalid_credentials: 'That email and password do not match.',
  forbidden: 'You are not allowed to do that.',
  not_found: 'That could not be found.',
  route_not_found: 'That could not be found.',
  email_taken: 'An account with that email already exists.',
  conflict: 'That conflicts with the current state; reload and try again.',
  rate_limited: 'Too many tries.',
  busy: 'Very busy right now.',
  unavailable: 'The service is briefly unavailable.',
  idempotency_in_progress: 'Your previous tap is still being handled.',
  network: 'Cannot reach HotHour. Check your connection.',
  already_administers_a_studio: 'That person already runs another studio.',
  auction_not_editable: 'Only an auction that has not started can be edited.',
  booking_not_allowed: 'Admin accounts (studio and platform) cannot book; sign in as a customer.',
  capacity_below_reserved: 'Capacity cannot go below the seats already taken.',
  event_not_open: 'This event has started and takes no more holds.',
  hold_already_exists: 'You already hold seats for this event: confirm or cancel them first.',
  invalid_refresh_token: 'Your session ended. Please sign in again.',
  bad_body: 'The request was not understood.',
  malformed_json: 'The request was not understood.',
  database_unavailable: 'The service is briefly unavailable.',
  payload_too_large: 'That is too large.',
  internal: 'Something went wrong on our side.',
};

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
  let text = words[code] ?? problem.detail ?? 'Something went wrong.';
  if (retryAfter !== null) text += ` Try again in ${retryAfter} s.`;
  return text;
}

export function problemOf(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(0, 'network');
}
