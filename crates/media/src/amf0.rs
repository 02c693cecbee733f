//! AMF0 values (Action Message Format 0, Adobe "AMF0 File Format
//! Specification"), used by RTMP commands and by FLV script data
//! (`onMetaData`). Decoding is bounded: nesting depth is capped and no
//! allocation is sized from an untrusted count.

use thiserror::Error;

/// Deepest nesting of objects/arrays accepted from input.
pub const MAX_DEPTH: usize = 32;

/// Most values (nested ones included) one [`decode`] or [`decode_all`]
/// builds. A decoded value takes tens of bytes where the input spends one
/// (a `null` marker), so without a cap a 16 MiB data message would cost
/// the best part of a gigabyte; real commands and metadata hold dozens.
pub const MAX_ELEMENTS: usize = 4096;

/// AMF0 type markers (AMF0 spec §2.1).
mod marker {
    pub(super) const NUMBER: u8 = 0x00;
    pub(super) const BOOLEAN: u8 = 0x01;
    pub(super) const STRING: u8 = 0x02;
    pub(super) const OBJECT: u8 = 0x03;
    pub(super) const MOVIECLIP: u8 = 0x04;
    pub(super) const NULL: u8 = 0x05;
    pub(super) const UNDEFINED: u8 = 0x06;
    pub(super) const REFERENCE: u8 = 0x07;
    pub(super) const ECMA_ARRAY: u8 = 0x08;
    pub(super) const OBJECT_END: u8 = 0x09;
    pub(super) const STRICT_ARRAY: u8 = 0x0A;
    pub(super) const DATE: u8 = 0x0B;
    pub(super) const LONG_STRING: u8 = 0x0C;
    pub(super) const UNSUPPORTED: u8 = 0x0D;
    pub(super) const XML_DOCUMENT: u8 = 0x0F;
    pub(super) const TYPED_OBJECT: u8 = 0x10;
}

/// One AMF0 value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// IEEE-754 double.
    Number(f64),
    /// Boolean.
    Boolean(bool),
    /// UTF-8 string (short or long form on the wire; invalid UTF-8 is
    /// replaced lossily).
    String(String),
    /// Anonymous object: ordered properties.
    Object(Vec<(String, Value)>),
    /// Null.
    Null,
    /// Undefined.
    Undefined,
    /// ECMA (associative) array: ordered properties.
    EcmaArray(Vec<(String, Value)>),
    /// Strict (dense) array.
    StrictArray(Vec<Value>),
    /// Date: milliseconds since the epoch (the time-zone field is ignored).
    Date(f64),
    /// Reference to an earlier complex value, by index (not resolved).
    Reference(u16),
    /// Typed object: class name and properties.
    TypedObject(String, Vec<(String, Value)>),
    /// XML document text.
    Xml(String),
    /// The "unsupported" marker.
    Unsupported,
}

impl Value {
    /// The number, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::Xml(s) => Some(s),
            _ => None,
        }
    }

    /// The properties, if this is an object, typed object or ECMA array.
    pub fn properties(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Object(p) | Value::EcmaArray(p) | Value::TypedObject(_, p) => Some(p),
            _ => None,
        }
    }

    /// Property `key` of an object-like value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.properties()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

/// Why AMF0 input could not be decoded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Amf0Error {
    /// The input ended inside a value.
    #[error("AMF0 input ended inside a value")]
    Truncated,
    /// An unknown or unsupported type marker.
    #[error("unsupported AMF0 type marker 0x{0:02x}")]
    UnknownMarker(u8),
    /// Objects or arrays nested deeper than [`MAX_DEPTH`].
    #[error("AMF0 nesting deeper than {MAX_DEPTH}")]
    TooDeep,
    /// More than [`MAX_ELEMENTS`] values.
    #[error("more than {MAX_ELEMENTS} AMF0 values")]
    TooManyElements,
}

