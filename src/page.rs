//! The payment page: order summary with an expiry countdown, method tabs
//! filtered by `payment_options`, and one form per method. A signal-based
//! state machine ([`Step`]) drives it; no router, so the host page's links
//! are untouched. Every word comes from [`Strings`].

use crate::api::{self, CallError};
use crate::i18n::{Key, Strings};
use crate::life::Life;
use kassa_types::card;
use kassa_types::methods::{BANKS, POPULAR_BANKS, WALLETS, vpa_valid};
use kassa_types::view::{Collect, MandateTerms, PageConfig, PageOrder, SavedCardView, TxnRequest, Variant};
use kassa_types::{Amount, Currency, OrderStatus, PaymentMethod, PaymentOptions};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Where the shopper is in the checkout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Choosing a method and filling the form.
    Choose,
    /// `POST /txns` in flight.
    Submitting,
    /// On the way to the bank page or the return URL.
    Redirecting,
    /// The server refused the attempt; its message says why.
    Failed(String),
    /// No answer from the server: the form can be sent again. No copy of
    /// the request (a card number, a CVV) is kept for it: a retry reads the form.
    Offline,
    /// A UPI collect request is waiting for the shopper's UPI app.
    Collecting(Box<Collect>),
    /// A message about the last attempt (cancelled, timed out).
    Notice(Key),
}

/// What every method form needs to start a payment.
#[derive(Clone)]
struct Ctx {
    api_base: String,
    token: String,
    order_id: String,
    payment_options: String,
    in_frame: bool,
    /// A pre-authorization: the pay button holds the amount.
    hold: bool,
    /// The mandate paying registers, and the shopper's opt-in to an OPTIONAL one.
    mandate: Option<MandateTerms>,
    opt_in: RwSignal<bool>,
    /// For the mandate's terms: who charges, in which currency.
    merchant: String,
    currency: String,
    step: RwSignal<Step>,
    s: Strings,
    /// Ends when the page is unmounted: nothing started before may touch
    /// the page's signals or the host page after that.
    life: Life,
}

impl Ctx {
    fn request(&self, method: PaymentMethod) -> TxnRequest {
        TxnRequest {
            order_id: self.order_id.clone(),
            payment_method_type: method.txn_type().into(),
            payment_method: None,
            card_number: None,
            card_exp_month: None,
            card_exp_year: None,
            name_on_card: None,
            card_security_code: None,
            upi_vpa: None,
            card_token: None,
            save_to_locker: None,
            should_create_mandate: (self.opt_in.get_untracked() && self.mandate_for(method).is_some_and(|m| m.mode == "OPTIONAL"))
                .then(|| "true".into()),
            payment_options: (!self.payment_options.is_empty()).then(|| self.payment_options.clone()),
            in_frame: self.in_frame.then(|| "true".into()),
        }
    }

    /// The mandate paying by `method` registers (or offers to): a card's, or
    /// UPI's when UPI can register it; netbanking and wallets register none.
    fn mandate_for(&self, method: PaymentMethod) -> Option<&MandateTerms> {
        self.mandate.as_ref().filter(|t| method == PaymentMethod::Card || (method == PaymentMethod::Upi && t.upi))
    }

    /// Sets the step, unless the page is gone.
    fn set_step(&self, step: Step) {
        if self.life.is_alive() {
            self.step.try_set(step);
        }
    }

    /// The step now; `None` once the page is gone.
    fn step_now(&self) -> Option<Step> {
        if self.life.is_alive() { self.step.try_get_untracked() } else { None }
    }

    /// Sends the shopper on, unless the page is gone.
    fn navigate(&self, url: &str) {
        if self.life.is_alive() {
            navigate(url);
        }
    }

    /// Starts the attempt, then goes to the bank page or follows the collect request.
    fn pay(&self, req: TxnRequest) {
        if matches!(self.step_now(), None | Some(Step::Submitting | Step::Redirecting | Step::Collecting(_))) {
            return;
        }
        self.set_step(Step::Submitting);
        let ctx = self.clone();
        spawn_local(async move {
            let answer = api::post(
                &format!("{}/txns", ctx.api_base),
                &ctx.token,
                Some(crate::js::txn_request(&req)),
                crate::js::txn_response,
                &ctx.life,
            )
            .await;
            if !ctx.life.is_alive() {
                return;
            }
            match answer {
                Ok(resp) => match (resp.payment.authentication, resp.payment.collect) {
                    (Some(auth), _) => {
                        ctx.set_step(Step::Redirecting);
                        ctx.navigate(&auth.url);
                    }
                    (None, Some(collect)) => ctx.follow(collect),
                    (None, None) => ctx.set_step(Step::Offline),
                },
                Err(CallError::Refused(msg)) => ctx.set_step(Step::Failed(msg)),
                Err(CallError::Network) => ctx.set_step(Step::Offline),
            }
        });
    }

