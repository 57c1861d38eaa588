//! The payment page: order summary, method tabs filtered by
//! `payment_options`, and one form per method. A signal-based state machine
//! ([`Step`]) drives it; no router, so the host page's links are untouched.

use crate::api::{self, CallError};
use kassa_types::card;
use kassa_types::methods::{BANKS, WALLETS};
use kassa_types::view::{PageConfig, PageOrder, TxnRequest, Variant};
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
    /// On the way to the bank page.
    Redirecting,
    /// The attempt could not start; the message says why.
    Failed(String),
}

/// What every method form needs to start a payment.
#[derive(Clone)]
struct Ctx {
    api_base: String,
    token: String,
    order_id: String,
    payment_options: String,
    step: RwSignal<Step>,
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
            payment_options: (!self.payment_options.is_empty()).then(|| self.payment_options.clone()),
        }
    }

    /// Starts the attempt and sends the shopper to the bank page.
    fn pay(&self, req: TxnRequest) {
        if self.step.get_untracked() == Step::Submitting {
            return;
        }
        self.step.set(Step::Submitting);
        let ctx = self.clone();
        spawn_local(async move {
            match api::start_txn::<kassa_types::view::TxnResponse>(&ctx.api_base, &ctx.token, &req).await {
                Ok(resp) => {
                    ctx.step.set(Step::Redirecting);
                    if let Some(w) = web_sys::window() {
                        let _ = w.location().assign(&resp.payment.authentication.url);
                    }
                }
                Err(CallError::Refused(msg)) => ctx.step.set(Step::Failed(msg)),
                Err(CallError::Network) => {
                    ctx.step.set(Step::Failed("We could not reach the payment server. Check your connection and try again.".into()))
                }
            }
        });
    }
}

