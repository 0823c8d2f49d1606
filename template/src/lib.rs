//! {{project-name}}: an HTTP service on axum, tokio and sqlx.

pub mod api_doc;
pub mod auth;
pub mod body_limit;
{% if redis -%}
pub mod cache;
{% endif -%}
pub mod config;
pub mod db;
pub mod error;
pub mod healthcheck;
pub mod items;
pub mod monitoring;
pub mod rate_limit;
pub mod readiness;
pub mod refused;
pub mod request_id;
pub mod routes;
pub mod server;
pub mod shutdown;
pub mod startup;
pub mod state;
pub mod telemetry;