/// Decodes one value from the front of `input`, advancing it.
pub fn decode(input: &mut &[u8]) -> Result<Value, Amf0Error> {
    let mut budget = MAX_ELEMENTS;
    decode_depth(input, 0, &mut budget)
}

/// Decodes every value in `input` (at most [`MAX_ELEMENTS`] in all).
pub fn decode_all(mut input: &[u8]) -> Result<Vec<Value>, Amf0Error> {
    let mut out = Vec::new();
    let mut budget = MAX_ELEMENTS;
    while !input.is_empty() {
        out.push(decode_depth(&mut input, 0, &mut budget)?);
    }
    Ok(out)
}

fn take<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8], Amf0Error> {
    if input.len() < n {
        return Err(Amf0Error::Truncated);
    }
    let (head, tail) = input.split_at(n);
    *input = tail;
    Ok(head)
}

fn read_u8(input: &mut &[u8]) -> Result<u8, Amf0Error> {
    Ok(take(input, 1)?[0])
}

fn read_u16(input: &mut &[u8]) -> Result<u16, Amf0Error> {
    let b = take(input, 2)?;
    Ok(u16::from_be_bytes([b[0], b[1]]))
}

fn read_u32(input: &mut &[u8]) -> Result<u32, Amf0Error> {
    let b = take(input, 4)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn read_f64(input: &mut &[u8]) -> Result<f64, Amf0Error> {
    let b = take(input, 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Ok(f64::from_be_bytes(a))
}

fn read_utf8(input: &mut &[u8], len: usize) -> Result<String, Amf0Error> {
    Ok(String::from_utf8_lossy(take(input, len)?).into_owned())
}

fn read_short_string(input: &mut &[u8]) -> Result<String, Amf0Error> {
    let len = read_u16(input)? as usize;
    read_utf8(input, len)
}

fn read_long_string(input: &mut &[u8]) -> Result<String, Amf0Error> {
    let len = read_u32(input)? as usize;
    read_utf8(input, len)
}

/// Reads `key value` pairs up to the empty-key + object-end marker.
fn read_properties(
    input: &mut &[u8],
    depth: usize,
    budget: &mut usize,
) -> Result<Vec<(String, Value)>, Amf0Error> {
    let mut props = Vec::new();
    loop {
        let key = read_short_string(input)?;
        if key.is_empty() && input.first() == Some(&marker::OBJECT_END) {
            *input = &input[1..];
            return Ok(props);
        }
        let value = decode_depth(input, depth + 1, budget)?;
        props.push((key, value));
    }
}

fn decode_depth(input: &mut &[u8], depth: usize, budget: &mut usize) -> Result<Value, Amf0Error> {
    if depth > MAX_DEPTH {
        return Err(Amf0Error::TooDeep);
    }
    *budget = budget.checked_sub(1).ok_or(Amf0Error::TooManyElements)?;
    let m = read_u8(input)?;
    Ok(match m {
        marker::NUMBER => Value::Number(read_f64(input)?),
        marker::BOOLEAN => Value::Boolean(read_u8(input)? != 0),
        marker::STRING => Value::String(read_short_string(input)?),
        marker::OBJECT => Value::Object(read_properties(input, depth, budget)?),
        marker::NULL => Value::Null,
        marker::UNDEFINED => Value::Undefined,
        marker::REFERENCE => Value::Reference(read_u16(input)?),
        marker::ECMA_ARRAY => {
            // The count is only a hint (encoders get it wrong); the end
            // marker terminates the array.
            let _count = read_u32(input)?;
            Value::EcmaArray(read_properties(input, depth, budget)?)
        }
        marker::STRICT_ARRAY => {
            let count = read_u32(input)?;
            let mut items = Vec::new();
            for _ in 0..count {
                items.push(decode_depth(input, depth + 1, budget)?);
            }
            Value::StrictArray(items)
        }
        marker::DATE => {
            let ms = read_f64(input)?;
            let _tz = read_u16(input)?;
            Value::Date(ms)
        }
        marker::LONG_STRING => Value::String(read_long_string(input)?),
        marker::UNSUPPORTED => Value::Unsupported,
        marker::XML_DOCUMENT => Value::Xml(read_long_string(input)?),
        marker::TYPED_OBJECT => {
            let class = read_short_string(input)?;
            Value::TypedObject(class, read_properties(input, depth, budget)?)
        }
        // MovieClip is reserved and not supported (AMF0 spec §2.6).
        marker::MOVIECLIP => return Err(Amf0Error::UnknownMarker(m)),
        other => return Err(Amf0Error::UnknownMarker(other)),
    })
}

/// Appends the encoding of `value` to `out`.
pub fn encode(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Number(n) => {
            out.push(marker::NUMBER);
            out.extend_from_slice(&n.to_be_bytes());
        }
        Value::Boolean(b) => {
            out.push(marker::BOOLEAN);
            out.push(u8::from(*b));
        }
        Value::String(s) => encode_string(s, out),
        Value::Object(props) => {
            out.push(marker::OBJECT);
            encode_properties(props, out);
        }
        Value::Null => out.push(marker::NULL),
        Value::Undefined => out.push(marker::UNDEFINED),
        Value::EcmaArray(props) => {
            out.push(marker::ECMA_ARRAY);
            out.extend_from_slice(&u32::try_from(props.len()).unwrap_or(u32::MAX).to_be_bytes());
            encode_properties(props, out);
        }
        Value::StrictArray(items) => {
            out.push(marker::STRICT_ARRAY);
            out.extend_from_slice(&u32::try_from(items.len()).unwrap_or(u32::MAX).to_be_bytes());
            for item in items {
                encode(item, out);
            }
        }
        Value::Date(ms) => {
            out.push(marker::DATE);
            out.extend_from_slice(&ms.to_be_bytes());
            out.extend_from_slice(&0u16.to_be_bytes());
        }
        Value::Reference(i) => {
            out.push(marker::REFERENCE);
            out.extend_from_slice(&i.to_be_bytes());
        }
        Value::TypedObject(class, props) => {
            out.push(marker::TYPED_OBJECT);
            encode_key(class, out);
            encode_properties(props, out);
        }
        Value::Xml(s) => {
            out.push(marker::XML_DOCUMENT);
            encode_long(s.as_bytes(), out);
        }
        Value::Unsupported => out.push(marker::UNSUPPORTED),
    }
}

/// Encodes every value in order.
pub fn encode_all(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        encode(v, &mut out);
    }
    out
}

