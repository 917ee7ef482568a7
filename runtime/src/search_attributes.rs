//! Search attributes: typed, indexed values kept with a run, which
//! [`Client::list_workflows`](crate::Client::list_workflows) filters on.
//!
//! As in Temporal, a custom attribute is registered with a type before any
//! run uses it (here on the engine:
//! [`EngineOptions::search_attribute`](crate::engine::EngineOptions::search_attribute)),
//! set when a workflow starts
//! ([`WorkflowOptions::search_attribute`](crate::WorkflowOptions::search_attribute)),
//! and changed from workflow code
//! ([`WorkflowContext::upsert_search_attributes`](crate::WorkflowContext::upsert_search_attributes)).
//! Search attributes are not payloads: no codec encodes them (Temporal does
//! not encrypt them either), so the store can index them. Keep secrets out
//! of them.
//!
//! This module owns the values and their types; it must not know about
//! queries, stores or the engine.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The type a search attribute is registered with (Temporal's
/// `IndexedValueType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SearchAttributeType {
    /// An exact string: `=`, `!=`, `IN`, `STARTS_WITH`, ranges.
    Keyword,
    /// Free text: `=` matches when every word of the value queried is a
    /// word of the attribute (case-insensitive).
    Text,
    /// A 64-bit integer.
    Int,
    /// A 64-bit float.
    Double,
    /// `true` or `false`.
    Bool,
    /// A point in time; queried with RFC 3339 strings.
    Datetime,
}

impl SearchAttributeType {
    /// The name Temporal gives the type.
    pub fn name(self) -> &'static str {
        match self {
            SearchAttributeType::Keyword => "Keyword",
            SearchAttributeType::Text => "Text",
            SearchAttributeType::Int => "Int",
            SearchAttributeType::Double => "Double",
            SearchAttributeType::Bool => "Bool",
            SearchAttributeType::Datetime => "Datetime",
        }
    }
}

impl fmt::Display for SearchAttributeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One search attribute's value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SearchAttributeValue {
    /// A `Keyword` value.
    Keyword(String),
    /// A `Text` value.
    Text(String),
    /// An `Int` value.
    Int(i64),
    /// A `Double` value (never NaN or infinite: such values are refused).
    Double(f64),
    /// A `Bool` value.
    Bool(bool),
    /// A `Datetime` value (kept to the nanosecond; stored as nanoseconds
    /// since 1970, so times before it are fine).
    Datetime(#[serde(with = "unix_nanos_serde")] SystemTime),
}

/// Stored values are never NaN (refused by [`SearchAttributeValue::check`],
/// and by the query parser), so equality is an equivalence on them.
impl Eq for SearchAttributeValue {}

impl SearchAttributeValue {
    /// The value's type.
    pub fn value_type(&self) -> SearchAttributeType {
        match self {
            SearchAttributeValue::Keyword(_) => SearchAttributeType::Keyword,
            SearchAttributeValue::Text(_) => SearchAttributeType::Text,
            SearchAttributeValue::Int(_) => SearchAttributeType::Int,
            SearchAttributeValue::Double(_) => SearchAttributeType::Double,
            SearchAttributeValue::Bool(_) => SearchAttributeType::Bool,
            SearchAttributeValue::Datetime(_) => SearchAttributeType::Datetime,
        }
    }

    /// Why the value cannot be stored, if it cannot: a float that is not
    /// finite, a time beyond what nanoseconds since 1970 in 64 bits hold
    /// (years 1678 to 2262), a string over [`MAX_VALUE_BYTES`].
    pub fn check(&self) -> Result<(), String> {
        match self {
            SearchAttributeValue::Double(d) if !d.is_finite() => {
                Err(format!("{d} is not a finite number"))
            }
            SearchAttributeValue::Datetime(t) if to_unix_nanos(*t).is_none() => {
                Err("the time is out of range (years 1678 to 2262)".into())
            }
            SearchAttributeValue::Keyword(s) | SearchAttributeValue::Text(s)
                if s.len() > MAX_VALUE_BYTES =>
            {
                Err(format!(
                    "the value is {} bytes, over the limit of {MAX_VALUE_BYTES}",
                    s.len()
                ))
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for SearchAttributeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SearchAttributeValue::Keyword(s) | SearchAttributeValue::Text(s) => write!(f, "{s:?}"),
            SearchAttributeValue::Int(i) => write!(f, "{i}"),
            SearchAttributeValue::Double(d) => write!(f, "{d}"),
            SearchAttributeValue::Bool(b) => write!(f, "{b}"),
            SearchAttributeValue::Datetime(t) => match to_unix_nanos(*t) {
                Some(n) => write!(f, "{}", rfc3339(n)),
                None => write!(f, "{t:?}"),
            },
        }
    }
}

/// Longest `Keyword` or `Text` value, in bytes (Temporal's default limit).
pub const MAX_VALUE_BYTES: usize = 2048;

/// Most bytes a run's search attributes take together, names and values
/// (Temporal's default limit: 40 KB).
pub const MAX_TOTAL_BYTES: usize = 40 * 1024;

/// Nanoseconds since 1970 (negative before), if they fit in an `i64`.
pub fn to_unix_nanos(t: SystemTime) -> Option<i64> {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).ok(),
        Err(e) => i64::try_from(e.duration().as_nanos()).ok().map(|n| -n),
    }
}

