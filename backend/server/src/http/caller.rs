//! Identifying the caller of a request: the `Caller` extractor (a bearer
//! access token or API key, checked with `auth::credentials`) and the
//! request's context for callers not signed in.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use super::request_context::RequestId;
use super::{ApiError, AppState};
use crate::auth::{api_keys, credentials};
use crate::authz::{Caller, RequestInfo};
use crate::error::Error;

/// The request id and the peer address of a request.
pub fn request_info(request: &HttpRequest) -> RequestInfo {
    RequestInfo {
        request_id: request.extensions().get::<RequestId>().map(|id| id.0.clone()).unwrap_or_default(),
        address: request.peer_addr().map(|address| address.ip().to_string()),
        user_agent: request
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|agent| agent.chars().take(200).collect()),
    }
}

fn unauthenticated(detail: &str) -> ApiError {
    Error::Unauthenticated(detail.to_owned()).into()
}

/// What a user with a restriction may still do: see who they are, sign
/// out, change the password, enrol the second factor, see their sessions.
fn allowed_while_restricted(path: &str) -> bool {
    matches!(path, "/api/v1/me" | "/api/v1/auth/password" | "/api/v1/auth/logout")
        || path.starts_with("/api/v1/me/mfa")
        || path.starts_with("/api/v1/me/sessions")
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = request.app_data::<web::Data<AppState>>().cloned();
        let credential = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
            .map(|token| token.trim().to_owned());
        let info = request_info(request);
        let path = request.path().to_owned();
        let named = super::area::named_resources(request);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::from(Error::internal(anyhow::anyhow!("AppState is not configured"))))?;
            let Some(credential) = credential else {
                return Err(unauthenticated("sign in first: send `Authorization: Bearer <token or API key>`"));
            };
            let actor = if credential.starts_with(api_keys::KEY_PREFIX) {
                // A key reaches the whole installation: no area to check. Its
                // connection goes on to the request's work, too.
                state.db_handing_over(move |conn| credentials::client_of_key(conn, &credential)).await?
            } else {
                let claims = state.jwt.verify(&credential).ok_or_else(|| unauthenticated("the access token is invalid or has expired"))?;
                // Who the user is and whether what the request names lies in
                // the user's area, on one pooled connection.
                state
                    .db_handing_over(move |conn| {
                        let actor = credentials::user_of_token(conn, &claims)?;
                        if let crate::authz::Actor::User(user) = &actor {
                            super::area::check(conn, &user.area, &named)?;
                        }
                        Ok::<_, Error>(actor)
                    })
                    .await?
            };
            // A password to change or a second factor to enrol comes first.
            if let crate::authz::Actor::User(user) = &actor
                && let Some(restriction) = user.restriction
                && !allowed_while_restricted(&path)
            {
                return Err(Error::Restricted {
                    code: restriction.as_str(),
                    detail: format!("{}: do this first ({})", restriction.zh_name(), restriction.as_str()),
                }
                .into());
            }
            Ok(Caller { actor, request_id: info.request_id, address: info.address })
        })
    }
}
