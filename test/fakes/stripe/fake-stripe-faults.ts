/** A fault the fake injects, optionally only for `times` requests and for paths matching `paths`. */
export type FakeStripeFault = (
  | { readonly kind: 'latency'; readonly ms: number }
  /** 500 api_error; `shouldRetry` sets `Stripe-Should-Retry` (absent when undefined). */
  | { readonly kind: 'error500'; readonly shouldRetry?: boolean }
  /** The socket is destroyed before anything is done. */
  | { readonly kind: 'dropBeforeProcessing' }
  /** The request is processed (and saved under its key), then the socket is destroyed. */
  | { readonly kind: 'dropAfterProcessing' }
  /** Nothing listens: connections are refused until the fault is cleared. */
  | { readonly kind: 'outage' }
) & { readonly times?: number; readonly paths?: RegExp };

/** Holds the current fault and counts down its `times`. */
export class FaultSlot {
  private fault: FakeStripeFault | null = null;
  private left = Infinity;

  set(fault: FakeStripeFault | null): void {
    this.fault = fault;
    this.left = fault?.times ?? Infinity;
  }

  get current(): FakeStripeFault | null {
    return this.fault;
  }

  /** The fault that applies to this request, counting it against `times`. */
  take(path: string): FakeStripeFault | null {
    const fault = this.fault;
    if (!fault || fault.kind === 'outage') return null;
    if (fault.paths && !fault.paths.test(path)) return null;
    this.left -= 1;
    if (this.left <= 0) this.set(null);
    return fault;
  }
}
