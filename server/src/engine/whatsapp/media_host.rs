//! `--whatsapp-media-url`: WhatsApp's media hosts (uploads to and downloads from
//! `https://<host>/…`, the hosts named by the server's `media_conn` answer) reached at another
//! base URL instead, as `--whatsapp-url` does for the chat socket. The protocol test points
//! both at the fake WhatsApp server; a proxy could sit here too.
//!
//! Only the address changes: every request still goes through whatsapp-rust's own HTTP client
//! (ureq), streaming uploads and downloads included, so what is tested is what ships.

use whatsapp_rust::{
    async_trait,
    http::{HttpClient, HttpRequest, HttpResponse, UreqHttpClient},
    wacore::{
        net::{StreamingHttpResponse, UploadBody},
        stats::HttpResourceReport,
    },
};

/// whatsapp-rust's HTTP client with every URL's scheme and host replaced by `base`'s.
pub struct Rerouted {
    inner: UreqHttpClient,
    /// `scheme://host[:port]`, without a trailing slash.
    base: String,
}

impl Rerouted {
    pub fn new(base: &str) -> Self {
        Rerouted {
            inner: UreqHttpClient::new(),
            base: base.trim_end_matches('/').to_string(),
        }
    }

    fn reroute(&self, mut request: HttpRequest) -> HttpRequest {
        request.url = rewrite(&self.base, &request.url);
        request
    }
}

/// `https://mmg.whatsapp.net/v/t62/x?token=y` → `{base}/v/t62/x?token=y`. A URL without a
/// scheme is left as it is.
fn rewrite(base: &str, url: &str) -> String {
    let Some((_, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let path = rest.find(['/', '?']).map_or("", |at| &rest[at..]);
    format!("{base}{path}")
}

#[async_trait]
impl HttpClient for Rerouted {
    async fn execute(&self, request: HttpRequest) -> anyhow::Result<HttpResponse> {
        self.inner.execute(self.reroute(request)).await
    }

    fn supports_streaming(&self) -> bool {
        self.inner.supports_streaming()
    }

    fn execute_streaming(&self, request: HttpRequest) -> anyhow::Result<StreamingHttpResponse> {
        self.inner.execute_streaming(self.reroute(request))
    }

    fn supports_upload_streaming(&self) -> bool {
        self.inner.supports_upload_streaming()
    }

    fn execute_upload(
        &self,
        request: HttpRequest,
        body: UploadBody,
        content_length: u64,
    ) -> anyhow::Result<HttpResponse> {
        self.inner
            .execute_upload(self.reroute(request), body, content_length)
    }

    fn resource_report(&self) -> Option<HttpResourceReport> {
        self.inner.resource_report()
    }
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn keeps_path_and_query_and_swaps_scheme_and_host() {
        let base = "http://127.0.0.1:4000";
        assert_eq!(
            rewrite(
                base,
                "https://mmg.whatsapp.net/mms/image/abc?auth=x&token=abc"
            ),
            "http://127.0.0.1:4000/mms/image/abc?auth=x&token=abc"
        );
        assert_eq!(
            rewrite(base, "https://mmg.whatsapp.net/v/t62.7118-24/1?token=t"),
            "http://127.0.0.1:4000/v/t62.7118-24/1?token=t"
        );
        assert_eq!(
            rewrite(base, "https://web.whatsapp.com"),
            "http://127.0.0.1:4000"
        );
        assert_eq!(rewrite(base, "no-scheme"), "no-scheme");
    }
}
