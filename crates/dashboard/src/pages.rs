//! The dashboard's pages: sign-in, the orders list and an order's page.

use crate::api::{self, ApiError, enc};
use crate::strings::{S, t};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

/// Where the app is.
#[derive(Clone, Debug, PartialEq)]
enum Route {
    SignIn,
    /// The orders list with its query string (without `?`).
    Orders(String),
    /// An order's page, by the merchant's order id.
    Order(String),
    /// The charts, over this many days.
    Charts(String),
    /// The audit log.
    Audit,
    /// The merchant's settings.
    Settings,
    /// Refunds from a CSV.
    Batch,
    /// A customer's mandates and saved cards (the customer id, or "").
    Customer(String),
}

fn route_now() -> Route {
    let loc = window().location();
    let path = loc.pathname().unwrap_or_default();
    let search = loc.search().unwrap_or_default();
    if path == "/dashboard/sign-in" {
        Route::SignIn
    } else if path == "/dashboard/charts" {
        Route::Charts(param(search.trim_start_matches('?'), "days"))
    } else if path == "/dashboard/audit" {
        Route::Audit
    } else if path == "/dashboard/settings" {
        Route::Settings
    } else if path == "/dashboard/refunds" {
        Route::Batch
    } else if path == "/dashboard/customers" {
        Route::Customer(param(search.trim_start_matches('?'), "id"))
    } else if let Some(id) = path.strip_prefix("/dashboard/orders/").filter(|id| !id.is_empty()) {
        Route::Order(js_sys::decode_uri_component(id).map(String::from).unwrap_or_else(|_| id.to_string()))
    } else {
        Route::Orders(search.trim_start_matches('?').to_string())
    }
}

/// Who is signed in.
#[derive(Clone, Debug, PartialEq)]
struct Session {
    email: String,
    admin: bool,
    merchant: String,
    csrf: String,
}

impl Session {
    fn from(v: &Value) -> Session {
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        Session { email: s("email"), admin: v["role"] == "admin", merchant: s("merchant_name"), csrf: s("csrf_token") }
    }
}

/// What every page shares.
#[derive(Clone, Copy)]
struct Ctx {
    route: RwSignal<Route>,
    session: RwSignal<Option<Session>>,
    /// Why the user is on the sign-in page, if not by choice.
    notice: RwSignal<Option<&'static str>>,
}

impl Ctx {
    /// Goes to `path` (under `/dashboard`) without reloading.
    fn go(&self, path: &str) {
        let _ = window().history().and_then(|h| h.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path)));
        self.route.set(route_now());
        window().scroll_to_with_x_and_y(0.0, 0.0);
    }

    /// A call answered 401: the session is over; to the sign-in page.
    fn handle(&self, e: &ApiError) {
        if e.status == 401 && self.route.get_untracked() != Route::SignIn {
            self.session.set(None);
            self.notice.set(Some(t(S::SessionEnded)));
            self.go("/dashboard/sign-in");
        }
    }

    fn csrf(&self) -> String {
        self.session.get_untracked().map(|s| s.csrf).unwrap_or_default()
    }
}

/// The app: asks who is signed in, then shows the page of the URL.
#[component]
pub fn App() -> impl IntoView {
    let ctx = Ctx { route: RwSignal::new(route_now()), session: RwSignal::new(None), notice: RwSignal::new(None) };
    let ready = RwSignal::new(false);
    // Back and forward buttons.
    let on_pop = Closure::<dyn Fn()>::new(move || ctx.route.set(route_now()));
    window().set_onpopstate(Some(on_pop.as_ref().unchecked_ref()));
    on_pop.forget();
    spawn_local(async move {
        match api::get("me").await {
            Ok(me) => {
                ctx.session.try_set(Some(Session::from(&me)));
                if ctx.route.get_untracked() == Route::SignIn {
                    ctx.go("/dashboard/orders");
                }
            }
            Err(_) => {
                if ctx.route.get_untracked() != Route::SignIn {
                    ctx.go("/dashboard/sign-in");
                }
            }
        }
        ready.try_set(true);
    });
    move || {
        if !ready.get() {
            return view! { <main class="dash-loading"><p>{t(S::Loading)}</p></main> }.into_any();
        }
        match (ctx.route.get(), ctx.session.get()) {
            (Route::SignIn, _) | (_, None) => view! { <SignIn ctx=ctx /> }.into_any(),
            (Route::Orders(q), Some(s)) => view! { <Frame ctx=ctx session=s><OrdersPage ctx=ctx query=q /></Frame> }.into_any(),
            (Route::Order(id), Some(s)) => {
                let admin = s.admin;
                view! { <Frame ctx=ctx session=s><OrderPage ctx=ctx id=id admin=admin /></Frame> }.into_any()
            }
            (Route::Charts(days), Some(s)) => view! { <Frame ctx=ctx session=s><ChartsPage ctx=ctx days=days /></Frame> }.into_any(),
            (Route::Audit, Some(s)) => view! { <Frame ctx=ctx session=s><AuditPage ctx=ctx /></Frame> }.into_any(),
            (Route::Batch, Some(s)) => view! { <Frame ctx=ctx session=s><BatchPage ctx=ctx /></Frame> }.into_any(),
            (Route::Customer(id), Some(s)) => {
                let admin = s.admin;
                view! { <Frame ctx=ctx session=s><CustomerPage ctx=ctx id=id admin=admin /></Frame> }.into_any()
            }
            (Route::Settings, Some(s)) => {
                let admin = s.admin;
                view! { <Frame ctx=ctx session=s><SettingsPage ctx=ctx admin=admin /></Frame> }.into_any()
            }
        }
    }
}

/// The sign-in form.
#[component]
fn SignIn(ctx: Ctx) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        let body = json!({ "email": email.get_untracked(), "password": password.get_untracked() });
        spawn_local(async move {
            match api::post("sign-in", "", &body).await {
                Ok(me) => {
                    password.try_set(String::new());
                    ctx.notice.try_set(None);
                    ctx.session.try_set(Some(Session::from(&me)));
                    ctx.go("/dashboard/orders");
                }
                Err(e) => {
                    error.try_set(Some(e.message));
                }
            }
            busy.try_set(false);
        });
    };
    view! {
        <main class="dash-signin">
            <h1>{t(S::SignInTitle)}</h1>
            {move || ctx.notice.get().map(|n| view! { <p class="dash-notice" role="status">{n}</p> })}
            <form on:submit=submit>
                <label for="dash-email">{t(S::Email)}</label>
                <input id="dash-email" type="email" autocomplete="username" required
                    prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev)) />
                <label for="dash-password">{t(S::Password)}</label>
                <input id="dash-password" type="password" autocomplete="current-password" required
                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
                {move || error.get().map(|e| view! { <p class="dash-error" role="alert">{e}</p> })}
                <button type="submit" disabled=move || busy.get()>{move || t(if busy.get() { S::SigningIn } else { S::SignIn })}</button>
            </form>
        </main>
    }
}

/// The header and navigation around a signed-in page.
#[component]
fn Frame(ctx: Ctx, session: Session, children: Children) -> impl IntoView {
    let sign_out = move |_| {
        let csrf = ctx.csrf();
        spawn_local(async move {
            let _ = api::post("sign-out", &csrf, &json!({})).await;
            ctx.session.try_set(None);
            ctx.go("/dashboard/sign-in");
        });
    };
    let role = t(if session.admin { S::Admin } else { S::Viewer });
    view! {
        <header class="dash-header">
            <p class="dash-brand">{t(S::Title)}" · "{session.merchant.clone()}</p>
            <nav aria-label="Dashboard">
                <NavLink ctx=ctx href="/dashboard/orders" label=S::Orders />
                <NavLink ctx=ctx href="/dashboard/customers" label=S::Customers />
                <NavLink ctx=ctx href="/dashboard/charts" label=S::Charts />
                <NavLink ctx=ctx href="/dashboard/settings" label=S::Settings />
                {session.admin.then(|| view! { <NavLink ctx=ctx href="/dashboard/refunds" label=S::BatchRefunds /> })}
                {session.admin.then(|| view! { <NavLink ctx=ctx href="/dashboard/audit" label=S::AuditLog /> })}
            </nav>
            <p class="dash-user">{session.email.clone()}" ("{role}")"</p>
            <button type="button" class="dash-secondary" on:click=sign_out>{t(S::SignOut)}</button>
        </header>
        <main class="dash-main">{children()}</main>
    }
}

