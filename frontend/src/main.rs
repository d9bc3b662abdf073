//! 督办's browser client.
//!
//! For now: signing in and out, and each campaign with its indicators and
//! task counts per list. It talks to the API only through the shared types
//! of `duban-dto`.

mod api;
mod strings;

use api::Session;
use duban_dto::api::CampaignSummary;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let session = RwSignal::new(Session::stored());
    view! {
        <header>
            <h1>{strings::APP_TITLE}</h1>
            {move || session.get().map(|current| view! {
                <span class="user">{current.user.display_name.clone()}</span>
                <button class="sign-out" on:click=move |_| spawn_local(async move {
                    api::logout().await;
                    session.set(None);
                })>{strings::SIGN_OUT}</button>
            })}
        </header>
        <main>
            {move || match session.get() {
                None => view! { <Login session /> }.into_any(),
                Some(_) => view! { <Campaigns session /> }.into_any(),
            }}
        </main>
    }
}

#[component]
fn Login(session: RwSignal<Option<Session>>) -> impl IntoView {
    // What the user typed stays in the form when signing in fails.
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        spawn_local(async move {
            match api::login(&username.get_untracked(), &password.get_untracked()).await {
                Ok(signed_in) => session.set(Some(signed_in)),
                Err(failure) => error.set(Some(failure.to_string())),
            }
        });
    };
    view! {
        <form class="login" on:submit=submit>
            <h2>{strings::SIGN_IN}</h2>
            <label>{strings::USERNAME}
                <input name="username" autocomplete="username" required
                    prop:value=username on:input=move |e| username.set(event_target_value(&e)) />
            </label>
            <label>{strings::PASSWORD}
                <input name="password" type="password" autocomplete="current-password" required
                    prop:value=password on:input=move |e| password.set(event_target_value(&e)) />
            </label>
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            <button type="submit">{strings::SIGN_IN}</button>
        </form>
    }
}

#[component]
fn Campaigns(session: RwSignal<Option<Session>>) -> impl IntoView {
    let campaigns = LocalResource::new(api::campaigns);
    view! {
        <Suspense fallback=|| view! { <p>{strings::LOADING}</p> }>
            {move || {
                campaigns.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! { <p>{strings::NO_CAMPAIGNS}</p> }.into_any(),
                    Ok(list) => list.into_iter().map(|campaign| view! { <Campaign campaign /> }).collect_view().into_any(),
                    Err(api::ApiError::SignedOut) => {
                        session.set(None);
                        view! { <p>{strings::SIGNED_OUT}</p> }.into_any()
                    }
                    Err(failure) => view! { <p class="error">{strings::LOAD_FAILED}{failure.to_string()}</p> }.into_any(),
                })
            }}
        </Suspense>
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
            <p>{strings::indicator_summary(campaign.level1_indicators, campaign.level2_indicators, total)}</p>
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
