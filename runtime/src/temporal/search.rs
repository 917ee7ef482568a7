//! Search attributes as Temporal indexes them: one `json/plain` payload
//! per attribute, its type in the `type` metadata (`Keyword`, `Text`,
//! `Int`, `Double`, `Bool`, `Datetime` as RFC 3339). An unset attribute is
//! an empty list, as Temporal's SDKs write it.

use std::collections::HashMap;

use temporalio_common::protos::temporal::api::common::v1 as common;

use crate::search_attributes::{SearchAttributeValue, SearchAttributes};

fn json(data: serde_json::Value, type_name: &str) -> common::Payload {
    let mut metadata = HashMap::new();
    metadata.insert("encoding".to_string(), b"json/plain".to_vec());
    if !type_name.is_empty() {
        metadata.insert("type".to_string(), type_name.as_bytes().to_vec());
    }
    common::Payload {
        metadata,
        data: data.to_string().into_bytes(),
        ..Default::default()
    }
}

fn value_to(value: &SearchAttributeValue) -> common::Payload {
    use serde_json::Value;
    match value {
        SearchAttributeValue::Keyword(s) => json(Value::from(s.as_str()), "Keyword"),
        SearchAttributeValue::Text(s) => json(Value::from(s.as_str()), "Text"),
        SearchAttributeValue::Int(i) => json(Value::from(*i), "Int"),
        SearchAttributeValue::Double(d) => json(Value::from(*d), "Double"),
        SearchAttributeValue::Bool(b) => json(Value::from(*b), "Bool"),
        SearchAttributeValue::Datetime(t) => {
            let time: chrono::DateTime<chrono::Utc> = (*t).into();
            json(
                Value::from(time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
                "Datetime",
            )
        }
    }
}

/// Temporal's indexed fields for these attributes; `None` unsets one.
pub(crate) fn search_attributes_to<'a>(
    values: impl Iterator<Item = (&'a str, Option<&'a SearchAttributeValue>)>,
) -> common::SearchAttributes {
    let indexed_fields = values
        .map(|(name, value)| {
            let payload = match value {
                Some(v) => value_to(v),
                None => json(serde_json::Value::Array(Vec::new()), ""),
            };
            (name.to_string(), payload)
        })
        .collect();
    common::SearchAttributes { indexed_fields }
}

/// weft's attributes from Temporal's indexed fields; fields of an unknown
/// type or shape (and unset ones) are left out.
pub(crate) fn search_attributes_from(sa: Option<common::SearchAttributes>) -> SearchAttributes {
    let Some(sa) = sa else {
        return SearchAttributes::new();
    };
    sa.indexed_fields
        .into_iter()
        .filter_map(|(name, p)| value_from(&p).map(|v| (name, v)))
        .collect()
}

pub(super) fn value_from(p: &common::Payload) -> Option<SearchAttributeValue> {
    let value: serde_json::Value = serde_json::from_slice(&p.data).ok()?;
    let type_name = p
        .metadata
        .get("type")
        .and_then(|t| std::str::from_utf8(t).ok())
        .unwrap_or("");
    // A list of one (Keyword lists) reads as its element.
    let value = match value {
        serde_json::Value::Array(mut items) if items.len() == 1 => items.pop()?,
        other => other,
    };
    Some(match type_name {
        "Text" => SearchAttributeValue::Text(value.as_str()?.to_string()),
        "Int" => SearchAttributeValue::Int(value.as_i64()?),
        "Double" => SearchAttributeValue::Double(value.as_f64()?),
        "Bool" => SearchAttributeValue::Bool(value.as_bool()?),
        "Datetime" => {
            let time = chrono::DateTime::parse_from_rfc3339(value.as_str()?).ok()?;
            SearchAttributeValue::Datetime(time.with_timezone(&chrono::Utc).into())
        }
        _ => SearchAttributeValue::Keyword(value.as_str()?.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_indexed_fields() {
        let mut attrs = SearchAttributes::new();
        attrs.insert_value("CustomerId", SearchAttributeValue::Keyword("c-1".into()));
        attrs.insert_value("Points", SearchAttributeValue::Int(42));
        attrs.insert_value("Vip", SearchAttributeValue::Bool(true));
        let proto = search_attributes_to(attrs.iter().map(|(k, v)| (k, Some(v))));
        assert_eq!(search_attributes_from(Some(proto)), attrs);
    }
}
