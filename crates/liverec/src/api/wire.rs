//! The typed request and response of every action, field names exactly as
//! Tencent's SDK models (`live/v20180801/models.py`).
//!
//! A request is read from the decoded [`Params`] once, before any check,
//! through the same accessors that define Tencent's coercions (decimal
//! strings for integers, `True`/`1` for booleans, flattened `A.0.B` keys
//! from GET and form requests); a value of the wrong type is refused with
//! the accessor's message naming the field. Unknown fields are ignored.
//! Value checks (ranges, formats, required fields) stay with the handlers.
//!
//! A response is a `Serialize` struct rendered into the envelope's
//! `Response` object ([`reply`]).

mod callbacks;
mod domains;
mod mix;
mod streams;
mod tasks;
mod templates;

#[cfg(test)]
pub(in crate::api) mod tests;

use serde::Serialize;

use super::error::Error;

pub(super) use callbacks::*;
pub(super) use domains::*;
pub(super) use mix::*;
pub(super) use streams::*;
pub(super) use tasks::*;
pub(super) use templates::*;

/// Declares a request struct read from [`Params`]: each field names its
/// reader (in [`read`]) and its wire name.
macro_rules! request {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$fmeta:meta])* $field:ident: $ty:ty = $read:ident($wire:literal), )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default)]
        pub(in crate::api) struct $name {
            $( $(#[$fmeta])* pub(in crate::api) $field: $ty, )*
        }

        impl $name {
            /// The wire names of the fields, in declaration order.
            #[cfg(test)]
            pub(in crate::api) const FIELDS: &'static [&'static str] = &[$( $wire, )*];

            /// Reads the request; a field of the wrong type is refused.
            #[allow(unused_variables)]
            pub(in crate::api) fn from_params(p: &tcapi::Params) -> Result<$name, $crate::api::error::Error> {
                Ok($name {
                    $( $field: $crate::api::wire::read::$read(p, $wire)?, )*
                })
            }
        }
    };
}
pub(crate) use request;

/// A response struct: PascalCase field names as in Tencent's models, each
/// field visible to the handlers that fill it.
macro_rules! response {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$fmeta:meta])* $field:ident: $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default, serde::Serialize)]
        #[serde(rename_all = "PascalCase")]
        pub(in crate::api) struct $name {
            $( $(#[$fmeta])* pub(in crate::api) $field: $ty, )*
        }
    };
}
pub(crate) use response;

/// The readers a [`request!`] field names.
pub(super) mod read {
    use serde_json::Value;
    use tcapi::Params;

    use crate::api::error::Error;

    /// The longest string any request field may be, bytes; a longer one is
    /// `InvalidParameterValue` naming the field. No free-text field Tencent
    /// defines is longer (Description: 1024 characters of up to 4 bytes);
    /// fields with a tighter limit check it in their handler. It also bounds
    /// what an error message quotes back.
    pub(crate) const MAX_TEXT_BYTES: usize = 4096;

    /// Refuses a string over [`MAX_TEXT_BYTES`].
    fn bounded(name: &str, s: &str) -> Result<(), Error> {
        if s.len() > MAX_TEXT_BYTES {
            return Err(Error::InvalidValue(format!(
                "{name} must be at most {MAX_TEXT_BYTES} bytes, got {}",
                s.len()
            )));
        }
        Ok(())
    }

    /// A string (`X must be a string` otherwise) of at most
    /// [`MAX_TEXT_BYTES`].
    pub(crate) fn text(p: &Params, name: &str) -> Result<Option<String>, Error> {
        let v = p.str_opt(name)?;
        if let Some(s) = &v {
            bounded(name, s)?;
        }
        Ok(v)
    }

    /// A signed integer, a JSON integer or a decimal string.
    pub(crate) fn int(p: &Params, name: &str) -> Result<Option<i64>, Error> {
        Ok(p.i64_opt(name)?)
    }

    /// An unsigned integer, a JSON integer or a decimal string.
    pub(crate) fn uint(p: &Params, name: &str) -> Result<Option<u64>, Error> {
        Ok(p.u64_opt(name)?)
    }

    /// A boolean: `true`/`false`, 0/1, or those as strings (any case).
    pub(crate) fn boolean(p: &Params, name: &str) -> Result<Option<bool>, Error> {
        Ok(p.bool_opt(name)?)
    }

    /// An id given as a JSON string (trimmed) or integer.
    pub(crate) fn id(p: &Params, name: &str) -> Result<Option<String>, Error> {
        let v = crate::api::params::id_opt(p, name)?;
        if let Some(s) = &v {
            bounded(name, s)?;
        }
        Ok(v)
    }

    /// A list of strings (a JSON array or `Name.0=…&Name.1=…`), each of at
    /// most [`MAX_TEXT_BYTES`].
    pub(crate) fn texts(p: &Params, name: &str) -> Result<Option<Vec<String>>, Error> {
        let v = p.str_list_opt(name)?;
        for s in v.iter().flatten() {
            bounded(name, s)?;
        }
        Ok(v)
    }

    /// A field Tencent defines and liverec accepts without using: any
    /// value, never refused.
    pub(crate) fn ignored(p: &Params, name: &str) -> Result<Option<Value>, Error> {
        Ok(p.get(name).cloned())
    }

    /// A list of nested objects (`X must be a list of objects` otherwise),
    /// decoded further by the handler (e.g. `InputStreamList`).
    pub(crate) fn objects(p: &Params, name: &str) -> Result<Option<Vec<Params>>, Error> {
        Ok(p.object_list_opt(name)?)
    }

    /// A nested object (`X must be an object` otherwise), decoded further
    /// by the handler (e.g. a template's `FlvParam`).
    pub(crate) fn object(p: &Params, name: &str) -> Result<Option<Params>, Error> {
        Ok(p.object_opt(name)?)
    }
}

/// The `Response` fields of a reply, serialized: one compact JSON object
/// without RequestId (the envelope adds it; see
/// `tcapi::success_body_json`).
#[derive(Debug)]
pub(super) struct Fields(Vec<u8>);

impl Fields {
    /// The serialized object.
    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// The `Response` fields of a reply, serialized straight from the typed
/// response (no intermediate JSON tree).
pub(super) fn reply<T: Serialize>(response: &T) -> Result<Fields, Error> {
    let bytes = serde_json::to_vec(response).map_err(Error::internal)?;
    if bytes.first() != Some(&b'{') {
        return Err(Error::internal(format!(
            "a response rendered as {}, not an object",
            String::from_utf8_lossy(&bytes)
        )));
    }
    Ok(Fields(bytes))
}
