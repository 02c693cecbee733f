//! Action parameters: the JSON object an action reads its fields from, and typed accessors that
//! turn a wrong type into the right API error.
//!
//! Owns the coercion rules: query and form encodings deliver every leaf as a string
//! (`tencent-api.md` §1.1 "Wire types", §2.2), so integer and boolean accessors accept decimal
//! strings as well as JSON numbers and booleans. The flattened-key codec lives in `params/flat.rs`,
//! the bounded JSON body codec in `params/json.rs`.
//! Must not know which action needs which field.

use serde_json::{Map, Value};

use crate::error::ApiError;

mod flat;
mod json;

pub use flat::{MAX_LIST_INDEX, MAX_PARAM_DEPTH, MAX_PARAMS};
pub use json::{MAX_JSON_DEPTH, MAX_JSON_ELEMENTS};

pub(crate) use flat::too_many_params;

/// The parameters of one action call: a JSON object.
///
/// Built from a TC3 JSON body as-is, or from query/form pairs with flattened keys rebuilt:
/// `FlvParam.Enable=1` → `{"FlvParam":{"Enable":"1"}}`, `PushDomains.0=a&PushDomains.1=b` →
/// `{"PushDomains":["a","b"]}`, `A.0.B=x` → `{"A":[{"B":"x"}]}` (leaves stay strings, 0-based
/// indexes). Unknown fields are kept and simply never read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Params(Map<String, Value>);

impl Params {
    /// Parses a TC3 POST body: a JSON object, or nothing for an empty body. Fails with
    /// `InvalidParameter` on anything else or on nesting deeper than [`MAX_JSON_DEPTH`], and with
    /// `RequestSizeLimitExceeded` on more than [`MAX_JSON_ELEMENTS`] values.
    pub fn from_json(body: &[u8]) -> Result<Params, ApiError> {
        json::parse_object(body).map(Params)
    }

    /// Wraps a JSON object.
    pub fn from_map(map: Map<String, Value>) -> Params {
        Params(map)
    }

    /// Rebuilds nested parameters from flattened `key=value` pairs (already URL-decoded).
    ///
    /// Fails with `InvalidParameter` on a duplicate key, a key that is both a leaf and a parent,
    /// list indexes that are not `0..n` or above [`MAX_LIST_INDEX`], an empty key segment, or
    /// nesting deeper than [`MAX_PARAM_DEPTH`]; with `RequestSizeLimitExceeded` on more than
    /// [`MAX_PARAMS`] pairs.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Params, ApiError>
    where
        K: AsRef<str>,
        V: Into<String>,
    {
        flat::unflatten(pairs).map(Params)
    }

