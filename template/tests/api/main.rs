//! The HTTP API, end to end through a real socket, against a fresh database per test.

{% if redis -%}
mod cache;
{% endif -%}
mod errors;
mod health;
mod helpers;
mod items;
mod middleware;
{% if database == "postgres" -%}
mod postgres;
{% else -%}
mod sqlite;
{% endif -%}