fn encode_long(bytes: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn encode_string(s: &str, out: &mut Vec<u8>) {
    match u16::try_from(s.len()) {
        Ok(len) => {
            out.push(marker::STRING);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        Err(_) => {
            out.push(marker::LONG_STRING);
            encode_long(s.as_bytes(), out);
        }
    }
}

/// Property keys are short strings; longer keys are truncated (at a char
/// boundary) because the wire format cannot carry them.
fn encode_key(key: &str, out: &mut Vec<u8>) {
    let mut end = key.len().min(usize::from(u16::MAX));
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    let k = &key.as_bytes()[..end];
    out.extend_from_slice(&(k.len() as u16).to_be_bytes());
    out.extend_from_slice(k);
}

fn encode_properties(props: &[(String, Value)], out: &mut Vec<u8>) {
    for (k, v) in props {
        encode_key(k, out);
        encode(v, out);
    }
    out.extend_from_slice(&[0, 0, marker::OBJECT_END]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn element_count_is_capped() {
        // A strict array of nulls: one input byte per value.
        let mut bomb = vec![marker::STRICT_ARRAY];
        bomb.extend_from_slice(&u32::MAX.to_be_bytes());
        bomb.extend(std::iter::repeat_n(marker::NULL, 1 << 20));
        assert_eq!(decode(&mut &bomb[..]), Err(Amf0Error::TooManyElements));
        assert_eq!(decode_all(&bomb), Err(Amf0Error::TooManyElements));
        // Exactly the cap decodes: the array and MAX_ELEMENTS - 1 nulls.
        let mut fits = vec![marker::STRICT_ARRAY];
        let n = u32::try_from(MAX_ELEMENTS - 1).unwrap();
        fits.extend_from_slice(&n.to_be_bytes());
        fits.extend(std::iter::repeat_n(marker::NULL, MAX_ELEMENTS - 1));
        assert!(
            matches!(decode(&mut &fits[..]), Ok(Value::StrictArray(v)) if v.len() == MAX_ELEMENTS - 1)
        );
        // The budget spans every value of decode_all.
        let many: Vec<u8> = std::iter::repeat_n(marker::NULL, MAX_ELEMENTS + 1).collect();
        assert_eq!(decode_all(&many), Err(Amf0Error::TooManyElements));
        assert_eq!(
            decode_all(&many[..MAX_ELEMENTS]).map(|v| v.len()),
            Ok(MAX_ELEMENTS)
        );
    }

    #[test]
    fn decodes_connect_command() {
        let v = vec![
            Value::String("connect".into()),
            Value::Number(1.0),
            Value::Object(vec![
                ("app".into(), Value::String("live".into())),
                ("tcUrl".into(), Value::String("rtmp://h/live".into())),
            ]),
        ];
        let bytes = encode_all(&v);
        assert_eq!(decode_all(&bytes).unwrap(), v);
        assert_eq!(
            v[2].get("tcUrl").and_then(Value::as_str),
            Some("rtmp://h/live")
        );
    }

    #[test]
    fn known_bytes() {
        let mut out = Vec::new();
        encode(&Value::String("ab".into()), &mut out);
        assert_eq!(out, [0x02, 0, 2, b'a', b'b']);
        out.clear();
        encode(&Value::Object(vec![]), &mut out);
        assert_eq!(out, [0x03, 0, 0, 0x09]);
        let mut input: &[u8] = &[0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0];
        assert_eq!(decode(&mut input).unwrap(), Value::Number(1.0));
        assert!(input.is_empty());
    }

    #[test]
    fn errors_on_bad_input() {
        assert_eq!(
            decode(&mut &[0x02, 0, 5, b'a'][..]),
            Err(Amf0Error::Truncated)
        );
        assert_eq!(
            decode(&mut &[0x11][..]),
            Err(Amf0Error::UnknownMarker(0x11))
        );
        let deep: Vec<u8> = std::iter::repeat_n(0x0Au8, 1)
            .chain([0, 0, 0, 1])
            .cycle()
            .take(5 * 100)
            .collect();
        assert_eq!(decode(&mut &deep[..]), Err(Amf0Error::TooDeep));
        // A huge strict-array count must not allocate up front.
        assert_eq!(
            decode(&mut &[0x0A, 0xff, 0xff, 0xff, 0xff][..]),
            Err(Amf0Error::Truncated)
        );
    }

    fn value_strategy() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<f64>()
                .prop_filter("NaN never equals itself", |f| !f.is_nan())
                .prop_map(Value::Number),
            any::<bool>().prop_map(Value::Boolean),
            ".{0,20}".prop_map(Value::String),
            Just(Value::Null),
            Just(Value::Undefined),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(("[a-z]{1,8}", inner.clone()), 0..6).prop_map(Value::Object),
                prop::collection::vec(("[a-z]{1,8}", inner.clone()), 0..6)
                    .prop_map(Value::EcmaArray),
                prop::collection::vec(inner, 0..6).prop_map(Value::StrictArray),
            ]
        })
    }

    proptest! {
        #[test]
        fn roundtrip(v in value_strategy()) {
            let mut out = Vec::new();
            encode(&v, &mut out);
            let mut input = &out[..];
            prop_assert_eq!(decode(&mut input).unwrap(), v);
            prop_assert!(input.is_empty());
        }

        #[test]
        fn never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_all(&bytes);
        }
    }
}
