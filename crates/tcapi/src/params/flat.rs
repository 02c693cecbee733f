//! The flattened-key codec of query and form encodings (`tencent-api.md` §2.2): object fields as
//! `Parent.Field`, list items as `List.<0-based index>`.
//!
//! Owns both directions: `unflatten` (server side, from decoded pairs) and `flatten` (client side,
//! as the Python SDK's `_format_params` does). Must not coerce leaf types: leaves stay strings.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::ApiError;

/// The deepest key accepted by unflattening (`A.0.B` has depth 3). Tencent's deepest models
/// (mix layouts) need 4; the cap keeps a hostile `a.a.a.…` key from recursing without bound.
pub const MAX_PARAM_DEPTH: usize = 12;

/// The most `key=value` pairs one query or form call may carry, common parameters included.
/// Tencent's largest live models need a few hundred; the cap bounds what an anonymous body can
/// make the parser allocate. More → `RequestSizeLimitExceeded`.
pub const MAX_PARAMS: usize = 1024;

/// The largest list index accepted in a flattened key (`A.1023.B`): a list cannot have more items
/// than the call has parameters. A larger index → `InvalidParameter`, before anything is built.
pub const MAX_LIST_INDEX: usize = MAX_PARAMS - 1;

/// How much of a client's parameter name an error message quotes.
const SHOWN_NAME_BYTES: usize = 64;

enum Node {
    Leaf(String),
    Branch(BTreeMap<String, Node>),
}

pub(crate) fn unflatten<K, V>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Result<Map<String, Value>, ApiError>
where
    K: AsRef<str>,
    V: Into<String>,
{
    let mut root = BTreeMap::new();
    for (n, (key, value)) in pairs.into_iter().enumerate() {
        if n == MAX_PARAMS {
            return Err(too_many_params());
        }
        insert(&mut root, key.as_ref(), value.into())?;
    }
    root.into_iter()
        .map(|(k, node)| {
            let value = to_value(node, &k)?;
            Ok((k, value))
        })
        .collect()
}

/// `RequestSizeLimitExceeded` for a call with more than [`MAX_PARAMS`] pairs.
pub(crate) fn too_many_params() -> ApiError {
    ApiError::too_many("parameters", MAX_PARAMS, "MAX_PARAMS")
}

/// A client's parameter name as quoted in a message: at most [`SHOWN_NAME_BYTES`] bytes of it.
pub(crate) fn shown(key: &str) -> String {
    if key.len() <= SHOWN_NAME_BYTES {
        return key.to_owned();
    }
    let mut end = SHOWN_NAME_BYTES;
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &key[..end])
}

/// Whether a list-index segment is above [`MAX_LIST_INDEX`] (leading zeros are judged later).
fn index_too_large(segment: &str) -> bool {
    let significant = segment.trim_start_matches('0');
    significant.len() > 4
        || significant
            .parse::<usize>()
            .is_ok_and(|i| i > MAX_LIST_INDEX)
}

fn insert(root: &mut BTreeMap<String, Node>, key: &str, value: String) -> Result<(), ApiError> {
    let segments: Vec<&str> = key.split('.').take(MAX_PARAM_DEPTH + 1).collect();
    if segments.len() > MAX_PARAM_DEPTH {
        return Err(ApiError::invalid(format!(
            "parameter name {:?} is nested deeper than {MAX_PARAM_DEPTH} levels",
            shown(key)
        )));
    }
    let malformed = || ApiError::invalid(format!("parameter name {:?} is malformed", shown(key)));
    if segments.iter().any(|s| s.is_empty()) {
        return Err(malformed());
    }
    let indexes = segments.iter().skip(1);
    if let Some(index) = indexes
        .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        .find(|s| index_too_large(s))
    {
        return Err(ApiError::invalid(format!(
            "list index {} in parameter {:?} is larger than {MAX_LIST_INDEX} (MAX_LIST_INDEX)",
            shown(index),
            shown(key)
        )));
    }
    let Some((last, parents)) = segments.split_last() else {
        return Err(malformed());
    };
    let conflict = || {
        ApiError::invalid(format!(
            "parameter {} conflicts with another parameter",
            shown(key)
        ))
    };
    let mut map = root;
    for segment in parents {
        let node = map
            .entry((*segment).to_owned())
            .or_insert_with(|| Node::Branch(BTreeMap::new()));
        match node {
            Node::Branch(children) => map = children,
            Node::Leaf(_) => return Err(conflict()),
        }
    }
    if map.contains_key(*last) {
        return Err(match map.get(*last) {
            Some(Node::Leaf(_)) => {
                ApiError::invalid(format!("parameter {} is given more than once", shown(key)))
            }
            _ => conflict(),
        });
    }
    map.insert((*last).to_owned(), Node::Leaf(value));
    Ok(())
}

