//! The dashboard's WebAssembly entry point: hydrate the server-rendered page and nothing else.
//! Everything here is wasm32-only (see frontend/Cargo.toml for why).
#![cfg(target_arch = "wasm32")]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Readable panics while developing; release bundles stay smaller without the hook.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