    /// Polls a collect request until it is final, cancelled or lapses.
    fn follow(&self, collect: Collect) {
        let ctx = self.clone();
        let deadline = js_sys::Date::parse(&collect.expires_at);
        self.set_step(Step::Collecting(Box::new(collect.clone())));
        spawn_local(async move {
            // False once the page is gone or the shopper left the collect: the loop ends.
            let still_waiting = || matches!(ctx.step_now(), Some(Step::Collecting(ref c)) if c.status_url == collect.status_url);
            loop {
                sleep(collect.poll_interval_ms.max(250)).await;
                if !still_waiting() {
                    return;
                }
                if js_sys::Date::now() >= deadline {
                    let _ = api::post(&collect.cancel_url, &ctx.token, None, crate::js::txn_status, &ctx.life).await;
                    ctx.set_step(Step::Notice(Key::UpiTimeout));
                    return;
                }
                // A failed poll is retried at the next tick; the countdown keeps running.
                if let Ok(st) = api::get(&collect.status_url, &ctx.token, crate::js::txn_status, &ctx.life).await
                    && st.is_final
                    && still_waiting()
                {
                    ctx.set_step(Step::Redirecting);
                    if let Some(next) = st.next_url {
                        ctx.navigate(&next);
                    }
                    return;
                }
            }
        });
    }

    fn cancel_collect(&self, collect: &Collect) {
        let ctx = self.clone();
        let url = collect.cancel_url.clone();
        self.set_step(Step::Notice(Key::UpiCancelled));
        spawn_local(async move {
            let _ = api::post(&url, &ctx.token, None, crate::js::txn_status, &ctx.life).await;
        });
    }
}

fn navigate(url: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(url);
    }
}

async fn sleep(ms: u32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, i32::try_from(ms).unwrap_or(i32::MAX));
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

/// The order amount as shoppers read it (`₹1,050.00`).
pub fn format_amount(order: &PageOrder) -> String {
    match (Amount::from_minor(order.amount_minor), Currency::parse(&order.currency)) {
        (Some(a), Some(c)) => c.format(a),
        (Some(a), None) => format!("{} {}", order.currency, a),
        _ => String::new(),
    }
}

/// A duration as a countdown: `4:05`, or `1:02:03` past an hour.
pub fn format_countdown(ms: f64) -> String {
    let secs = (ms.max(0.0) / 1000.0).ceil() as u64;
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m}:{s:02}") }
}

/// A signal with the current time, updated every second while the page lives.
fn use_clock() -> ReadSignal<f64> {
    let (now, set_now) = signal(js_sys::Date::now());
    if let Ok(handle) = set_interval_with_handle(move || set_now.set(js_sys::Date::now()), std::time::Duration::from_secs(1)) {
        on_cleanup(move || handle.clear());
    }
    now
}

/// The page shown while the language file loads.
#[component]
pub fn Skeleton(
    /// Layout variant.
    variant: Variant,
) -> impl IntoView {
    view! {
        <div class=format!("{} kassa-loading", variant_class(variant)) aria-busy="true">
            <div class="kassa-bone kassa-bone-s"></div>
            <div class="kassa-bone kassa-bone-l"></div>
            <div class="kassa-bone"></div>
            <div class="kassa-bone kassa-bone-xl"></div>
        </div>
    }
}

fn variant_class(v: Variant) -> &'static str {
    match v {
        Variant::Web => "kassa kassa-web",
        Variant::Mobile => "kassa kassa-mobile",
        Variant::Iframe => "kassa kassa-iframe",
    }
}

