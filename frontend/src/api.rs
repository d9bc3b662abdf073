//! The typed client of duban's API, and the signed-in session.
//!
//! The session (tokens and the user) is kept in the browser's local storage
//! so a reload keeps the user signed in. Every call that meets 401 refreshes
//! the tokens once and tries again, so an expired access token never costs
//! the user their place; when the refresh fails too, the session ends and
//! the sign-in form appears where the page was, which comes back after
//! signing in.

use std::cell::Cell;

use duban_dto::api::{LoginRequest, Problem, RefreshRequest, TokenResponse};
use gloo_net::http::{Request, RequestBuilder, Response};
use gloo_storage::{LocalStorage, Storage};
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::strings;

const SESSION_KEY: &str = "duban.session";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub user: duban_dto::api::Me,
}

thread_local! {
    /// The app's session signal, so that any call can end the session.
    static SESSION: Cell<Option<RwSignal<Option<Session>>>> = const { Cell::new(None) };
    /// The refresh under way, which calls that meet 401 meanwhile await
    /// rather than start their own: a refresh token is good for one use.
    static REFRESHING: std::cell::RefCell<Option<js_sys::Promise>> = const { std::cell::RefCell::new(None) };
}

impl Session {
    /// The session signal the whole app reads, restored from storage.
    pub fn signal() -> RwSignal<Option<Session>> {
        SESSION.with(|cell| {
            cell.get().unwrap_or_else(|| {
                let signal = RwSignal::new(LocalStorage::get(SESSION_KEY).ok());
                cell.set(Some(signal));
                signal
            })
        })
    }

    fn current() -> Option<Session> {
        Session::signal().get_untracked()
    }

    fn store(self) {
        let _ = LocalStorage::set(SESSION_KEY, &self);
        Session::signal().set(Some(self));
    }

    pub fn end() {
        LocalStorage::delete(SESSION_KEY);
        Session::signal().set(None);
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
    /// The server refused, with a problem+json answer: its stable code and
    /// the words for the user.
    Refused { status: u16, code: String, message: String },
    /// The network or the browser failed.
    Network(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::SignedOut => f.write_str(strings::SIGNED_OUT),
            ApiError::Refused { message, .. } => f.write_str(message),
            ApiError::Network(message) => write!(f, "{}{message}", strings::NETWORK_ERROR),
        }
    }
}

async fn problem_of(response: Response) -> ApiError {
    let status = response.status();
    match response.json::<Problem>().await {
        Ok(problem) => ApiError::Refused { status, message: strings::problem(&problem), code: problem.code },
        Err(_) => ApiError::Refused { status, code: String::new(), message: format!("HTTP {status}") },
    }
}

fn network(error: impl std::fmt::Display) -> ApiError {
    ApiError::Network(error.to_string())
}

/// Encodes a query-string value (Chinese search words, dates …).
pub fn encode(value: &str) -> String {
    js_sys::encode_uri_component(value).into()
}

