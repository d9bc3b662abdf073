//! 考核评分: the campaign's score by indicator, the units ranked within
//! their kind, and one unit's score with every assignment and notice it
//! counted — on any past day.

use duban_dto::UnitKind;
use duban_dto::api::{CampaignScores, Rate, UnitScoreDetail};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::dashboard::campaign_code;
use crate::{api, loaded, strings};

/// A rate as its counts and its percentage: "3/4 (75.0%)".
pub(crate) fn rate_text(rate: &Rate) -> String {
    match rate.value {
        Some(value) => format!("{}/{}（{:.1}%）", rate.met, rate.of, value * 100.0),
        None => "—".to_owned(),
    }
}

fn score_text(score: Option<f64>) -> String {
    score.map(|score| format!("{score:.1}")).unwrap_or_else(|| "—".to_owned())
}

/// The day chosen in the address (`?as_of=`), today when absent.
fn as_of_query(as_of: Option<String>) -> String {
    as_of.map(|day| format!("?as_of={}", api::encode(&day))).unwrap_or_default()
}

#[component]
pub fn ScoresPage() -> impl IntoView {
    let query = use_query_map();
    let scores = LocalResource::new(move || {
        let wanted = query.read().get("campaign");
        let as_of = query.read().get("as_of");
        async move {
            let code = campaign_code(wanted).await?;
            api::get::<CampaignScores>(&format!("/api/v1/campaigns/{}/scores{}", api::encode(&code), as_of_query(as_of))).await
        }
    });
    let navigate = leptos_router::hooks::use_navigate();
    let pick_day = move |event: leptos::ev::Event| {
        let day = event_target_value(&event);
        navigate(&if day.is_empty() { "/scores".to_owned() } else { format!("/scores?as_of={day}") }, Default::default());
    };
    view! {
        <h2>{strings::NAV_SCORES}</h2>
        <p class="filters">
            <label>{strings::AS_OF}
                <input type="date" name="as_of" prop:value=move || query.read().get("as_of").unwrap_or_default() on:change=pick_day />
            </label>
        </p>
        {move || loaded(scores.get(), |scores| view! { <ScoresView scores /> })}
    }
}