/// The payment page.
#[component]
pub fn PaymentPage(
    /// What the server embedded: order summary and client token.
    config: PageConfig,
    /// The `payment_options` of the page URL.
    options: PaymentOptions,
    /// The page's words.
    strings: Strings,
    /// The mount's lifetime: ends when the host unmounts the page.
    life: Life,
) -> impl IntoView {
    let s = strings;
    let order = config.order.clone();
    let methods = options.filter(&order.methods);
    let amount = format_amount(&order);
    let ctx = Ctx {
        api_base: config.api_base.clone(),
        token: config.client_token.clone(),
        order_id: order.id.clone(),
        payment_options: options.methods.iter().map(|m| m.token()).collect::<Vec<_>>().join("|"),
        in_frame: config.variant == Variant::Iframe,
        hold: order.preauth,
        mandate: order.mandate.clone(),
        opt_in: RwSignal::new(false),
        merchant: order.merchant_name.clone(),
        currency: order.currency.clone(),
        step: RwSignal::new(Step::Choose),
        s: s.clone(),
        life,
    };
    let now = use_clock();
    let expires_at = order.expires_at_ms as f64;
    let expired = Memo::new(move |_| now.get() >= expires_at);
    let blocked = if matches!(order.status, OrderStatus::CHARGED | OrderStatus::PARTIAL_CHARGED) {
        Some(Key::Paid)
    } else if order.status.is_hold() {
        Some(Key::Held)
    } else if order.status.took_payment() {
        Some(Key::Closed)
    } else if !order.status.accepts_new_attempt() {
        Some(Key::InProgress)
    } else if methods.is_empty() {
        Some(Key::NoMethod)
    } else {
        None
    };
    let active = RwSignal::new(methods.first().copied().unwrap_or(PaymentMethod::Card));
    let step = ctx.step;
    let busy = Memo::new(move |_| matches!(step.get(), Step::Collecting(_) | Step::Redirecting));
    let collecting = Memo::new(move |_| match step.get() {
        Step::Collecting(c) => Some(c),
        _ => None,
    });
    let tab_ids: Vec<PaymentMethod> = methods.clone();
    let (saved, can_save) = (order.saved_cards.clone(), order.can_save_card);

    let s2 = s.clone();
    let shown_amount = amount.clone();
    let body = move || {
        let s = s2.clone();
        // An attempt under way (collect, redirect) is not cut off by the link's expiry.
        let busy = busy.get();
        let blocked = if expired.get() && !busy { Some(Key::Expired) } else { blocked };
        if let Some(key) = blocked {
            return view! { <p class="kassa-notice" role="status">{s.get(key)}</p> }.into_any();
        }
        let tabs = tab_ids
            .iter()
            .map(|&m| {
                let selected = move || active.get() == m;
                view! {
                    <button type="button" role="tab" id=format!("kassa-tab-{}", m.token())
                        aria-controls="kassa-panel" class="kassa-tab"
                        aria-selected=move || selected().to_string()
                        tabindex=move || if selected() { "0" } else { "-1" }
                        on:click=move |_| active.set(m)>
                        {s.get(method_key(m))}
                    </button>
                }
            })
            .collect_view();
        let ids = tab_ids.clone();
        let keydown = move |ev: leptos::ev::KeyboardEvent| {
            let Some(i) = ids.iter().position(|m| *m == active.get_untracked()) else { return };
            let next = match ev.key().as_str() {
                "ArrowRight" | "ArrowDown" => (i + 1) % ids.len(),
                "ArrowLeft" | "ArrowUp" => (i + ids.len() - 1) % ids.len(),
                "Home" => 0,
                "End" => ids.len() - 1,
                _ => return,
            };
            ev.prevent_default();
            active.set(ids[next]);
            if let Some(el) = document().get_element_by_id(&format!("kassa-tab-{}", ids[next].token()))
                && let Ok(el) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el)
            {
                let _ = el.focus();
            }
        };
        let ctx2 = ctx.clone();
        let amount2 = amount.clone();
        let s3 = s.clone();
        let saved = saved.clone();
        view! {
            <div role="tablist" aria-label=s.get(Key::Methods) class="kassa-tabs" on:keydown=keydown>{tabs}</div>
            <section id="kassa-panel" role="tabpanel" class="kassa-panel" tabindex="0"
                aria-labelledby=move || format!("kassa-tab-{}", active.get().token())>
                {move || {
                    let ctx = ctx2.clone();
                    let amount = amount2.clone();
                    let saved = saved.clone();
                    // Only entering or leaving a collect re-renders the form: what the shopper typed survives a refusal or a retry.
                    if let Some(c) = collecting.get() {
                        return view! { <CollectWait ctx=ctx collect=*c now=now /> }.into_any();
                    }
                    match active.get() {
                        PaymentMethod::Card => view! { <CardForm ctx=ctx amount=amount saved=saved.clone() can_save=can_save /> }.into_any(),
                        PaymentMethod::Nb => view! { <ChoiceForm ctx=ctx amount=amount method=PaymentMethod::Nb items=BANKS /> }.into_any(),
                        PaymentMethod::Wallet => view! { <ChoiceForm ctx=ctx amount=amount method=PaymentMethod::Wallet items=WALLETS /> }.into_any(),
                        PaymentMethod::Upi => view! { <UpiForm ctx=ctx amount=amount /> }.into_any(),
                    }
                }}
            </section>
            <StatusLine ctx=ctx.clone() s=s3 />
        }
        .into_any()
    };

    let s4 = s.clone();
    let countdown = move || {
        let left = expires_at - now.get();
        (left > 0.0 && blocked.is_none()).then(|| s4.fill(Key::ExpiresIn, &[("time", &format_countdown(left))]))
    };
    view! {
        <div class=variant_class(config.variant) lang=s.tag()>
            <header class="kassa-summary">
                <p class="kassa-merchant">{order.merchant_name.clone()}</p>
                <p class="kassa-amount" data-testid="amount">{shown_amount}</p>
                <p class="kassa-order">{s.get(Key::Order)} " " <span class="kassa-order-id">{order.order_id.clone()}</span></p>
                <p class="kassa-expiry" data-testid="expiry">{countdown}</p>
            </header>
            {body}
            <footer class="kassa-footer">{s.get(Key::Secured)}</footer>
        </div>
    }
}

