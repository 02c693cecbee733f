//! The parameters of a recording template as Tencent's API takes and
//! returns them (`RecordParam`, `HlsSpecialParam`, `FlvSpecialParam` and the
//! template body of Create/Modify/DescribeLiveRecordTemplate, reference
//! §1.10). The store keeps a template's body as the JSON of
//! [`TemplateBody`]; the API validates and renders it; the scheduler's plans
//! are derived from it (`plan`). Owns no I/O.

use serde::{Deserialize, Serialize};

use super::FileFormat;

/// `RecordParam`: one format of a template.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RecordParam {
    /// Segment length, seconds (FLV/MP4 60–43200, AAC/MP3 60–7200; ignored for HLS).
    pub record_interval: i64,
    /// Retention, seconds (0 = forever).
    pub storage_time: i64,
    /// 1 = this format is recorded.
    pub enable: i64,
    /// VOD sub-application (kept, unused).
    pub vod_sub_app_id: i64,
    /// File name with placeholders.
    pub vod_file_name: String,
    /// VOD task flow (kept, unused).
    pub procedure: String,
    /// `normal` | `cold` (kept, unused).
    pub storage_mode: String,
    /// VOD category (kept, unused).
    pub class_id: i64,
    /// COS bucket (kept, unused).
    pub cos_bucket_name: String,
    /// COS region (kept, unused).
    pub cos_bucket_region: String,
    /// COS path (kept, unused).
    pub cos_bucket_path: String,
}

/// `HlsSpecialParam`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HlsSpecialParam {
    /// Seconds a publisher may be gone and still continue the playlist (0–1800).
    pub flow_continue_duration: u64,
}

/// `FlvSpecialParam`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct FlvSpecialParam {
    /// Upload while recording (kept, unused).
    pub upload_in_recording: bool,
}

/// The parameters of a template, as the API takes and returns them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TemplateBody {
    /// Description.
    pub description: String,
    /// FLV.
    pub flv_param: Option<RecordParam>,
    /// HLS.
    pub hls_param: Option<RecordParam>,
    /// MP4.
    pub mp4_param: Option<RecordParam>,
    /// AAC.
    pub aac_param: Option<RecordParam>,
    /// MP3.
    pub mp3_param: Option<RecordParam>,
    /// 0 normal, 1 slow live.
    pub is_delay_live: i64,
    /// HLS options.
    pub hls_special_param: Option<HlsSpecialParam>,
    /// 1 = store to COS (kept, unused).
    pub cos_store: i64,
    /// Remove watermark (kept, unused).
    pub remove_watermark: bool,
    /// FLV options.
    pub flv_special_param: Option<FlvSpecialParam>,
    /// liverec's own field: seconds a publisher may be gone and still
    /// continue the open FLV, MP4, AAC or MP3 file (0–1800; HLS takes
    /// `HlsSpecialParam.FlowContinueDuration`, or this when that is 0).
    /// Left out of answers while 0, so Tencent's clients see their fields.
    #[serde(skip_serializing_if = "is_zero")]
    pub reconnect_window: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Longest reconnect window (FlowContinueDuration, ReconnectWindow), seconds.
pub const MAX_FLOW_CONTINUE_S: u64 = 1800;

impl TemplateBody {
    /// The RecordParam of `format`.
    pub fn param(&self, format: FileFormat) -> &Option<RecordParam> {
        match format {
            FileFormat::Flv => &self.flv_param,
            FileFormat::Hls => &self.hls_param,
            FileFormat::Mp4 => &self.mp4_param,
            FileFormat::Aac => &self.aac_param,
            FileFormat::Mp3 => &self.mp3_param,
        }
    }

    /// The RecordParam of `format`, to change.
    pub fn param_mut(&mut self, format: FileFormat) -> &mut Option<RecordParam> {
        match format {
            FileFormat::Flv => &mut self.flv_param,
            FileFormat::Hls => &mut self.hls_param,
            FileFormat::Mp4 => &mut self.mp4_param,
            FileFormat::Aac => &mut self.aac_param,
            FileFormat::Mp3 => &mut self.mp3_param,
        }
    }
}

/// A template body for tests: FLV, HLS and MP3 enabled, MP4 disabled.
#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    fn param(enable: i64, interval: i64, storage: i64) -> Option<RecordParam> {
        Some(RecordParam {
            enable,
            record_interval: interval,
            storage_time: storage,
            ..RecordParam::default()
        })
    }

    pub(crate) fn body() -> TemplateBody {
        TemplateBody {
            description: "d".into(),
            flv_param: param(1, 600, 86_400),
            hls_param: param(1, 1800, 0),
            mp4_param: param(0, 1800, 0),
            mp3_param: Some(RecordParam {
                enable: 1,
                record_interval: 300,
                vod_file_name: "{StreamID}_{StartYear}".into(),
                ..RecordParam::default()
            }),
            hls_special_param: Some(HlsSpecialParam {
                flow_continue_duration: 30,
            }),
            ..TemplateBody::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::body;
    use super::*;

    #[test]
    fn body_is_stored_in_tencent_shape() {
        let v = serde_json::to_value(body()).unwrap();
        assert_eq!(v["FlvParam"]["RecordInterval"], 600);
        assert_eq!(v["Mp3Param"]["VodFileName"], "{StreamID}_{StartYear}");
        assert_eq!(v["HlsSpecialParam"]["FlowContinueDuration"], 30);
        assert_eq!(v["AacParam"], serde_json::Value::Null);
        let back: TemplateBody = serde_json::from_value(v).unwrap();
        assert_eq!(back, body());
    }
}
