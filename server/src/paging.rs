//! Pages of the account lists (`GET /api/sessions`, `/api/users`, `/api/keys`,
//! `/api/auto-reply/rules`): `?limit=N` answers the first N items in the list's stable order
//! and, when more follow, their position in an `X-Next-Cursor` header; `?limit=N&cursor=C`
//! answers the N after. Without `limit` the whole list is answered, as before pages existed.
//! The body stays a JSON array, so clients that do not page see no change.
//!
//! These lists belong to accounts and stay small enough to read whole in one indexed scan; the
//! page is cut after it. The delivery log, which grows with traffic, pages in SQL
//! (`webhooks::api`) with the same header.

use crate::error::{ApiError, ApiResult};
use axum::{
    Json,
    http::{HeaderName, HeaderValue},
    response::{IntoResponse, Response},
};
use serde::Serialize;

/// The response header naming where the next page starts.
pub const NEXT_CURSOR: HeaderName = HeaderName::from_static("x-next-cursor");
/// The most items one page holds.
pub const MAX_LIMIT: i64 = 500;
/// A page's size when a cursor comes without a limit.
pub const DEFAULT_LIMIT: i64 = 100;

/// `?limit=&cursor=`: one type with the dashboard's server functions.
pub use app::model::PageAt as PageQuery;

/// The page size asked for, if any.
pub fn limit(page: &PageQuery) -> ApiResult<Option<i64>> {
    match (page.limit, &page.cursor) {
        (None, None) => Ok(None),
        (None, Some(_)) => Ok(Some(DEFAULT_LIMIT)),
        (Some(n @ 1..=MAX_LIMIT), _) => Ok(Some(n)),
        (Some(_), _) => Err(ApiError::invalid("`limit` must be between 1 and 500.")),
    }
}

/// Cuts the page out of a whole list (in its order); `id` names an item for the cursor.
pub fn cut<T>(page: &PageQuery, items: Vec<T>, id: impl Fn(&T) -> &str) -> ApiResult<Paged<T>> {
    let Some(limit) = limit(page)? else {
        return Ok(Paged(items, None));
    };
    let start = match page.cursor.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(cursor) => {
            items.iter().position(|i| id(i) == cursor).ok_or_else(|| {
                ApiError::invalid(
                    "`cursor` names no item of this list (removed since?): start again \
                         without it.",
                )
            })? + 1
        }
    };
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = items.len() > start.saturating_add(limit);
    let page: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let next = more
        .then(|| page.last().map(|i| id(i).to_string()))
        .flatten();
    Ok(Paged(page, next))
}

/// A page: its items (a JSON array) and where the next one starts.
#[derive(Debug)]
pub struct Paged<T>(pub Vec<T>, pub Option<String>);

impl<T: Serialize> IntoResponse for Paged<T> {
    fn into_response(self) -> Response {
        let mut response = Json(self.0).into_response();
        if let Some(next) = self.1.and_then(|n| HeaderValue::from_str(&n).ok()) {
            response.headers_mut().insert(NEXT_CURSOR, next);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(limit: Option<i64>, cursor: Option<&str>) -> PageQuery {
        PageQuery {
            limit,
            cursor: cursor.map(String::from),
        }
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("id{i}")).collect()
    }

    #[test]
    fn pages_walk_the_list_once_in_order() -> ApiResult<()> {
        let all = ids(7);
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let Paged(page, next) =
                cut(&q(Some(3), cursor.as_deref()), all.clone(), |s: &String| s)?;
            assert!(page.len() <= 3);
            seen.extend(page);
            match next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        assert_eq!(seen, all);
        Ok(())
    }

    #[test]
    fn without_a_limit_the_whole_list_and_no_cursor() -> ApiResult<()> {
        let Paged(page, next) = cut(&q(None, None), ids(600), |s: &String| s)?;
        assert_eq!((page.len(), next), (600, None));
        // A last page that ends exactly at the end names no next one.
        let Paged(page, next) = cut(&q(Some(3), Some("id2")), ids(6), |s: &String| s)?;
        assert_eq!(
            (page, next),
            (vec!["id3".into(), "id4".into(), "id5".into()], None)
        );
        Ok(())
    }

    #[test]
    fn bad_limits_and_unknown_cursors_are_refused() {
        for limit in [0, -1, 501] {
            assert!(cut(&q(Some(limit), None), ids(3), |s: &String| s).is_err());
        }
        assert!(cut(&q(Some(2), Some("gone")), ids(3), |s: &String| s).is_err());
    }
}
