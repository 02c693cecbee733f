//! `POST /` and `GET /`: size limits, parse, authenticate, guard, route to
//! the action handler, and render the Tencent envelope. Validation happens
//! before any effect; every reply is HTTP 200 with the exact content type.

use std::sync::Arc;

use super::wire::Fields;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use tcapi::{RawRequest, Request};
use tracing::Instrument;

use super::action::{Action, ActionName};
use super::error::Error;
use super::{
    AppState, callbacks, domains, files, legacy, mix, push_auth, streams, tasks, templates,
};

/// The API version liverec speaks.
pub(super) const VERSION: &str = "2018-08-01";

/// What an action handler returns: the fields of `Response` besides RequestId.
pub(super) type ActionResult = Result<Fields, Error>;

/// An authenticated call.
pub(super) struct Call {
    /// The account the credentials belong to.
    pub(super) account_id: String,
    /// The decoded request.
    pub(super) req: Request,
}

fn reply(body: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(tcapi::CONTENT_TYPE),
    );
    resp
}

/// The axum handler for `/`.
pub(super) async fn handle(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    // The account is recorded once the SecretId is known; never a secret.
    let span = tracing::info_span!(
        "req",
        request_id = %request_id,
        action = tracing::field::Empty,
        account = tracing::field::Empty,
    );
    let result = process(&state, &method, &uri, &headers, body)
        .instrument(span.clone())
        .await;
    match result {
        Ok((action, fields)) => {
            metrics::counter!("liverec_api_requests_total", "action" => action, "code" => "OK")
                .increment(1);
            reply(tcapi::success_body_json(fields.as_bytes(), &request_id))
        }
        Err((action, err)) => {
            if let Some(cause) = err.cause() {
                tracing::error!(parent: &span, request_id = %request_id, error = %cause, "internal error");
            }
            let err = err.to_api(&request_id);
            metrics::counter!("liverec_api_requests_total", "action" => action, "code" => err.code.as_str())
                .increment(1);
            tracing::info!(parent: &span, code = err.code.as_str(), message = %err.message, "request refused");
            reply(tcapi::error_body(&err, &request_id))
        }
    }
}

/// The key `secret_id` names, if it exists and may sign now (a rotated-out
/// key past its grace period is as good as gone).
async fn valid_key(state: &AppState, secret_id: &str) -> Result<crate::store::ApiKey, Error> {
    match state.store.key(secret_id).await? {
        Some(k) if k.valid_at(state.clock.now_ms()) => Ok(k),
        _ => Err(Error::SecretIdNotFound),
    }
}

/// The SecretId of a TC3 `Authorization` header
/// (`TC3-HMAC-SHA256 Credential=AKID…/date/service/tc3_request, …`).
fn tc3_secret_id(headers: &HeaderMap) -> Option<&str> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let rest = auth.strip_prefix("TC3-HMAC-SHA256")?;
    let credential = rest.split_once("Credential=")?.1;
    let id = credential.split(['/', ',']).next()?.trim();
    (!id.is_empty()).then_some(id)
}

/// Why the body could not be read: it did not arrive in time (the HTTP
/// listener's deadline), or it is over the size limit.
fn body_error(e: &axum::Error) -> Error {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(t) = c.downcast_ref::<crate::http_server::BodyTimeout>() {
            return Error::Invalid(t.to_string());
        }
        cause = c.source();
    }
    Error::TooLarge {
        what: "request body",
        limit: tcapi::MAX_POST_BODY,
    }
}

type Outcome = Result<(String, Fields), (String, Error)>;

