//! What to record, whatever asked for it: a legacy task (CreateLiveRecord),
//! a new-API task (CreateRecordTask, formats from its template) or a
//! recording rule (every matching publish, formats from its template). The
//! scheduler arms plans; recordings follow them. Owns no I/O.

use crate::store::{Task, Template};
use crate::task::{FileFormat, RecordType, StreamKey};

pub use crate::task::Family;

/// One output format of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputPlan {
    /// Container.
    pub format: FileFormat,
    /// Segment length, seconds (0 = one file per session; ignored for HLS).
    pub record_interval_s: i64,
    /// Retention, seconds (0 = forever).
    pub storage_time_s: i64,
    /// Template `VodFileName` with placeholders (`{StreamID}`, `{StartYear}`,
    /// …), if set; a random suffix is always added (files are served
    /// without authentication).
    pub file_name: Option<String>,
    /// A publisher that comes back within this many ms continues the open
    /// file or playlist (0 = the server's `reconnect_window_seconds`).
    pub continue_ms: i64,
}

/// Identity of an armed plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlanKey {
    /// A task row (legacy or new API).
    Task(i64),
    /// A rule row.
    Rule(i64),
}

/// Everything a recording needs to know about what asked for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Identity.
    pub key: PlanKey,
    /// Creating API.
    pub family: Family,
    /// Owning account.
    pub account_id: String,
    /// TaskId reported with the files (decimal for legacy tasks, the string
    /// id for new tasks, empty for rules).
    pub task_id: String,
    /// Push domain; empty matches any domain.
    pub domain: String,
    /// AppName; empty matches every app (rules only).
    pub app: String,
    /// StreamName; empty matches every stream (rules only).
    pub stream: String,
    /// Window start, wall clock ms (0 for rules).
    pub start_ms: i64,
    /// Window end, wall clock ms (`i64::MAX` for rules).
    pub end_ms: i64,
    /// What to record.
    pub record_type: RecordType,
    /// Output formats.
    pub outputs: Vec<OutputPlan>,
    /// Creation time, ms (order among overlapping tasks).
    pub created_ms: i64,
}

impl Plan {
    /// The plan of a legacy CreateLiveRecord task.
    pub fn legacy(t: &Task) -> Plan {
        let s = &t.spec;
        Plan {
            key: PlanKey::Task(t.id),
            family: Family::Legacy,
            account_id: s.account_id.clone(),
            task_id: t.id.to_string(),
            domain: s.domain.clone(),
            app: s.app.clone(),
            stream: s.stream.clone(),
            start_ms: s.start_ms,
            end_ms: s.end_ms,
            record_type: s.record_type,
            outputs: s
                .formats
                .iter()
                .map(|&format| OutputPlan {
                    format,
                    record_interval_s: s.record_interval_s,
                    storage_time_s: s.storage_time_s,
                    file_name: None,
                    continue_ms: 0,
                })
                .collect(),
            created_ms: s.created_ms,
        }
    }

    /// Whether the plan covers this live stream.
    /// An empty domain, app (rules) or stream (rules) matches any.
    pub fn matches(&self, key: &StreamKey) -> bool {
        (self.domain.is_empty() || crate::task::normalize_domain(&self.domain) == key.domain)
            && (self.app.is_empty() || self.app == key.app)
            && (self.stream.is_empty() || self.stream == key.stream)
    }
}

impl Template {
    /// The formats this template records (those with `Enable` = 1).
    pub fn outputs(&self) -> Vec<OutputPlan> {
        FileFormat::ALL
            .into_iter()
            .filter_map(|format| {
                let p = self.body.param(format).as_ref().filter(|p| p.enable == 1)?;
                Some(OutputPlan {
                    format,
                    record_interval_s: if format == FileFormat::Hls {
                        0
                    } else {
                        p.record_interval.max(0)
                    },
                    storage_time_s: p.storage_time.max(0),
                    file_name: Some(p.vod_file_name.clone()).filter(|n| !n.is_empty()),
                    continue_ms: self.continue_ms(format),
                })
            })
            .collect()
    }
}

