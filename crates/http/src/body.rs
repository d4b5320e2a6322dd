//! Strict JSON bodies: `application/json`, at most 64 KiB, an object, no unknown fields, and
//! every type error reported with the field it is in.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use actix_web::body::{BodyStream, to_bytes_limited};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use serde::de::{
    DeserializeOwned, DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor,
};
use serde_json::{Map, Value};

use crate::MAX_BODY_BYTES;
use crate::error::ApiError;

/// A request body that is a JSON object.
#[derive(Debug)]
pub struct JsonObject(pub Map<String, Value>);

/// A request body type: a struct whose fields, as serde names them, are the ones it accepts;
/// any other is refused by name.
pub trait Body: DeserializeOwned {
    /// The fields it accepts: serde's own list of the struct's fields (see [`fields`]).
    fn fields() -> &'static [&'static str] {
        fields::<Self>()
    }
}

/// The names of a struct's fields as its `Deserialize` knows them (after `rename_all`): what
/// it passes to `Deserializer::deserialize_struct`. Empty for a type that is not a struct.
pub fn fields<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields = None;
    let _ = T::deserialize(FieldNames(&mut fields));
    fields.unwrap_or(&[])
}

/// A deserializer that records the field names a struct asks for, and reads nothing.
struct FieldNames<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(Self::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(Self::Error::custom("only the field names are read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
        .unwrap_or(false)
}

fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// Parses bytes as a JSON object.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::malformed_json(
            "The body is empty; a JSON object is expected",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = Unique
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    match parsed {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::malformed_json("The body must be a JSON object")),
        Err(e) if e.is_data() => Err(ApiError::malformed_json(format!(
            "The body is not valid JSON: {e}"
        ))),
        Err(e) => Err(ApiError::malformed_json(format!(
            "The body is not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        ))),
    }
}

/// Reads any JSON value, refusing an object that names a key twice (at any depth): which of
/// the two a reader would take is a guess, so neither is taken. Nesting stays bounded by
/// serde_json's recursion limit.
struct Unique;

impl<'de> DeserializeSeed<'de> for Unique {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Unique {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Unique)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(A::Error::custom(format_args!(
                    "the key `{key}` appears twice"
                )));
            }
            let value = map.next_value_seed(Unique)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

impl FromRequest for JsonObject {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let checked = if !is_json(req) {
            Err(ApiError::unsupported_media_type())
        } else if declared_length(req).is_some_and(|len| len > MAX_BODY_BYTES) {
            Err(ApiError::payload_too_large())
        } else {
            Ok(BodyStream::new(payload.take()))
        };
        Box::pin(async move {
            let bytes = match to_bytes_limited(checked?, MAX_BODY_BYTES).await {
                Ok(Ok(bytes)) => bytes,
                Ok(Err(_)) => return Err(ApiError::malformed_json("The body could not be read")),
                Err(_) => return Err(ApiError::payload_too_large()),
            };
            parse_object(&bytes).map(JsonObject)
        })
    }
}

/// A body that may be absent: no body and no content type is `None`; anything else must be
/// a JSON object, as for [`JsonObject`].
#[derive(Debug)]
pub struct OptionalJsonObject(pub Option<JsonObject>);

impl FromRequest for OptionalJsonObject {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let empty = req.headers().get(header::CONTENT_TYPE).is_none()
            && declared_length(req).is_none_or(|len| len == 0);
        if empty {
            return Box::pin(std::future::ready(Ok(Self(None))));
        }
        let object = JsonObject::from_request(req, payload);
        Box::pin(async move { object.await.map(|o| Self(Some(o))) })
    }
}

impl JsonObject {
    /// The body as canonical text (keys sorted, no spaces): what an idempotency key is bound to.
    pub fn canonical(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }

    /// Decodes into `T`, refusing unknown fields (each reported) and wrong types (with the
    /// path of the offending value, e.g. `allergens[1]`).
    pub fn decode<T: Body>(self) -> Result<T, ApiError> {
        let unknown: Vec<&String> = self
            .0
            .keys()
            .filter(|key| !T::fields().contains(&key.as_str()))
            .collect();
        if !unknown.is_empty() {
            let mut errors = customers_domain::validation::ValidationErrors::new();
            for key in unknown {
                errors.add(key.clone(), "is not a known field");
            }
            return Err(ApiError::validation(&errors));
        }
        let mut errors = customers_domain::validation::ValidationErrors::new();
        for (key, value) in &self.0 {
            refuse_nul(key.clone(), value, &mut errors);
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(&errors));
        }
        serde_path_to_error::deserialize(Value::Object(self.0)).map_err(|e| {
            let field = e.path().to_string();
            let message = e.inner().to_string();
            ApiError::invalid_field(field, describe(&message))
        })
    }
}

