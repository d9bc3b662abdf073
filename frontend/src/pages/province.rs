//! 全省: every county's campaign in the viewer's area at once — progress,
//! overdue work, schedule lights and the veto — each row opening that
//! county's dashboard. A province's or city's office starts a county's
//! campaign here from the checklist of one already running.

use duban_dto::Role;
use duban_dto::api::{CampaignSummary, NewCampaign, ProvinceDashboard};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::api::Verb;
use crate::{api, loaded, strings, viewer};

fn share(part: i64, whole: i64) -> String {
    if whole == 0 { "—".to_owned() } else { format!("{:.1}%", part as f64 * 100.0 / whole as f64) }
}

#[component]
pub fn ProvincePage() -> impl IntoView {
    let province = LocalResource::new(|| api::get::<ProvinceDashboard>("/api/v1/dashboard"));
    let starts_campaigns = viewer().is(&[Role::AreaOffice]);
    view! {
        <h2>{strings::NAV_PROVINCE}</h2>
        {starts_campaigns.then(|| view! { <StartCampaign started=move || province.refetch() /> })}
        {move || loaded(province.get(), |province| {
            let total = province.total.clone();
            view! {
                <p class="headline" data-figure="province-total">
                    {format!("{} {} · {} {} · {} {}（{}）", strings::COUNTIES, province.campaigns.len(), strings::APPROVED_TASKS,
                        share(total.approved, total.tasks), strings::OVERDUE, total.overdue, province.as_of)}
                </p>
                <div class="scroll">
                    <table class="province">
                        <thead><tr>
                            <th>{strings::COUNTY}</th><th>{strings::TASKS}</th><th>{strings::APPROVED_TASKS}</th><th>{strings::OVERDUE}</th>
                            <th>{strings::RED_LIGHTS}</th><th>{strings::YELLOW_LIGHTS}</th><th>{strings::GREEN_LIGHTS}</th><th>{strings::TIME_ELAPSED}</th>
                        </tr></thead>
                        <tbody>
                            {province.campaigns.into_iter().map(|campaign| view! {
                                <tr data-campaign=campaign.code.clone() class:vetoed=campaign.vetoed>
                                    <td>
                                        <A href=format!("/?campaign={}", campaign.code)>{campaign.region.clone()}</A>
                                        {campaign.vetoed.then(|| view! { " " <span class="badge overdue">{strings::VETO}</span> })}
                                        <br /><span class="muted">{campaign.name.clone()}</span>
                                    </td>
                                    <td>{campaign.progress.tasks}</td>
                                    <td>{share(campaign.progress.approved, campaign.progress.tasks)}</td>
                                    <td data-figure="overdue">{campaign.progress.overdue}</td>
                                    <td>{campaign.progress.lights.red}</td>
                                    <td>{campaign.progress.lights.yellow}</td>
                                    <td>{campaign.progress.lights.green}</td>
                                    <td>{campaign.elapsed_percent.map(|percent| format!("{percent:.1}%")).unwrap_or_else(|| "—".to_owned())}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }
        })}
    }
}

/// Starts a county's campaign from the checklist of a campaign already
/// running (the template); the county then imports its own breakdown.
#[component]
fn StartCampaign(started: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let templates = LocalResource::new(|| api::get::<Vec<CampaignSummary>>("/api/v1/campaigns"));
    let code = RwSignal::new(String::new());
    let region = RwSignal::new(String::new());
    let template = RwSignal::new(String::new());
    let message = RwSignal::new(None::<Result<String, String>>);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let chosen = template.get_untracked();
        let fallback = templates.get_untracked().and_then(Result::ok).and_then(|all| all.first().map(|c| c.code.clone()));
        let Some(template_code) = Some(chosen).filter(|code| !code.is_empty()).or(fallback) else {
            return message.set(Some(Err(strings::NO_TEMPLATE.to_owned())));
        };
        let region_name = region.get_untracked().trim().to_owned();
        let new = NewCampaign {
            code: code.get_untracked().trim().to_owned(),
            name: format!("{region_name}法治政府建设示范创建"),
            region: region_name,
            template: template_code,
            period_start: None,
            period_end: None,
        };
        spawn_local(async move {
            match api::call::<_, CampaignSummary>(Verb::Post, "/api/v1/campaigns", &new).await {
                Ok(campaign) => {
                    message.set(Some(Ok(format!("{}{}", strings::CAMPAIGN_STARTED, campaign.name))));
                    started();
                }
                Err(failure) => message.set(Some(Err(failure.to_string()))),
            }
        });
    };
    view! {
        <form class="card start-campaign" on:submit=submit>
            <h3>{strings::START_CAMPAIGN}</h3>
            <label>{strings::COUNTY_NAME}
                <input name="region" required placeholder="师宗县" prop:value=region on:input=move |e| region.set(event_target_value(&e)) />
            </label>
            <label>{strings::CAMPAIGN_CODE}
                <input name="code" required pattern="[a-z0-9][a-z0-9-]*" placeholder="shizong" prop:value=code on:input=move |e| code.set(event_target_value(&e)) />
            </label>
            <label>{strings::TEMPLATE}
                <select name="template" on:change=move |e| template.set(event_target_value(&e))>
                    {move || templates.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|campaign| view! {
                        <option value=campaign.code.clone()>{campaign.name.clone()}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit" class="start-campaign">{strings::START}</button>
            {move || message.get().map(|outcome| match outcome {
                Ok(text) => view! { <p class="ok" role="status">{text}</p> }.into_any(),
                Err(text) => view! { <p class="error" role="alert">{text}</p> }.into_any(),
            })}
        </form>
    }
}
