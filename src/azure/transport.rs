//! The transport handed to `azure_identity`: its requests go through the
//! same HTTPS client (and connections) as the rest of the run, and an answer
//! that is not JSON is described by what it is.

use crate::net::connection::Response;
use crate::net::https_client::Client;

/// Azure AD, managed identity endpoints and Resource Manager answer JSON.
/// Anything else (a redirect to a sign-in page, a proxy's HTML) is described
/// by what it is, rather than left to fail as a JSON parse error.
fn not_a_json_answer(url: &url::Url, r: &Response) -> Option<String> {
    let content_type = r
        .header("content-type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let json =
        content_type.contains("json") || (content_type.is_empty() && r.body.first() == Some(&b'{'));
    let host = crate::net::origin::describe(url);
    if (300..400).contains(&r.status) {
        let to = r
            .header("location")
            .and_then(|l| url.join(&l).ok())
            .map(|u| crate::net::origin::describe(&u))
            .unwrap_or_else(|| "nowhere (no Location)".into());
        return Some(format!(
            "{host} answered {} redirecting to {to}, not a token; something \
            between this machine and Azure AD (a proxy, a captive portal) is answering",
            r.status
        ));
    }
    if json || r.body.is_empty() {
        return None;
    }
    let shown = if content_type.is_empty() {
        "no content type".to_string()
    } else {
        crate::untrusted::inline(&content_type).shown()
    };
    Some(format!(
        "{host} answered {} with {shown} ({} bytes), not JSON; something other than Azure (a \
            proxy, a captive portal) may be answering",
        r.status,
        r.body.len()
    ))
}

#[async_trait::async_trait]
impl azure_core::http::HttpClient for Client {
    async fn execute_request(
        &self,
        request: &azure_core::http::Request,
    ) -> azure_core::Result<azure_core::http::AsyncRawResponse> {
        use azure_core::error::{Error, ErrorKind};
        let method = http::Method::from_bytes(request.method().to_string().as_bytes())
            .map_err(|e| Error::with_message(ErrorKind::Other, e.to_string()))?;
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.as_str().to_string()))
            .collect();
        let header_refs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let body = match request.body() {
            azure_core::http::Body::Bytes(b) if !b.is_empty() => Some(b.clone()),
            _ => None,
        };
        let response = self
            .send(method, request.url(), &header_refs, body)
            .await
            .map_err(|e| Error::with_message(ErrorKind::Io, e.to_string()))?;
        if let Some(why) = not_a_json_answer(request.url(), &response) {
            return Err(Error::with_message(ErrorKind::Io, why));
        }
        let mut out_headers = azure_core::http::headers::Headers::new();
        for (name, value) in response.headers.iter() {
            if let Ok(v) = value.to_str() {
                out_headers.insert(name.as_str().to_string(), v.to_string());
            }
        }
        Ok(azure_core::http::AsyncRawResponse::from_bytes(
            azure_core::http::StatusCode::from(response.status),
            out_headers,
            response.body,
        ))
    }
}
