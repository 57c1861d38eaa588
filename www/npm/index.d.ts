// Types of kassa-checkout (docs/bridge.md, protocol version 1).

/** The bridge protocol version this package speaks. */
export declare const VERSION: 1;

/** A Juspay/Kassa order status, as Kassa reports it. */
export type OrderStatus =
  | 'NEW' | 'PENDING_VBV' | 'CHARGED' | 'AUTHENTICATION_FAILED' | 'AUTHORIZATION_FAILED' | 'JUSPAY_DECLINED'
  | 'AUTHORIZING' | 'STARTED' | 'AUTO_REFUNDED' | 'CAPTURE_INITIATED' | 'CAPTURE_FAILED' | 'VOID_INITIATED'
  | 'VOIDED' | 'VOID_FAILED' | 'AUTHORIZED' | 'PARTIAL_CHARGED';

/** `process_result` statuses. */
export type ProcessStatus =
  | 'charged' | 'authorized' | 'pending_vbv' | 'authorization_failed' | 'authentication_failed'
  | 'backpressed' | 'user_aborted' | 'api_failure';

export interface PaymentLinks {
  web: string;
  mobile: string;
  iframe: string;
  expiry: string;
}

export interface InitiatePayload {
  requestId: string;
  service: 'in.juspay.hyperpay' | string;
  payload: { action: 'initiate'; merchantId: string; clientId?: string; environment?: 'sandbox' | 'production' | string };
}

/** The `sdk_payload` of `POST /session` (plus where to show the page), or a payload signed by your backend. */
export interface ProcessPayload {
  requestId: string;
  service: 'in.juspay.hyperpay' | string;
  payload: {
    action: 'paymentPage';
    merchantId: string;
    clientId?: string;
    orderId?: string;
    amount?: string;
    currency?: string;
    customerId?: string;
    clientAuthToken?: string;
    clientAuthTokenExpiry?: string;
    paymentLinks?: PaymentLinks;
    /** Seed 001: the JSON your backend signed, its RSA signature and the key id registered with `kassa merchant add-key`. */
    orderDetails?: string;
    signature?: string;
    merchantKeyId?: string;
    /** Where the iframe goes: a CSS selector or an element. Without it the whole page redirects. */
    container?: string | Element;
    /** `|`-joined subset of card, nb, wallet, upi. */
    paymentOptions?: string;
    /** The iframe's accessible title (default "Payment"). */
    frameTitle?: string;
    language?: 'english' | 'hindi' | 'telugu' | 'tamil' | 'bengali' | 'malayalam' | 'gujarati' | 'kannada' | 'marathi';
  };
}

export type KassaEvent =
  | { event: 'initiate_result'; requestId: string | undefined; payload: { status: 'success' } | { status: 'error'; error: string } }
  | { event: 'show_loader'; requestId: string | undefined; payload: Record<string, never> }
  | { event: 'hide_loader'; requestId: string | undefined; payload: Record<string, never> }
  | {
      event: 'process_result';
      requestId: string | undefined;
      /** A hint: confirm with GET /orders/:order_id, the signed return URL or the webhook. */
      payload: { status: ProcessStatus; orderId?: string; orderStatus?: OrderStatus; error?: string };
    };

/** What a merchant's backend answers the checkout component's POST. */
export interface SessionAnswer {
  sdk_payload: ProcessPayload;
}

/** The checkout component: a pay button in your page, bound to your backend's session route. */
export interface CheckoutOptions {
  /** The pay button: a CSS selector or an element. It is disabled (`aria-busy`) while the attempt runs. */
  button: string | HTMLButtonElement;
  /** Your backend's route (same origin) that creates the order with your API key and answers a {@link SessionAnswer}. */
  sessionUrl: string;
  /** Where the payment page's iframe goes; without it the whole page redirects to the payment link. */
  container?: string | Element;
  /** JSON body of the POST to `sessionUrl` (cart id, quantity…). */
  body?: Record<string, string | number | boolean | null>;
  /** Receives the Process SDK payload instead of it being processed at once; call `process(payload)` yourself. */
  onPayload?: (payload: ProcessPayload) => void;
}

/** A bound checkout component. */
export interface Checkout {
  /** Unbinds the button. */
  destroy(): void;
}

export interface Kassa {
  readonly version: 1;
  initiate(payload: InitiatePayload, callback: (event: KassaEvent) => void): void;
  process(payload: ProcessPayload): Promise<void>;
  terminate(): void;
  isInitialised(): boolean;
  /** Binds the checkout component; failures arrive as `process_result` `api_failure` with `error`. */
  checkout(options: CheckoutOptions): Checkout;
}

/** The host API; `kassaUrl` is needed only for signed orderDetails payloads. */
export declare function createKassa(kassaUrl?: string): Kassa;

// The payment page itself (WebAssembly).

export type Variant = 'web' | 'mobile' | 'iframe';
export type PaymentMethodToken = 'card' | 'nb' | 'wallet' | 'upi';

export interface PageOrder {
  id: string;
  order_id: string;
  merchant_name: string;
  amount_minor: number;
  currency: string;
  status: OrderStatus;
  methods: PaymentMethodToken[];
  expires_at_ms: number;
  description?: string | null;
}

/** What `mount` needs: what the Kassa server embeds in its payment page. */
export interface PageConfig {
  client_token: string;
  api_base: string;
  variant: Variant;
  order: PageOrder;
  language?: ProcessPayload['payload']['language'] | null;
  assets_base?: string | null;
  /** Any of the page's strings by key (i18n/english.json), e.g. `{ pay: 'Buy now for {amount}' }`. */
  strings?: Record<string, string>;
}

/** A mounted payment page; `unmount()` removes it. */
export declare class Handle {
  private constructor();
  free(): void;
  unmount(): void;
}

/** Loads the WebAssembly module (call once, before `mount`). */
export default function init(module_or_path?: { module_or_path: RequestInfo | URL | Response | BufferSource | WebAssembly.Module } | RequestInfo | URL | Response | BufferSource | WebAssembly.Module): Promise<unknown>;

/** Renders the payment page into `element`. */
export declare function mount(element: HTMLElement, config: PageConfig): Handle;
