//! The TC3 POST body codec: a bounded pre-scan of the raw bytes, then `serde_json`.
//!
//! Owns [`MAX_JSON_DEPTH`] and [`MAX_JSON_ELEMENTS`]. The pre-scan is one O(n) pass without
//! allocation that counts brackets and commas outside strings, so a hostile body (`[1,1,1,…]`,
//! `[[[[…]]]]`) is refused before `serde_json` builds anything: what is built stays within a small
//! multiple of the body. Must not coerce types: the object is kept as sent.

use serde_json::{Map, Value};

use crate::error::ApiError;

/// The deepest nesting of arrays and objects accepted in a JSON body (`{"A":[{"B":1}]}` has
/// depth 3). Tencent's deepest live models need 4; `serde_json` alone would allow 128.
/// Deeper → `InvalidParameter`.
pub const MAX_JSON_DEPTH: usize = 32;

// Our cap must bind before `serde_json`'s recursion limit (128) does.
const _: () = assert!(MAX_JSON_DEPTH < 128);

/// The most values (object members, array items and the root) a JSON body may hold, counted as
/// one plus the number of `[`, `{` and `,` outside strings, an upper bound of the real count.
/// More → `RequestSizeLimitExceeded`.
pub const MAX_JSON_ELEMENTS: usize = 4096;

/// Parses a JSON object body; an empty (or all-whitespace) body means no parameters.
pub(crate) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    prescan(body)?;
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::invalid("request body is not a JSON object")),
    }
}

/// Refuses a body nested deeper than [`MAX_JSON_DEPTH`] or holding more than
/// [`MAX_JSON_ELEMENTS`] values. Malformed JSON passes; `serde_json` reports it.
fn prescan(body: &[u8]) -> Result<(), ApiError> {
    let mut depth = 0_usize;
    let mut elements = 1_usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in body {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(ApiError::invalid(format!(
                        "request body is nested deeper than {MAX_JSON_DEPTH} levels (MAX_JSON_DEPTH)"
                    )));
                }
                elements += 1;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => elements += 1,
            _ => {}
        }
        if elements > MAX_JSON_ELEMENTS {
            return Err(ApiError::too_many(
                "JSON elements",
                MAX_JSON_ELEMENTS,
                "MAX_JSON_ELEMENTS",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::ErrorCode;
    use serde_json::json;

    fn nested(depth: usize) -> String {
        format!(
            "{{\"A\":{}1{}}}",
            "[".repeat(depth - 1),
            "]".repeat(depth - 1)
        )
    }

    #[test]
    fn depth_is_capped_below_serde_json_recursion_limit() {
        let ok = parse_object(nested(MAX_JSON_DEPTH).as_bytes()).unwrap();
        assert!(ok.contains_key("A"));
        let e = parse_object(nested(MAX_JSON_DEPTH + 1).as_bytes()).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParameter);
        assert!(e.message.contains("MAX_JSON_DEPTH"), "{}", e.message);
        // far deeper than serde_json's own limit: refused by us, in one pass
        let deep = "[".repeat(1_000_000);
        let e = parse_object(format!("{{\"A\":{deep}").as_bytes()).unwrap_err();
        assert!(e.message.contains("MAX_JSON_DEPTH"), "{}", e.message);
        // brackets inside strings, escaped quotes included, do not count
        let s = format!(r#"{{"A":"\"{}"}}"#, "[".repeat(MAX_JSON_DEPTH * 2));
        assert_eq!(
            Value::Object(parse_object(s.as_bytes()).unwrap()),
            json!({"A": format!("\"{}", "[".repeat(MAX_JSON_DEPTH * 2))})
        );
    }

    #[test]
    fn elements_are_capped() {
        let list = |n: usize| format!("{{\"L\":[{}]}}", vec!["1"; n].join(","));
        // root + object + list: the bound counts 1 + 2 opens + (n - 1) commas
        let ok = parse_object(list(MAX_JSON_ELEMENTS - 2).as_bytes()).unwrap();
        assert_eq!(
            ok["L"].as_array().map(Vec::len),
            Some(MAX_JSON_ELEMENTS - 2)
        );
        let e = parse_object(list(MAX_JSON_ELEMENTS - 1).as_bytes()).unwrap_err();
        assert_eq!(e.code, ErrorCode::RequestSizeLimitExceeded);
        assert!(e.message.contains("MAX_JSON_ELEMENTS"), "{}", e.message);
        let members: Vec<String> = (0..MAX_JSON_ELEMENTS)
            .map(|i| format!("\"k{i}\":0"))
            .collect();
        let e = parse_object(format!("{{{}}}", members.join(",")).as_bytes()).unwrap_err();
        assert_eq!(e.code, ErrorCode::RequestSizeLimitExceeded);
        // commas inside strings do not count
        let s = format!("{{\"A\":\"{}\"}}", ",".repeat(MAX_JSON_ELEMENTS * 2));
        assert!(parse_object(s.as_bytes()).is_ok());
    }

    #[test]
    fn empty_and_malformed_bodies() {
        assert!(parse_object(b" \n").unwrap().is_empty());
        for body in [&b"]]]]"[..], b"{\"a\":\"", b"\"\\", b"[1,2]"] {
            let e = parse_object(body).unwrap_err();
            assert_eq!(e.message, "request body is not a JSON object");
        }
    }
}