/// The live region under the form: failures, the offline retry, notices.
#[component]
fn StatusLine(ctx: Ctx, s: Strings) -> impl IntoView {
    let step = ctx.step;
    view! {
        <div class="kassa-status" role="alert" aria-live="assertive">
            {move || match step.get() {
                Step::Failed(msg) => view! { <p>{msg}</p> }.into_any(),
                Step::Notice(key) => view! { <p class="kassa-info">{s.get(key)}</p> }.into_any(),
                Step::Redirecting => view! { <p class="kassa-info">{s.get(Key::Redirecting)}</p> }.into_any(),
                Step::Offline => {
                    let ctx = ctx.clone();
                    view! {
                        <p>{s.get(Key::Offline)}</p>
                        <button type="button" class="kassa-retry" on:click=move |ev| {
                            ctx.step.set(Step::Choose);
                            // Sends the form again, as it is now (its pay button, in this page).
                            let root = event_target::<web_sys::Element>(&ev).closest(".kassa").ok().flatten();
                            if let Some(pay) = root.and_then(|r| r.query_selector(".kassa-pay").ok().flatten())
                                && let Ok(pay) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(pay)
                            {
                                pay.click();
                            }
                        }>{s.get(Key::Retry)}</button>
                    }
                    .into_any()
                }
                Step::Choose | Step::Submitting | Step::Collecting(_) => ().into_any(),
            }}
        </div>
    }
}

fn method_key(m: PaymentMethod) -> Key {
    match m {
        PaymentMethod::Card => Key::TabCard,
        PaymentMethod::Nb => Key::TabNb,
        PaymentMethod::Wallet => Key::TabWallet,
        PaymentMethod::Upi => Key::TabUpi,
    }
}

/// Validation messages of the card form, one per field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CardErrors {
    /// Card number.
    pub number: Option<Key>,
    /// Expiry.
    pub expiry: Option<Key>,
    /// CVV.
    pub cvv: Option<Key>,
    /// Name on card.
    pub name: Option<Key>,
}

impl CardErrors {
    /// No errors.
    pub fn is_empty(&self) -> bool {
        *self == CardErrors::default()
    }
}

/// Checks the card form; `now` is `(month, year)`.
pub fn validate_card(number: &str, expiry: &str, cvv: &str, name: &str, now: (u8, u16)) -> CardErrors {
    let digits = card::digits(number).unwrap_or_default();
    let brand = card::detect_brand(&digits);
    CardErrors {
        number: (!card::number_valid(&digits)).then_some(Key::ErrCardNumber),
        expiry: match card::parse_expiry(expiry) {
            None => Some(Key::ErrExpiry),
            Some((m, y)) if !card::expiry_not_past(m, y, now.0, now.1) => Some(Key::ErrCardExpired),
            Some(_) => None,
        },
        cvv: (!card::cvv_valid(cvv, brand)).then_some(if brand == Some(card::CardBrand::Amex) { Key::ErrCvv4 } else { Key::ErrCvv3 }),
        name: name.trim().is_empty().then_some(Key::ErrName),
    }
}

