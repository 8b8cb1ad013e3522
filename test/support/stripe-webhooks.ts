// A webhook target for the fake Stripe whose URL can be set after the fake started: the stack's
// URL is known only once the stack runs, and the stack needs the fake's URL to start.
import { WebhookTarget } from '../fakes/stripe';

export interface SettableWebhookTarget extends WebhookTarget {
  /** Points deliveries at this URL (until then they fail, as to a host that is down). */
  setUrl(url: string): void;
}

/** The fake reads `url` at each delivery, so a getter over a variable is enough. */
export function settableWebhookTarget(secret: string): SettableWebhookTarget {
  let current = 'http://127.0.0.1:9/unset';
  return {
    secret,
    get url() {
      return current;
    },
    setUrl(url: string) {
      current = url;
    },
  };
}
