//! The dashboard's WebAssembly entry point: hydrate the server-rendered page and nothing else.
//! Everything here is wasm32-only (see frontend/Cargo.toml for why).
#![cfg(target_arch = "wasm32")]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Readable panics while developing; release bundles stay smaller without the hook.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    // Not `hydrate_lazy`, which is the same without the end: each page's code is a chunk of its
    // own (app/src/shell.rs), fetched before that part of the page is hydrated, so the page is
    // interactive only once this future ends. `data-hydrated` tells browser tests (and anyone
    // curious) that it has.
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document()
            .body()
            .expect("the page has a body");
        leptos::mount::hydrate_from_async(body.clone(), app::App)
            .await
            .forget();
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
