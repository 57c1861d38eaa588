//! Kassa checkout widget: the payment page, compiled to WebAssembly (Leptos CSR).
//!
//! The host calls [`mount`] with the element to render into and the page
//! configuration the server embedded (order summary and an order-scoped
//! client token; never an API key). The returned [`Handle`] keeps the page
//! alive; `handle.unmount()` (or dropping it) removes it.

#![forbid(unsafe_code)]

pub mod api;
pub mod i18n;
mod js;
pub mod life;
pub mod page;

use kassa_types::PaymentOptions;
use kassa_types::view::PageConfig;
use wasm_bindgen::prelude::*;
use web_sys::HtmlElement;

/// A mounted payment page.
#[wasm_bindgen]
pub struct Handle {
    inner: Option<Box<dyn std::any::Any>>,
    life: life::Life,
}

#[wasm_bindgen]
impl Handle {
    /// Removes the page from its element and stops its timers and requests:
    /// requests in flight are aborted, polling stops, and nothing the page
    /// started navigates the host page any more.
    pub fn unmount(&mut self) {
        self.life.end();
        self.inner = None;
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.life.end();
    }
}

/// Mounts the payment page into `element` with the configuration object the
/// server embedded in the page (`#kassa-config`). `payment_options` are read
/// from the page URL (seed 000: `?payment_options=nb|wallet`), and so is
/// `language` (it wins over the configuration's). A `strings` object in the
/// configuration overrides any of the page's strings by key.
#[wasm_bindgen]
pub fn mount(element: HtmlElement, config: JsValue) -> Result<Handle, JsError> {
    let overrides = js_sys::Reflect::get(&config, &JsValue::from_str("strings")).ok().filter(JsValue::is_object);
    let config: PageConfig =
        js::page_config(&config).map_err(|field| JsError::new(&format!("kassa: invalid configuration: {field} is missing or mistyped")))?;
    let options = PaymentOptions::parse(&url_param("payment_options").unwrap_or_default());
    for unknown in &options.unknown {
        web_sys::console::warn_1(&format!("kassa: ignored payment_options value \"{unknown}\" (use card, nb, wallet, upi)").into());
    }
    let asked = url_param("language").or_else(|| config.language.clone());
    let language = match asked.as_deref() {
        None => "english",
        Some(a) => i18n::known_language(a).unwrap_or_else(|| {
            web_sys::console::warn_1(&format!("kassa: unknown language \"{a}\"; showing English").into());
            "english"
        }),
    };
    Ok(mount_with(element, config, options, language, overrides))
}

/// Mounts the page in English with already-parsed options (the tests use it).
pub fn mount_page(element: HtmlElement, config: PageConfig, options: PaymentOptions) -> Handle {
    mount_with(element, config, options, "english", None)
}

/// Mounts the page in `language` (a name of [`i18n::LANGUAGES`]), with merchant
/// string `overrides`. A language other than English shows a loading
/// skeleton until its file arrives; if it cannot be had, the page is English.
pub fn mount_with(
    element: HtmlElement,
    config: PageConfig,
    options: PaymentOptions,
    language: &'static str,
    overrides: Option<JsValue>,
) -> Handle {
    use leptos::prelude::*;
    element.set_inner_html("");
    let strings = RwSignal::new(None::<i18n::Strings>);
    if language == "english" {
        strings.set(Some(i18n::Strings::build("english", None, overrides.as_ref())));
    } else {
        let assets = config.assets_base.clone().unwrap_or_else(|| format!("{}/assets", config.api_base));
        // Not Leptos's spawner: it starts with the mount below, and this runs first.
        let life = life::Life::new();
        let alive = life.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let table = i18n::fetch_table(&assets, language).await;
            if !alive.is_alive() {
                return;
            }
            let lang = if table.is_some() { language } else { "english" };
            strings.set(Some(i18n::Strings::build(lang, table.as_ref(), overrides.as_ref())));
        });
        return mount_life(element, config, options, strings, life);
    }
    mount_strings(element, config, options, strings)
}

/// Mounts the page with its strings in a signal: a skeleton while it is `None`.
pub fn mount_strings(
    element: HtmlElement,
    config: PageConfig,
    options: PaymentOptions,
    strings: leptos::prelude::RwSignal<Option<i18n::Strings>>,
) -> Handle {
    mount_life(element, config, options, strings, life::Life::new())
}

fn mount_life(
    element: HtmlElement,
    config: PageConfig,
    options: PaymentOptions,
    strings: leptos::prelude::RwSignal<Option<i18n::Strings>>,
    life: life::Life,
) -> Handle {
    use leptos::prelude::*;
    element.set_inner_html("");
    let variant = config.variant;
    let page_life = life.clone();
    let handle = leptos::mount::mount_to(element, move || {
        let life = page_life.clone();
        view! {
            {move || match strings.get() {
                None => view! { <page::Skeleton variant=variant /> }.into_any(),
                Some(s) => view! { <page::PaymentPage config=config.clone() options=options.clone() strings=s life=life.clone() /> }.into_any(),
            }}
        }
        .into_any()
    });
    Handle { inner: Some(Box::new(handle)), life }
}

/// A query parameter of the current page URL.
fn url_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search).ok()?.get(name)
}