/// Formats expiry input as the shopper types: `122` → `12/2`.
pub fn format_expiry(input: &str) -> String {
    let d: String = input.chars().filter(char::is_ascii_digit).take(4).collect();
    if d.len() > 2 { format!("{}/{}", &d[..2], &d[2..]) } else { d }
}

fn today() -> (u8, u16) {
    let d = js_sys::Date::new_0();
    ((d.get_month() + 1) as u8, d.get_full_year() as u16)
}

/// A labelled input with its inline error.
#[component]
fn Field(
    /// Element id.
    id: &'static str,
    /// Visible label.
    label: String,
    /// Current value.
    value: RwSignal<String>,
    /// Error shown under the field.
    error: Signal<Option<String>>,
    /// Rewrites the value as it is typed.
    format: fn(&str) -> String,
    /// `inputmode`.
    inputmode: &'static str,
    /// `autocomplete`.
    autocomplete: &'static str,
    /// `maxlength`.
    maxlength: u32,
    /// Shown under the label, tied to the input.
    #[prop(optional)]
    hint: Option<String>,
) -> impl IntoView {
    let err_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let has_hint = hint.is_some();
    let described = {
        let (err_id, hint_id) = (err_id.clone(), hint_id.clone());
        move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(err_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="kassa-field" class:kassa-invalid=move || error.get().is_some()>
            <label for=id>{label}</label>
            {hint.map(|h| view! { <p class="kassa-hint" id=hint_id>{h}</p> })}
            <input id=id name=id type="text" inputmode=inputmode autocomplete=autocomplete maxlength=maxlength
                spellcheck="false" autocapitalize="off"
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=described
                prop:value=move || value.get()
                on:input=move |ev| value.set(format(&event_target_value(&ev))) />
            <p class="kassa-error" id=err_id>{move || error.get()}</p>
        </div>
    }
}

fn pay_label(ctx: &Ctx, amount: &str) -> impl Fn() -> String + use<> {
    let (step, s, amount) = (ctx.step, ctx.s.clone(), amount.to_string());
    move || if step.get() == Step::Submitting { s.get(Key::Processing) } else { s.fill(Key::Pay, &[("amount", &amount)]) }
}

/// A saved card as the shopper reads it: `Visa ending in 1111, expires 12/39`.
fn card_label(s: &Strings, c: &SavedCardView) -> String {
    let brand = c.brand.as_deref().and_then(card::CardBrand::from_code).map_or("Card", card::CardBrand::display_name);
    let expiry = format!("{:02}/{:02}", c.exp_month, c.exp_year % 100);
    s.fill(Key::CardEnding, &[("brand", brand), ("last4", &c.last4), ("expiry", &expiry)])
}

/// A date of the shopper's language (Unix seconds).
fn local_date(secs: i64, tag: &str) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(secs as f64 * 1000.0))
        .to_locale_date_string(&format!("{tag}-IN"), &wasm_bindgen::JsValue::UNDEFINED)
        .into()
}

/// A mandate's terms in the shopper's words.
pub fn terms_text(s: &Strings, t: &MandateTerms, merchant: &str, currency: &str) -> String {
    let amount = match (Amount::from_minor(t.max_amount_minor), Currency::parse(currency)) {
        (Some(a), Some(c)) => c.format(a),
        _ => String::new(),
    };
    let frequency = match t.frequency.as_str() {
        "ONETIME" => Key::FreqOnetime,
        "DAILY" => Key::FreqDaily,
        "WEEKLY" => Key::FreqWeekly,
        "FORTNIGHTLY" => Key::FreqFortnightly,
        "MONTHLY" => Key::FreqMonthly,
        "BIMONTHLY" => Key::FreqBimonthly,
        "QUARTERLY" => Key::FreqQuarterly,
        "HALFYEARLY" => Key::FreqHalfyearly,
        "YEARLY" => Key::FreqYearly,
        _ => Key::FreqAspresented,
    };
    let key = if t.amount_rule == "FIXED" { Key::MandateTermsFixed } else { Key::MandateTerms };
    let terms = s.fill(
        key,
        &[
            ("merchant", merchant),
            ("amount", &amount),
            ("frequency", &s.get(frequency)),
            ("start", &local_date(t.start_date, s.tag())),
            ("end", &local_date(t.end_date, s.tag())),
        ],
    );
    format!("{terms} {}", s.get(if t.revokable { Key::MandateRevocable } else { Key::MandateIrrevocable }))
}