/// Text never holds U+0000: PostgreSQL cannot store or even compare it, so a string with one
/// is refused up front (422 on its field) instead of failing in the database.
fn refuse_nul(
    path: String,
    value: &Value,
    errors: &mut customers_domain::validation::ValidationErrors,
) {
    match value {
        Value::String(s) if s.contains('\0') => errors.add(path, NUL_MESSAGE),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                refuse_nul(format!("{path}[{i}]"), item, errors);
            }
        }
        Value::Object(fields) => {
            for (key, field) in fields {
                refuse_nul(format!("{path}.{key}"), field, errors);
            }
        }
        _ => {}
    }
}

pub(crate) const NUL_MESSAGE: &str = "must not contain the NUL character (U+0000)";

/// serde's messages, without its position suffix.
fn describe(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// `T` where JSON `null` and an absent field mean different things (PATCH).
pub mod patch {
    use customers_domain::customer::Patch;
    use serde::{Deserialize, Deserializer};

    /// Use with `#[serde(default, deserialize_with = "patch::field")]`: absent stays
    /// `Unchanged` (the default), `null` is `Clear`, a value is `Set`.
    pub fn field<'de, D, T>(deserializer: D) -> Result<Patch<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Ok(match Option::<T>::deserialize(deserializer)? {
            None => Patch::Clear,
            Some(value) => Patch::Set(value),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "camelCase")]
    struct Sample {
        first_name: Option<String>,
        tags: Option<Vec<String>>,
    }

    impl Body for Sample {}

    #[test]
    fn fields_are_serdes_names_of_a_struct() {
        assert_eq!(Sample::fields(), ["firstName", "tags"]);
        assert!(fields::<Vec<String>>().is_empty());
        assert!(fields::<String>().is_empty());
    }

    fn object(json: &str) -> JsonObject {
        JsonObject(parse_object(json.as_bytes()).unwrap())
    }

    #[test]
    fn refuses_what_is_not_an_object() {
        for body in ["", "  ", "[]", "3", "\"x\"", "{", "{\"a\":}", "null"] {
            let error = parse_object(body.as_bytes()).unwrap_err();
            assert_eq!(error.code, "MALFORMED_JSON", "{body:?}");
        }
    }

    #[test]
    fn refuses_a_key_given_twice_at_any_depth() {
        for body in [
            r#"{"firstName":"a","firstName":"b"}"#,
            r#"{"items":[{"id":1,"id":2}]}"#,
            r#"{"a":{"b":{"c":1,"c":1}}}"#,
        ] {
            let error = parse_object(body.as_bytes()).unwrap_err();
            assert_eq!(error.code, "MALFORMED_JSON", "{body}");
            assert!(error.message.contains("appears twice"), "{}", error.message);
        }
        let fine = parse_object(br#"{"a":{"x":1},"b":{"x":1},"c":[{"x":1},{"x":2}]}"#).unwrap();
        assert_eq!(fine.len(), 3);
    }

    #[test]
    fn keeps_numbers_and_refuses_trailing_data() {
        let map = parse_object(br#"{"i":-3,"u":18446744073709551615,"f":1.5,"n":null}"#).unwrap();
        assert_eq!(map["i"], Value::from(-3));
        assert_eq!(map["u"], Value::from(u64::MAX));
        assert_eq!(map["f"], Value::from(1.5));
        assert_eq!(map["n"], Value::Null);
        assert!(parse_object(br#"{"a":1} {"b":2}"#).is_err());
    }

    #[test]
    fn names_every_unknown_field() {
        let error = object(r#"{"firstName":"a","isBlocked":true,"x":1}"#)
            .decode::<Sample>()
            .unwrap_err();
        assert_eq!(error.code, "VALIDATION_FAILED");
        let fields: Vec<_> = error.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["isBlocked", "x"]);
    }

    #[test]
    fn names_the_field_of_a_type_error() {
        let error = object(r#"{"tags":["a",2]}"#)
            .decode::<Sample>()
            .unwrap_err();
        assert_eq!(error.details[0].field, "tags[1]");
        assert!(!error.details[0].message.contains("line"));
        let error = object(r#"{"firstName":5}"#).decode::<Sample>().unwrap_err();
        assert_eq!(error.details[0].field, "firstName");
    }

    #[test]
    fn refuses_nul_characters_by_field() {
        let error = object(r#"{"firstName":"a\u0000","tags":["ok","b\u0000"]}"#)
            .decode::<Sample>()
            .unwrap_err();
        assert_eq!(error.code, "VALIDATION_FAILED");
        let fields: Vec<_> = error.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["firstName", "tags[1]"]);
    }

    #[test]
    fn decodes_known_fields() {
        let sample = object(r#"{"firstName":"Maria"}"#)
            .decode::<Sample>()
            .unwrap();
        assert_eq!(sample.first_name.as_deref(), Some("Maria"));
        assert!(sample.tags.is_none());
    }
}