/// A link of the navigation, marked as the current page when it is.
#[component]
fn NavLink(ctx: Ctx, href: &'static str, label: S) -> impl IntoView {
    let current = move || {
        let here = match ctx.route.get() {
            Route::Orders(_) | Route::Order(_) => "/dashboard/orders",
            Route::Charts(_) => "/dashboard/charts",
            Route::Audit => "/dashboard/audit",
            Route::Settings => "/dashboard/settings",
            Route::Batch => "/dashboard/refunds",
            Route::Customer(_) => "/dashboard/customers",
            Route::SignIn => "",
        };
        (here == href).then_some("page")
    };
    view! { <a href=href aria-current=current on:click=move |ev| { ev.prevent_default(); ctx.go(href); }>{t(label)}</a> }
}

/// The value of `key` in query string `q`.
fn param(q: &str, key: &str) -> String {
    q.split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| js_sys::decode_uri_component(&v.replace('+', " ")).map(String::from).unwrap_or_default())
        .unwrap_or_default()
}

const FILTERS: [&str; 8] = ["q", "status", "method", "gateway", "from", "to", "min_amount", "max_amount"];
const STATUSES: [&str; 8] =
    ["NEW", "PENDING_VBV", "CHARGED", "AUTHORIZED", "AUTHENTICATION_FAILED", "AUTHORIZATION_FAILED", "JUSPAY_DECLINED", "AUTO_REFUNDED"];

/// Loads `path` now and whenever `key` changes, into `data`.
fn load(ctx: Ctx, data: RwSignal<Option<Result<Value, ApiError>>>, path: impl Fn() -> String + 'static) {
    let seq = StoredValue::new(0u64);
    Effect::new(move |_| {
        let path = path();
        let n = seq.get_value() + 1;
        seq.set_value(n);
        data.set(None);
        spawn_local(async move {
            let got = api::get(&path).await;
            if seq.try_get_value() == Some(n) {
                if let Err(e) = &got {
                    ctx.handle(e);
                }
                data.try_set(Some(got));
            }
        });
    });
}

/// A page's writes: one at a time (`busy`), each one's outcome shown
/// (`message`), the page's data loaded again after each success (`reload`).
#[derive(Clone, Copy)]
struct Writer {
    ctx: Ctx,
    message: RwSignal<Option<(bool, String)>>,
    busy: RwSignal<bool>,
    reload: RwSignal<u32>,
}

impl Writer {
    fn new(ctx: Ctx) -> Writer {
        Writer { ctx, message: RwSignal::new(None), busy: RwSignal::new(false), reload: RwSignal::new(0) }
    }

    /// Posts `body` to `path` with the CSRF token; on success runs `then` on the answer and says `done`.
    fn post(self, path: String, body: Value, done: S, then: impl FnOnce(&Value) + 'static) {
        // One write at a time: a double click sends it once.
        if self.busy.get_untracked() {
            return;
        }
        let csrf = self.ctx.csrf();
        self.busy.set(true);
        spawn_local(async move {
            match api::post(&path, &csrf, &body).await {
                Ok(v) => {
                    then(&v);
                    self.message.try_set(Some((true, t(done).to_string())));
                    self.reload.try_update(|n| *n += 1);
                }
                Err(e) => {
                    self.ctx.handle(&e);
                    self.message.try_set(Some((false, e.message)));
                }
            }
            self.busy.try_set(false);
        });
    }

    /// The last write's outcome: a status, or an alert.
    fn notice(self) -> impl IntoView {
        move || {
            self.message.get().map(|(ok, m)| {
                if ok {
                    view! { <p class="dash-ok" role="status">{m}</p> }.into_any()
                } else {
                    view! { <p class="dash-error" role="alert">{m}</p> }.into_any()
                }
            })
        }
    }
}