/// Converts a node; a branch whose keys are all digits becomes a list, which must be indexed
/// exactly `0..n` (no gaps, no leading zeros) so that one list has one spelling.
fn to_value(node: Node, path: &str) -> Result<Value, ApiError> {
    let children = match node {
        Node::Leaf(s) => return Ok(Value::String(s)),
        Node::Branch(children) => children,
    };
    let numeric = children
        .keys()
        .filter(|k| k.bytes().all(|b| b.is_ascii_digit()))
        .count();
    if numeric == 0 {
        let mut map = Map::new();
        for (k, child) in children {
            let value = to_value(child, &format!("{path}.{k}"))?;
            map.insert(k, value);
        }
        return Ok(Value::Object(map));
    }
    let bad_list = || {
        ApiError::invalid(format!(
            "list {} must be indexed 0, 1, 2, … without gaps",
            shown(path)
        ))
    };
    if numeric != children.len() {
        return Err(bad_list());
    }
    let mut indexed = Vec::with_capacity(children.len());
    for (k, child) in children {
        if k.len() > 1 && k.starts_with('0') {
            return Err(bad_list());
        }
        let index: usize = k.parse().map_err(|_| bad_list())?;
        indexed.push((index, k, child));
    }
    indexed.sort_by_key(|(index, _, _)| *index);
    let mut items = Vec::with_capacity(indexed.len());
    for (expected, (index, k, child)) in indexed.into_iter().enumerate() {
        if index != expected {
            return Err(bad_list());
        }
        items.push(to_value(child, &format!("{path}.{k}"))?);
    }
    Ok(Value::Array(items))
}

pub(crate) fn flatten(map: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in map {
        flatten_value(k.clone(), v, &mut out);
    }
    out
}

