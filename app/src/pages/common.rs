//! Small pieces every page uses.

use crate::model::ErrorBody;
use leptos::prelude::*;
use leptos_meta::Title;

/// An error in plain words, as the server phrased it (the same text an API client gets).
#[component]
pub fn ErrorBox(err: ErrorBody) -> impl IntoView {
    view! {
        <div class="error" role="alert">
            <strong>{err.error.as_str()}</strong>
            " "
            {err.message}
        </div>
    }
}

/// Shows the last result of an action: nothing, or the error.
#[component]
pub fn ActionError<I, T>(action: Action<I, Result<T, ErrorBody>>) -> impl IntoView
where
    I: Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    move || match action.value().get() {
        Some(Err(err)) => Some(view! { <ErrorBox err/> }),
        _ => None,
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::NOT_FOUND);
    }
    let t = crate::i18n::t();
    view! {
        <Title text=t.not_found/>
        <main class="page narrow">
            <h1>{t.not_found}</h1>
            <p><a href="/">{t.back_to_dashboard}</a></p>
        </main>
    }
}

/// Formats a millisecond timestamp for tables; the exact instant is in the title attribute.
pub fn format_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// Days since 1970-01-01 to a calendar date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_ms(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_ms(1_735_460_000_000), "2024-12-29 08:13 UTC");
        assert_eq!(format_ms(951_782_400_000), "2000-02-29 00:00 UTC");
    }
}
