//! 督办's browser client.
//!
//! This first page shows what the server holds: each campaign with its
//! indicators and task counts per list. It talks to the API only through
//! the shared types of `duban-dto`.

mod api;
mod strings;

use duban_dto::api::CampaignSummary;
use leptos::prelude::*;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let campaigns = LocalResource::new(api::campaigns);
    view! {
        <header>
            <h1>{strings::APP_TITLE}</h1>
        </header>
        <main>
            <Suspense fallback=|| view! { <p>{strings::LOADING}</p> }>
                {move || {
                    campaigns.get().map(|result| match result {
                        Ok(list) if list.is_empty() => view! { <p>{strings::NO_CAMPAIGNS}</p> }.into_any(),
                        Ok(list) => list.into_iter().map(|campaign| view! { <Campaign campaign /> }).collect_view().into_any(),
                        Err(message) => view! { <p class="error">{strings::LOAD_FAILED}{message}</p> }.into_any(),
                    })
                }}
            </Suspense>
        </main>
    }
}

#[component]
fn Campaign(campaign: CampaignSummary) -> impl IntoView {
    let total: i64 = campaign.task_counts.iter().map(|count| count.tasks).sum();
    let period = match (&campaign.period_start, &campaign.period_end) {
        (Some(start), Some(end)) => format!("{}{start} — {end}", strings::PERIOD),
        _ => String::new(),
    };
    view! {
        <section class="campaign">
            <h2>{campaign.name.clone()}</h2>
            <p>{campaign.region.clone()} " · " {period}</p>
            <p>
                {strings::indicator_summary(campaign.level1_indicators, campaign.level2_indicators, total)}
            </p>
            <ul class="counts">
                {campaign
                    .task_counts
                    .iter()
                    .map(|count| {
                        view! {
                            <li data-list=count.list.as_str()>
                                <strong>{count.tasks}</strong>
                                {count.list.zh_name()}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}
