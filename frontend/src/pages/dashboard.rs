//! 总览: where the campaign stands, per list, indicator and unit, with the
//! schedule lights, quantified targets and the negative list.

use duban_dto::Role;
use duban_dto::api::{Assignment, CampaignSummary, Dashboard, IndicatorProgress, Page};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use super::notices::UrgeButton;
use crate::charts::{Legend, LightsChart, OutcomeRing, StatusBar};
use crate::{api, loaded, strings, viewer};

/// The campaign a page is about: `?campaign=` or the first one.
pub async fn campaign_code(wanted: Option<String>) -> Result<String, api::ApiError> {
    if let Some(code) = wanted {
        return Ok(code);
    }
    let campaigns: Vec<CampaignSummary> = api::get("/api/v1/campaigns").await?;
    campaigns.into_iter().next().map(|campaign| campaign.code).ok_or(api::ApiError::Refused {
        status: 404,
        code: "not_found".to_owned(),
        message: strings::NO_CAMPAIGNS.to_owned(),
    })
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let query = use_query_map();
    let dashboard = LocalResource::new(move || {
        let wanted = query.read().get("campaign");
        async move {
            let code = campaign_code(wanted).await?;
            api::get::<Dashboard>(&format!("/api/v1/campaigns/{}/dashboard", api::encode(&code))).await
        }
    });
    view! {
        <section class="dashboard">
            {move || loaded(dashboard.get(), |dashboard| view! { <DashboardView dashboard /> })}
        </section>
    }
}

#[component]
fn DashboardView(dashboard: Dashboard) -> impl IntoView {
    let code = dashboard.campaign.clone();
    let tasks = move |query: &str| format!("/tasks?campaign={code}&{query}");
    let total = dashboard.total.clone();
    view! {
        <h2>{dashboard.name.clone()}</h2>
        {dashboard.negative.vetoed.then(|| view! { <p class="banner veto" role="alert">{strings::VETOED}</p> })}
        <div class="summary">
            <div class="card figure">
                <span>{strings::APPROVED}</span>
                <strong data-figure="total-approved">{total.approved}</strong>
                <small>{format!("/ {} · {}", total.tasks, strings::percent(total.approved, total.tasks))}</small>
            </div>
            <A href=tasks("overdue=true")>
                <div class="card figure">
                    <span>{strings::OVERDUE_TASKS}</span>
                    <strong data-figure="total-overdue">{total.overdue}</strong>
                </div>
            </A>
            {dashboard.elapsed_percent.map(|elapsed| view! {
                <div class="card figure">
                    <span>{strings::ELAPSED}</span>
                    <strong>{format!("{elapsed:.0}%")}</strong>
                    <small>{format!("截至 {}", dashboard.as_of)}</small>
                </div>
            })}
        </div>

        <div class="grid">
            <section class="card">
                <h3>{strings::BY_LIST}</h3>
                {dashboard.lists.iter().map(|list| view! {
                    <StatusBar progress=list.progress.clone() href=tasks(&format!("list={}", list.list)) label=list.list.zh_name().to_owned() />
                }).collect_view()}
                <Legend />
            </section>
            <section class="card">
                <h3>{strings::LIGHTS}</h3>
                <LightsChart lights=total.lights.clone() campaign=dashboard.campaign.clone() />
            </section>
            <section class="card">
                <h3>{strings::QUANTIFIED}</h3>
                <OutcomeRing met=dashboard.quantified.met not_met=dashboard.quantified.not_met
                    unknown=dashboard.quantified.unknown href=tasks("list=quantified") />
            </section>
            <section class="card">
                <h3>{strings::NEGATIVE}</h3>
                <A href=tasks("list=negative")>
                    {if dashboard.negative.vetoed {
                        view! { <p class="error" data-figure="vetoed">{strings::VETOED}</p> }.into_any()
                    } else {
                        view! { <p class="ok">{strings::NEGATIVE_CLEAR}</p> }.into_any()
                    }}
                    {(dashboard.negative.awaiting_confirmation > 0).then(|| view! {
                        <p>{strings::AWAITING_CONFIRMATION}" "{dashboard.negative.awaiting_confirmation}</p>
                    })}
                </A>
            </section>
        </div>

        {viewer().is(&[Role::LeadOffice]).then(|| view! { <LateList campaign=dashboard.campaign.clone() /> })}

        <section class="card">
            <h3>{strings::BY_INDICATOR}</h3>
            {dashboard.indicators.iter().map(|level1| view! { <IndicatorRows level1=level1.clone() campaign=dashboard.campaign.clone() /> }).collect_view()}
        </section>

        <UnitTable units=dashboard.units.clone() campaign=dashboard.campaign.clone() />
    }
}

