//! Kassa checkout widget: the payment page, compiled to WebAssembly (Leptos CSR).
//!
//! The host calls [`mount`] with the element to render into and the page
//! configuration the server embedded (order summary and an order-scoped
//! client token; never an API key). The returned [`Handle`] keeps the page
//! alive; `handle.unmount()` (or dropping it) removes it.

#![forbid(unsafe_code)]

pub mod api;
pub mod page;

use kassa_types::PaymentOptions;
use kassa_types::view::PageConfig;
use wasm_bindgen::prelude::*;
use web_sys::HtmlElement;

/// A mounted payment page.
#[wasm_bindgen]
pub struct Handle {
    inner: Option<Box<dyn std::any::Any>>,
}

#[wasm_bindgen]
impl Handle {
    /// Removes the page from its element and stops its timers and requests.
    pub fn unmount(&mut self) {
        self.inner = None;
    }
}

/// Mounts the payment page into `element` with the configuration object the
/// server embedded in the page (`#kassa-config`). `payment_options` are read
/// from the page URL (seed 000: `?payment_options=nb|wallet`).
#[wasm_bindgen]
pub fn mount(element: HtmlElement, config: JsValue) -> Result<Handle, JsError> {
    let config: PageConfig =
        serde_wasm_bindgen::from_value(config).map_err(|e| JsError::new(&format!("kassa: invalid configuration: {e}")))?;
    let options = PaymentOptions::parse(&url_param("payment_options").unwrap_or_default());
    for unknown in &options.unknown {
        web_sys::console::warn_1(
            &format!("kassa: ignoring unknown payment_options value {unknown:?} (known: card, nb, wallet, upi)").into(),
        );
    }
    Ok(mount_page(element, config, options))
}

/// Mounts the page with already-parsed options (used by [`mount`] and the tests).
pub fn mount_page(element: HtmlElement, config: PageConfig, options: PaymentOptions) -> Handle {
    element.set_inner_html("");
    let handle = leptos::mount::mount_to(element, move || {
        use leptos::prelude::*;
        view! { <page::PaymentPage config=config options=options /> }.into_any()
    });
    Handle { inner: Some(Box::new(handle)) }
}

/// A query parameter of the current page URL.
fn url_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search).ok()?.get(name)
}
