//! The server functions' wire format: JSON, exactly as server_fn's own `Json`, except that
//! answers are parsed from text (`serde_json::from_str`) rather than bytes.
//!
//! Why: a page's resources are also hydrated from the JSON the server rendered into the HTML,
//! which Leptos parses from text. With server_fn's byte parser beside it, every type a server
//! function answers was compiled into the WebAssembly twice (a `serde_json` deserializer per
//! reader type, about 130 KB raw for 45 types); one reader keeps one copy.

use bytes::Bytes;
use serde::{Serialize, de::DeserializeOwned};
use server_fn::{ContentType, Decodes, Encodes, Format, FormatType, codec::Post};

/// JSON in and out, parsed from text (see the module doc).
pub struct JsonText;

/// `POST` with a JSON body, answered with JSON: what every server function uses.
pub type Json = Post<JsonText>;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        // Invalid UTF-8 cannot be JSON; the same error class as a syntax error.
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            <serde_json::Error as serde::de::Error>::custom("the body is not UTF-8")
        })?;
        serde_json::from_str(text)
    }
}