/// The terms of the mandate paying registers, next to the pay button; the opt-in when it is OPTIONAL.
#[component]
fn MandateNote(ctx: Ctx, method: PaymentMethod) -> impl IntoView {
    ctx.mandate_for(method).cloned().map(|t| {
        let s = ctx.s.clone();
        let opt = ctx.opt_in;
        let optional = t.mode == "OPTIONAL";
        let text = terms_text(&s, &t, &ctx.merchant, &ctx.currency);
        view! {
            <div class="kassa-mandate">
                {optional.then(|| view! {
                    <label class="kassa-check"><input type="checkbox" id="kassa-mandate-opt-in" aria-describedby="kassa-mandate-terms"
                        prop:checked=move || opt.get() on:change=move |ev| opt.set(event_target_checked(&ev)) />
                        {s.get(Key::MandateOptIn)}</label>
                })}
                <p class="kassa-hint" id="kassa-mandate-terms" class:kassa-muted=move || optional && !opt.get()>{text}</p>
            </div>
        }
    })
}

/// The card form: the customer's saved cards first (paid with the CVV only), or a new card, which may be saved.
#[component]
fn CardForm(ctx: Ctx, amount: String, saved: Vec<SavedCardView>, can_save: bool) -> impl IntoView {
    let number = RwSignal::new(String::new());
    let expiry = RwSignal::new(String::new());
    let cvv = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let save = RwSignal::new(false);
    let errors = RwSignal::new(CardErrors::default());
    // The saved card chosen (`None`: a new card): the newest one that has not expired.
    let chosen = RwSignal::new(saved.iter().find(|c| !c.expired).map(|c| c.token.clone()));
    let brand = move || card::digits(&number.get()).and_then(|d| card::detect_brand(&d));
    let step = ctx.step;
    let s = ctx.s.clone();
    let label = pay_label(&ctx, &amount);
    // A pre-authorization says so next to the button that places the hold.
    let hold = ctx.hold.then(|| s.fill(Key::HoldNote, &[("amount", &amount)]));
    let described =
        if hold.is_some() { Some("kassa-hold-note") } else { ctx.mandate_for(PaymentMethod::Card).map(|_| "kassa-mandate-terms") };
    let brands: Vec<(String, Option<String>)> = saved.iter().map(|c| (c.token.clone(), c.brand.clone())).collect();
    let ctx2 = ctx.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(token) = chosen.get_untracked() {
            let brand = brands.iter().find(|(t, _)| *t == token).and_then(|(_, b)| b.as_deref().and_then(card::CardBrand::from_code));
            let code = cvv.get_untracked();
            let bad = !card::cvv_valid(&code, brand);
            errors.set(CardErrors {
                cvv: bad.then_some(if brand == Some(card::CardBrand::Amex) { Key::ErrCvv4 } else { Key::ErrCvv3 }),
                ..CardErrors::default()
            });
            if bad {
                return;
            }
            let mut req = ctx.request(PaymentMethod::Card);
            req.card_token = Some(token);
            req.card_security_code = Some(code);
            ctx.pay(req);
            return;
        }
        let errs = validate_card(&number.get_untracked(), &expiry.get_untracked(), &cvv.get_untracked(), &name.get_untracked(), today());
        let ok = errs.is_empty();
        errors.set(errs);
        if !ok {
            return;
        }
        let digits = card::digits(&number.get_untracked()).unwrap_or_default();
        let Some((m, y)) = card::parse_expiry(&expiry.get_untracked()) else { return };
        let mut req = ctx.request(PaymentMethod::Card);
        req.payment_method = card::detect_brand(&digits).map(|b| b.code().to_string());
        req.card_number = Some(digits);
        req.card_exp_month = Some(format!("{m:02}"));
        req.card_exp_year = Some(y.to_string());
        req.card_security_code = Some(cvv.get_untracked());
        req.name_on_card = Some(name.get_untracked().trim().to_string());
        req.save_to_locker = save.get_untracked().then(|| "true".into());
        ctx.pay(req);
    };
    let err = move |f: fn(&CardErrors) -> Option<Key>, s: Strings| Signal::derive(move || f(&errors.get()).map(|k| s.get(k)));
    let fmt_number: fn(&str) -> String = |s| card::format_number(&s.chars().filter(char::is_ascii_digit).take(19).collect::<String>());
    let fmt_cvv: fn(&str) -> String = |s| s.chars().filter(char::is_ascii_digit).take(4).collect();
    let fmt_name: fn(&str) -> String = |s| s.chars().take(64).collect();
    // One closure for every field a saved card hides (one type: its code is built once).
    let saved_on = move || chosen.get().is_some();
    let choices = (!saved.is_empty()).then(|| {
        let s = s.clone();
        let option = move |token: Option<String>, text: String, expired: bool| {
            let t = token.clone();
            view! {
                <label class="kassa-choice" class:kassa-muted=expired>
                    <input type="radio" name="kassa-saved" disabled=expired
                        prop:checked=move || chosen.get() == t
                        on:change=move |_| { chosen.set(token.clone()); errors.set(CardErrors::default()); } />
                    <span>{text}</span>
                </label>
            }
        };
        let cards = saved
            .iter()
            .map(|c| {
                let text = if c.expired { format!("{} ({})", card_label(&s, c), s.get(Key::CardExpiredTag)) } else { card_label(&s, c) };
                option(Some(c.token.clone()), text, c.expired)
            })
            .collect_view();
        view! {
            <fieldset class="kassa-choices">
                <legend>{s.get(Key::SavedCards)}</legend>
                {cards}
                {option(None, s.get(Key::NewCard), false)}
            </fieldset>
        }
    });
    view! {
        <form class="kassa-form" novalidate on:submit=submit>
            {choices}
            // A saved card asks only for its CVV: the other fields are hidden, not rebuilt.
            <div hidden=saved_on>
                <Field id="kassa-card-number" label=s.get(Key::CardNumber) value=number
                    error=err(|e| e.number, s.clone()) format=fmt_number
                    inputmode="numeric" autocomplete="cc-number" maxlength=23 />
                <p class="kassa-brand" aria-live="polite">{move || brand().map(|b| b.display_name())}</p>
            </div>
            <div class="kassa-row">
                <div hidden=saved_on>
                    <Field id="kassa-card-expiry" label=s.get(Key::CardExpiry) value=expiry
                        error=err(|e| e.expiry, s.clone()) format=format_expiry
                        inputmode="numeric" autocomplete="cc-exp" maxlength=5 />
                </div>
                <Field id="kassa-card-cvv" label=s.get(Key::CardCvv) value=cvv
                    error=err(|e| e.cvv, s.clone()) format=fmt_cvv
                    inputmode="numeric" autocomplete="cc-csc" maxlength=4 />
            </div>
            <div hidden=saved_on>
                <Field id="kassa-card-name" label=s.get(Key::CardName) value=name
                    error=err(|e| e.name, s.clone()) format=fmt_name
                    inputmode="text" autocomplete="cc-name" maxlength=64 />
                {can_save.then(|| view! {
                    <label class="kassa-check"><input type="checkbox" id="kassa-save-card"
                        prop:checked=move || save.get() on:change=move |ev| save.set(event_target_checked(&ev)) />
                        {s.get(Key::SaveCard)}</label>
                })}
            </div>
            <MandateNote ctx=ctx2 method=PaymentMethod::Card />
            {hold.map(|h| view! { <p class="kassa-hint" id="kassa-hold-note">{h}</p> })}
            <button type="submit" class="kassa-pay" aria-describedby=described
                disabled=move || step.get() == Step::Submitting>{label}</button>
        </form>
    }
}

