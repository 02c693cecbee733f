//! Requests and responses of the recording template and rule actions. The
//! nested template parameters (`FlvParam`, `HlsSpecialParam`, …) are read
//! as objects here and decoded and validated by `templates/body.rs`, whose
//! stored form is `task::template::TemplateBody`.

use tcapi::Params;

use super::{Empty, request, response};
use crate::task::FileFormat;
use crate::task::template::TemplateBody;

request! {
    /// CreateLiveRecordTemplate.
    CreateLiveRecordTemplateRequest {
        template_name: Option<String> = text("TemplateName"),
        description: Option<String> = text("Description"),
        flv_param: Option<Params> = object("FlvParam"),
        hls_param: Option<Params> = object("HlsParam"),
        mp4_param: Option<Params> = object("Mp4Param"),
        aac_param: Option<Params> = object("AacParam"),
        is_delay_live: Option<i64> = int("IsDelayLive"),
        hls_special_param: Option<Params> = object("HlsSpecialParam"),
        mp3_param: Option<Params> = object("Mp3Param"),
        cos_store: Option<i64> = int("CosStore"),
        remove_watermark: Option<bool> = boolean("RemoveWatermark"),
        flv_special_param: Option<Params> = object("FlvSpecialParam"),
        reconnect_window: Option<i64> = int("ReconnectWindow"),
    }
}

response! {
    /// CreateLiveRecordTemplate's answer.
    CreateLiveRecordTemplateResponse {
        /// The new template.
        template_id: i64,
    }
}

request! {
    /// ModifyLiveRecordTemplate (Tencent's model has no IsDelayLive or
    /// CosStore: they are ignored like any unknown field).
    ModifyLiveRecordTemplateRequest {
        template_id: Option<i64> = int("TemplateId"),
        template_name: Option<String> = text("TemplateName"),
        description: Option<String> = text("Description"),
        flv_param: Option<Params> = object("FlvParam"),
        hls_param: Option<Params> = object("HlsParam"),
        mp4_param: Option<Params> = object("Mp4Param"),
        aac_param: Option<Params> = object("AacParam"),
        hls_special_param: Option<Params> = object("HlsSpecialParam"),
        mp3_param: Option<Params> = object("Mp3Param"),
        remove_watermark: Option<bool> = boolean("RemoveWatermark"),
        flv_special_param: Option<Params> = object("FlvSpecialParam"),
        reconnect_window: Option<i64> = int("ReconnectWindow"),
    }
}

/// ModifyLiveRecordTemplate's answer.
pub(in crate::api) type ModifyLiveRecordTemplateResponse = Empty;

/// The template fields of a Create or Modify request, as `body::apply`
/// takes them.
#[derive(Debug, Clone, PartialEq, Default)]
pub(in crate::api) struct TemplateFields {
    /// Description.
    pub(in crate::api) description: Option<String>,
    /// FlvParam, HlsParam, Mp4Param, AacParam, Mp3Param.
    pub(in crate::api) params: [Option<Params>; 5],
    /// IsDelayLive (Create only).
    pub(in crate::api) is_delay_live: Option<i64>,
    /// HlsSpecialParam.
    pub(in crate::api) hls_special_param: Option<Params>,
    /// CosStore (Create only).
    pub(in crate::api) cos_store: Option<i64>,
    /// RemoveWatermark.
    pub(in crate::api) remove_watermark: Option<bool>,
    /// FlvSpecialParam.
    pub(in crate::api) flv_special_param: Option<Params>,
    /// ReconnectWindow (liverec's own: the reconnect window of the formats
    /// other than HLS, seconds).
    pub(in crate::api) reconnect_window: Option<i64>,
}

impl TemplateFields {
    /// The RecordParam object of `format`, with its wire name.
    pub(in crate::api) fn param(&self, format: FileFormat) -> (&'static str, Option<&Params>) {
        let (name, i) = match format {
            FileFormat::Flv => ("FlvParam", 0),
            FileFormat::Hls => ("HlsParam", 1),
            FileFormat::Mp4 => ("Mp4Param", 2),
            FileFormat::Aac => ("AacParam", 3),
            FileFormat::Mp3 => ("Mp3Param", 4),
        };
        (name, self.params[i].as_ref())
    }
}

