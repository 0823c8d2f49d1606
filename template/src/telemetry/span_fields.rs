//! The fields of a span in the JSON logs, as `tracing-subscriber`'s `JsonFields` formats
//! them (one JSON object, its keys in order), written straight into the span's string
//! instead of through a map of `serde_json` values: every request builds a span, and
//! `JsonFields` spent more on it than the access line costs.

use std::fmt;

use serde::Serializer as _;
use tracing::field::{Field, Visit};
use tracing_subscriber::{
    field::RecordFields,
    fmt::{
        FormatFields, FormattedFields,
        format::{JsonFields, Writer},
    },
};

/// Formats span fields for the JSON log layer, to the byte as `JsonFields` does.
#[derive(Debug, Default, Clone, Copy)]
pub struct SpanFields;

impl<'writer> FormatFields<'writer> for SpanFields {
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut object = Object::default();
        fields.record(&mut object);
        object.write_to(&mut writer)
    }

    /// Fields recorded after the span began join the object, replacing any of the same
    /// name: rare (an exporter's trace id), so left to `JsonFields` itself.
    fn add_fields(&self, current: &'writer mut FormattedFields<Self>, fields: &tracing::span::Record<'_>) -> fmt::Result {
        let mut json_fields = FormattedFields::<JsonFields>::new(std::mem::take(&mut current.fields));
        let added = JsonFields::new().add_fields(&mut json_fields, fields);
        current.fields = json_fields.fields;
        added
    }
}

/// Each field's name and its value as JSON text, in one buffer.
#[derive(Default)]
struct Object {
    values: Vec<u8>,
    entries: Vec<(&'static str, std::ops::Range<usize>)>,
}

impl Object {
    /// Records `name`'s value as `write` writes it; a name recorded twice keeps the last value.
    fn record(&mut self, name: &'static str, write: impl FnOnce(&mut serde_json::Serializer<&mut Vec<u8>>) -> serde_json::Result<()>) {
        let start = self.values.len();
        if write(&mut serde_json::Serializer::new(&mut self.values)).is_err() {
            self.values.truncate(start);
            return;
        }
        let range = start..self.values.len();
        match self.entries.iter_mut().find(|(recorded, _)| *recorded == name) {
            Some(entry) => entry.1 = range,
            None => self.entries.push((name, range)),
        }
    }

    /// `{"name":value,...}`, names in order, as a map serialises.
    fn write_to(mut self, writer: &mut Writer<'_>) -> fmt::Result {
        self.entries.sort_unstable_by_key(|(name, _)| *name);
        let mut object = Vec::with_capacity(self.values.len() + 16 * self.entries.len() + 2);
        object.push(b'{');
        for (index, (name, range)) in self.entries.iter().enumerate() {
            if index > 0 {
                object.push(b',');
            }
            serde_json::to_writer(&mut object, name).map_err(|_| fmt::Error)?;
            object.push(b':');
            object.extend_from_slice(&self.values[range.clone()]);
        }
        object.push(b'}');
        writer.write_str(std::str::from_utf8(&object).map_err(|_| fmt::Error)?)
    }
}

/// `{:?}` output as a string value, escaped as it is written.
struct AsDebug<'a>(&'a dyn fmt::Debug);

impl fmt::Display for AsDebug<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// What `JsonFields` writes for each kind of value: numbers, booleans and strings as
/// JSON (a float that is not finite as `null`), bytes as an array, anything else as its
/// `Debug` text, under its name without `r#`, skipping `log.` fields.
impl Visit for Object {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.record(field.name(), |json| json.serialize_f64(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record(field.name(), |json| json.serialize_i64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.record(field.name(), |json| json.serialize_u64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.record(field.name(), |json| json.serialize_bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.record(field.name(), |json| json.serialize_str(value));
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        self.record(field.name(), |json| serde::Serialize::serialize(value, json));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let name = field.name();
        if name.starts_with("log.") {
            return;
        }
        let name = name.strip_prefix("r#").unwrap_or(name);
        self.record(name, |json| json.collect_str(&AsDebug(value)));
    }
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;
    use crate::telemetry::captured::Captured;

    /// The lines the JSON layer writes, with `fields` formatting spans, for events in a
    /// span of every kind of field, one recorded after the span began; timestamps cut.
    fn lines_with<N>(fields: N) -> Vec<String>
    where
        N: for<'writer> FormatFields<'writer> + Send + Sync + 'static,
    {
        let captured = Captured::default();
        let layer = tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .without_time()
            .fmt_fields(fields)
            .with_writer(captured.clone());
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            let error = std::io::Error::other("an \"error\"\n");
            let span = tracing::info_span!(
                "request",
                zebra = "last \"quoted\" \\ \u{1f980}\t",
                count = 7u64,
                delta = -3i64,
                ratio = 0.25f64,
                not_a_number = f64::NAN,
                flag = true,
                big = 1u128 << 100,
                shown = %"display <b>",
                debugged = ?("tuple", 1),
                error = &error as &(dyn std::error::Error + 'static),
                r#type = "raw",
                later = tracing::field::Empty,
                later_ratio = tracing::field::Empty,
            );
            let _entered = span.enter();
            tracing::info!("before the record");
            span.record("later", "recorded \"later\"");
            span.record("later_ratio", 0.1f64 + 0.2f64);
            span.record("count", 8u64);
            tracing::info!("after the record");
            tracing::info_span!("inner", bytes = &b"ab"[..], log.module = ?"skipped").in_scope(|| tracing::info!("nested"));
        });
        captured.text().lines().map(str::to_owned).collect()
    }

    #[test]
    fn span_fields_are_written_as_json_fields_writes_them_to_the_byte() {
        let ours = lines_with(SpanFields);
        let theirs = lines_with(JsonFields::default());

        assert_eq!(ours.len(), 3, "lines: {ours:#?}");
        assert_eq!(ours, theirs);
    }

    #[test]
    fn names_come_in_order_and_a_name_recorded_twice_keeps_its_last_value() {
        let mut object = Object::default();
        object.record("method", |json| json.serialize_str("GET"));
        object.record("count", |json| json.serialize_u64(2));
        object.record("method", |json| json.serialize_str("POST"));
        let mut fields = String::new();
        object.write_to(&mut Writer::new(&mut fields)).expect("the object formats");

        assert_eq!(fields, r#"{"count":2,"method":"POST"}"#);
    }
}