async fn process(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Outcome {
    let unknown = || "unknown".to_string();
    let query = uri.query().unwrap_or("");
    if query.len() > tcapi::MAX_GET_QUERY {
        return Err((
            unknown(),
            Error::TooLarge {
                what: "query string",
                limit: tcapi::MAX_GET_QUERY,
            },
        ));
    }
    // TC3 names its SecretId in a header: a request from an unknown key is
    // refused before its body is read (v1 carries it in the body).
    let mut early_key = None;
    if let Some(secret_id) = tc3_secret_id(headers) {
        let action = || {
            headers
                .get("x-tc-action")
                .and_then(|v| v.to_str().ok())
                .map_or_else(unknown, str::to_string)
        };
        early_key = Some(
            valid_key(state, secret_id)
                .await
                .map_err(|e| (action(), e))?,
        );
    }
    let body = match to_bytes(body, tcapi::MAX_POST_BODY).await {
        Ok(b) => b,
        Err(e) => return Err((unknown(), body_error(&e))),
    };
    let header_pairs: Vec<(&str, &str)> = headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
        .collect();
    let raw = RawRequest {
        method: method.as_str(),
        query,
        headers: &header_pairs,
        body: &body,
    };
    let req = tcapi::parse(&raw).map_err(|e| (unknown(), e.into()))?;
    let action = req.action.clone();
    tracing::Span::current().record("action", action.as_str());
    let fail = |e: Error| (action.clone(), e);
    // The key looked up before the body (TC3) is the one the request names.
    let key = match early_key.filter(|k| k.secret_id == req.secret_id) {
        Some(k) => k,
        None => valid_key(state, &req.secret_id).await.map_err(fail)?,
    };
    tracing::Span::current().record("account", key.account_id.as_str());
    let now_ms = state.clock.now_ms();
    tcapi::verify(&req, &raw, &key.secret_key, now_ms / 1000).map_err(|e| fail(e.into()))?;
    if let Some(nonce) = req.nonce {
        state
            .guard
            .check_nonce(&req.secret_id, nonce, req.timestamp, now_ms)
            .map_err(fail)?;
        // Several nodes share a PostgreSQL database: the nonce must be new
        // to all of them (SQLite serves one node, whose memory suffices).
        if state.store.dialect() == crate::store::Dialect::Postgres {
            let expires = now_ms + super::guard::NONCE_TTL_MS;
            let fresh = state
                .store
                .claim_nonce(&req.secret_id, nonce, req.timestamp, now_ms, expires)
                .await
                .map_err(|e| fail(e.into()))?;
            if !fresh {
                return Err(fail(Error::Replayed));
            }
        }
    }
    if req.version != VERSION {
        return Err(fail(Error::NoSuchVersion(req.version.clone())));
    }
    let name = ActionName::parse(&action);
    state
        .guard
        .check_rate(&req.secret_id, name.rate_class(), &action)
        .map_err(fail)?;
    let call = Call {
        account_id: key.account_id,
        req,
    };
    let result = match name.known() {
        Ok(a) => dispatch(state, &call, a).await,
        Err(e) => Err(e),
    };
    result.map(|fields| (action.clone(), fields)).map_err(fail)
}

/// Runs the handler of `action`.
async fn dispatch(state: &AppState, call: &Call, action: Action) -> ActionResult {
    match action {
        Action::CreateLiveRecord => legacy::create(state, call).await,
        Action::StopLiveRecord => legacy::stop(state, call).await,
        Action::DeleteLiveRecord => legacy::delete(state, call).await,
        Action::DescribeRecordFiles => files::describe(state, call).await,
        Action::DeleteRecordFiles => files::delete(state, call).await,
        Action::CreateRecordTask => tasks::create(state, call).await,
        Action::StopRecordTask => tasks::stop(state, call).await,
        Action::DeleteRecordTask => tasks::delete(state, call).await,
        Action::DescribeRecordTask => tasks::describe(state, call).await,
        Action::CreateLiveRecordTemplate => templates::create_template(state, call).await,
        Action::ModifyLiveRecordTemplate => templates::modify_template(state, call).await,
        Action::DeleteLiveRecordTemplate => templates::delete_template(state, call).await,
        Action::DescribeLiveRecordTemplate => templates::describe_template(state, call).await,
        Action::DescribeLiveRecordTemplates => templates::describe_templates(state, call).await,
        Action::CreateLiveRecordRule => templates::create_rule(state, call).await,
        Action::DeleteLiveRecordRule => templates::delete_rule(state, call).await,
        Action::DescribeLiveRecordRules => templates::describe_rules(state, call).await,
        Action::DescribeLiveStreamOnlineList => streams::describe_online_list(state, call).await,
        Action::DescribeLiveStreamState => streams::describe_state(state, call).await,
        Action::DropLiveStream => streams::drop_stream(state, call).await,
        Action::DescribeLiveStreamEventList => streams::describe_event_list(state, call).await,
        Action::ForbidLiveStream => streams::forbid(state, call).await,
        Action::ResumeLiveStream => streams::resume(state, call).await,
        Action::DescribeLivePushAuthKey => push_auth::describe_push_auth_key(state, call).await,
        Action::ModifyLivePushAuthKey => push_auth::modify_push_auth_key(state, call).await,
        Action::AddLiveDomain => domains::add(state, call).await,
        Action::DescribeLiveDomains => domains::describe_list(state, call).await,
        Action::DescribeLiveDomain => domains::describe(state, call).await,
        Action::DeleteLiveDomain => domains::delete(state, call).await,
        Action::CreateLiveCallbackTemplate => callbacks::create_template(state, call).await,
        Action::ModifyLiveCallbackTemplate => callbacks::modify_template(state, call).await,
        Action::DeleteLiveCallbackTemplate => callbacks::delete_template(state, call).await,
        Action::DescribeLiveCallbackTemplate => callbacks::describe_template(state, call).await,
        Action::DescribeLiveCallbackTemplates => callbacks::describe_templates(state, call).await,
        Action::CreateLiveCallbackRule => callbacks::create_rule(state, call).await,
        Action::DeleteLiveCallbackRule => callbacks::delete_rule(state, call).await,
        Action::DescribeLiveCallbackRules => callbacks::describe_rules(state, call).await,
        Action::DescribeCallbackDeliveries => callbacks::describe_deliveries(state, call).await,
        Action::CreateCommonMixStream => mix::create(state, call).await,
        Action::CancelCommonMixStream => mix::cancel(state, call).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_auth(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            header::HeaderValue::from_str(value).unwrap(),
        );
        h
    }

    #[test]
    fn tc3_secret_id_comes_from_the_credential_scope() {
        let h = with_auth(
            "TC3-HMAC-SHA256 Credential=AKIDabc/2026-12-07/live/tc3_request, SignedHeaders=content-type;host, Signature=00",
        );
        assert_eq!(tc3_secret_id(&h), Some("AKIDabc"));
        for bad in [
            "HmacSHA1 Credential=AKIDabc/x",
            "TC3-HMAC-SHA256 SignedHeaders=host",
            "TC3-HMAC-SHA256 Credential=/2026-12-07/live/tc3_request",
        ] {
            assert_eq!(tc3_secret_id(&with_auth(bad)), None, "{bad}");
        }
        assert_eq!(tc3_secret_id(&HeaderMap::new()), None);
    }
}