/// The default of a new-API task without a (valid) template: HLS, kept
/// forever (Tencent: "absent or wrong ID ⇒ HLS").
pub fn default_outputs() -> Vec<OutputPlan> {
    vec![OutputPlan {
        format: FileFormat::Hls,
        record_interval_s: 0,
        storage_time_s: 0,
        file_name: None,
        continue_ms: 0,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::template::test_support::body;
    use crate::task::template::{HlsSpecialParam, TemplateBody};

    fn rule(domain: &str, app: &str, stream: &str) -> Plan {
        Plan {
            key: PlanKey::Rule(1),
            family: Family::Rule,
            account_id: "a".into(),
            task_id: String::new(),
            domain: domain.into(),
            app: app.into(),
            stream: stream.into(),
            start_ms: 0,
            end_ms: i64::MAX,
            record_type: RecordType::Video,
            outputs: default_outputs(),
            created_ms: 0,
        }
    }

    #[test]
    fn rules_match_by_domain_app_and_stream_with_empty_as_any() {
        let k = StreamKey::new("d.com", "live", "s1");
        assert!(rule("D.com", "live", "s1").matches(&k));
        assert!(rule("d.com", "live", "").matches(&k));
        assert!(rule("d.com", "", "").matches(&k));
        assert!(rule("d.com", "", "s1").matches(&k));
        assert!(!rule("d.com", "live", "s2").matches(&k));
        assert!(!rule("e.com", "live", "").matches(&k));
        assert!(!rule("d.com", "other", "").matches(&k));
    }

    #[test]
    fn outputs_are_the_enabled_formats() {
        let t = Template {
            id: 1,
            account_id: "a".into(),
            name: "n".into(),
            body: body(),
        };
        let o = t.outputs();
        let got: Vec<_> = o
            .iter()
            .map(|p| {
                (
                    p.format,
                    p.record_interval_s,
                    p.storage_time_s,
                    p.file_name.clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (FileFormat::Flv, 600, 86_400, None),
                // HLS: one file per session whatever the interval.
                (FileFormat::Hls, 0, 0, None),
                (
                    FileFormat::Mp3,
                    300,
                    0,
                    Some("{StreamID}_{StartYear}".to_string())
                ),
            ]
        );
        // FlowContinueDuration 30 s for HLS; no ReconnectWindow: 0 for FLV.
        let windows: Vec<_> = o.iter().map(|p| (p.format, p.continue_ms)).collect();
        assert_eq!(
            windows,
            [
                (FileFormat::Flv, 0),
                (FileFormat::Hls, 30_000),
                (FileFormat::Mp3, 0)
            ]
        );
        let none = Template {
            body: TemplateBody::default(),
            ..t.clone()
        };
        assert!(none.outputs().is_empty());
        assert_eq!(none.continue_ms(FileFormat::Hls), 0);
        // ReconnectWindow covers the other formats, and HLS without its own.
        let own = Template {
            body: TemplateBody {
                reconnect_window: 20,
                ..t.body.clone()
            },
            ..t.clone()
        };
        assert_eq!(own.continue_ms(FileFormat::Flv), 20_000);
        assert_eq!(own.continue_ms(FileFormat::Mp4), 20_000);
        assert_eq!(own.continue_ms(FileFormat::Hls), 30_000);
        let capped = Template {
            body: TemplateBody {
                hls_special_param: Some(HlsSpecialParam {
                    flow_continue_duration: 99_999,
                }),
                reconnect_window: 99_999,
                ..TemplateBody::default()
            },
            ..t
        };
        assert_eq!(capped.continue_ms(FileFormat::Hls), 1_800_000);
        assert_eq!(capped.continue_ms(FileFormat::Aac), 1_800_000);
        let hls_from_window = Template {
            body: TemplateBody {
                reconnect_window: 5,
                ..TemplateBody::default()
            },
            ..capped
        };
        assert_eq!(hls_from_window.continue_ms(FileFormat::Hls), 5_000);
    }
}