fn flatten_value(prefix: String, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push((prefix, b.to_string())),
        Value::Number(n) => out.push((prefix, n.to_string())),
        Value::String(s) => out.push((prefix, s.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten_value(format!("{prefix}.{i}"), item, out);
            }
        }
        Value::Object(m) => {
            for (k, v) in m {
                flatten_value(format!("{prefix}.{k}"), v, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::ErrorCode;
    use proptest::prelude::*;
    use serde_json::json;

    fn un(pairs: &[(&str, &str)]) -> Result<Value, ApiError> {
        unflatten(pairs.iter().copied()).map(Value::Object)
    }

    #[test]
    fn rebuilds_objects_lists_and_lists_of_objects() {
        assert_eq!(
            un(&[("FlvParam.Enable", "1")]).unwrap(),
            json!({"FlvParam": {"Enable": "1"}})
        );
        assert_eq!(
            un(&[("PushDomains.0", "a"), ("PushDomains.1", "b")]).unwrap(),
            json!({"PushDomains": ["a", "b"]})
        );
        assert_eq!(un(&[("A.0.B", "x")]).unwrap(), json!({"A": [{"B": "x"}]}));
        assert_eq!(
            un(&[("A.0.B", "x"), ("A.0.C", "y"), ("A.1.B", "z"), ("S", "")]).unwrap(),
            json!({"A": [{"B": "x", "C": "y"}, {"B": "z"}], "S": ""})
        );
        // indexes sort numerically, not as text
        let pairs: Vec<(String, String)> = (0..12)
            .rev()
            .map(|i| (format!("L.{i}"), i.to_string()))
            .collect();
        let v = unflatten(pairs).unwrap();
        assert_eq!(
            v["L"],
            json!(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"])
        );
        // a numeric top-level key is just a name
        assert_eq!(un(&[("0", "x")]).unwrap(), json!({"0": "x"}));
    }

    #[test]
    fn rejects_ambiguous_keys() {
        for pairs in [
            &[("A", "x"), ("A", "y")][..],
            &[("A", "x"), ("A.B", "y")],
            &[("A.B", "y"), ("A", "x")],
            &[("A.0", "x"), ("A.B", "y")],
            &[("A.1", "x")],
            &[("A.0", "x"), ("A.2", "x")],
            &[("A.00", "x")],
            &[("A.01", "x"), ("A.0", "x")],
            &[("A..B", "x")],
            &[(".A", "x")],
            &[("A.", "x")],
            &[("", "x")],
            &[("A.99999999999999999999999", "x")],
        ] {
            let e = un(pairs).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidParameter, "{pairs:?}");
        }
        let deep = vec!["a"; MAX_PARAM_DEPTH + 1].join(".");
        assert!(un(&[(deep.as_str(), "x")]).is_err());
        let ok = ["a"; MAX_PARAM_DEPTH].join(".");
        assert!(un(&[(ok.as_str(), "x")]).is_ok());
        let huge = "a.".repeat(20_000) + "a";
        assert!(un(&[(huge.as_str(), "x")]).is_err());
    }

    #[test]
    fn parameter_count_is_capped() {
        let pairs = |n: usize| (0..n).map(|i| (format!("P{i}"), String::new()));
        assert_eq!(unflatten(pairs(MAX_PARAMS)).unwrap().len(), MAX_PARAMS);
        let e = unflatten(pairs(MAX_PARAMS + 1)).unwrap_err();
        assert_eq!(e.code, ErrorCode::RequestSizeLimitExceeded);
        assert!(e.message.contains("MAX_PARAMS"), "{}", e.message);
        // the iterator is not drained past the cap
        let mut taken = 0;
        let endless = std::iter::repeat_with(|| {
            taken += 1;
            (format!("P{taken}"), String::new())
        });
        assert!(unflatten(endless).is_err());
    }

    #[test]
    fn list_indexes_are_capped() {
        let last = format!("A.{MAX_LIST_INDEX}.B");
        let pairs: Vec<(String, String)> = (0..=MAX_LIST_INDEX)
            .map(|i| (format!("A.{i}.B"), "x".to_owned()))
            .collect();
        assert!(pairs.iter().any(|(k, _)| *k == last));
        let v = unflatten(pairs).unwrap();
        assert_eq!(v["A"].as_array().map(Vec::len), Some(MAX_LIST_INDEX + 1));
        for key in [
            format!("A.{}", MAX_LIST_INDEX + 1),
            "A.99999999.B".to_owned(),
            format!("A.0.B.{}", "9".repeat(100_000)),
        ] {
            let e = un(&[(key.as_str(), "x")]).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidParameter, "{key}");
            assert!(e.message.contains("MAX_LIST_INDEX"), "{}", e.message);
            assert!(e.message.len() < 300, "the message quotes a bounded name");
        }
        // leading zeros are still one spelling too many, not an index overflow
        let e = un(&[("A.0000000000000", "x")]).unwrap_err();
        assert!(e.message.contains("without gaps"), "{}", e.message);
        // a numeric top-level name is not an index
        assert!(un(&[("99999999", "x")]).is_ok());
    }

    #[test]
    fn error_messages_quote_bounded_names() {
        let long = "é".repeat(100_000);
        for pairs in [
            vec![(long.clone(), "x"), (long.clone(), "y")],
            vec![(format!("{long}.."), "x")],
        ] {
            let e = unflatten(pairs).unwrap_err();
            assert!(e.message.len() < 300, "{}", e.message);
        }
    }

    #[test]
    fn flattens_like_the_python_sdk() {
        let Value::Object(m) = json!({
            "FlvParam": {"Enable": 1, "StorageTime": 0},
            "PushDomains": ["a", "b"],
            "A": [{"B": "x"}],
            "T": true, "N": null, "E": [], "O": {}
        }) else {
            unreachable!()
        };
        let mut pairs = flatten(&m);
        pairs.sort();
        let want: Vec<(String, String)> = [
            ("A.0.B", "x"),
            ("FlvParam.Enable", "1"),
            ("FlvParam.StorageTime", "0"),
            ("PushDomains.0", "a"),
            ("PushDomains.1", "b"),
            ("T", "true"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(pairs, want);
    }

    /// JSON-ish trees whose leaves are strings and whose containers are non-empty: exactly the
    /// values that survive a flatten → unflatten roundtrip.
    fn tree() -> impl Strategy<Value = Value> {
        let leaf = "[ -~]{0,8}".prop_map(Value::String);
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..4).prop_map(Value::Array),
                prop::collection::btree_map("[A-Za-z_][A-Za-z0-9_]{0,6}", inner, 1..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn flatten_unflatten_roundtrip(
            m in prop::collection::btree_map("[A-Za-z_][A-Za-z0-9_]{0,6}", tree(), 0..5)
        ) {
            let map: Map<String, Value> = m.into_iter().collect();
            let back = unflatten(flatten(&map)).unwrap();
            prop_assert_eq!(back, map);
        }

        #[test]
        fn unflatten_never_panics(pairs in prop::collection::vec(("[A-Za-z0-9.]{0,12}", ".{0,4}"), 0..8)) {
            let _ = unflatten(pairs);
        }
    }
}
