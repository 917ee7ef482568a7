//! Finds a float JSON cannot hold (NaN, an infinity) in a value, and
//! where it is. serde_json writes these as `null`, which would change the
//! value on its way through a payload; [`super::encode`] asks this module
//! only when the JSON it wrote holds a `null`.

use std::fmt::{self, Write as _};

use serde::ser::{self, Serialize};

/// A non-finite float and its path in the value (`.values[1]`, or empty
/// for the value itself).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct NonFinite {
    pub path: String,
    pub value: f64,
}

impl fmt::Display for NonFinite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.path.is_empty() {
            "the value".to_string()
        } else {
            format!("`{}`", self.path)
        };
        write!(
            f,
            "{at} is {}, which JSON cannot hold (NaN and infinities are refused rather than \
             written as null)",
            self.value
        )
    }
}

/// The first non-finite float of `value`, in serialization order.
pub(super) fn find<T: Serialize + ?Sized>(value: &T) -> Option<NonFinite> {
    let mut finder = Finder {
        path: String::new(),
    };
    match value.serialize(&mut finder) {
        Err(Stop::Found(found)) => Some(found),
        // A serializer error was already reported by serde_json.
        Ok(()) | Err(Stop::Other) => None,
    }
}

#[derive(Debug)]
enum Stop {
    Found(NonFinite),
    Other,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Found(found) => fmt::Display::fmt(found, f),
            Stop::Other => f.write_str("the value could not be serialized"),
        }
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Stop::Other
    }
}

struct Finder {
    path: String,
}

impl Finder {
    fn float(&self, value: f64) -> Result<(), Stop> {
        if value.is_finite() {
            return Ok(());
        }
        Err(Stop::Found(NonFinite {
            path: self.path.clone(),
            value,
        }))
    }

    /// Visits `value` with `segment` appended to the path.
    fn within<T: Serialize + ?Sized>(
        &mut self,
        segment: fmt::Arguments<'_>,
        value: &T,
    ) -> Result<(), Stop> {
        let len = self.path.len();
        // Writing to a String cannot fail.
        let _ = self.path.write_fmt(segment);
        let result = value.serialize(&mut *self);
        self.path.truncate(len);
        result
    }

    fn compound(&mut self, variant: Option<&str>) -> Compound<'_> {
        let len = self.path.len();
        if let Some(variant) = variant {
            let _ = write!(self.path, ".{variant}");
        }
        Compound {
            finder: self,
            len,
            index: 0,
            key: String::new(),
        }
    }
}

/// A sequence, map, struct or variant being visited.
struct Compound<'a> {
    finder: &'a mut Finder,
    /// The path's length before this compound (its variant segment, if
    /// any, is removed at the end).
    len: usize,
    index: usize,
    key: String,
}

impl Compound<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        let index = self.index;
        self.index += 1;
        self.finder.within(format_args!("[{index}]"), value)
    }

    fn field<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<(), Stop> {
        self.finder.within(format_args!(".{name}"), value)
    }

    fn end(self) -> Result<(), Stop> {
        self.finder.path.truncate(self.len);
        Ok(())
    }
}

macro_rules! finite {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, _: $ty) -> Result<(), Stop> {
            Ok(())
        }
    )*};
}

impl<'a> ser::Serializer for &'a mut Finder {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    finite!(
        serialize_bool: bool,
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_i128: i128,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_u128: u128,
        serialize_char: char,
        serialize_str: &str,
        serialize_bytes: &[u8],
        serialize_unit_struct: &'static str
    );

    fn serialize_f32(self, v: f32) -> Result<(), Stop> {
        self.float(f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<(), Stop> {
        self.float(v)
    }

    fn serialize_none(self) -> Result<(), Stop> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Stop> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Stop> {
        Ok(())
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Stop> {
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.within(format_args!(".{variant}"), value)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Stop> {
        Ok(self.compound(None))
    }

    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>, Stop> {
        Ok(self.compound(None))
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Stop> {
        Ok(self.compound(None))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Stop> {
        Ok(self.compound(Some(variant)))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Stop> {
        Ok(self.compound(None))
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Stop> {
        Ok(self.compound(None))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Stop> {
        Ok(self.compound(Some(variant)))
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Stop;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.element(value)
    }

    fn end(self) -> Result<(), Stop> {
        Compound::end(self)
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Stop;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.element(value)
    }

    fn end(self) -> Result<(), Stop> {
        Compound::end(self)
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Stop;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.element(value)
    }

    fn end(self) -> Result<(), Stop> {
        Compound::end(self)
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = Stop;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.element(value)
    }

    fn end(self) -> Result<(), Stop> {
        Compound::end(self)
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Stop;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Stop> {
        // Only the path needs the key: as JSON, the way the payload shows it.
        self.key = serde_json::to_string(key).unwrap_or_else(|_| "?".to_string());
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        let key = std::mem::take(&mut self.key);
        self.finder.within(format_args!("[{key}]"), value)
    }

    fn end(self) -> Result<(), Stop> {
        Compound::end(self)
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Stop;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.field(name, value)
    }

    fn end(self) -> Result<(), Stop> {
        Compound::end(self)
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Stop;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.field(name, value)
    }

    fn end(self) -> Result<(), Stop> {
        Compound::end(self)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    enum Shape {
        Circle(f64),
        Rect { w: f64, h: f64 },
        Pair(f64, f32),
    }

    #[derive(Serialize)]
    struct Plot {
        name: String,
        shapes: Vec<Shape>,
        tags: BTreeMap<String, Option<f64>>,
        skipped: Option<f64>,
    }

    fn path_of<T: Serialize>(value: &T) -> Option<String> {
        find(value).map(|found| found.path)
    }

    #[test]
    fn paths_name_fields_indices_keys_and_variants() {
        let plot = |shapes, tag| {
            let mut tags = BTreeMap::new();
            tags.insert("ok".to_string(), Some(1.0));
            tags.insert("bad".to_string(), tag);
            Plot {
                name: "p".into(),
                shapes,
                tags,
                skipped: None,
            }
        };
        assert_eq!(path_of(&plot(vec![Shape::Circle(1.0)], None)), None);
        assert_eq!(
            path_of(&plot(
                vec![Shape::Circle(1.0), Shape::Circle(f64::NAN)],
                None
            ))
            .as_deref(),
            Some(".shapes[1].Circle")
        );
        assert_eq!(
            path_of(&plot(
                vec![Shape::Rect {
                    w: 1.0,
                    h: f64::INFINITY
                }],
                None
            ))
            .as_deref(),
            Some(".shapes[0].Rect.h")
        );
        assert_eq!(
            path_of(&plot(vec![Shape::Pair(0.0, f32::NAN)], None)).as_deref(),
            Some(".shapes[0].Pair[1]")
        );
        assert_eq!(
            path_of(&plot(vec![], Some(f64::NEG_INFINITY))).as_deref(),
            Some(".tags[\"bad\"]")
        );
        assert_eq!(path_of(&f64::NAN).as_deref(), Some(""));
    }

    #[test]
    fn the_message_says_what_and_where() {
        let found = find(&vec![1.0, f64::NEG_INFINITY]).unwrap();
        assert_eq!(found.value, f64::NEG_INFINITY);
        let text = found.to_string();
        assert!(
            text.starts_with("`[1]` is -inf, which JSON cannot hold"),
            "{text}"
        );
        let text = find(&f64::NAN).unwrap().to_string();
        assert!(text.starts_with("the value is NaN"), "{text}");
    }
}
