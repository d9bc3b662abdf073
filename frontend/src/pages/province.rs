//! 全省: every county's campaign at once — progress, overdue work, schedule
//! lights and the veto — each row opening that county's dashboard.

use duban_dto::api::ProvinceDashboard;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::{api, loaded, strings};

fn share(part: i64, whole: i64) -> String {
    if whole == 0 { "—".to_owned() } else { format!("{:.1}%", part as f64 * 100.0 / whole as f64) }
}

#[component]
pub fn ProvincePage() -> impl IntoView {
    let province = LocalResource::new(|| api::get::<ProvinceDashboard>("/api/v1/dashboard"));
    view! {
        <h2>{strings::NAV_PROVINCE}</h2>
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
