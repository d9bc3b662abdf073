//! The typed client of duban's API, and the signed-in session.
//!
//! The session (tokens and the user) is kept in the browser's local storage
//! so a reload keeps the user signed in. A request that meets 401 refreshes
//! the tokens once and tries again, so an expired access token never costs
//! the user their place; a refresh that fails signs the user out.

use duban_dto::api::{CampaignSummary, LoginRequest, Me, Problem, RefreshRequest, TokenResponse};
use gloo_net::http::{Request, Response};
use gloo_storage::{LocalStorage, Storage};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::strings;

const SESSION_KEY: &str = "duban.session";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub user: Me,
}

impl Session {
    pub fn stored() -> Option<Session> {
        LocalStorage::get(SESSION_KEY).ok()
    }

    fn store(&self) {
        let _ = LocalStorage::set(SESSION_KEY, self);
    }

    pub fn forget() {
        LocalStorage::delete(SESSION_KEY);
    }

    fn from_tokens(tokens: TokenResponse) -> Session {
        Session { access_token: tokens.access_token, refresh_token: tokens.refresh_token, user: tokens.user }
    }
}

/// Why a call failed, in words for the person at the screen.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The session has ended; the user must sign in again.
    SignedOut,
    Failed(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::SignedOut => f.write_str(strings::SIGNED_OUT),
            ApiError::Failed(message) => f.write_str(message),
        }
    }
}

async fn problem_of(response: Response) -> ApiError {
    match response.json::<Problem>().await {
        Ok(problem) => ApiError::Failed(strings::problem(&problem)),
        Err(_) => ApiError::Failed(format!("HTTP {}", response.status())),
    }
}

fn network(error: gloo_net::Error) -> ApiError {
    ApiError::Failed(format!("{}{error}", strings::NETWORK_ERROR))
}

pub async fn login(username: &str, password: &str) -> Result<Session, ApiError> {
    let body = LoginRequest { username: username.to_owned(), password: password.to_owned() };
    let response = Request::post("/api/v1/auth/login").json(&body).map_err(network)?.send().await.map_err(network)?;
    if !response.ok() {
        return Err(problem_of(response).await);
    }
    let session = Session::from_tokens(response.json::<TokenResponse>().await.map_err(network)?);
    session.store();
    Ok(session)
}

pub async fn logout() {
    if let Some(session) = Session::stored() {
        let _ = Request::post("/api/v1/auth/logout").header("Authorization", &format!("Bearer {}", session.access_token)).send().await;
    }
    Session::forget();
}

async fn refresh(session: &Session) -> Result<Session, ApiError> {
    let body = RefreshRequest { refresh_token: session.refresh_token.clone() };
    let response = Request::post("/api/v1/auth/refresh").json(&body).map_err(network)?.send().await.map_err(network)?;
    if !response.ok() {
        Session::forget();
        return Err(ApiError::SignedOut);
    }
    let renewed = Session::from_tokens(response.json::<TokenResponse>().await.map_err(network)?);
    renewed.store();
    Ok(renewed)
}

/// GET with the session's token, refreshing it once on 401.
async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let mut session = Session::stored().ok_or(ApiError::SignedOut)?;
    for attempt in 0..2 {
        let response =
            Request::get(path).header("Authorization", &format!("Bearer {}", session.access_token)).send().await.map_err(network)?;
        if response.status() == 401 && attempt == 0 {
            session = refresh(&session).await?;
            continue;
        }
        if !response.ok() {
            return Err(problem_of(response).await);
        }
        return response.json::<T>().await.map_err(network);
    }
    Err(ApiError::SignedOut)
}

pub async fn campaigns() -> Result<Vec<CampaignSummary>, ApiError> {
    get_json("/api/v1/campaigns").await
}
