//! The response envelope (`tencent-api.md` §2.5): `{"Response":{…,"RequestId":"…"}}` for success
//! and `{"Response":{"Error":{"Code","Message"},"RequestId"}}` for errors, both sent with HTTP 200
//! and exactly [`CONTENT_TYPE`].
//!
//! Owns the envelope bytes only. Must not choose the RequestId (the caller makes a UUID) or the
//! HTTP status.

use serde_json::{Map, Value};

use crate::error::ApiError;

/// The reply `Content-Type`, exactly: the Python SDK ignores `Response.Error` under
/// `application/json; charset=utf-8` and reports success instead (§2.5, verified).
pub const CONTENT_TYPE: &str = "application/json";

/// [`success_body`] from `object`, the fields already serialized as one
/// compact JSON object (`{}` or `{"Name":…,…}`), which must not hold a
/// `RequestId`: the fields are copied once instead of going through a
/// [`Map`] (an allocation per key and value). Anything but an object gives
/// the body of an empty one.
pub fn success_body_json(object: &[u8], request_id: &str) -> Vec<u8> {
    let inner = match object {
        [b'{', inner @ .., b'}'] => inner,
        _ => &[],
    };
    let mut out = Vec::with_capacity(object.len() + request_id.len() + 32);
    out.extend_from_slice(b"{\"Response\":{");
    if !inner.is_empty() {
        out.extend_from_slice(inner);
        out.push(b',');
    }
    out.extend_from_slice(b"\"RequestId\":");
    // A string always serializes.
    if serde_json::to_writer(&mut out, request_id).is_err() {
        out.extend_from_slice(b"\"\"");
    }
    out.extend_from_slice(b"}}");
    out
}

/// `{"Response":{…fields…,"RequestId":"…"}}`. A `RequestId` among `fields` is replaced.
pub fn success_body(mut fields: Map<String, Value>, request_id: &str) -> Vec<u8> {
    fields.insert("RequestId".to_owned(), Value::String(request_id.to_owned()));
    wrap(fields)
}

/// `{"Response":{"Error":{"Code":"…","Message":"…"},"RequestId":"…"}}`.
pub fn error_body(err: &ApiError, request_id: &str) -> Vec<u8> {
    let mut error = Map::new();
    error.insert(
        "Code".to_owned(),
        Value::String(err.code.as_str().to_owned()),
    );
    error.insert("Message".to_owned(), Value::String(err.message.clone()));
    let mut response = Map::new();
    response.insert("Error".to_owned(), Value::Object(error));
    response.insert("RequestId".to_owned(), Value::String(request_id.to_owned()));
    wrap(response)
}

fn wrap(response: Map<String, Value>) -> Vec<u8> {
    let mut outer = Map::new();
    outer.insert("Response".to_owned(), Value::Object(response));
    // Serializing a map with string keys cannot fail; the fallback keeps that out of `expect`.
    serde_json::to_vec(&Value::Object(outer)).unwrap_or_else(|_| b"{\"Response\":{}}".to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RID: &str = "ed93f3cb-f35e-473f-b9f3-0d451b8b79c6";

    #[test]
    fn content_type_is_exact() {
        assert_eq!(CONTENT_TYPE, "application/json");
    }

    #[test]
    fn error_bytes() {
        let body = error_body(&ApiError::signature_failure(), RID);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"The provided credentials could not be validated. Please check your signature is correct."},"RequestId":"ed93f3cb-f35e-473f-b9f3-0d451b8b79c6"}}"#
        );
        let body = error_body(&ApiError::missing("StreamName"), RID);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["Response"]["Error"]["Code"], "MissingParameter");
        assert_eq!(v["Response"]["Error"]["Message"], "StreamName is required");
        assert_eq!(v["Response"]["RequestId"], RID);
    }

    #[test]
    fn success_bytes() {
        let mut fields = Map::new();
        fields.insert("DeprecatedWarning".to_owned(), json!("x"));
        assert_eq!(
            String::from_utf8(success_body(fields, RID)).unwrap(),
            r#"{"Response":{"DeprecatedWarning":"x","RequestId":"ed93f3cb-f35e-473f-b9f3-0d451b8b79c6"}}"#
        );
        assert_eq!(
            success_body(Map::new(), RID),
            br#"{"Response":{"RequestId":"ed93f3cb-f35e-473f-b9f3-0d451b8b79c6"}}"#.to_vec()
        );
        let mut fields = Map::new();
        fields.insert("TaskId".to_owned(), json!(1234567));
        fields.insert("RequestId".to_owned(), json!("spoofed"));
        let v: Value = serde_json::from_slice(&success_body(fields, RID)).unwrap();
        assert_eq!(
            v,
            json!({"Response": {"TaskId": 1234567, "RequestId": RID}})
        );
    }

    #[test]
    fn success_bytes_from_serialized_fields() {
        assert_eq!(
            success_body_json(br#"{"DeprecatedWarning":"x"}"#, RID),
            success_body(
                Map::from_iter([("DeprecatedWarning".to_owned(), json!("x"))]),
                RID
            )
        );
        assert_eq!(success_body_json(b"{}", RID), success_body(Map::new(), RID));
        for not_object in [&b""[..], b"[1]", b"\"x\"", b"{"] {
            assert_eq!(
                success_body_json(not_object, RID),
                success_body(Map::new(), RID)
            );
        }
        let nested = json!({"Total": 2, "List": [{"A": "\"q\"", "B": null}], "E": {}});
        let body = success_body_json(&serde_json::to_vec(&nested).unwrap(), "r\"1");
        let v: Value = serde_json::from_slice(&body).unwrap();
        let mut want = nested.clone();
        want["RequestId"] = json!("r\"1");
        assert_eq!(v, json!({ "Response": want }));
    }
}
