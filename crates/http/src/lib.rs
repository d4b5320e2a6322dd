//! The HTTP adapter: the wire format of `docs/api.md` over actix-web.
//!
//! - [`routes`]: the access table — every endpoint, its method and who may call it. The router,
//!   the auth middleware, `405 Allow` and the tests all read it.
//! - [`app`]: builds the actix `App` from the table and the middleware.
//! - [`middleware`]: request ids, security headers, authentication and authorization, logging.
//! - [`metrics`]: Prometheus counters and histograms per route, pool gauges.
//! - [`error`]: the one mapping from domain errors to status codes and error codes.
//! - [`body`] and [`query`]: strict decoding of JSON bodies and query strings.
//! - [`views`]: JSON shapes of responses; [`envelope`]: `{"success": true, "data": …}`.
//! - [`idempotent`]: `Idempotency-Key` for writes that take one.
//! - [`openapi`]: the OpenAPI 3.1 document, generated from the access table; [`docs`]: the
//!   interactive reference page over it, with every asset embedded.
//! - handlers by area: [`customers`], [`orders`], [`loyalty`], [`reviews`], [`session`], [`users`],
//!   [`audit`], [`health`].

mod app;
pub mod audit;
pub mod body;
pub mod client_address;
pub mod customers;
pub mod docs;
pub mod envelope;
pub mod error;
pub mod health;
pub mod idempotent;
pub mod limits;
pub mod loyalty;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod orders;
pub mod query;
pub mod reviews;
pub mod routes;
pub mod session;
mod state;
pub mod users;
pub mod views;

pub use app::app;
pub use state::{Adapters, AppState, ReadinessCheck, Stack};

/// Largest request body accepted (docs/api.md §1).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