/// The order amount as shoppers read it (`₹1,050.00`).
pub fn format_amount(order: &PageOrder) -> String {
    match (Amount::from_minor(order.amount_minor), Currency::parse(&order.currency)) {
        (Some(a), Some(c)) => c.format(a),
        (Some(a), None) => format!("{} {}", order.currency, a),
        _ => String::new(),
    }
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// The payment page.
#[component]
pub fn PaymentPage(
    /// What the server embedded: order summary and client token.
    config: PageConfig,
    /// The `payment_options` of the page URL.
    options: PaymentOptions,
) -> impl IntoView {
    let order = config.order.clone();
    // The UPI collect form is not built yet (the server side is): offer only
    // methods this page can complete.
    let methods: Vec<PaymentMethod> = options.filter(&order.methods).into_iter().filter(|m| *m != PaymentMethod::Upi).collect();
    let amount = format_amount(&order);
    let variant_class = match config.variant {
        Variant::Web => "kassa kassa-web",
        Variant::Mobile => "kassa kassa-mobile",
        Variant::Iframe => "kassa kassa-iframe",
    };
    let ctx = Ctx {
        api_base: config.api_base.clone(),
        token: config.client_token.clone(),
        order_id: order.id.clone(),
        payment_options: options.methods.iter().map(|m| m.token()).collect::<Vec<_>>().join("|"),
        step: RwSignal::new(Step::Choose),
    };
    let blocked = if order.status == OrderStatus::CHARGED {
        Some("This order has already been paid.")
    } else if order.expires_at_ms <= now_ms() {
        Some("This payment link has expired. Return to the shop to start again.")
    } else if !order.status.accepts_new_attempt() {
        Some("A payment for this order is already in progress.")
    } else if methods.is_empty() {
        Some("No payment method is available for this order. Please contact the shop.")
    } else {
        None
    };
    let active = RwSignal::new(methods.first().copied().unwrap_or(PaymentMethod::Card));
    let step = ctx.step;

    let body = match blocked {
        Some(msg) => view! { <p class="kassa-notice" role="status">{msg}</p> }.into_any(),
        None => {
            let tabs = methods
                .iter()
                .map(|&m| {
                    let selected = move || active.get() == m;
                    view! {
                        <button type="button" role="tab" id=format!("kassa-tab-{}", m.token())
                            aria-controls="kassa-panel" class="kassa-tab"
                            aria-selected=move || selected().to_string()
                            tabindex=move || if selected() { "0" } else { "-1" }
                            on:click=move |_| active.set(m)>
                            {method_label(m)}
                        </button>
                    }
                })
                .collect_view();
            let ctx2 = ctx.clone();
            let amount2 = amount.clone();
            view! {
                <div role="tablist" aria-label="Payment method" class="kassa-tabs">{tabs}</div>
                <section id="kassa-panel" role="tabpanel" class="kassa-panel"
                    aria-labelledby=move || format!("kassa-tab-{}", active.get().token())>
                    {move || {
                        let ctx = ctx2.clone();
                        let amount = amount2.clone();
                        match active.get() {
                            PaymentMethod::Card => view! { <CardForm ctx=ctx amount=amount /> }.into_any(),
                            PaymentMethod::Nb => view! { <ChoiceForm ctx=ctx amount=amount method=PaymentMethod::Nb items=BANKS /> }.into_any(),
                            PaymentMethod::Wallet => view! { <ChoiceForm ctx=ctx amount=amount method=PaymentMethod::Wallet items=WALLETS /> }.into_any(),
                            PaymentMethod::Upi => view! { <p class="kassa-notice">"UPI is not available yet."</p> }.into_any(),
                        }
                    }}
                </section>
                <div class="kassa-status" aria-live="assertive" role="alert">
                    {move || match step.get() {
                        Step::Failed(msg) => msg,
                        Step::Redirecting => "Taking you to your bank…".to_string(),
                        Step::Choose | Step::Submitting => String::new(),
                    }}
                </div>
            }
            .into_any()
        }
    };

    view! {
        <div class=variant_class>
            <header class="kassa-summary">
                <p class="kassa-merchant">{order.merchant_name.clone()}</p>
                <p class="kassa-amount" data-testid="amount">{amount.clone()}</p>
                <p class="kassa-order">"Order " <span class="kassa-order-id">{order.order_id.clone()}</span></p>
            </header>
            {body}
            <footer class="kassa-footer">"Secured by Kassa"</footer>
        </div>
    }
}

fn method_label(m: PaymentMethod) -> &'static str {
    match m {
        PaymentMethod::Card => "Card",
        PaymentMethod::Nb => "Netbanking",
        PaymentMethod::Wallet => "Wallet",
        PaymentMethod::Upi => "UPI",
    }
}

/// Validation messages of the card form, one per field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CardErrors {
    /// Card number.
    pub number: Option<&'static str>,
    /// Expiry.
    pub expiry: Option<&'static str>,
    /// CVV.
    pub cvv: Option<&'static str>,
    /// Name on card.
    pub name: Option<&'static str>,
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
        number: (!card::number_valid(&digits)).then_some("Enter a valid card number."),
        expiry: match card::parse_expiry(expiry) {
            None => Some("Enter the expiry date as MM/YY."),
            Some((m, y)) if !card::expiry_not_past(m, y, now.0, now.1) => Some("This card has expired."),
            Some(_) => None,
        },
        cvv: (!card::cvv_valid(cvv, brand)).then_some(if brand == Some(card::CardBrand::Amex) {
            "Enter the 4-digit security code."
        } else {
            "Enter the 3-digit security code."
        }),
        name: name.trim().is_empty().then_some("Enter the name on the card."),
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
    label: &'static str,
    /// Current value.
    value: RwSignal<String>,
    /// Error shown under the field.
    error: Signal<Option<&'static str>>,
    /// Rewrites the value as it is typed.
    format: fn(&str) -> String,
    /// `inputmode`.
    inputmode: &'static str,
    /// `autocomplete`.
    autocomplete: &'static str,
    /// `maxlength`.
    maxlength: u32,
) -> impl IntoView {
    let err_id = format!("{id}-error");
    let err_id2 = err_id.clone();
    view! {
        <div class="kassa-field" class:kassa-invalid=move || error.get().is_some()>
            <label for=id>{label}</label>
            <input id=id name=id type="text" inputmode=inputmode autocomplete=autocomplete maxlength=maxlength
                spellcheck="false"
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=move || error.get().map(|_| err_id.clone())
                prop:value=move || value.get()
                on:input=move |ev| value.set(format(&event_target_value(&ev))) />
            <p class="kassa-error" id=err_id2>{move || error.get()}</p>
        </div>
    }
}