/// The orders list: the search box, the filters, a page of orders.
#[component]
fn OrdersPage(ctx: Ctx, query: String) -> impl IntoView {
    let fields: Vec<(&'static str, RwSignal<String>)> = FILTERS.iter().map(|k| (*k, RwSignal::new(param(&query, k)))).collect();
    let field = |k: &str| fields.iter().find(|(n, _)| *n == k).map(|(_, s)| *s).unwrap_or_else(|| RwSignal::new(String::new()));
    let data = RwSignal::new(None::<Result<Value, ApiError>>);
    let q = query.clone();
    load(ctx, data, move || format!("orders?{q}"));
    let fields2 = fields.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let qs: Vec<String> = fields2
            .iter()
            .map(|(k, v)| (k, v.get_untracked()))
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", enc(&v)))
            .collect();
        ctx.go(&format!("/dashboard/orders?{}", qs.join("&")));
    };
    let select = |k: &'static str, label: S, options: Vec<&'static str>| {
        let sig = field(k);
        let id = format!("dash-f-{k}");
        view! {
            <div class="dash-field">
                <label for=id.clone()>{t(label)}</label>
                <select id=id on:change=move |ev| sig.set(event_target_value(&ev))>
                    <option value="" selected=sig.get_untracked().is_empty()>{t(S::Any)}</option>
                    {options.into_iter().map(|o| view! { <option value=o selected=sig.get_untracked() == o>{o}</option> }).collect_view()}
                </select>
            </div>
        }
    };
    let input = |k: &'static str, label: S, kind: &'static str| {
        let sig = field(k);
        let id = format!("dash-f-{k}");
        view! {
            <div class="dash-field">
                <label for=id.clone()>{t(label)}</label>
                <input id=id type=kind inputmode=if kind == "text" && k != "q" { "decimal" } else { "text" }
                    prop:value=move || sig.get() on:input=move |ev| sig.set(event_target_value(&ev)) />
            </div>
        }
    };
    let q_sig = field("q");
    let base = query.clone();
    let next = move |after: String| {
        let mut parts: Vec<String> = base.split('&').filter(|p| !p.is_empty() && !p.starts_with("after=")).map(str::to_string).collect();
        parts.push(format!("after={}", enc(&after)));
        ctx.go(&format!("/dashboard/orders?{}", parts.join("&")));
    };
    let paged = !param(&query, "after").is_empty();
    let first = query.split('&').filter(|p| !p.is_empty() && !p.starts_with("after=")).collect::<Vec<_>>().join("&");
    let first_q = first.clone();
    view! {
        <h1>{t(S::Orders)}</h1>
        <form class="dash-search" role="search" on:submit=submit>
            <div class="dash-field dash-wide">
                <label for="dash-q">{t(S::SearchOrders)}</label>
                <input id="dash-q" type="search" aria-describedby="dash-q-hint"
                    prop:value=move || q_sig.get() on:input=move |ev| q_sig.set(event_target_value(&ev)) />
                <p class="dash-hint" id="dash-q-hint">{t(S::SearchHint)}</p>
            </div>
            {select("status", S::Status, STATUSES.to_vec())}
            {select("method", S::Method, vec!["CARD", "NB", "WALLET", "UPI"])}
            {select("gateway", S::Gateway, vec!["sandbox", "razorpay", "paytm"])}
            {input("from", S::From, "date")}
            {input("to", S::To, "date")}
            {input("min_amount", S::MinAmount, "text")}
            {input("max_amount", S::MaxAmount, "text")}
            <button type="submit">{t(S::Search)}</button>
        </form>
        <p><a href=format!("/dashboard/api/orders.csv?{first_q}") download="orders.csv">{t(S::ExportCsv)}</a></p>
        {move || match data.get() {
            None => view! { <p role="status">{t(S::Loading)}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="dash-error" role="alert">{e.message}</p> }.into_any(),
            Some(Ok(v)) => {
                let rows = v["orders"].as_array().cloned().unwrap_or_default();
                let after = v["next"].as_str().map(str::to_string);
                if rows.is_empty() {
                    return view! { <p role="status">{t(S::NoOrders)}</p> }.into_any();
                }
                let next = next.clone();
                let first = first.clone();
                view! {
                    <table class="dash-table">
                        <caption class="dash-sr">{t(S::Orders)}</caption>
                        <thead><tr>
                            <th scope="col">{t(S::Order)}</th><th scope="col">{t(S::Amount)}</th><th scope="col">{t(S::Status)}</th>
                            <th scope="col">{t(S::Method)}</th><th scope="col">{t(S::Customer)}</th><th scope="col">{t(S::Created)}</th>
                        </tr></thead>
                        <tbody>
                            {rows.into_iter().map(|o| {
                                let id = o["order_id"].as_str().unwrap_or_default().to_string();
                                let href = format!("/dashboard/orders/{}", enc(&id));
                                let href2 = href.clone();
                                let s = |k: &str| o[k].as_str().unwrap_or_default().to_string();
                                view! {
                                    <tr>
                                        <td><a href=href on:click=move |ev| { ev.prevent_default(); ctx.go(&href2); }>{id.clone()}</a></td>
                                        <td class="dash-num">{format!("{} {}", s("currency"), s("amount"))}</td>
                                        <td><span class="dash-status">{s("status")}</span></td>
                                        <td>{s("method")}</td>
                                        <td>{if s("customer_id").is_empty() { s("customer_email") } else { s("customer_id") }}</td>
                                        <td>{s("date_created")}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    <div class="dash-pager">
                        {paged.then(|| view! {
                            <button type="button" class="dash-secondary" on:click=move |_| ctx.go(&format!("/dashboard/orders?{first}"))>{t(S::FirstPage)}</button>
                        })}
                        {after.map(|a| view! {
                            <button type="button" class="dash-secondary" on:click=move |_| next(a.clone())>{t(S::NextPage)}</button>
                        })}
                    </div>
                }.into_any()
            }
        }}
    }
}

/// A random `unique_request_id` for one refund form: a double click or a retry sends the same one.
fn request_id() -> String {
    let mut bytes = [0u8; 12];
    let _ = window().crypto().and_then(|c| c.get_random_values_with_u8_array(&mut bytes));
    format!("dash_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// An order's page: amounts, customer, attempts, refunds, webhook deliveries, links; refund, redeliver and sync for admins.
#[component]
fn OrderPage(ctx: Ctx, id: String, admin: bool) -> impl IntoView {
    let data = RwSignal::new(None::<Result<Value, ApiError>>);
    let w = Writer::new(ctx);
    let (reload, busy) = (w.reload, w.busy);
    let path = format!("orders/{}", enc(&id));
    let p = path.clone();
    load(ctx, data, move || {
        reload.track();
        p.clone()
    });
    let refund_amount = RwSignal::new(String::new());
    let refund_id = RwSignal::new(request_id());
    let act = move |path: String, body: Value, done: S| {
        w.post(path, body, done, move |_| {
            // A new refund or capture gets a new idempotency key; a repeat of this one does not.
            if matches!(done, S::RefundDone | S::Captured) {
                refund_id.try_set(request_id());
                refund_amount.try_set(String::new());
            }
        });
    };
    let base = path.clone();
    view! {
        <p><a href="/dashboard/orders" on:click=move |ev| { ev.prevent_default(); ctx.go("/dashboard/orders"); }>{t(S::BackToOrders)}</a></p>
        <h1>{t(S::Order)}" "{id.clone()}</h1>
        {w.notice()}
        {move || match data.get() {
            None => view! { <p role="status">{t(S::Loading)}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="dash-error" role="alert">{e.message}</p> }.into_any(),
            Some(Ok(v)) => {
                let o = v["order"].clone();
                let s = |v: &Value, k: &str| match &v[k] { Value::String(s) => s.clone(), Value::Null => String::new(), x => x.to_string() };
                let refundable = s(&v, "refundable");
                if refund_amount.get_untracked().is_empty() && refundable != "0.00" {
                    refund_amount.set(refundable.clone());
                }
                let can_refund = admin && refundable != "0.00" && !refundable.is_empty();
                let can_sync = admin && v["can_sync"].as_bool().unwrap_or(false);
                let currency = s(&o, "currency");
                let attempts = v["attempts"].as_array().cloned().unwrap_or_default();
                let refunds = o["refunds"].as_array().cloned().unwrap_or_default();
                let webhooks = v["webhooks"].as_array().cloned().unwrap_or_default();
                let links = ["web", "mobile", "iframe"].map(|k| (k, s(&o["payment_links"], k)));
                let base = base.clone();
                let base2 = base.clone();
                view! {
                    <section aria-labelledby="dash-summary">
                        <h2 id="dash-summary" class="dash-sr">{t(S::Order)}</h2>
                        <dl class="dash-facts">
                            <dt>{t(S::Status)}</dt><dd><span class="dash-status">{s(&o, "status")}</span></dd>
                            <dt>{t(S::Amount)}</dt><dd>{format!("{currency} {}", s(&v, "amount"))}</dd>
                            <dt>{t(S::Refunded)}</dt><dd>{format!("{currency} {}", s(&v, "amount_refunded"))}</dd>
                            <dt>{t(S::Refundable)}</dt><dd>{format!("{currency} {refundable}")}</dd>
                            <dt>{t(S::Customer)}</dt><dd>{[s(&o, "customer_id"), s(&o, "customer_email"), s(&o, "customer_phone")].into_iter().filter(|x| !x.is_empty()).collect::<Vec<_>>().join(" · ")}</dd>
                            <dt>{t(S::Created)}</dt><dd>{s(&o, "date_created")}</dd>
                            {o["mandate"].is_object().then(|| view! { <dt>{t(S::Mandate)}</dt><dd>{format!("{} ({})", s(&o["mandate"], "mandate_id"), s(&o["mandate"], "mandate_status"))}</dd> })}
                        </dl>
                    </section>
                    {can_refund.then(|| {
                        let base = base.clone();
                        view! {
                            <section aria-labelledby="dash-refund" class="dash-panel">
                                <h2 id="dash-refund">{t(S::RefundTitle)}</h2>
                                <form on:submit=move |ev: leptos::ev::SubmitEvent| {
                                    ev.prevent_default();
                                    act(format!("{base}/refunds"), json!({ "amount": refund_amount.get_untracked(), "unique_request_id": refund_id.get_untracked() }), S::RefundDone);
                                }>
                                    <label for="dash-refund-amount">{t(S::RefundAmount)}</label>
                                    <input id="dash-refund-amount" type="text" inputmode="decimal" required
                                        prop:value=move || refund_amount.get() on:input=move |ev| refund_amount.set(event_target_value(&ev)) />
                                    <button type="submit" disabled=move || busy.get()>{move || t(if busy.get() { S::Refunding } else { S::Refund })}</button>
                                </form>
                            </section>
                        }
                    })}
                    {(admin && s(&o, "status") == "AUTHORIZED").then(|| {
                        let txn = s(&o, "txn_uuid");
                        let txn2 = txn.clone();
                        let hold = s(&v, "amount");
                        let capture_amount = RwSignal::new(hold.clone());
                        view! {
                            <section aria-labelledby="dash-hold" class="dash-panel">
                                <h2 id="dash-hold">{t(S::Hold)}": "{format!("{currency} {hold}")}</h2>
                                <form on:submit=move |ev: leptos::ev::SubmitEvent| {
                                    ev.prevent_default();
                                    act(format!("txns/{}/capture", enc(&txn)), json!({ "amount": capture_amount.get_untracked(), "idempotence_key": refund_id.get_untracked() }), S::Captured);
                                }>
                                    <label for="dash-capture-amount">{t(S::CaptureAmount)}</label>
                                    <input id="dash-capture-amount" type="text" inputmode="decimal" required
                                        prop:value=move || capture_amount.get() on:input=move |ev| capture_amount.set(event_target_value(&ev)) />
                                    <button type="submit" disabled=move || busy.get()>{t(S::Capture)}</button>
                                    <button type="button" class="dash-secondary" disabled=move || busy.get()
                                        on:click=move |_| act(format!("txns/{}/void", enc(&txn2)), json!({}), S::Voided)>{t(S::Void)}</button>
                                </form>
                            </section>
                        }
                    })}
                    {can_sync.then(|| view! {
                        <p><button type="button" class="dash-secondary" disabled=move || busy.get()
                            on:click=move |_| act(format!("{base2}/sync"), json!({}), S::Synced)>{t(S::Sync)}</button></p>
                    })}
                    <section aria-labelledby="dash-attempts">
                        <h2 id="dash-attempts">{t(S::Attempts)}</h2>
                        <table class="dash-table">
                            <thead><tr><th scope="col">{t(S::Txn)}</th><th scope="col">{t(S::Method)}</th><th scope="col">{t(S::Card)}</th>
                                <th scope="col">{t(S::Amount)}</th><th scope="col">{t(S::Status)}</th><th scope="col">{t(S::Reason)}</th><th scope="col">{t(S::Created)}</th></tr></thead>
                            <tbody>{attempts.into_iter().map(|a| view! {
                                <tr><td>{s(&a, "txn_id")}</td><td>{format!("{} {}", s(&a, "method"), s(&a, "method_detail"))}</td>
                                    <td>{let l = s(&a, "card_last4"); if l.is_empty() { String::new() } else { format!("•••• {l}") }}</td>
                                    <td class="dash-num">{s(&a, "amount")}</td><td>{s(&a, "status")}</td>
                                    <td class="dash-code">{s(&a, "gateway_response")}</td><td>{s(&a, "date_created")}</td></tr>
                            }).collect_view()}</tbody>
                        </table>
                    </section>
                    <section aria-labelledby="dash-refunds">
                        <h2 id="dash-refunds">{t(S::Refunds)}</h2>
                        {if refunds.is_empty() { view! { <p>{t(S::None)}</p> }.into_any() } else { view! {
                            <table class="dash-table">
                                <thead><tr><th scope="col">"Id"</th><th scope="col">{t(S::Amount)}</th><th scope="col">{t(S::Status)}</th><th scope="col">{t(S::Created)}</th></tr></thead>
                                <tbody>{refunds.into_iter().map(|r| view! {
                                    <tr><td>{s(&r, "unique_request_id")}</td><td class="dash-num">{s(&r, "amount")}</td><td>{s(&r, "status")}</td><td>{s(&r, "created")}</td></tr>
                                }).collect_view()}</tbody>
                            </table>
                        }.into_any() }}
                    </section>
                    <section aria-labelledby="dash-webhooks">
                        <h2 id="dash-webhooks">{t(S::Webhooks)}</h2>
                        {if webhooks.is_empty() { view! { <p>{t(S::None)}</p> }.into_any() } else { view! {
                            <table class="dash-table">
                                <thead><tr><th scope="col">{t(S::Event)}</th><th scope="col">{t(S::Delivery)}</th><th scope="col">{t(S::Tries)}</th>
                                    <th scope="col">{t(S::History)}</th><th scope="col">{t(S::Created)}</th>{admin.then(|| view! { <th scope="col"><span class="dash-sr">{t(S::Redeliver)}</span></th> })}</tr></thead>
                                <tbody>{webhooks.into_iter().map(|w| {
                                    let event_id = s(&w, "id");
                                    let name = s(&w, "event_name");
                                    let label = format!("{} {name}", t(S::Redeliver));
                                    view! {
                                        <tr><td>{name.clone()}</td><td>{s(&w, "status")}</td><td class="dash-num">{s(&w, "attempts")}</td>
                                            <td class="dash-code"><ol class="dash-history">{w["history"].as_array().cloned().unwrap_or_default().iter().map(|h| view! {
                                                <li>{s(h, "at")}": "{s(h, "outcome")}</li>
                                            }).collect_view()}</ol></td><td>{s(&w, "date_created")}</td>
                                            {admin.then(|| view! { <td><button type="button" class="dash-secondary" aria-label=label disabled=move || busy.get()
                                                on:click=move |_| act(format!("webhooks/{}/redeliver", enc(&event_id)), json!({}), S::Redelivered)>{t(S::Redeliver)}</button></td> })}
                                        </tr>
                                    }
                                }).collect_view()}</tbody>
                            </table>
                        }.into_any() }}
                    </section>
                    <section aria-labelledby="dash-links">
                        <h2 id="dash-links">{t(S::PaymentLinks)}</h2>
                        <ul>{links.into_iter().filter(|(_, l)| !l.is_empty()).map(|(k, l)| view! { <li>{k}": "<code>{l}</code></li> }).collect_view()}</ul>
                    </section>
                }.into_any()
            }
        }}
    }
}

/// Bars of `values` (at most `max`) as an SVG, described by `label`; the table after it is its text alternative.
fn bars(id: &'static str, label: String, values: Vec<i64>, max: i64) -> impl IntoView {
    const W: i64 = 720;
    const H: i64 = 160;
    let n = i64::try_from(values.len()).unwrap_or(1).max(1);
    let step = W / n;
    let width = (step * 4 / 5).max(1);
    let max = max.max(1);
    view! {
        <svg class="dash-chart" viewBox=format!("0 0 {W} {H}") role="img" aria-labelledby=id>
            <title id=id>{label}</title>
            <line x1="0" y1=H - 1 x2=W y2=H - 1 class="dash-axis" />
            {values.into_iter().enumerate().map(|(i, v)| {
                let h = (v.max(0).saturating_mul(H - 10) / max).max(if v > 0 { 1 } else { 0 });
                let x = i64::try_from(i).unwrap_or_default() * step;
                view! { <rect x=x y=H - 1 - h width=width height=h class="dash-bar" /> }
            }).collect_view()}
        </svg>
    }
}

/// Charts: volume and success rate per day and per method over the last 7, 30 or 90 days.
#[component]
fn ChartsPage(ctx: Ctx, days: String) -> impl IntoView {
    let days = if ["7", "30", "90"].contains(&days.as_str()) { days } else { "7".to_string() };
    let data = RwSignal::new(None::<Result<Value, ApiError>>);
    let d = days.clone();
    load(ctx, data, move || format!("charts?days={d}"));
    let pct = |per_mille: i64| format!("{}.{}%", per_mille / 10, per_mille % 10);
    view! {
        <h1>{t(S::Charts)}</h1>
        <nav aria-label=t(S::Charts) class="dash-pager">
            {["7", "30", "90"].map(|n| {
                let href = format!("/dashboard/charts?days={n}");
                let href2 = href.clone();
                let current = (n == days).then_some("page");
                view! { <a href=href aria-current=current on:click=move |ev| { ev.prevent_default(); ctx.go(&href2); }>{t(S::LastDays).replace("{n}", n)}</a> }
            }).collect_view()}
        </nav>
        {move || match data.get() {
            None => view! { <p role="status">{t(S::Loading)}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="dash-error" role="alert">{e.message}</p> }.into_any(),
            Some(Ok(v)) => {
                let per_day = v["per_day"].as_array().cloned().unwrap_or_default();
                let per_method = v["per_method"].as_array().cloned().unwrap_or_default();
                let n = |x: &Value, k: &str| x[k].as_i64().unwrap_or_default();
                let s = |x: &Value, k: &str| x[k].as_str().unwrap_or_default().to_string();
                let volumes: Vec<i64> = per_day.iter().map(|d| n(d, "volume_minor")).collect();
                let max_volume = volumes.iter().copied().max().unwrap_or(0);
                let rates: Vec<i64> = per_day.iter().map(|d| n(d, "success_per_mille")).collect();
                let total: i64 = volumes.iter().sum();
                let days_n = per_day.len();
                view! {
                    <section aria-labelledby="dash-per-day">
                        <h2 id="dash-per-day">{t(S::PerDay)}</h2>
                        <h3>{t(S::Volume)}</h3>
                        {bars("dash-volume-title", format!("{} per day, last {days_n} days (the table below lists each day)", t(S::Volume)), volumes, max_volume)}
                        <h3>{t(S::SuccessRate)}</h3>
                        {bars("dash-rate-title", format!("{} per day, last {days_n} days (the table below lists each day)", t(S::SuccessRate)), rates, 1000)}
                        <table class="dash-table">
                            <caption>{format!("{} · {} {}", t(S::PerDay), t(S::TotalVolume), crate_amount(total))}</caption>
                            <thead><tr><th scope="col">{t(S::Date)}</th><th scope="col">{t(S::Orders)}</th><th scope="col">{t(S::Paid)}</th>
                                <th scope="col">{t(S::Volume)}</th><th scope="col">{t(S::SuccessRate)}</th></tr></thead>
                            <tbody>{per_day.iter().map(|d| view! {
                                <tr><td>{s(d, "date")}</td><td class="dash-num">{n(d, "orders")}</td><td class="dash-num">{n(d, "paid")}</td>
                                    <td class="dash-num">{s(d, "volume")}</td><td class="dash-num">{pct(n(d, "success_per_mille"))}</td></tr>
                            }).collect_view()}</tbody>
                        </table>
                    </section>
                    <section aria-labelledby="dash-per-method">
                        <h2 id="dash-per-method">{t(S::PerMethod)}</h2>
                        {bars("dash-method-title", format!("{} by payment method (the table below lists each method)", t(S::Volume)),
                            per_method.iter().map(|m| n(m, "volume_minor")).collect(), per_method.iter().map(|m| n(m, "volume_minor")).max().unwrap_or(0))}
                        <table class="dash-table">
                            <thead><tr><th scope="col">{t(S::Method)}</th><th scope="col">{t(S::Attempts)}</th><th scope="col">{t(S::Succeeded)}</th>
                                <th scope="col">{t(S::Volume)}</th><th scope="col">{t(S::SuccessRate)}</th></tr></thead>
                            <tbody>{per_method.iter().map(|m| view! {
                                <tr><td>{s(m, "method")}</td><td class="dash-num">{n(m, "attempts")}</td><td class="dash-num">{n(m, "succeeded")}</td>
                                    <td class="dash-num">{s(m, "volume")}</td><td class="dash-num">{pct(n(m, "success_per_mille"))}</td></tr>
                            }).collect_view()}</tbody>
                        </table>
                    </section>
                }.into_any()
            }
        }}
    }
}

/// Minor units as a major amount with two decimals.
fn crate_amount(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, (minor % 100).abs())
}

/// The audit log (admins).
#[component]
fn AuditPage(ctx: Ctx) -> impl IntoView {
    let data = RwSignal::new(None::<Result<Value, ApiError>>);
    load(ctx, data, || "audit".to_string());
    view! {
        <h1>{t(S::AuditLog)}</h1>
        {move || match data.get() {
            None => view! { <p role="status">{t(S::Loading)}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="dash-error" role="alert">{e.message}</p> }.into_any(),
            Some(Ok(v)) => {
                let s = |x: &Value, k: &str| x[k].as_str().unwrap_or_default().to_string();
                view! {
                    <table class="dash-table">
                        <thead><tr><th scope="col">{t(S::When)}</th><th scope="col">{t(S::Who)}</th><th scope="col">{t(S::What)}</th>
                            <th scope="col">{t(S::Target)}</th><th scope="col">{t(S::Detail)}</th><th scope="col">{t(S::Address)}</th></tr></thead>
                        <tbody>{v["entries"].as_array().cloned().unwrap_or_default().iter().map(|e| view! {
                            <tr><td>{s(e, "date")}</td><td>{s(e, "actor")}</td><td>{s(e, "action")}</td><td>{s(e, "target")}</td>
                                <td class="dash-code">{s(e, "detail")}</td><td>{s(e, "address")}</td></tr>
                        }).collect_view()}</tbody>
                    </table>
                }.into_any()
            }
        }}
    }
}

/// Settings: one form for the merchant's settings (admins; viewers read
/// them), the response key's rotation, the orderDetails keys and the gateway accounts.
#[component]
fn SettingsPage(ctx: Ctx, admin: bool) -> impl IntoView {
    let data = RwSignal::new(None::<Result<Value, ApiError>>);
    let w = Writer::new(ctx);
    let (reload, busy) = (w.reload, w.busy);
    load(ctx, data, move || {
        reload.track();
        "settings".to_string()
    });
    let new_key = RwSignal::new(None::<String>);
    let send = move |path: String, body: Value, done: S, after: Option<RwSignal<Option<String>>>| {
        w.post(path, body, done, move |v| {
            if let Some(slot) = after {
                slot.try_set(v["response_key"].as_str().map(str::to_string));
            }
        });
    };
    view! {
        <h1>{t(S::Settings)}</h1>
        {(!admin).then(|| view! { <p class="dash-notice">{t(S::ReadOnly)}</p> })}
        {w.notice()}
        {move || match data.get() {
            None => view! { <p role="status">{t(S::Loading)}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="dash-error" role="alert">{e.message}</p> }.into_any(),
            Some(Ok(v)) => {
                let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
                let list = |k: &str| v[k].as_array().cloned().unwrap_or_default().iter().filter_map(|x| x.as_str().map(str::to_string)).collect::<Vec<_>>();
                let expiry = RwSignal::new(v["order_expiry_minutes"].as_i64().unwrap_or(15).to_string());
                let methods = RwSignal::new(list("enabled_methods"));
                let url = RwSignal::new(text("webhook_url"));
                let user = RwSignal::new(text("webhook_username"));
                let password = RwSignal::new(String::new());
                let password_set = v["webhook_password_set"].as_bool().unwrap_or(false);
                let events = RwSignal::new(list("webhook_events"));
                let available = list("available_events");
                let origins = RwSignal::new(list("allowed_origins").join("\n"));
                let signed = RwSignal::new(v["signed_response"].as_bool().unwrap_or(true));
                let return_url = RwSignal::new(text("default_return_url"));
                let accent = RwSignal::new(v["theme"]["accent"].as_str().unwrap_or("#1d4ed8").to_string());
                let radius = RwSignal::new(v["theme"]["radius"].as_u64().unwrap_or(8).to_string());
                let appearance = RwSignal::new(v["theme"]["appearance"].as_str().unwrap_or("auto").to_string());
                // `None`: keep the saved logo; `Some("")`: remove it; `Some(data URL)`: replace it.
                let logo = RwSignal::new(None::<String>);
                // The theme is sent only once changed here: a merchant without one keeps Kassa's look.
                let theme_touched = RwSignal::new(false);
                Effect::new(move |first: Option<()>| {
                    accent.track();
                    radius.track();
                    appearance.track();
                    logo.track();
                    if first.is_some() {
                        theme_touched.set(true);
                    }
                });
                let has_logo = v["theme"]["logo"].as_bool().unwrap_or(false);
                let keys = list("rsa_keys");
                let accounts = v["gateway_accounts"].as_array().cloned().unwrap_or_default();
                let overlap = RwSignal::new("60".to_string());
                let key_id = RwSignal::new(String::new());
                let pem = RwSignal::new(String::new());
                let save = move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    let mut body = json!({
                        "order_expiry_minutes": expiry.get_untracked().trim().parse::<i64>().unwrap_or(0),
                        "enabled_methods": methods.get_untracked(),
                        "webhook_url": url.get_untracked(),
                        "webhook_username": user.get_untracked(),
                        "webhook_events": events.get_untracked(),
                        "allowed_origins": origins.get_untracked().lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>(),
                        "signed_response": signed.get_untracked(),
                        "default_return_url": return_url.get_untracked(),
                    });
                    if theme_touched.get_untracked() {
                        let radius = radius.get_untracked().trim().to_string();
                        body["theme"] = json!({
                            "accent": accent.get_untracked(),
                            // Not a number: sent as it is, and refused with the field named.
                            "radius": radius.parse::<u64>().map_or(json!(radius), |r| json!(r)),
                            "appearance": appearance.get_untracked(),
                        });
                        if let Some(l) = logo.get_untracked() {
                            body["theme"]["logo"] = json!(l);
                        }
                    }
                    if !password.get_untracked().is_empty() {
                        body["webhook_password"] = json!(password.get_untracked());
                    }
                    send("settings".into(), body, S::Saved, None);
                };
                let check = |id: String, label: String, value: String, set: RwSignal<Vec<String>>| {
                    let v2 = value.clone();
                    let for_id = id.clone();
                    view! {
                        <label class="dash-check" for=for_id>
                            <input type="checkbox" id=id prop:checked=move || set.get().contains(&value)
                                on:change=move |ev| { let on = event_target_checked(&ev); set.update(|l| { l.retain(|x| *x != v2); if on { l.push(v2.clone()); } }); } />
                            {label}
                        </label>
                    }
                };
                let text_field = |id: &'static str, label: S, sig: RwSignal<String>, kind: &'static str| view! {
                    <div class="dash-field">
                        <label for=id>{t(label)}</label>
                        <input id=id type=kind prop:value=move || sig.get() on:input=move |ev| sig.set(event_target_value(&ev)) />
                    </div>
                };
                view! {
                    <form class="dash-settings" on:submit=save>
                        <fieldset disabled=!admin>
                            <legend class="dash-sr">{t(S::Settings)}</legend>
                            {text_field("dash-s-expiry", S::OrderExpiry, expiry, "number")}
                            <fieldset>
                                <legend>{t(S::PaymentMethods)}</legend>
                                {[("card", "Card"), ("nb", "Netbanking"), ("wallet", "Wallet"), ("upi", "UPI")].map(|(v, l)| check(format!("dash-s-m-{v}"), l.to_string(), v.to_string(), methods)).collect_view()}
                            </fieldset>
                            <div class="dash-field">
                                <label class="dash-check" for="dash-s-signed">
                                    <input type="checkbox" id="dash-s-signed" aria-describedby="dash-s-signed-hint" prop:checked=move || signed.get()
                                        on:change=move |ev| signed.set(event_target_checked(&ev)) />
                                    {t(S::SignedResponse)}
                                </label>
                                <p class="dash-hint" id="dash-s-signed-hint">{t(S::SignedResponseHint)}</p>
                            </div>
                            {text_field("dash-s-return", S::DefaultReturnUrl, return_url, "url")}
                            {text_field("dash-s-hook", S::WebhookUrl, url, "url")}
                            {text_field("dash-s-hook-user", S::WebhookUser, user, "text")}
                            <div class="dash-field">
                                <label for="dash-s-hook-pass">{t(S::WebhookPassword)}</label>
                                <input id="dash-s-hook-pass" type="password" autocomplete="new-password" aria-describedby=password_set.then_some("dash-s-hook-pass-hint")
                                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
                                {password_set.then(|| view! { <p class="dash-hint" id="dash-s-hook-pass-hint">{t(S::WebhookPasswordSet)}</p> })}
                            </div>
                            <fieldset>
                                <legend>{t(S::WebhookEvents)}</legend>
                                <div class="dash-checks">{available.into_iter().map(|e| check(format!("dash-s-e-{e}"), e.clone(), e, events)).collect_view()}</div>
                            </fieldset>
                            <div class="dash-field">
                                <label for="dash-s-origins">{t(S::FrameOrigins)}</label>
                                <textarea id="dash-s-origins" rows="3" aria-describedby="dash-s-origins-hint" prop:value=move || origins.get()
                                    on:input=move |ev| origins.set(event_target_value(&ev))></textarea>
                                <p class="dash-hint" id="dash-s-origins-hint">{t(S::FrameOriginsHint)}</p>
                            </div>
                            <fieldset>
                                <legend>{t(S::Theme)}</legend>
                                {text_field("dash-s-accent", S::Accent, accent, "color")}
                                {text_field("dash-s-radius", S::Radius, radius, "number")}
                                <div class="dash-field">
                                    <label for="dash-s-appearance">{t(S::Appearance)}</label>
                                    <select id="dash-s-appearance" on:change=move |ev| appearance.set(event_target_value(&ev))>
                                        {["auto", "light", "dark"].map(|a| view! { <option value=a selected=appearance.get_untracked() == a>{a}</option> }).collect_view()}
                                    </select>
                                </div>
                                <div class="dash-field">
                                    <label for="dash-s-logo">{t(S::Logo)}</label>
                                    <input id="dash-s-logo" type="file" accept="image/png,image/jpeg,image/webp,image/svg+xml" aria-describedby="dash-s-logo-hint"
                                        on:change=move |ev| read_logo(&ev, logo) />
                                    <p class="dash-hint" id="dash-s-logo-hint">{t(S::LogoHint)}</p>
                                    {has_logo.then(|| view! {
                                        <label class="dash-check" for="dash-s-logo-remove">
                                            <input type="checkbox" id="dash-s-logo-remove" on:change=move |ev| logo.set(event_target_checked(&ev).then(String::new)) />
                                            {t(S::RemoveLogo)}
                                        </label>
                                    })}
                                </div>
                                <iframe class="dash-preview-frame" title=t(S::PreviewTitle)
                                    src=move || format!("/dashboard/preview?accent={}&radius={}&appearance={}", enc(&accent.get()), enc(radius.get().trim()), enc(&appearance.get()))></iframe>
                            </fieldset>
                            {admin.then(|| view! { <button type="submit" disabled=move || busy.get()>{t(S::Save)}</button> })}
                        </fieldset>
                    </form>
                    {admin.then(|| view! {
                        <section aria-labelledby="dash-s-key" class="dash-panel">
                            <h2 id="dash-s-key">{t(S::ResponseKey)}</h2>
                            <form on:submit=move |ev: leptos::ev::SubmitEvent| {
                                ev.prevent_default();
                                send("settings/response-key".into(), json!({ "overlap_minutes": overlap.get_untracked().trim().parse::<i64>().unwrap_or(-1) }), S::Saved, Some(new_key));
                            }>
                                <label for="dash-s-overlap">{t(S::Overlap)}</label>
                                <input id="dash-s-overlap" type="number" prop:value=move || overlap.get() on:input=move |ev| overlap.set(event_target_value(&ev)) />
                                <button type="submit" disabled=move || busy.get()>{t(S::RotateKey)}</button>
                            </form>
                            {move || new_key.get().map(|k| view! { <p role="status">{t(S::NewKeyOnce)}" "<code data-testid="new-response-key">{k}</code></p> })}
                        </section>
                    })}
                    <ApiKeys ctx=ctx admin=admin />
                    <Deliveries ctx=ctx admin=admin />
                    <section aria-labelledby="dash-s-rsa" class="dash-panel">
                        <h2 id="dash-s-rsa">{t(S::RsaKeys)}</h2>
                        <ul>{keys.into_iter().map(|k| {
                            let label = format!("{} {k}", t(S::Remove));
                            let path = format!("settings/rsa-keys/{}/delete", enc(&k));
                            view! { <li><code>{k.clone()}</code>" "{admin.then(|| view! {
                                <button type="button" class="dash-secondary" aria-label=label disabled=move || busy.get()
                                    on:click=move |_| send(path.clone(), json!({}), S::Removed, None)>{t(S::Remove)}</button>
                            })}</li> }
                        }).collect_view()}</ul>
                        {admin.then(|| view! {
                            <form class="dash-stack" on:submit=move |ev: leptos::ev::SubmitEvent| {
                                ev.prevent_default();
                                send("settings/rsa-keys".into(), json!({ "key_id": key_id.get_untracked(), "public_key": pem.get_untracked() }), S::KeyAdded, None);
                            }>
                                <label for="dash-s-key-id">{t(S::KeyId)}</label>
                                <input id="dash-s-key-id" type="text" prop:value=move || key_id.get() on:input=move |ev| key_id.set(event_target_value(&ev)) />
                                <label for="dash-s-pem">{t(S::PublicKey)}</label>
                                <textarea id="dash-s-pem" rows="4" prop:value=move || pem.get() on:input=move |ev| pem.set(event_target_value(&ev))></textarea>
                                <button type="submit" disabled=move || busy.get()>{t(S::AddKey)}</button>
                            </form>
                        })}
                    </section>
                    <section aria-labelledby="dash-s-gw" class="dash-panel">
                        <h2 id="dash-s-gw">{t(S::GatewayAccounts)}</h2>
                        {admin.then(|| view! { <LinkAccount send=send busy=busy /> })}
                        {if accounts.is_empty() { view! { <p>{t(S::None)}</p> }.into_any() } else { view! {
                            <table class="dash-table">
                                <thead><tr><th scope="col">"Id"</th><th scope="col">{t(S::Gateway)}</th><th scope="col">"Reference id"</th><th scope="col">{t(S::Priority)}</th>
                                    <th scope="col">{t(S::WebhookUrl)}</th></tr></thead>
                                <tbody>{accounts.iter().map(|a| view! {
                                    <tr><td><code>{a["id"].as_str().unwrap_or_default().to_string()}</code></td><td>{a["gateway"].as_str().unwrap_or_default().to_string()}</td>
                                        <td>{a["reference_id"].as_str().unwrap_or_default().to_string()}</td><td class="dash-num">{a["priority"].as_i64().unwrap_or_default()}</td>
                                        <td><code>{a["webhook_url"].as_str().unwrap_or_default().to_string()}</code></td></tr>
                                }).collect_view()}</tbody>
                            </table>
                        }.into_any() }}
                    </section>
                }.into_any()
            }
        }}
    }
}

/// The API keys made in the dashboard: created (shown once), listed with their last use, revoked.
#[component]
fn ApiKeys(ctx: Ctx, admin: bool) -> impl IntoView {
    let data = RwSignal::new(None::<Result<Value, ApiError>>);
    let w = Writer::new(ctx);
    let reload = w.reload;
    load(ctx, data, move || {
        reload.track();
        "api-keys".to_string()
    });
    let name = RwSignal::new(String::new());
    let made = RwSignal::new(None::<String>);
    let act = move |path: String, body: Value, done: S| {
        w.post(path, body, done, move |v| {
            made.try_set(v["api_key"].as_str().map(str::to_string));
            name.try_set(String::new());
        });
    };
    view! {
        <section aria-labelledby="dash-s-api" class="dash-panel">
            <h2 id="dash-s-api">{t(S::ApiKeys)}</h2>
            {w.notice()}
            {move || made.get().map(|k| view! { <p role="status">{t(S::NewApiKeyOnce)}" "<code data-testid="new-api-key">{k}</code></p> })}
            {move || data.get().and_then(Result::ok).map(|v| {
                let keys = v["api_keys"].as_array().cloned().unwrap_or_default();
                let s = |x: &Value, k: &str| x[k].as_str().unwrap_or_default().to_string();
                (!keys.is_empty()).then(|| view! {
                    <table class="dash-table">
                        <thead><tr><th scope="col">{t(S::KeyName)}</th><th scope="col">"Key"</th><th scope="col">{t(S::Created)}</th>
                            <th scope="col">{t(S::LastUsed)}</th><th scope="col">{t(S::Status)}</th>{admin.then(|| view! { <th scope="col"><span class="dash-sr">{t(S::Revoke)}</span></th> })}</tr></thead>
                        <tbody>{keys.iter().map(|k| {
                            let id = s(k, "id");
                            let live = k["revoked"].is_null();
                            let label = format!("{} {}", t(S::Revoke), s(k, "name"));
                            view! {
                                <tr><td>{s(k, "name")}</td><td><code>{format!("{}…", s(k, "prefix"))}</code></td><td>{s(k, "created")}</td>
                                    <td>{k["last_used"].as_str().map_or_else(|| t(S::Never).to_string(), str::to_string)}</td>
                                    <td>{t(if live { S::Active } else { S::Revoked })}</td>
                                    {admin.then(|| view! { <td>{live.then(|| view! {
                                        <button type="button" class="dash-secondary" aria-label=label
                                            on:click=move |_| act(format!("api-keys/{}/revoke", enc(&id)), json!({}), S::KeyRevoked)>{t(S::Revoke)}</button>
                                    })}</td> })}
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                })
            })}
            {admin.then(|| view! {
                <form on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); act("api-keys".into(), json!({ "name": name.get_untracked() }), S::KeyCreated); }>
                    <label for="dash-s-key-name">{t(S::KeyName)}</label>
                    <input id="dash-s-key-name" type="text" maxlength="64" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                    <button type="submit">{t(S::CreateKey)}</button>
                </form>
            })}
        </section>
    }
}

/// Refunds from a CSV, with each row's result.
#[component]
fn BatchPage(ctx: Ctx) -> impl IntoView {
    let csv = RwSignal::new(String::new());
    let result = RwSignal::new(None::<Result<Value, ApiError>>);
    let busy = RwSignal::new(false);
    // One batch while this page is open: sending it again (or without its failed rows) refunds nothing twice.
    let batch_id = request_id();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let csrf = ctx.csrf();
        let batch_id = batch_id.clone();
        busy.set(true);
        spawn_local(async move {
            let got = api::post("refunds/batch", &csrf, &json!({ "batch_id": batch_id, "csv": csv.get_untracked() })).await;
            if let Err(e) = &got {
                ctx.handle(e);
            }
            result.try_set(Some(got));
            busy.try_set(false);
        });
    };
    view! {
        <h1>{t(S::BatchRefunds)}</h1>
        <form class="dash-stack" on:submit=submit>
            <label for="dash-batch">{t(S::BatchCsv)}</label>
            <textarea id="dash-batch" rows="8" aria-describedby="dash-batch-hint" prop:value=move || csv.get() on:input=move |ev| csv.set(event_target_value(&ev))></textarea>
            <p class="dash-hint" id="dash-batch-hint">{t(S::BatchHint)}</p>
            <button type="submit" disabled=move || busy.get()>{t(S::RunBatch)}</button>
        </form>
        {move || result.get().map(|r| match r {
            Err(e) => view! { <p class="dash-error" role="alert">{e.message}</p> }.into_any(),
            Ok(v) => {
                let s = |x: &Value, k: &str| match &x[k] { Value::String(s) => s.clone(), Value::Null => String::new(), o => o.to_string() };
                view! {
                    <p role="status">{format!("{} refunded, {} failed", s(&v, "refunded"), s(&v, "failed"))}</p>
                    <table class="dash-table">
                        <thead><tr><th scope="col">{t(S::Row)}</th><th scope="col">{t(S::Order)}</th><th scope="col">{t(S::Amount)}</th><th scope="col">{t(S::Result)}</th></tr></thead>
                        <tbody>{v["results"].as_array().cloned().unwrap_or_default().iter().map(|r| view! {
                            <tr><td class="dash-num">{s(r, "row")}</td><td>{s(r, "order_id")}</td><td class="dash-num">{s(r, "amount")}</td>
                                <td>{if r["ok"] == true { format!("ok (refunded {})", s(r, "amount_refunded")) } else { s(r, "error") }}</td></tr>
                        }).collect_view()}</tbody>
                    </table>
                }.into_any()
            }
        })}
    }
}

/// Reads the logo file the user chose into `logo` as a data URL.
fn read_logo(ev: &leptos::ev::Event, logo: RwSignal<Option<String>>) {
    let Some(file) =
        ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()).and_then(|i| i.files()).and_then(|f| f.get(0))
    else {
        return;
    };
    let Ok(reader) = web_sys::FileReader::new() else { return };
    let r = reader.clone();
    let done = Closure::<dyn Fn()>::new(move || {
        if let Some(url) = r.result().ok().and_then(|v| v.as_string()) {
            logo.try_set(Some(url));
        }
    });
    reader.set_onload(Some(done.as_ref().unchecked_ref()));
    done.forget();
    let _ = reader.read_as_data_url(&file);
}

/// "Send test event" and the latest deliveries (test events too).
#[component]
fn Deliveries(ctx: Ctx, admin: bool) -> impl IntoView {
    let data = RwSignal::new(None::<Result<Value, ApiError>>);
    let w = Writer::new(ctx);
    let reload = w.reload;
    load(ctx, data, move || {
        reload.track();
        "webhooks".to_string()
    });
    let send = move |_| w.post("settings/test-event".into(), json!({}), S::TestEventQueued, |_| {});
    view! {
        <section aria-labelledby="dash-s-deliveries" class="dash-panel">
            <h2 id="dash-s-deliveries">{t(S::RecentDeliveries)}</h2>
            <p>
                {admin.then(|| view! { <button type="button" on:click=send>{t(S::SendTestEvent)}</button>" " })}
                <button type="button" class="dash-secondary" on:click=move |_| reload.update(|n| *n += 1)>{t(S::Refresh)}</button>
            </p>
            {w.notice()}
            {move || data.get().and_then(Result::ok).map(|v| {
                let s = |x: &Value, k: &str| match &x[k] { Value::String(s) => s.clone(), Value::Null => String::new(), o => o.to_string() };
                view! {
                    <table class="dash-table">
                        <thead><tr><th scope="col">{t(S::Event)}</th><th scope="col">{t(S::Order)}</th><th scope="col">{t(S::Delivery)}</th>
                            <th scope="col">{t(S::Tries)}</th><th scope="col">{t(S::LastError)}</th><th scope="col">{t(S::Created)}</th></tr></thead>
                        <tbody>{v["events"].as_array().cloned().unwrap_or_default().iter().map(|e| view! {
                            <tr><td>{s(e, "event_name")}</td><td>{s(e, "order_id")}</td><td>{s(e, "status")}</td><td class="dash-num">{s(e, "attempts")}</td>
                                <td class="dash-code">{s(e, "last_error")}</td><td>{s(e, "date_created")}</td></tr>
                        }).collect_view()}</tbody>
                    </table>
                }
            })}
        </section>
    }
}

/// The form that links a Razorpay or Paytm account (or opens one on this server's sandbox of it).
#[component]
fn LinkAccount(send: impl Fn(String, Value, S, Option<RwSignal<Option<String>>>) + Copy + 'static, busy: RwSignal<bool>) -> impl IntoView {
    let fields: Vec<(&'static str, &'static str, &'static str, RwSignal<String>)> = [
        ("reference_id", "dash-g-ref", "text"),
        ("key_id", "dash-g-key-id", "text"),
        ("key_secret", "dash-g-key-secret", "password"),
        ("webhook_secret", "dash-g-webhook-secret", "password"),
        ("mid", "dash-g-mid", "text"),
        ("merchant_key", "dash-g-merchant-key", "password"),
        ("website_name", "dash-g-website", "text"),
        ("base_url", "dash-g-base-url", "url"),
    ]
    .into_iter()
    .map(|(k, id, kind)| (k, id, kind, RwSignal::new(String::new())))
    .collect();
    let gateway = RwSignal::new("razorpay".to_string());
    let sandbox = RwSignal::new(false);
    let label = |k: &str| match k {
        "reference_id" => t(S::ReferenceId).to_string(),
        "key_id" => "Razorpay key id".into(),
        "key_secret" => "Razorpay key secret".into(),
        "webhook_secret" => "Razorpay webhook secret".into(),
        "mid" => "Paytm merchant id".into(),
        "merchant_key" => "Paytm merchant key".into(),
        "website_name" => "Paytm website name".into(),
        _ => "Paytm API host".into(),
    };
    let f2 = fields.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut body = json!({ "gateway": gateway.get_untracked(), "sandbox": sandbox.get_untracked() });
        for (k, _, _, v) in &f2 {
            body[*k] = json!(v.get_untracked());
        }
        send("gateway-accounts".into(), body, S::AccountLinked, None);
    };
    view! {
        <form class="dash-stack" on:submit=submit>
            <h3>{t(S::LinkAccount)}</h3>
            <label for="dash-g-gateway">{t(S::Gateway)}</label>
            <select id="dash-g-gateway" on:change=move |ev| gateway.set(event_target_value(&ev))>
                <option value="razorpay" selected=true>"Razorpay"</option>
                <option value="paytm">"Paytm"</option>
            </select>
            <label class="dash-check" for="dash-g-sandbox">
                <input type="checkbox" id="dash-g-sandbox" on:change=move |ev| sandbox.set(event_target_checked(&ev)) />
                {t(S::LinkSandbox)}
            </label>
            {fields.into_iter().map(|(k, id, kind, v)| view! {
                <label for=id>{label(k)}</label>
                <input id=id type=kind autocomplete="off" prop:value=move || v.get() on:input=move |ev| v.set(event_target_value(&ev)) />
            }).collect_view()}
            <button type="submit" disabled=move || busy.get()>{t(S::LinkAccount)}</button>
        </form>
    }
}

/// A customer's mandates (pause, resume, revoke for admins) and saved cards (delete).
#[component]
fn CustomerPage(ctx: Ctx, id: String, admin: bool) -> impl IntoView {
    let query = RwSignal::new(id.clone());
    let data = RwSignal::new(None::<Result<Value, ApiError>>);
    let w = Writer::new(ctx);
    let reload = w.reload;
    if !id.is_empty() {
        let path = format!("customers/{}/instruments", enc(&id));
        load(ctx, data, move || {
            reload.track();
            path.clone()
        });
    }
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        ctx.go(&format!("/dashboard/customers?id={}", enc(query.get_untracked().trim())));
    };
    view! {
        <h1>{t(S::Customers)}</h1>
        <form class="dash-search" role="search" on:submit=submit>
            <div class="dash-field dash-wide">
                <label for="dash-customer">{t(S::CustomerId)}</label>
                <input id="dash-customer" type="search" prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev)) />
            </div>
            <button type="submit">{t(S::Find)}</button>
        </form>
        {w.notice()}
        {move || data.get().map(|r| match r {
            Err(e) => view! { <p class="dash-error" role="alert">{e.message}</p> }.into_any(),
            Ok(v) => {
                let s = |x: &Value, k: &str| match &x[k] { Value::String(s) => s.clone(), Value::Null => String::new(), o => o.to_string() };
                let mandates = v["mandates"].as_array().cloned().unwrap_or_default();
                let cards = v["cards"].as_array().cloned().unwrap_or_default();
                view! {
                    <section aria-labelledby="dash-c-mandates">
                        <h2 id="dash-c-mandates">{t(S::Mandates)}</h2>
                        {if mandates.is_empty() { view! { <p>{t(S::None)}</p> }.into_any() } else { view! {
                            <table class="dash-table">
                                <thead><tr><th scope="col">"Id"</th><th scope="col">{t(S::Status)}</th><th scope="col">{t(S::UpTo)}</th>
                                    <th scope="col">{t(S::Frequency)}</th><th scope="col">{t(S::Method)}</th><th scope="col">{t(S::Order)}</th>
                                    {admin.then(|| view! { <th scope="col"><span class="dash-sr">{t(S::Actions)}</span></th> })}</tr></thead>
                                <tbody>{mandates.iter().map(|m| {
                                    let id = s(m, "mandate_id");
                                    let status = s(m, "status");
                                    let act = move |command: &'static str, done: S| {
                                        let path = format!("mandates/{}", enc(&id));
                                        move |_| w.post(path.clone(), json!({ "command": command }), done, |_| {})
                                    };
                                    let live = matches!(status.as_str(), "ACTIVE" | "PAUSED");
                                    let mandate_id = s(m, "mandate_id");
                                    let label = move |verb: S| format!("{} {mandate_id}", t(verb));
                                    view! {
                                        <tr><td><code>{s(m, "mandate_id")}</code></td><td>{status.clone()}</td><td class="dash-num">{s(m, "max_amount")}</td>
                                            <td>{s(m, "frequency")}</td><td>{s(&m["payment_info"], "payment_method_type")}</td><td>{s(m, "order_id")}</td>
                                            {admin.then(|| view! { <td class="dash-actions">
                                                {(status == "ACTIVE").then(|| view! { <button type="button" class="dash-secondary" aria-label=label(S::Pause)
                                                    disabled=move || w.busy.get() on:click=act("pause", S::Paused)>{t(S::Pause)}</button> })}
                                                {(status == "PAUSED").then(|| view! { <button type="button" class="dash-secondary" aria-label=label(S::Resume)
                                                    disabled=move || w.busy.get() on:click=act("resume", S::Resumed)>{t(S::Resume)}</button> })}
                                                {live.then(|| view! { <button type="button" class="dash-secondary" aria-label=label(S::Revoke)
                                                    disabled=move || w.busy.get() on:click=act("revoke", S::MandateRevoked)>{t(S::Revoke)}</button> })}
                                            </td> })}
                                        </tr>
                                    }
                                }).collect_view()}</tbody>
                            </table>
                        }.into_any() }}
                    </section>
                    <section aria-labelledby="dash-c-cards">
                        <h2 id="dash-c-cards">{t(S::SavedCards)}</h2>
                        {if cards.is_empty() { view! { <p>{t(S::None)}</p> }.into_any() } else { view! {
                            <table class="dash-table">
                                <thead><tr><th scope="col">{t(S::Card)}</th><th scope="col">"Brand"</th><th scope="col">{t(S::Expiry)}</th>
                                    {admin.then(|| view! { <th scope="col"><span class="dash-sr">{t(S::Delete)}</span></th> })}</tr></thead>
                                <tbody>{cards.iter().map(|c| {
                                    let token = s(c, "card_token");
                                    let label = format!("{} {}", t(S::Delete), s(c, "card_number"));
                                    let expired = c["expired"] == true;
                                    view! {
                                        <tr><td><code>{s(c, "card_number")}</code></td><td>{s(c, "card_brand")}</td>
                                            <td>{format!("{}/{}{}", s(c, "card_exp_month"), s(c, "card_exp_year"), if expired { format!(" ({})", t(S::Expired)) } else { String::new() })}</td>
                                            {admin.then(|| view! { <td><button type="button" class="dash-secondary" aria-label=label
                                                disabled=move || w.busy.get() on:click=move |_| w.post("cards/delete".into(), json!({ "card_token": token.clone() }), S::CardDeleted, |_| {})>{t(S::Delete)}</button></td> })}
                                        </tr>
                                    }
                                }).collect_view()}</tbody>
                            </table>
                        }.into_any() }}
                    </section>
                }.into_any()
            }
        })}
    }
}