/// How the unit table is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnitOrder {
    /// The roster's order, as the county lists its units.
    Roster,
    /// Most late assignments first: who to call.
    MostOverdue,
    /// Least of its work approved first.
    LeastApproved,
}

/// Each unit's work as lead and as responsible unit: sortable, its late
/// counts linking to the late tasks, the header staying in view.
#[component]
fn UnitTable(units: Vec<duban_dto::api::UnitProgress>, campaign: String) -> impl IntoView {
    let order = RwSignal::new(UnitOrder::Roster);
    let sorted = move || {
        let mut units = units.clone();
        match order.get() {
            UnitOrder::Roster => {}
            UnitOrder::MostOverdue => units.sort_by_key(|unit| std::cmp::Reverse(unit.lead.overdue + unit.responsible.overdue)),
            UnitOrder::LeastApproved => units.sort_by(|a, b| {
                let share = |unit: &duban_dto::api::UnitProgress| {
                    let total = unit.lead.total + unit.responsible.total;
                    if total == 0 { 1.0 } else { (unit.lead.approved + unit.responsible.approved) as f64 / total as f64 }
                };
                share(a).total_cmp(&share(b))
            }),
        }
        units
    };
    let tasks = move |query: String| format!("/tasks?campaign={campaign}&{query}");
    let sort_button = move |wanted: UnitOrder, label: &'static str| {
        view! {
            <button type="button" class="sort" aria-pressed=move || (order.get() == wanted).to_string() on:click=move |_| order.set(wanted)>{label}</button>
        }
    };
    view! {
        <section class="card unit-table">
            <h3>{strings::BY_UNIT}</h3>
            <p class="toolbar">
                {strings::SORT_BY}
                {sort_button(UnitOrder::Roster, strings::SORT_ROSTER)}
                {sort_button(UnitOrder::MostOverdue, strings::SORT_OVERDUE)}
                {sort_button(UnitOrder::LeastApproved, strings::SORT_APPROVED)}
            </p>
            <p class="muted">{strings::UNIT_TABLE_COUNTS}</p>
            <table class="units">
                <thead>
                    <tr>
                        <th rowspan="2">{strings::UNIT}</th>
                        <th colspan="3">{strings::AS_LEAD}</th>
                        <th colspan="4">{strings::AS_RESPONSIBLE}</th>
                    </tr>
                    <tr>
                        <th>{strings::APPROVED}</th><th>{strings::IN_REVIEW}</th><th>{strings::OVERDUE_ASSIGNMENTS}</th>
                        <th>{strings::APPROVED}</th><th>{strings::IN_REVIEW}</th><th>{strings::RETURNED}</th><th>{strings::OVERDUE_ASSIGNMENTS}</th>
                    </tr>
                </thead>
                <tbody>
                    {move || sorted().into_iter().map(|unit| {
                        let id = unit.unit.id;
                        let lead_approved = strings::of_total(unit.lead.approved, unit.lead.total);
                        let responsible_approved = strings::of_total(unit.responsible.approved, unit.responsible.total);
                        let late = |count: i64, href: String, figure: &'static str| {
                            if count > 0 {
                                view! { <A href=href><span data-figure=figure>{count}</span></A> }.into_any()
                            } else {
                                view! { <span data-figure=figure>{count}</span> }.into_any()
                            }
                        };
                        view! {
                            <tr data-unit=unit.unit.name.clone()>
                                <th scope="row">{unit.unit.name.clone()}</th>
                                <td><A href=tasks(format!("lead_unit={id}"))>
                                    <span data-figure="lead-approved">{lead_approved}</span>
                                </A></td>
                                <td>{unit.lead.in_review}</td>
                                <td class:alert={unit.lead.overdue > 0}>{late(unit.lead.overdue, tasks(format!("lead_unit={id}&overdue=true")), "lead-overdue")}</td>
                                <td><A href=tasks(format!("responsible_unit={id}"))>
                                    <span data-figure="responsible-approved">{responsible_approved}</span>
                                </A></td>
                                <td data-figure="responsible-in-review">{unit.responsible.in_review}</td>
                                <td data-figure="responsible-returned">{unit.responsible.returned}</td>
                                <td class:alert={unit.responsible.overdue > 0}>{late(unit.responsible.overdue, tasks(format!("responsible_unit={id}&overdue=true")), "responsible-overdue")}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// A level-1 indicator's bar, its level-2 indicators' bars below.
#[component]
fn IndicatorRows(level1: IndicatorProgress, campaign: String) -> impl IntoView {
    let href = |id: i64| format!("/tasks?campaign={campaign}&indicator={id}");
    view! {
        <details class="indicator">
            <summary>
                <StatusBar progress=level1.progress.clone() href=href(level1.id) label=format!("{}、{}", level1.code, level1.title) />
            </summary>
            {level1.children.iter().map(|level2| view! {
                <StatusBar progress=level2.progress.clone() href=href(level2.id) label=format!("{}{}", level2.code, level2.title) />
            }).collect_view()}
        </details>
    }
}

/// The lead office's list of late work: pick assignments, then issue a
/// notice (督办单) on them or urge them (催办) in one action.
#[component]
fn LateList(campaign: String) -> impl IntoView {
    let code = campaign.clone();
    let reload = RwSignal::new(0u32);
    let late = LocalResource::new(move || {
        reload.track();
        let code = code.clone();
        async move { api::get::<Page<Assignment>>(&format!("/api/v1/assignments?campaign={}&overdue=true&limit=100", api::encode(&code))).await }
    });
    let chosen = RwSignal::new(Vec::<i64>::new());
    let campaign = StoredValue::new(campaign);
    let issue_href = move || {
        let ids: Vec<String> = chosen.get().iter().map(i64::to_string).collect();
        format!("/notices?campaign={}&assignments={}", campaign.get_value(), ids.join(","))
    };
    view! {
        <section class="card late-list no-print">
            <h3>{strings::LATE_WORK}</h3>
            {move || loaded(late.get(), move |page| {
                if page.items.is_empty() {
                    return view! { <p class="muted">{strings::NOTHING}</p> }.into_any();
                }
                view! {
                    <p class="muted">{strings::SELECT_LATE}</p>
                    <table class="late">
                        <tbody>
                            {page.items.into_iter().map(|assignment| {
                                let id = assignment.id;
                                view! {
                                    <tr data-late=id>
                                        <td><input type="checkbox" name="late" value=id.to_string()
                                            prop:checked=move || chosen.read().contains(&id)
                                            on:change=move |e| {
                                                let on = event_target_checked(&e);
                                                chosen.update(|ids| {
                                                    ids.retain(|other| *other != id);
                                                    if on {
                                                        ids.push(id);
                                                    }
                                                });
                                            } /></td>
                                        <td><A href=format!("/tasks/{}", assignment.task.id)><span class="code">{assignment.task.code.clone()}</span></A></td>
                                        <td>{assignment.unit.name.clone()}</td>
                                        <td>{assignment.due_date.map(|due| due.to_string())}</td>
                                        <td>{(assignment.urged > 0).then(|| view! {
                                            <span class="badge urged">{format!("{}{}{}", strings::URGED_TIMES, assignment.urged, strings::TIMES)}</span>
                                        })}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    <div class="toolbar">
                        {move || {
                            let ids = chosen.get();
                            (!ids.is_empty()).then(|| view! {
                                <A href=issue_href() attr:class="button issue">{strings::ISSUE_NOTICE}</A>
                                <UrgeButton campaign=campaign.get_value() assignment_ids=ids
                                    on_done=Callback::new(move |_: ()| reload.update(|n| *n += 1)) />
                            })
                        }}
                    </div>
                }.into_any()
            })}
        </section>
    }
}