/// The time `nanos` nanoseconds after 1970 (before, when negative).
pub fn from_unix_nanos(nanos: i64) -> SystemTime {
    let magnitude = Duration::from_nanos(nanos.unsigned_abs());
    if nanos >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

/// A time as its nanoseconds since 1970 (serde's own form refuses times
/// before 1970).
mod unix_nanos_serde {
    use std::time::SystemTime;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        match super::to_unix_nanos(*t) {
            Some(n) => s.serialize_i64(n),
            None => Err(serde::ser::Error::custom(
                "a Datetime search attribute is out of range (years 1678 to 2262)",
            )),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        i64::deserialize(d).map(super::from_unix_nanos)
    }
}

/// `nanos` since 1970 as RFC 3339 in UTC, with the fraction only when
/// there is one.
pub(crate) fn rfc3339(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let frac = u32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0);
    match chrono::DateTime::from_timestamp(secs, frac) {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        None => format!("{nanos}ns"),
    }
}

/// A run's search attributes, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SearchAttributes(BTreeMap<String, SearchAttributeValue>);

impl SearchAttributes {
    /// No attributes.
    pub fn new() -> Self {
        SearchAttributes::default()
    }

    /// The value of `key`, if set and of the key's type.
    pub fn get<T: SearchAttributeKind>(&self, key: &SearchAttributeKey<T>) -> Option<T> {
        self.0.get(&key.name).and_then(T::from_value)
    }

    /// The value named `name`, whatever its type.
    pub fn get_value(&self, name: &str) -> Option<&SearchAttributeValue> {
        self.0.get(name)
    }

    /// Sets `key` to `value`.
    pub fn insert<T: SearchAttributeKind>(&mut self, key: &SearchAttributeKey<T>, value: T) {
        self.0.insert(key.name.clone(), value.into_value());
    }

    /// Sets the attribute named `name`; its registered type must be the
    /// value's, which the engine checks.
    pub fn insert_value(&mut self, name: impl Into<String>, value: SearchAttributeValue) {
        self.0.insert(name.into(), value);
    }

    /// Applies updates in order: sets, or removes when unset.
    pub fn apply(&mut self, updates: &[SearchAttributeUpdate]) {
        for update in updates {
            match &update.value {
                Some(value) => self.0.insert(update.name.clone(), value.clone()),
                None => self.0.remove(&update.name),
            };
        }
    }

    /// Every attribute, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &SearchAttributeValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Whether none is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many are set.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Bytes the attributes take (names and values), for the total limit.
    pub fn size_bytes(&self) -> usize {
        self.0
            .iter()
            .map(|(k, v)| {
                k.len()
                    + match v {
                        SearchAttributeValue::Keyword(s) | SearchAttributeValue::Text(s) => s.len(),
                        _ => 8,
                    }
            })
            .sum()
    }
}

impl FromIterator<(String, SearchAttributeValue)> for SearchAttributes {
    fn from_iter<I: IntoIterator<Item = (String, SearchAttributeValue)>>(iter: I) -> Self {
        SearchAttributes(iter.into_iter().collect())
    }
}

/// A change to one search attribute, as workflow code upserts it: set to a
/// value, or unset (removed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchAttributeUpdate {
    /// The attribute's name.
    pub name: String,
    /// The new value; `None` removes the attribute.
    pub value: Option<SearchAttributeValue>,
}

