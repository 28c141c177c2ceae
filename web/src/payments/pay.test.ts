import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/errors';
import type { Reservation } from '../api/types';
import { i18n, t } from '../i18n';
import { CardProblem, payForHold, type Checkout, type PayDeps } from './pay';
import { loadStripeJs, type CardElement, type Stripe } from './stripe';

const hold = { id: 7, status: 'HOLD', booking_code: null } as unknown as Reservation;
const booked = { id: 7, status: 'CONFIRMED', booking_code: 'HH-7' } as unknown as Reservation;
const card = {} as CardElement;

function checkout(fields: Partial<Checkout>): Checkout {
  return { requires_action: false, client_secret: 'pi_1_secret_x', reservation: hold, status: 'requires_payment', ...fields } as Checkout;
}

/** A world that records what was asked of Stripe.js and of the server. */
function world(answers: {
  token?: Awaited<ReturnType<Stripe['createToken']>>;
  checkout?: Checkout;
  authenticated?: Awaited<ReturnType<Stripe['confirmCardPayment']>>;
  confirms?: (Reservation | ApiError)[];
}) {
  const calls: string[] = [];
  const confirms = [...(answers.confirms ?? [booked])];
  const deps: PayDeps = {
    card,
    stripe: {
      createToken: async (element) => {
        expect(element).toBe(card);
        calls.push('createToken');
        return answers.token ?? { token: { id: 'tok_1', card: { id: 'card_1' } } };
      },
      confirmCardPayment: async (secret) => {
        calls.push(`confirmCardPayment ${secret}`);
        return answers.authenticated ?? { paymentIntent: { status: 'succeeded' } };
      },
    },
    checkout: async (method) => {
      calls.push(`checkout ${method}`);
      return answers.checkout ?? checkout({ reservation: booked, status: 'succeeded' });
    },
    confirm: async () => {
      calls.push('confirm');
      const next = confirms.shift()!;
      if (next instanceof ApiError) throw next;
      return next;
    },
    sleep: async (ms) => void calls.push(`sleep ${ms}`),
  };
  return { deps, calls };
}

describe('paying for a hold by card', () => {
  it('sends the token\'s card to the server, which pays and books it at once', async () => {
    const { deps, calls } = world({});
    expect(await payForHold(deps)).toEqual(booked);
    expect(calls).toEqual(['createToken', 'checkout card_1']);
  });

  it('authenticates the card only when the payment asks for it, then confirms', async () => {
    const { deps, calls } = world({ checkout: checkout({ requires_action: true, client_secret: 'pi_9_secret_y', status: 'requires_payment' }) });
    expect(await payForHold(deps)).toEqual(booked);
    expect(calls).toEqual(['createToken', 'checkout card_1', 'confirmCardPayment pi_9_secret_y', 'confirm']);
  });

  it('waits out a payment the provider is still processing, then gives up in words', async () => {
    const processing = () => new ApiError(409, 'payment_processing');
    const { deps, calls } = world({ checkout: checkout({}), confirms: [processing(), processing(), booked] });
    expect(await payForHold(deps)).toEqual(booked);
    expect(calls).toEqual(['createToken', 'checkout card_1', 'confirm', 'sleep 500', 'confirm', 'sleep 1000', 'confirm']);

    const stuck = world({ checkout: checkout({}), confirms: Array.from({ length: 9 }, processing) });
    await expect(payForHold(stuck.deps)).rejects.toMatchObject({ code: 'payment_processing' });
    expect(stuck.calls.filter((c) => c === 'confirm')).toHaveLength(6);
  });

  it('stops at a card Stripe.js refuses, before the server is asked', async () => {
    const { deps, calls } = world({ token: { error: { type: 'validation_error', code: 'incomplete_number', message: 'Your card number is incomplete.' } } });
    const refused = await payForHold(deps).catch((e) => e);
    expect(refused).toBeInstanceOf(CardProblem);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused.word).toBe('number');
    expect(refused.message).toBe(t('payment.card.number'));
    expect(refused.message).toMatch(/^The card number/);
    expect(calls).toEqual(['createToken']);
  });

  it('tells a failed authentication, from an error (Stripe) or from the payment (localstripe)', async () => {
    const action = checkout({ requires_action: true });
    const failed = world({ checkout: action, authenticated: { error: { type: 'invalid_request_error', code: 'payment_intent_authentication_failure' } } });
    await expect(payForHold(failed.deps)).rejects.toMatchObject({ word: 'authentication' });
    const fake = world({ checkout: action, authenticated: { paymentIntent: { status: 'requires_payment_method' } } });
    await expect(payForHold(fake.deps)).rejects.toMatchObject({ word: 'authentication' });
    expect(fake.calls).not.toContain('confirm');
  });

  it("words Stripe's card errors in the page's language, never in Stripe's English", () => {
    expect(new CardProblem({ type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds' }).word).toBe('declined');
    expect(new CardProblem({ type: 'card_error', code: 'expired_card' }).word).toBe('expired');
    expect(new CardProblem({ type: 'card_error', code: 'something_new' }).word).toBe('declined');
    expect(new CardProblem({ type: 'invalid_request_error', message: 'Bad request' }).word).toBe('unknown');
    expect(new CardProblem(null).word).toBe('unknown');
    i18n.global.locale.value = 'tr';
    try {
      const problem = new CardProblem({ type: 'validation_error', code: 'invalid_expiry_year_past', message: "Your card's expiration year is in the past." });
      expect(problem.message).toBe('Bu kartın süresi dolmuş.');
    } finally {
      i18n.global.locale.value = 'en';
    }
  });
});

describe('loading Stripe.js', () => {
  class FakeScript extends EventTarget {
    src = '';
    async = false;
    removed = false;
    remove() {
      this.removed = true;
    }
  }

  function page() {
    const added: FakeScript[] = [];
    const window: { Stripe?: unknown } = {};
    const doc = {
      createElement: () => new FakeScript(),
      head: { append: (script: FakeScript) => added.push(script) },
      defaultView: window,
    } as unknown as Document;
    return { doc, added, window };
  }

  it('adds its script once, however often it is asked for', async () => {
    const { doc, added, window } = page();
    const url = 'http://127.0.0.1:1/js.stripe.com/v3/';
    const first = loadStripeJs(url, doc);
    const second = loadStripeJs(url, doc);
    expect(added.map((s) => s.src)).toEqual([url]);
    window.Stripe = () => ({});
    added[0]!.dispatchEvent(new Event('load'));
    expect(await first).toBe(window.Stripe);
    expect(await second).toBe(window.Stripe);
    expect(await loadStripeJs(url, doc)).toBe(window.Stripe);
    expect(added).toHaveLength(1);
  });

  it('tries again after a script that did not load', async () => {
    const { doc, added } = page();
    const url = 'http://127.0.0.1:2/js.stripe.com/v3/';
    const failing = loadStripeJs(url, doc);
    added[0]!.dispatchEvent(new Event('error'));
    await expect(failing).rejects.toThrow(/cannot load/);
    expect(added[0]!.removed).toBe(true);
    void loadStripeJs(url, doc).catch(() => undefined);
    expect(added).toHaveLength(2);
  });
});
