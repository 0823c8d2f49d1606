//! The HTTP API, end to end through a real socket, against a fresh database per test.

{% if redis -%}
mod cache;
{% endif -%}
mod auth;
mod errors;
mod health;
mod items;
mod middleware;
mod openapi;
mod rate_limit;
mod shutdown;
#[path = "../support/mod.rs"]
mod support;
{% if database == "postgres" -%}
mod postgres;
{% else -%}
mod sqlite;
{% endif -%}
