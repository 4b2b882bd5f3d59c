//! Pages whose features are not part of this build yet. They say so plainly rather than
//! pretending: the navigation is complete so people learn where things will be.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
fn NotYet(title: &'static str, what: &'static str) -> impl IntoView {
    view! {
        <Title text=title/>
        <h1>{title}</h1>
        <div class="card empty">
            <p>{what}</p>
            <p class="muted">"This part of the dashboard is not available in this build yet."</p>
        </div>
    }
}

#[component]
pub fn AutoReplyPage() -> impl IntoView {
    view! { <NotYet title="Auto-reply" what="Keyword rules that answer incoming messages for you."/> }
}