impl From<CreateLiveRecordTemplateRequest> for TemplateFields {
    fn from(r: CreateLiveRecordTemplateRequest) -> TemplateFields {
        TemplateFields {
            description: r.description,
            params: [
                r.flv_param,
                r.hls_param,
                r.mp4_param,
                r.aac_param,
                r.mp3_param,
            ],
            is_delay_live: r.is_delay_live,
            hls_special_param: r.hls_special_param,
            cos_store: r.cos_store,
            remove_watermark: r.remove_watermark,
            flv_special_param: r.flv_special_param,
            reconnect_window: r.reconnect_window,
        }
    }
}

impl From<ModifyLiveRecordTemplateRequest> for TemplateFields {
    fn from(r: ModifyLiveRecordTemplateRequest) -> TemplateFields {
        TemplateFields {
            description: r.description,
            params: [
                r.flv_param,
                r.hls_param,
                r.mp4_param,
                r.aac_param,
                r.mp3_param,
            ],
            is_delay_live: None,
            hls_special_param: r.hls_special_param,
            cos_store: None,
            remove_watermark: r.remove_watermark,
            flv_special_param: r.flv_special_param,
            reconnect_window: r.reconnect_window,
        }
    }
}

request! {
    /// DeleteLiveRecordTemplate.
    DeleteLiveRecordTemplateRequest {
        template_id: Option<i64> = int("TemplateId"),
    }
}

/// DeleteLiveRecordTemplate's answer.
pub(in crate::api) type DeleteLiveRecordTemplateResponse = Empty;

request! {
    /// DescribeLiveRecordTemplate.
    DescribeLiveRecordTemplateRequest {
        template_id: Option<i64> = int("TemplateId"),
    }
}

response! {
    /// DescribeLiveRecordTemplate's answer.
    DescribeLiveRecordTemplateResponse {
        /// The template.
        template: RecordTemplateInfo,
    }
}

request! {
    /// DescribeLiveRecordTemplates.
    DescribeLiveRecordTemplatesRequest {
        is_delay_live: Option<i64> = int("IsDelayLive"),
    }
}

response! {
    /// DescribeLiveRecordTemplates's answer.
    DescribeLiveRecordTemplatesResponse {
        /// The templates.
        templates: Vec<RecordTemplateInfo>,
    }
}

response! {
    /// `RecordTemplateInfo`: the id and name, then the body's fields.
    RecordTemplateInfo {
        /// TemplateId.
        template_id: i64,
        /// TemplateName.
        template_name: String,
        /// Everything else, every format present.
        #[serde(flatten)]
        body: TemplateBody,
    }
}

request! {
    /// CreateLiveRecordRule.
    CreateLiveRecordRuleRequest {
        domain_name: Option<String> = text("DomainName"),
        template_id: Option<i64> = int("TemplateId"),
        app_name: Option<String> = text("AppName"),
        stream_name: Option<String> = text("StreamName"),
    }
}

/// CreateLiveRecordRule's answer.
pub(in crate::api) type CreateLiveRecordRuleResponse = Empty;

request! {
    /// DeleteLiveRecordRule.
    DeleteLiveRecordRuleRequest {
        domain_name: Option<String> = text("DomainName"),
        app_name: Option<String> = text("AppName"),
        stream_name: Option<String> = text("StreamName"),
    }
}

/// DeleteLiveRecordRule's answer.
pub(in crate::api) type DeleteLiveRecordRuleResponse = Empty;

request! {
    /// DescribeLiveRecordRules (no parameters).
    DescribeLiveRecordRulesRequest {}
}

response! {
    /// DescribeLiveRecordRules's answer.
    DescribeLiveRecordRulesResponse {
        /// The rules.
        rules: Vec<RuleInfo>,
    }
}

response! {
    /// `RuleInfo`.
    RuleInfo {
        /// Beijing time.
        create_time: String,
        /// Beijing time.
        update_time: String,
        /// TemplateId.
        template_id: i64,
        /// DomainName.
        domain_name: String,
        /// AppName.
        app_name: String,
        /// StreamName.
        stream_name: String,
    }
}
