//! Callback templates and rules (reference §3.1): a template holds the
//! notify URLs and the CallbackKey of one account; a rule binds a template
//! to (domain, app). [`Store::callback_target`] answers, for one stream,
//! where its events go.
//!
//! Interface placeholder: the tables, the CRUD used by the callback API and
//! the rule lookup are built by the callback-configuration work; until then
//! no stream has a template and every event goes to the server-wide default.

use super::{Result, Store};

/// Where one stream's events go, as its account's callback template says.
/// An empty URL means "do not send this kind of event".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallbackTarget {
    /// The template this came from.
    pub template_id: i64,
    /// StreamBeginNotifyUrl (event 1).
    pub stream_begin_url: String,
    /// StreamEndNotifyUrl (event 0).
    pub stream_end_url: String,
    /// RecordNotifyUrl (event 100).
    pub record_url: String,
    /// RecordStatusNotifyUrl (recording status events).
    pub record_status_url: String,
    /// RecordExceptionNotifyUrl (recording exception events).
    pub record_exception_url: String,
    /// RecordExceptionLevels (`error`, `warning`, `info`); empty = all.
    pub record_exception_levels: Vec<String>,
    /// CallbackKey: `sign = md5(key + t)`.
    pub key: String,
}

impl Store {
    /// The callback template that applies to `account_id`'s stream on
    /// (`domain`, `app`), if a rule of that account binds one.
    pub async fn callback_target(
        &self,
        account_id: &str,
        domain: &str,
        app: &str,
    ) -> Result<Option<CallbackTarget>> {
        let _ = (account_id, domain, app);
        Ok(None)
    }
}