/// `Text` values, to tell them from `Keyword` ones (both are strings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text(pub String);

/// A Rust type a search attribute holds: `String` (Keyword), [`Text`],
/// `i64` (Int), `f64` (Double), `bool` (Bool), `SystemTime` (Datetime).
pub trait SearchAttributeKind: Sized {
    /// The registered type it stands for.
    const TYPE: SearchAttributeType;
    /// The value, untyped.
    fn into_value(self) -> SearchAttributeValue;
    /// The typed value, when `value` is of this type.
    fn from_value(value: &SearchAttributeValue) -> Option<Self>;
}

macro_rules! kind {
    ($t:ty, $variant:ident, $v:ident => $from:expr, $into:expr) => {
        impl SearchAttributeKind for $t {
            const TYPE: SearchAttributeType = SearchAttributeType::$variant;
            fn into_value(self) -> SearchAttributeValue {
                let $v = self;
                SearchAttributeValue::$variant($into)
            }
            fn from_value(value: &SearchAttributeValue) -> Option<Self> {
                match value {
                    SearchAttributeValue::$variant($v) => Some($from),
                    _ => None,
                }
            }
        }
    };
}

kind!(String, Keyword, v => v.clone(), v);
kind!(Text, Text, v => Text(v.clone()), v.0);
kind!(i64, Int, v => *v, v);
kind!(f64, Double, v => *v, v);
kind!(bool, Bool, v => *v, v);
kind!(SystemTime, Datetime, v => *v, v);

/// A search attribute's name with its type, so values set and read
/// through it have the registered type:
///
/// ```
/// use weft::search_attributes::{SearchAttributeKey, SearchAttributes};
/// let priority = SearchAttributeKey::<i64>::new("Priority");
/// let mut attrs = SearchAttributes::new();
/// attrs.insert(&priority, 3);
/// assert_eq!(attrs.get(&priority), Some(3));
/// ```
pub struct SearchAttributeKey<T> {
    name: String,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for SearchAttributeKey<T> {
    fn clone(&self) -> Self {
        SearchAttributeKey {
            name: self.name.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for SearchAttributeKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SearchAttributeKey")
            .field(&self.name)
            .finish()
    }
}

impl<T: SearchAttributeKind> SearchAttributeKey<T> {
    /// The key named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        SearchAttributeKey {
            name: name.into(),
            _type: PhantomData,
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its type.
    pub fn value_type(&self) -> SearchAttributeType {
        T::TYPE
    }

    /// An update setting it to `value`.
    pub fn value_set(&self, value: T) -> SearchAttributeUpdate {
        SearchAttributeUpdate {
            name: self.name.clone(),
            value: Some(value.into_value()),
        }
    }

    /// An update removing it.
    pub fn value_unset(&self) -> SearchAttributeUpdate {
        SearchAttributeUpdate {
            name: self.name.clone(),
            value: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_through_nanoseconds_on_both_sides_of_1970() {
        for nanos in [0, 1, -1, 1_700_000_000_123_456_789, -86_400_000_000_001] {
            assert_eq!(to_unix_nanos(from_unix_nanos(nanos)), Some(nanos));
        }
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_500_000_000), "1970-01-01T00:00:01.500Z");
    }

    #[test]
    fn values_that_cannot_be_stored_are_refused_with_a_reason() {
        assert!(SearchAttributeValue::Double(f64::NAN).check().is_err());
        let big = SearchAttributeValue::Keyword("x".repeat(MAX_VALUE_BYTES + 1));
        assert!(big.check().unwrap_err().contains("over the limit"));
        let far = UNIX_EPOCH + Duration::from_secs(400 * 365 * 86_400);
        assert!(SearchAttributeValue::Datetime(far).check().is_err());
        assert!(SearchAttributeValue::Int(i64::MIN).check().is_ok());
    }

    #[test]
    fn typed_keys_read_only_values_of_their_type() {
        let count = SearchAttributeKey::<i64>::new("Count");
        let mut attrs = SearchAttributes::new();
        attrs.insert_value("Count", SearchAttributeValue::Keyword("3".into()));
        assert_eq!(attrs.get(&count), None);
        attrs.apply(&[count.value_set(3)]);
        assert_eq!(attrs.get(&count), Some(3));
        attrs.apply(&[count.value_unset()]);
        assert!(attrs.is_empty());
    }
}