/// Banks (with search, popular ones first) or wallets, with a pay button.
#[component]
fn ChoiceForm(ctx: Ctx, amount: String, method: PaymentMethod, items: &'static [(&'static str, &'static str)]) -> impl IntoView {
    let chosen = RwSignal::new(None::<&'static str>);
    let error = RwSignal::new(None::<Key>);
    let query = RwSignal::new(String::new());
    let step = ctx.step;
    let s = ctx.s.clone();
    let is_nb = method == PaymentMethod::Nb;
    let label = pay_label(&ctx, &amount);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(code) = chosen.get_untracked() else {
            error.set(Some(if is_nb { Key::ErrBank } else { Key::ErrWallet }));
            return;
        };
        error.set(None);
        let mut req = ctx.request(method);
        req.payment_method = Some(code.to_string());
        ctx.pay(req);
    };
    let option = move |&(code, name): &(&'static str, &'static str)| {
        view! {
            <label class="kassa-choice">
                <input type="radio" name="kassa-choice" value=code
                    prop:checked=move || chosen.get() == Some(code)
                    on:change=move |_| chosen.set(Some(code)) />
                <span>{name}</span>
            </label>
        }
    };
    let s2 = s.clone();
    let list = move || {
        let q = query.get().trim().to_ascii_lowercase();
        if !is_nb {
            return items.iter().map(option).collect_view().into_any();
        }
        if q.is_empty() {
            let (popular, rest) = items.split_at(POPULAR_BANKS.min(items.len()));
            return view! {
                <p class="kassa-group">{s2.get(Key::PopularBanks)}</p>
                {popular.iter().map(option).collect_view()}
                <p class="kassa-group">{s2.get(Key::OtherBanks)}</p>
                {rest.iter().map(option).collect_view()}
            }
            .into_any();
        }
        let hits: Vec<_> =
            items.iter().filter(|(code, name)| name.to_ascii_lowercase().contains(&q) || code.to_ascii_lowercase().contains(&q)).collect();
        if hits.is_empty() {
            return view! { <p class="kassa-empty" role="status">{s2.get(Key::NoBank)}</p> }.into_any();
        }
        hits.into_iter().map(option).collect_view().into_any()
    };
    let search = is_nb.then(|| {
        let s = s.clone();
        view! {
            <div class="kassa-field kassa-search">
                <label for="kassa-bank-search">{s.get(Key::SearchBank)}</label>
                <input id="kassa-bank-search" type="search" autocomplete="off"
                    prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev)) />
            </div>
        }
    });
    let s3 = s.clone();
    view! {
        <form class="kassa-form" novalidate on:submit=submit>
            {search}
            <fieldset class="kassa-choices">
                <legend>{s.get(if is_nb { Key::ChooseBank } else { Key::ChooseWallet })}</legend>
                {list}
            </fieldset>
            <p class="kassa-error" role="alert">{move || error.get().map(|k| s3.get(k))}</p>
            <button type="submit" class="kassa-pay" disabled=move || step.get() == Step::Submitting>{label}</button>
        </form>
    }
}

