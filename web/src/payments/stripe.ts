// Stripe.js, loaded once from the URL the server names (`js_url` in GET
// /config) with a script tag: no npm package, and the Content-Security-Policy
// admits exactly that origin. The few calls the hold panel makes, typed here;
// they work alike with Stripe's own Stripe.js and localstripe's fake one.

export interface StripeError {
  type?: string;
  code?: string;
  decline_code?: string;
  message?: string;
}

/** A Card Element's `change` (Stripe's gives one; localstripe's calls with none). */
export interface CardChange {
  complete?: boolean;
  empty?: boolean;
  error?: StripeError;
}

export interface CardElement {
  mount(host: HTMLElement): void;
  destroy(): void;
  on(event: 'change', handler: (change?: CardChange) => void): void;
}

export interface Stripe {
  elements(): { create(type: 'card', options?: Record<string, unknown>): CardElement };
  createToken(card: CardElement): Promise<{ token?: { id?: string; card?: { id?: string } }; error?: StripeError }>;
  confirmCardPayment(clientSecret: string): Promise<{ paymentIntent?: { status?: string }; error?: StripeError }>;
}

export type StripeFactory = (publishableKey: string, options?: { locale?: string }) => Stripe;

const scripts = new Map<string, Promise<StripeFactory>>();

/** Stripe.js from `url`, its script added to the page on the first call only (again after a failure). */
export function loadStripeJs(url: string, doc: Document = document): Promise<StripeFactory> {
  let loading = scripts.get(url);
  if (!loading) {
    loading = new Promise<StripeFactory>((resolve, reject) => {
      const script = doc.createElement('script');
      script.src = url;
      script.async = true;
      script.addEventListener('load', () => {
        const factory = (doc.defaultView as unknown as { Stripe?: StripeFactory } | null)?.Stripe;
        if (typeof factory === 'function') resolve(factory);
        else reject(new Error(`${url} did not define Stripe`));
      });
      script.addEventListener('error', () => {
        script.remove();
        reject(new Error(`cannot load ${url}`));
      });
      doc.head.append(script);
    });
    loading.catch(() => scripts.delete(url));
    scripts.set(url, loading);
  }
  return loading;
}

const instances = new Map<string, Stripe>();

/** One Stripe object per script and key (Stripe asks for no more), in the page's language. */
export async function stripeFor(url: string, publishableKey: string, locale: string): Promise<Stripe> {
  const factory = await loadStripeJs(url);
  const key = `${url} ${publishableKey}`;
  let stripe = instances.get(key);
  if (!stripe) {
    stripe = factory(publishableKey, { locale });
    instances.set(key, stripe);
  }
  return stripe;
}