#[component]
fn ScoresView(scores: CampaignScores) -> impl IntoView {
    let as_of = scores.as_of;
    let campaign = scores.campaign.clone();
    view! {
        {scores.vetoed.then(|| view! { <p class="banner vetoed" role="alert">{strings::SCORE_VETOED}</p> })}
        <p class="headline">
            {strings::CAMPAIGN_SCORE}" "
            <strong data-figure="campaign-score">{format!("{:.1}", scores.score)}</strong>
            {format!(" / {:.1}（{}）", scores.max_score, as_of)}
        </p>
        <div class="scroll">
            <table class="indicator-scores">
                <thead><tr><th>{strings::INDICATOR}</th><th>{strings::POINTS}</th><th>{strings::APPROVED_TASKS}</th><th>{strings::EARNED}</th></tr></thead>
                <tbody>
                    {scores.indicators.into_iter().map(|indicator| view! {
                        <tr>
                            <td><A href=format!("/tasks?campaign={campaign}&indicator={}&list=basic", indicator.id)>
                                {format!("{} {}", indicator.code, indicator.title)}
                            </A></td>
                            <td>{format!("{:.1}", indicator.points)}</td>
                            <td>{rate_text(&indicator.approved)}</td>
                            <td>{format!("{:.1}", indicator.earned)}</td>
                        </tr>
                    }).collect_view()}
                    <tr>
                        <td>{strings::QUANTIFIED_TARGETS_MET}</td>
                        <td>{format!("{:.1}", scores.scheme.quantified_points)}</td>
                        <td>{rate_text(&scores.quantified)}</td>
                        <td>{format!("{:.1}", scores.quantified_earned)}</td>
                    </tr>
                </tbody>
            </table>
        </div>
        <p class="muted">{strings::SCORE_RULE}</p>
        {UnitKind::ALL.iter().filter_map(|kind| {
            let units: Vec<_> = scores.units.iter().filter(|unit| unit.kind == *kind).cloned().collect();
            (!units.is_empty()).then(|| view! {
                <h3>{kind.zh_name()}</h3>
                <div class="scroll">
                    <table class="unit-scores" data-kind=kind.as_str()>
                        <thead><tr>
                            <th>{strings::RANK}</th><th>{strings::UNIT}</th><th>{strings::SCORE}</th><th>{strings::COMPLETION}</th>
                            <th>{strings::ON_TIME}</th><th>{strings::FIRST_PASS}</th><th>{strings::NOTICES_ON_TIME}</th>
                        </tr></thead>
                        <tbody>
                            {units.into_iter().map(|unit| view! {
                                <tr data-unit=unit.unit.id>
                                    <td data-figure="rank">{unit.rank.map(|rank| rank.to_string()).unwrap_or_default()}</td>
                                    <td><A href=format!("/scores/units/{}?as_of={as_of}", unit.unit.id)>{unit.unit.name.clone()}</A>
                                        {unit.vetoed.then(|| view! { " " <span class="badge overdue">{strings::VETO}</span> })}</td>
                                    <td data-figure="score">{score_text(unit.score)}</td>
                                    <td>{rate_text(&unit.completion)}</td>
                                    <td>{rate_text(&unit.on_time)}</td>
                                    <td>{rate_text(&unit.first_pass)}</td>
                                    <td>{rate_text(&unit.notices)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            })
        }).collect_view()}
    }
}

#[component]
pub fn UnitScorePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let detail = LocalResource::new(move || {
        let unit = params.read().get("id").unwrap_or_default();
        let wanted = query.read().get("campaign");
        let as_of = query.read().get("as_of");
        async move {
            let code = campaign_code(wanted).await?;
            api::get::<UnitScoreDetail>(&format!(
                "/api/v1/campaigns/{}/scores/units/{}{}",
                api::encode(&code),
                api::encode(&unit),
                as_of_query(as_of)
            ))
            .await
        }
    });
    view! {
        {move || loaded(detail.get(), |detail| {
            let score = detail.score.clone();
            let yes_no = |value: Option<bool>| match value {
                Some(true) => strings::YES,
                Some(false) => strings::NO,
                None => "—",
            };
            view! {
                <h2>{format!("{} · {}", strings::NAV_SCORES, score.unit.name)}</h2>
                <p class="headline">
                    {strings::SCORE}" "<strong data-figure="unit-score">{score_text(score.score)}</strong>
                    {score.rank.map(|rank| format!("（{}{}{}）", score.kind.zh_name(), strings::RANK, rank))}
                    {format!(" · {}", detail.as_of)}
                </p>
                {(!detail.vetoed_by.is_empty()).then(|| view! {
                    <p class="banner vetoed" role="alert">{format!("{}：{}", strings::VETO, detail.vetoed_by.join("、"))}</p>
                })}
                <ul class="rates">
                    <li>{strings::COMPLETION}"："{rate_text(&score.completion)}</li>
                    <li>{strings::ON_TIME}"："{rate_text(&score.on_time)}</li>
                    <li>{strings::FIRST_PASS}"："{rate_text(&score.first_pass)}</li>
                    <li>{strings::NOTICES_ON_TIME}"："{rate_text(&score.notices)}</li>
                </ul>
                <h3>{strings::SCORE_INPUTS}</h3>
                <div class="scroll">
                    <table class="score-inputs">
                        <thead><tr>
                            <th>{strings::TASK}</th><th>{strings::STATUS}</th><th>{strings::DUE_DATE}</th>
                            <th>{strings::FIRST_SUBMITTED}</th><th>{strings::ON_TIME}</th><th>{strings::FIRST_PASS}</th>
                        </tr></thead>
                        <tbody>
                            {detail.assignments.iter().map(|a| view! {
                                <tr data-assignment=a.assignment_id>
                                    <td>{a.task_code.clone()}</td>
                                    <td>{a.status.zh_name()}</td>
                                    <td>{a.due_date.map(|d| d.to_string())}</td>
                                    <td>{a.first_submitted_on.map(|d| d.to_string())}</td>
                                    <td>{yes_no(a.on_time)}</td>
                                    <td>{yes_no(a.first_pass)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                {(!detail.notices.is_empty()).then(|| view! {
                    <h3>{strings::NOTICES}</h3>
                    <table class="score-notices">
                        <thead><tr><th>{strings::NOTICES}</th><th>{strings::REPLY_DUE}</th><th>{strings::REPLIED}</th><th>{strings::ON_TIME}</th></tr></thead>
                        <tbody>
                            {detail.notices.iter().map(|n| view! {
                                <tr>
                                    <td>{n.doc_number.clone()}</td>
                                    <td>{n.reply_due.to_string()}</td>
                                    <td>{n.replied_on.map(|d| d.to_string())}</td>
                                    <td>{if n.on_time { strings::YES } else { strings::NO }}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                })}
            }
        })}
    }
}