/// The card form.
#[component]
fn CardForm(ctx: Ctx, amount: String) -> impl IntoView {
    let number = RwSignal::new(String::new());
    let expiry = RwSignal::new(String::new());
    let cvv = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let errors = RwSignal::new(CardErrors::default());
    let brand = move || card::digits(&number.get()).and_then(|d| card::detect_brand(&d));
    let step = ctx.step;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
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
        ctx.pay(req);
    };
    let fmt_number: fn(&str) -> String = |s| card::format_number(&s.chars().filter(char::is_ascii_digit).take(19).collect::<String>());
    let fmt_cvv: fn(&str) -> String = |s| s.chars().filter(char::is_ascii_digit).take(4).collect();
    let fmt_name: fn(&str) -> String = |s| s.chars().take(64).collect();
    view! {
        <form class="kassa-form" novalidate on:submit=submit>
            <Field id="kassa-card-number" label="Card number" value=number
                error=Signal::derive(move || errors.get().number) format=fmt_number
                inputmode="numeric" autocomplete="cc-number" maxlength=23 />
            <p class="kassa-brand" aria-live="polite">{move || brand().map(|b| b.display_name())}</p>
            <div class="kassa-row">
                <Field id="kassa-card-expiry" label="Expiry (MM/YY)" value=expiry
                    error=Signal::derive(move || errors.get().expiry) format=format_expiry
                    inputmode="numeric" autocomplete="cc-exp" maxlength=5 />
                <Field id="kassa-card-cvv" label="CVV" value=cvv
                    error=Signal::derive(move || errors.get().cvv) format=fmt_cvv
                    inputmode="numeric" autocomplete="cc-csc" maxlength=4 />
            </div>
            <Field id="kassa-card-name" label="Name on card" value=name
                error=Signal::derive(move || errors.get().name) format=fmt_name
                inputmode="text" autocomplete="cc-name" maxlength=64 />
            <button type="submit" class="kassa-pay" disabled=move || step.get() == Step::Submitting>
                {move || if step.get() == Step::Submitting { "Processing…".to_string() } else { format!("Pay {amount}") }}
            </button>
        </form>
    }
}

/// A list of banks or wallets with a pay button.
#[component]
fn ChoiceForm(ctx: Ctx, amount: String, method: PaymentMethod, items: &'static [(&'static str, &'static str)]) -> impl IntoView {
    let chosen = RwSignal::new(None::<&'static str>);
    let error = RwSignal::new(None::<&'static str>);
    let step = ctx.step;
    let legend = if method == PaymentMethod::Nb { "Choose your bank" } else { "Choose your wallet" };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(code) = chosen.get_untracked() else {
            error.set(Some(if method == PaymentMethod::Nb { "Choose a bank." } else { "Choose a wallet." }));
            return;
        };
        error.set(None);
        let mut req = ctx.request(method);
        req.payment_method = Some(code.to_string());
        ctx.pay(req);
    };
    let options = items
        .iter()
        .map(|&(code, name)| {
            view! {
                <label class="kassa-choice">
                    <input type="radio" name="kassa-choice" value=code on:change=move |_| chosen.set(Some(code)) />
                    <span>{name}</span>
                </label>
            }
        })
        .collect_view();
    view! {
        <form class="kassa-form" novalidate on:submit=submit>
            <fieldset class="kassa-choices">
                <legend>{legend}</legend>
                {options}
            </fieldset>
            <p class="kassa-error" role="alert">{move || error.get()}</p>
            <button type="submit" class="kassa-pay" disabled=move || step.get() == Step::Submitting>
                {format!("Pay {amount}")}
            </button>
        </form>
    }
}
