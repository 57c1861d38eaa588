//! Kassa's merchant dashboard (issue 16, SPEC §9): a Leptos app (CSR) the
//! server serves at `/dashboard`, over its JSON API `/dashboard/api`.
//!
//! It routes in the browser (`/dashboard/orders`, `/dashboard/orders/:id`,
//! `/dashboard/sign-in`) with the History API; the server answers the same
//! shell for each. What a user may do is the server's decision: a viewer
//! gets no write controls here, and a 403 from the API if it tries anyway.

#![forbid(unsafe_code)]

pub mod api;
pub mod pages;
pub mod strings;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::wasm_bindgen;

/// Mounts the dashboard into `#app` when the module loads.
#[wasm_bindgen(start)]
pub fn start() {
    let Some(el) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("app")) else { return };
    el.set_inner_html("");
    let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() else { return };
    leptos::mount::mount_to(el, pages::App).forget();
}