impl ApiError {
    /// The problem's stable code, when the server answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Signs in; `second_factor` is a code of the authenticator or, when it
/// has a dash, one of the recovery codes.
pub async fn login(username: &str, password: &str, second_factor: Option<&str>) -> Result<(), ApiError> {
    let second_factor = second_factor.map(str::trim).filter(|code| !code.is_empty());
    let (otp, recovery_code) = match second_factor {
        Some(code) if code.contains('-') => (None, Some(code.to_owned())),
        Some(code) => (Some(code.to_owned()), None),
        None => (None, None),
    };
    let body = LoginRequest { username: username.to_owned(), password: password.to_owned(), otp, recovery_code };
    let response = Request::post("/api/v1/auth/login").json(&body).map_err(network)?.send().await.map_err(network)?;
    if !response.ok() {
        return Err(problem_of(response).await);
    }
    Session::from_tokens(response.json::<TokenResponse>().await.map_err(network)?).store();
    Ok(())
}

/// Reads the signed-in user again, after what changes it (a new password,
/// an enrolled authenticator), so the app shows what it now may.
pub async fn reload_me() -> Result<(), ApiError> {
    let me: duban_dto::api::Me = get("/api/v1/me").await?;
    if let Some(mut session) = Session::current() {
        session.user = me;
        session.store();
    }
    Ok(())
}

pub async fn logout() {
    if let Some(session) = Session::current() {
        let _ = Request::post("/api/v1/auth/logout").header("Authorization", &bearer(&session)).send().await;
    }
    Session::end();
}

fn bearer(session: &Session) -> String {
    format!("Bearer {}", session.access_token)
}

/// The session after renewing `stale`'s tokens: renewed by another call
/// already, by the refresh under way, or by a new one.
async fn renewed(stale: &Session) -> Result<Session, ApiError> {
    if let Some(current) = Session::current().filter(|current| current.access_token != stale.access_token) {
        return Ok(current);
    }
    let promise = REFRESHING.with(|refreshing| refreshing.borrow().clone()).unwrap_or_else(|| {
        let stale = stale.clone();
        let promise = wasm_bindgen_futures::future_to_promise(async move { Ok(JsValue::from_bool(refresh(&stale).await.is_ok())) });
        REFRESHING.with(|refreshing| *refreshing.borrow_mut() = Some(promise.clone()));
        promise
    });
    let outcome = wasm_bindgen_futures::JsFuture::from(promise).await;
    REFRESHING.with(|refreshing| refreshing.borrow_mut().take());
    match outcome {
        Ok(value) if value.is_truthy() => Session::current().ok_or(ApiError::SignedOut),
        _ => Err(ApiError::SignedOut),
    }
}

/// Renews the tokens; a refresh that fails ends the session.
async fn refresh(session: &Session) -> Result<Session, ApiError> {
    let body = RefreshRequest { refresh_token: session.refresh_token.clone() };
    let response = Request::post("/api/v1/auth/refresh").json(&body).map_err(network)?.send().await.map_err(network)?;
    if !response.ok() {
        Session::end();
        return Err(ApiError::SignedOut);
    }
    let renewed = Session::from_tokens(response.json::<TokenResponse>().await.map_err(network)?);
    renewed.clone().store();
    Ok(renewed)
}

/// The HTTP methods the client uses.
#[derive(Debug, Clone, Copy)]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

fn builder(verb: Verb, path: &str) -> RequestBuilder {
    match verb {
        Verb::Get => Request::get(path),
        Verb::Post => Request::post(path),
        Verb::Put => Request::put(path),
        Verb::Patch => Request::patch(path),
        Verb::Delete => Request::delete(path),
    }
}

/// What a request carries.
pub enum Body<'a> {
    None,
    Json(serde_json::Value),
    /// A file or form, with its content type (None: the browser's).
    Raw(&'a JsValue, Option<&'a str>),
}

/// Sends a request with the session's token, refreshing it once on 401;
/// answers the response when it is a success, the problem otherwise.
pub async fn send(verb: Verb, path: &str, body: Body<'_>, headers: &[(&str, &str)]) -> Result<Response, ApiError> {
    let mut session = Session::current().ok_or(ApiError::SignedOut)?;
    for attempt in 0..2 {
        let mut request = builder(verb, path).header("Authorization", &bearer(&session));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let request = match &body {
            Body::None => request.build().map_err(network)?,
            Body::Json(value) => request.json(value).map_err(network)?,
            Body::Raw(value, content_type) => {
                if let Some(content_type) = content_type {
                    request = request.header("Content-Type", content_type);
                }
                request.body((*value).clone()).map_err(network)?
            }
        };
        let response = request.send().await.map_err(network)?;
        if response.status() == 401 && attempt == 0 {
            session = renewed(&session).await?;
            continue;
        }
        if !response.ok() {
            return Err(problem_of(response).await);
        }
        return Ok(response);
    }
    Session::end();
    Err(ApiError::SignedOut)
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    send(Verb::Get, path, Body::None, &[]).await?.json::<T>().await.map_err(network)
}

/// Every item of a paged list, following `next_cursor` page by page, for
/// the lists a page must show whole (a unit's work, the roster, the review
/// queue): one page would silently stop at its limit.
pub async fn get_every_page<T: DeserializeOwned>(path: &str) -> Result<duban_dto::api::Page<T>, ApiError> {
    let separator = if path.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_path = match &cursor {
            None => format!("{path}{separator}limit=200"),
            Some(cursor) => format!("{path}{separator}limit=200&cursor={cursor}"),
        };
        let page: duban_dto::api::Page<T> = get(&page_path).await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(duban_dto::api::Page { total: items.len() as i64, limit: items.len() as i64, items, next_cursor: None }),
        }
    }
}

