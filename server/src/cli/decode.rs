//! Payloads decoded for the command line's output (`--encryption-key`):
//! through the client's data converter when a server answers, and here,
//! payload by payload, for what a file holds. A payload that does not
//! decode (a key not given) is left as stored, and said so once.

use serde_json::Value;
use weft::history::Event;
use weft::{DataConverter, Payload};

use super::CliError;

/// The converter of the `--encryption-key` flags, if any.
pub(crate) fn converter(m: &clap::ArgMatches) -> Result<Option<DataConverter>, CliError> {
    match m.get_many::<String>("encryption-key") {
        None => Ok(None),
        Some(keys) => {
            let keys: Vec<String> = keys.cloned().collect();
            crate::codec::encryption_converter(&keys)
                .map(Some)
                .map_err(|e| CliError::Usage(e.to_string()))
        }
    }
}

/// `payload` decoded, or as it was.
fn one(converter: &DataConverter, payload: Payload, failures: &mut Vec<String>) -> Payload {
    match converter.decode(vec![payload.clone()]) {
        Ok(mut decoded) if decoded.len() == 1 => decoded.remove(0),
        Ok(_) => payload,
        Err(e) => {
            failures.push(e.to_string());
            payload
        }
    }
}

/// Every payload in `events`, decoded.
pub(crate) fn events(
    converter: &DataConverter,
    events: Vec<Event>,
) -> Result<Vec<Event>, CliError> {
    let fail = |e: serde_json::Error| CliError::Other(format!("cannot decode the history: {e}"));
    let mut value = serde_json::to_value(&events).map_err(fail)?;
    let mut failures = Vec::new();
    walk(converter, &mut value, &mut failures);
    report(&failures);
    serde_json::from_value(value).map_err(fail)
}

/// Every payload of a map (a memo), decoded.
pub(crate) fn payloads<K: Ord>(
    converter: &DataConverter,
    map: std::collections::BTreeMap<K, Payload>,
) -> std::collections::BTreeMap<K, Payload> {
    let mut failures = Vec::new();
    let map = map
        .into_iter()
        .map(|(k, p)| (k, one(converter, p, &mut failures)))
        .collect();
    report(&failures);
    map
}

/// A payload as serde writes it: `data` (base64), and `metadata` unless
/// it is empty; nothing else.
fn is_payload(map: &serde_json::Map<String, Value>) -> bool {
    map.get("data").is_some_and(Value::is_string)
        && map.get("metadata").is_none_or(Value::is_object)
        && map.keys().all(|k| k == "data" || k == "metadata")
}

fn walk(converter: &DataConverter, value: &mut Value, failures: &mut Vec<String>) {
    match value {
        Value::Object(map) if is_payload(map) => {
            let Ok(payload) = serde_json::from_value::<Payload>(value.clone()) else {
                return;
            };
            let decoded = one(converter, payload, failures);
            if let Ok(decoded) = serde_json::to_value(decoded) {
                *value = decoded;
            }
        }
        Value::Object(map) => map.values_mut().for_each(|v| walk(converter, v, failures)),
        Value::Array(items) => items.iter_mut().for_each(|v| walk(converter, v, failures)),
        _ => {}
    }
}

fn report(failures: &[String]) {
    if let Some(first) = failures.first() {
        tracing::warn!(count = failures.len(), error = %first, "payloads not decoded");
        eprintln!(
            "weft: {} payload(s) not decoded, shown as stored: {first}",
            failures.len()
        );
    }
}
