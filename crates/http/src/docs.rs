//! `GET /docs`: an interactive reference of the API (Swagger UI) over `/openapi.json`.
//!
//! Every file of the page is compiled into the binary (Swagger UI comes from a crate, not from
//! the network), so the page works where the service has no internet.

use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};

use crate::error::ApiError;

/// The files the page loads, and their media types: Swagger UI's, and the script that starts
/// it ([`START`]).
pub const ASSETS: &[(&str, &str)] = &[
    ("swagger-ui.css", "text/css; charset=utf-8"),
    ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    (
        "swagger-ui-standalone-preset.js",
        "text/javascript; charset=utf-8",
    ),
    ("start.js", "text/javascript; charset=utf-8"),
    ("favicon-32x32.png", "image/png"),
    ("favicon-16x16.png", "image/png"),
];

/// The page's policy: scripts and styles from this origin only (no inline script; Swagger UI
/// sets inline styles, and draws icons from `data:` URLs), requests to this origin only, and
/// no framing by any page.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE: &str = r##"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Ordeliya Customers API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="/docs/favicon-16x16.png" sizes="16x16">
  <style>body { margin: 0; }</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/start.js"></script>
</body>
</html>
"##;

/// Starts Swagger UI on the page: a file of its own, so the policy needs no inline script.
const START: &str = r##"window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  docExpansion: "list",
  persistAuthorization: false,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  plugins: [SwaggerUIBundle.plugins.DownloadUrl],
  layout: "BaseLayout"
});
"##;

/// The headers every response of the page carries besides its own.
fn secured(mut response: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    response
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .insert_header((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .insert_header((
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ));
    response
}

/// `GET /docs`.
pub async fn page() -> HttpResponse {
    secured(HttpResponse::Ok())
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .body(PAGE)
}

/// The bytes of one embedded file of the page, if it is one.
pub fn embedded(name: &str) -> Option<(&'static str, Vec<u8>)> {
    let (_, media_type) = ASSETS.iter().find(|(asset, _)| *asset == name)?;
    if name == "start.js" {
        return Some((media_type, START.as_bytes().to_vec()));
    }
    let config = Arc::new(utoipa_swagger_ui::Config::from("/openapi.json"));
    let file = utoipa_swagger_ui::serve(name, config).ok().flatten()?;
    Some((media_type, file.bytes.into_owned()))
}

/// `GET /docs/{asset}`: a file of the page, or 404.
pub async fn asset(name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (media_type, bytes) = embedded(&name).ok_or_else(ApiError::not_found)?;
    Ok(secured(HttpResponse::Ok())
        .content_type(media_type)
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=86400"),
        ))
        .body(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_the_page_loads_is_embedded() {
        for (name, _) in ASSETS {
            let (_, bytes) = embedded(name).unwrap_or_else(|| panic!("{name} is embedded"));
            assert!(bytes.len() > 100, "{name}");
            assert!(PAGE.contains(&format!("/docs/{name}")), "{name} is used");
        }
        assert!(embedded("index.html").is_none());
        assert!(
            !PAGE.contains("<script>"),
            "no inline script: the policy refuses it"
        );
        assert!(embedded("../Cargo.toml").is_none());
    }
}