/// The UPI id form: sends a collect request to the shopper's UPI app.
#[component]
fn UpiForm(ctx: Ctx, amount: String) -> impl IntoView {
    let ctx2 = ctx.clone();
    let vpa = RwSignal::new(String::new());
    let error = RwSignal::new(None::<Key>);
    let step = ctx.step;
    let s = ctx.s.clone();
    let label = pay_label(&ctx, &amount);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let v = vpa.get_untracked().trim().to_string();
        if !vpa_valid(&v) {
            error.set(Some(Key::ErrUpi));
            return;
        }
        error.set(None);
        let mut req = ctx.request(PaymentMethod::Upi);
        req.upi_vpa = Some(v);
        ctx.pay(req);
    };
    let s2 = s.clone();
    let fmt_vpa: fn(&str) -> String = |s| s.chars().filter(|c| !c.is_whitespace()).take(100).collect();
    let described = ctx2.mandate_for(PaymentMethod::Upi).map(|_| "kassa-mandate-terms");
    view! {
        <form class="kassa-form" novalidate on:submit=submit>
            <Field id="kassa-upi-id" label=s.get(Key::UpiId) value=vpa hint=s.get(Key::UpiHint)
                error=Signal::derive(move || error.get().map(|k| s2.get(k))) format=fmt_vpa
                inputmode="email" autocomplete="off" maxlength=100 />
            <MandateNote ctx=ctx2 method=PaymentMethod::Upi />
            <button type="submit" class="kassa-pay" aria-describedby=described disabled=move || step.get() == Step::Submitting>{label}</button>
        </form>
    }
}

/// Waiting for the UPI app: a countdown and a cancel button.
#[component]
fn CollectWait(ctx: Ctx, collect: Collect, now: ReadSignal<f64>) -> impl IntoView {
    let s = ctx.s.clone();
    let deadline = js_sys::Date::parse(&collect.expires_at);
    let s2 = s.clone();
    let left = move || s2.fill(Key::UpiTimeLeft, &[("time", &format_countdown(deadline - now.get()))]);
    view! {
        <div class="kassa-collect">
            <p class="kassa-spinner" aria-hidden="true"></p>
            <p class="kassa-collect-text">{s.get(Key::UpiWaiting)}</p>
            <p class="kassa-collect-time" data-testid="collect-time">{left}</p>
            <button type="button" class="kassa-secondary" on:click=move |_| ctx.cancel_collect(&collect)>{s.get(Key::Cancel)}</button>
        </div>
    }
}
