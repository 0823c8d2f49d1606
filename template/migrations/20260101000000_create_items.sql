CREATE TABLE items (
    id {% if database == "postgres" %}BIGINT GENERATED ALWAYS AS IDENTITY{% else %}INTEGER{% endif %} PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    created_at {% if database == "postgres" %}TIMESTAMPTZ{% else %}TEXT{% endif %} NOT NULL
);