    /// Flattens to `key=value` pairs the way the official SDKs encode query and form requests
    /// (numbers and booleans as text, nulls and empty containers omitted).
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        flat::flatten(&self.0)
    }

    /// The underlying JSON object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// Consumes the parameters, returning the JSON object.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }

    /// The value of `name`, treating JSON `null` as absent.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self.0.get(name) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    /// A string field; absent or `null` → `None`; any other type → `InvalidParameter`.
    pub fn str_opt(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid(format!("{name} must be a string"))),
        }
    }

    /// A required string field; absent or `null` → `MissingParameter`.
    pub fn str_req(&self, name: &str) -> Result<String, ApiError> {
        self.str_opt(name)?.ok_or_else(|| ApiError::missing(name))
    }

    /// A signed integer field: a JSON integer or a string of decimal digits (optionally with a
    /// leading `-`). Floats, other text, booleans and out-of-range values → `InvalidParameter`.
    pub fn i64_opt(&self, name: &str) -> Result<Option<i64>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let parsed = match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => {
                let digits = s.strip_prefix('-').unwrap_or(s);
                if is_decimal(digits) {
                    s.parse::<i64>().ok()
                } else {
                    None
                }
            }
            _ => None,
        };
        parsed.map(Some).ok_or_else(|| ApiError::not_integer(name))
    }

    /// A required signed integer field (see [`Params::i64_opt`]).
    pub fn i64_req(&self, name: &str) -> Result<i64, ApiError> {
        self.i64_opt(name)?.ok_or_else(|| ApiError::missing(name))
    }

    /// An unsigned integer field: a JSON integer ≥ 0 or a string of decimal digits.
    pub fn u64_opt(&self, name: &str) -> Result<Option<u64>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let parsed = match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) if is_decimal(s) => s.parse::<u64>().ok(),
            _ => None,
        };
        parsed.map(Some).ok_or_else(|| ApiError::not_integer(name))
    }

    /// A required unsigned integer field (see [`Params::u64_opt`]).
    pub fn u64_req(&self, name: &str) -> Result<u64, ApiError> {
        self.u64_opt(name)?.ok_or_else(|| ApiError::missing(name))
    }

    /// A boolean field: JSON `true`/`false`, the integers 0/1, or the strings `true`/`false`
    /// (any case: the Python SDK form-encodes `True`) and `1`/`0`.
    pub fn bool_opt(&self, name: &str) -> Result<Option<bool>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let parsed = match v {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => match n.as_u64() {
                Some(0) => Some(false),
                Some(1) => Some(true),
                _ => None,
            },
            Value::String(s) if s.eq_ignore_ascii_case("true") || s == "1" => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") || s == "0" => Some(false),
            _ => None,
        };
        parsed
            .map(Some)
            .ok_or_else(|| ApiError::invalid(format!("{name} must be a boolean")))
    }

    /// A list of strings (a JSON array, or the unflattened `Name.0=…&Name.1=…` form).
    pub fn str_list_opt(&self, name: &str) -> Result<Option<Vec<String>>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let err = || ApiError::invalid(format!("{name} must be a list of strings"));
        let Value::Array(items) = v else {
            return Err(err());
        };
        items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                _ => Err(err()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A nested object, e.g. `FlvParam`.
    pub fn object_opt(&self, name: &str) -> Result<Option<Params>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(Params(m.clone()))),
            Some(_) => Err(ApiError::invalid(format!("{name} must be an object"))),
        }
    }

    /// A required nested object.
    pub fn object_req(&self, name: &str) -> Result<Params, ApiError> {
        self.object_opt(name)?
            .ok_or_else(|| ApiError::missing(name))
    }

    /// A list of objects, e.g. `InputStreamList`.
    pub fn object_list_opt(&self, name: &str) -> Result<Option<Vec<Params>>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let err = || ApiError::invalid(format!("{name} must be a list of objects"));
        let Value::Array(items) = v else {
            return Err(err());
        };
        items
            .iter()
            .map(|item| match item {
                Value::Object(m) => Ok(Params(m.clone())),
                _ => Err(err()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

impl From<Map<String, Value>> for Params {
    fn from(map: Map<String, Value>) -> Params {
        Params(map)
    }
}

fn is_decimal(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::ErrorCode;
    use serde_json::json;

    fn params(v: Value) -> Params {
        match v {
            Value::Object(m) => Params::from_map(m),
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn strings() {
        let p = params(json!({"A": "x", "N": null, "I": 5}));
        assert_eq!(p.str_opt("A").unwrap(), Some("x".to_owned()));
        assert_eq!(p.str_opt("N").unwrap(), None);
        assert_eq!(p.str_opt("Z").unwrap(), None);
        let e = p.str_opt("I").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParameter);
        assert_eq!(e.message, "I must be a string");
        assert_eq!(p.str_req("A").unwrap(), "x");
        let e = p.str_req("StreamName").unwrap_err();
        assert_eq!(e.code, ErrorCode::MissingParameter);
        assert_eq!(e.message, "StreamName is required");
        assert_eq!(
            p.str_req("N").unwrap_err().code,
            ErrorCode::MissingParameter
        );
    }

    #[test]
    fn integers_accept_numbers_and_digit_strings() {
        let p = params(json!({
            "Num": 1700000000, "Str": "1700000000", "Neg": -5, "NegStr": "-5",
            "Float": 1.0, "Abc": "abc", "Bool": true, "Empty": "", "Plus": "+5",
            "Big": "99999999999999999999", "BigNum": 18446744073709551615u64, "Space": " 1"
        }));
        assert_eq!(p.i64_opt("Num").unwrap(), Some(1_700_000_000));
        assert_eq!(p.i64_opt("Str").unwrap(), Some(1_700_000_000));
        assert_eq!(p.i64_opt("Neg").unwrap(), Some(-5));
        assert_eq!(p.i64_opt("NegStr").unwrap(), Some(-5));
        assert_eq!(p.i64_opt("Missing").unwrap(), None);
        assert_eq!(p.u64_opt("Str").unwrap(), Some(1_700_000_000));
        assert_eq!(p.u64_opt("BigNum").unwrap(), Some(u64::MAX));
        assert_eq!(p.u64_req("Num").unwrap(), 1_700_000_000);
        assert_eq!(p.i64_req("Str").unwrap(), 1_700_000_000);
        for bad in [
            "Float", "Abc", "Bool", "Empty", "Plus", "Big", "BigNum", "Space",
        ] {
            let e = p.i64_opt(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidParameter, "{bad}");
            assert_eq!(e.message, format!("{bad} must be an integer"));
        }
        for bad in ["Neg", "NegStr", "Float", "Abc", "Big"] {
            assert_eq!(
                p.u64_opt(bad).unwrap_err().code,
                ErrorCode::InvalidParameter,
                "{bad}"
            );
        }
        assert_eq!(
            p.i64_req("TaskId").unwrap_err().message,
            "TaskId is required"
        );
        assert_eq!(
            p.u64_req("TaskId").unwrap_err().code,
            ErrorCode::MissingParameter
        );
    }

    #[test]
    fn booleans() {
        let p = params(json!({
            "T": true, "F": false, "S1": "1", "S0": "0", "St": "true", "Py": "True",
            "Sf": "FALSE", "N1": 1, "N0": 0, "N2": 2, "X": "yes"
        }));
        for (k, want) in [
            ("T", true),
            ("F", false),
            ("S1", true),
            ("S0", false),
            ("St", true),
            ("Py", true),
            ("Sf", false),
            ("N1", true),
            ("N0", false),
        ] {
            assert_eq!(p.bool_opt(k).unwrap(), Some(want), "{k}");
        }
        assert_eq!(p.bool_opt("Missing").unwrap(), None);
        assert_eq!(
            p.bool_opt("N2").unwrap_err().message,
            "N2 must be a boolean"
        );
        assert_eq!(
            p.bool_opt("X").unwrap_err().code,
            ErrorCode::InvalidParameter
        );
    }

    #[test]
    fn lists_and_objects() {
        let p = params(json!({
            "L": ["a", "b"], "Mixed": ["a", 1], "S": "a",
            "O": {"Enable": "1"}, "OL": [{"B": "x"}], "BadOL": ["x"]
        }));
        assert_eq!(
            p.str_list_opt("L").unwrap(),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(p.str_list_opt("Missing").unwrap(), None);
        assert_eq!(
            p.str_list_opt("Mixed").unwrap_err().message,
            "Mixed must be a list of strings"
        );
        assert!(p.str_list_opt("S").is_err());
        let o = p.object_opt("O").unwrap().unwrap();
        assert_eq!(o.u64_opt("Enable").unwrap(), Some(1));
        assert_eq!(
            p.object_opt("S").unwrap_err().message,
            "S must be an object"
        );
        assert_eq!(
            p.object_req("Missing").unwrap_err().code,
            ErrorCode::MissingParameter
        );
        let ol = p.object_list_opt("OL").unwrap().unwrap();
        assert_eq!(ol.len(), 1);
        assert_eq!(ol[0].str_req("B").unwrap(), "x");
        assert!(p.object_list_opt("BadOL").is_err());
    }

    #[test]
    fn accessors_work_on_unflattened_pairs() {
        let p = Params::from_pairs([
            ("PushDomains.0", "a"),
            ("PushDomains.1", "b"),
            ("FlvParam.Enable", "1"),
            ("FlvParam.RecordInterval", "1800"),
            ("TaskId", "1234567"),
        ])
        .unwrap();
        assert_eq!(
            p.str_list_opt("PushDomains").unwrap(),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        let flv = p.object_req("FlvParam").unwrap();
        assert_eq!(flv.bool_opt("Enable").unwrap(), Some(true));
        assert_eq!(flv.i64_req("RecordInterval").unwrap(), 1800);
        assert_eq!(p.i64_req("TaskId").unwrap(), 1_234_567);
        assert_eq!(p.str_req("TaskId").unwrap(), "1234567");
    }
}
