// Paying for a hold by card (SPEC §13, issue 22): the Card Element gives a
// token, the server attaches its card and confirms the payment
// (`POST /reservations/{id}/payment`), Stripe.js authenticates the card only
// when the payment asks for it (3-D Secure), then `POST …/confirm` books the
// hold on the provider's word. This order works with Stripe's own Stripe.js
// and with localstripe's fake one (whose `confirmCardPayment` only completes
// a payment that requires action, and whose `createPaymentMethod` is a stub).
import type { components } from '../api/schema';
import type { Reservation } from '../api/types';
import { ApiError } from '../api/errors';
import { t } from '../i18n';
import type { CardElement, Stripe, StripeError } from './stripe';

export type Checkout = components['schemas']['CheckoutOut'];

/** What each of Stripe's card error codes is worded as (catalogue keys `payment.card.<word>`). */
export const CARD_WORDS = {
  incomplete_number: 'number',
  invalid_number: 'number',
  incorrect_number: 'number',
  incomplete_expiry: 'expiry',
  invalid_expiry_month: 'expiry',
  invalid_expiry_year: 'expiry',
  invalid_expiry_month_past: 'expired',
  invalid_expiry_year_past: 'expired',
  expired_card: 'expired',
  incomplete_cvc: 'cvc',
  invalid_cvc: 'cvc',
  incorrect_cvc: 'cvc',
  incomplete_zip: 'zip',
  incorrect_zip: 'zip',
  card_declined: 'declined',
  insufficient_funds: 'declined',
  processing_error: 'processing',
  payment_intent_authentication_failure: 'authentication',
} as const satisfies Record<string, string>;

/** Every word a card problem can be told in, the fallbacks included. */
export const CARD_PROBLEMS = [...new Set(Object.values(CARD_WORDS)), 'unknown', 'unavailable'] as const;

type CardWord = (typeof CARD_WORDS)[keyof typeof CARD_WORDS] | 'unknown' | 'unavailable';

function wordFor(stripe: StripeError | null): CardWord {
  const code = stripe?.decline_code && stripe.decline_code in CARD_WORDS ? stripe.decline_code : stripe?.code;
  if (code && code in CARD_WORDS) return CARD_WORDS[code as keyof typeof CARD_WORDS];
  return stripe?.type === 'card_error' ? 'declined' : 'unknown';
}

/**
 * A card Stripe.js did not take, in the page's language (never Stripe's own
 * English); an ApiError, so `useAction` shows it like any other problem.
 */
export class CardProblem extends ApiError {
  constructor(
    readonly stripe: StripeError | null,
    readonly word: CardWord = wordFor(stripe),
  ) {
    super(402, `card_${word}`, { detail: t(`payment.card.${word}`) });
  }
}

export interface PayDeps {
  stripe: Pick<Stripe, 'createToken' | 'confirmCardPayment'>;
  card: CardElement;
  /** `POST /reservations/{id}/payment` with the card's id. */
  checkout(paymentMethod: string): Promise<Checkout>;
  /** `POST /reservations/{id}/confirm`. */
  confirm(): Promise<Reservation>;
  sleep?(ms: number): Promise<void>;
}

/** How long `payment_processing` is waited out before the person is told. */
const PROCESSING_WAITS_MS = [500, 1_000, 2_000, 4_000, 8_000];

/** Pays the hold with the card and books it; the reservation as it then stands. Throws a CardProblem or an ApiError. */
export async function payForHold(deps: PayDeps): Promise<Reservation> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const { token, error } = await deps.stripe.createToken(deps.card);
  if (error || !token?.card?.id) throw new CardProblem(error ?? null);
  const paid = await deps.checkout(token.card.id);
  if (paid.reservation.status !== 'HOLD') return paid.reservation;
  if (paid.requires_action && paid.client_secret) {
    const authenticated = await deps.stripe.confirmCardPayment(paid.client_secret);
    if (authenticated.error) throw new CardProblem(authenticated.error);
    // localstripe's fake answers a failed authentication with the payment, not an error.
    const status = authenticated.paymentIntent?.status;
    if (status && !['succeeded', 'processing', 'requires_capture'].includes(status)) {
      throw new CardProblem(null, 'authentication');
    }
  }
  for (let attempt = 0; ; attempt++) {
    try {
      return await deps.confirm();
    } catch (e) {
      const wait = PROCESSING_WAITS_MS[attempt];
      if (!(e instanceof ApiError && e.code === 'payment_processing') || wait === undefined) throw e;
      await sleep(wait);
    }
  }
}