/// Sends JSON and reads JSON back.
pub async fn call<B: Serialize, T: DeserializeOwned>(verb: Verb, path: &str, body: &B) -> Result<T, ApiError> {
    let body = serde_json::to_value(body).map_err(network)?;
    send(verb, path, Body::Json(body), &[]).await?.json::<T>().await.map_err(network)
}

/// Sends JSON (or nothing) and expects no body back.
pub async fn act<B: Serialize>(verb: Verb, path: &str, body: Option<&B>) -> Result<(), ApiError> {
    let body = match body {
        Some(body) => Body::Json(serde_json::to_value(body).map_err(network)?),
        None => Body::None,
    };
    send(verb, path, body, &[]).await.map(drop)
}

/// Fetches a file with the session's token and gives a local URL for it,
/// to show inline (images, PDF) or to save.
pub async fn object_url(path: &str) -> Result<String, ApiError> {
    let response = send(Verb::Get, path, Body::None, &[]).await?;
    let content_type = response.headers().get("content-type").unwrap_or_default();
    let bytes = response.binary().await.map_err(network)?;
    let array = js_sys::Uint8Array::from(bytes.as_slice());
    let parts = js_sys::Array::of1(&array);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(&content_type);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|e| network(format!("{e:?}")))?;
    web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| network(format!("{e:?}")))
}

/// Downloads a file with the session's token under `file_name`.
pub async fn download(path: &str, file_name: &str) -> Result<(), ApiError> {
    let url = object_url(path).await?;
    let document = web_sys::window().and_then(|window| window.document()).ok_or_else(|| network("no document"))?;
    let link: web_sys::HtmlAnchorElement = document.create_element("a").map_err(|e| network(format!("{e:?}")))?.unchecked_into();
    link.set_href(&url);
    link.set_download(file_name);
    link.click();
    Ok(())
}

/// Uploads a form with XMLHttpRequest, which reports upload progress
/// (fetch does not): `progress` hears the share sent, 0 to 1.
pub async fn upload<T: DeserializeOwned>(path: &str, form: &web_sys::FormData, progress: impl Fn(f64) + 'static) -> Result<T, ApiError> {
    let progress = std::rc::Rc::new(progress);
    let mut session = Session::current().ok_or(ApiError::SignedOut)?;
    for attempt in 0..2 {
        let (status, text) = upload_once(path, form, &session, progress.clone()).await?;
        if status == 401 && attempt == 0 {
            session = renewed(&session).await?;
            continue;
        }
        if (200..300).contains(&status) {
            return serde_json::from_str(&text).map_err(network);
        }
        let (code, message) = match serde_json::from_str::<Problem>(&text) {
            Ok(problem) => (problem.code.clone(), strings::problem(&problem)),
            Err(_) => (String::new(), format!("HTTP {status}")),
        };
        return Err(ApiError::Refused { status, code, message });
    }
    Session::end();
    Err(ApiError::SignedOut)
}

async fn upload_once(
    path: &str,
    form: &web_sys::FormData,
    session: &Session,
    progress: std::rc::Rc<dyn Fn(f64)>,
) -> Result<(u16, String), ApiError> {
    let js = |e: JsValue| network(format!("{e:?}"));
    let xhr = web_sys::XmlHttpRequest::new().map_err(js)?;
    xhr.open("POST", path).map_err(js)?;
    xhr.set_request_header("Authorization", &bearer(session)).map_err(js)?;
    let on_progress = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |event: web_sys::ProgressEvent| {
        if event.length_computable() && event.total() > 0.0 {
            progress(event.loaded() / event.total());
        }
    });
    xhr.upload().map_err(js)?.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    let finished = js_sys::Promise::new(&mut |resolve, reject| {
        xhr.set_onload(Some(&resolve));
        xhr.set_onerror(Some(&reject));
    });
    xhr.send_with_opt_form_data(Some(form)).map_err(js)?;
    wasm_bindgen_futures::JsFuture::from(finished).await.map_err(|_| network(strings::UPLOAD_FAILED))?;
    drop(on_progress);
    Ok((xhr.status().map_err(js)?, xhr.response_text().map_err(js)?.unwrap_or_default()))
}
