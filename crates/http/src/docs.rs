//! `GET /docs`: an interactive reference of the API (Swagger UI) over `/openapi.json`.
//!
//! Every file of the page is compiled into the binary (Swagger UI comes from a crate, not from
//! the network), so the page works where the service has no internet.

use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};

use crate::error::ApiError;

/// The files of Swagger UI the page loads, and their media types.
pub const ASSETS: &[(&str, &str)] = &[
    ("swagger-ui.css", "text/css; charset=utf-8"),
    ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    (
        "swagger-ui-standalone-preset.js",
        "text/javascript; charset=utf-8",
    ),
    ("favicon-32x32.png", "image/png"),
    ("favicon-16x16.png", "image/png"),
];

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
  <script>
    window.ui = SwaggerUIBundle({
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      docExpansion: "list",
      persistAuthorization: false,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      plugins: [SwaggerUIBundle.plugins.DownloadUrl],
      layout: "BaseLayout"
    });
  </script>
</body>
</html>
"##;

/// `GET /docs`.
pub async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .body(PAGE)
}

/// The bytes of one embedded file of the page, if it is one.
pub fn embedded(name: &str) -> Option<(&'static str, Vec<u8>)> {
    let (_, media_type) = ASSETS.iter().find(|(asset, _)| *asset == name)?;
    let config = Arc::new(utoipa_swagger_ui::Config::from("/openapi.json"));
    let file = utoipa_swagger_ui::serve(name, config).ok().flatten()?;
    Some((media_type, file.bytes.into_owned()))
}

/// `GET /docs/{asset}`: a file of the page, or 404.
pub async fn asset(name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (media_type, bytes) = embedded(&name).ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok()
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
        assert!(embedded("../Cargo.toml").is_none());
    }
}
