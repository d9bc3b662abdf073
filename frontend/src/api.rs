//! The typed client of duban's API.

use duban_dto::api::{CampaignSummary, Problem};
use gloo_net::http::Request;

/// A failed call, described for the person at the screen.
pub type ApiResult<T> = Result<T, String>;

async fn get_json<T: serde::de::DeserializeOwned>(path: &str) -> ApiResult<T> {
    let response = Request::get(path).send().await.map_err(|error| error.to_string())?;
    if response.ok() {
        return response.json::<T>().await.map_err(|error| error.to_string());
    }
    match response.json::<Problem>().await {
        Ok(problem) => Err(problem.detail.unwrap_or(problem.title)),
        Err(_) => Err(format!("HTTP {}", response.status())),
    }
}

pub async fn campaigns() -> ApiResult<Vec<CampaignSummary>> {
    get_json("/api/v1/campaigns").await
}
