//! A task's page: the text, targets and units; each unit's work on it with
//! status, history and evidence; review actions and assigning units for
//! those allowed. Prints as a clean page.

use duban_dto::api::{AssignmentsCreated, LateFilter, NewAssignments, TaskDetail, UnitGroup};
use duban_dto::{PartyRole, Role};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::notices::UrgeButton;
use crate::work::AssignmentPanel;
use crate::{UnitOptions, api, loaded, strings, viewer};

#[component]
pub fn TaskPage() -> impl IntoView {
    let params = use_params_map();
    let reload = RwSignal::new(0u32);
    // Kept outside the reloaded view, so the confirmation outlives the reload.
    let assign_outcome = RwSignal::new(None::<Result<String, String>>);
    let task = LocalResource::new(move || {
        let id = params.read().get("id").unwrap_or_default();
        reload.track();
        async move { api::get::<TaskDetail>(&format!("/api/v1/tasks/{}", api::encode(&id))).await }
    });
    view! {
        <article class="task-page">
            {move || loaded(task.get(), move |task| view! { <TaskView task reload assign_outcome /> })}
        </article>
    }
}

#[component]
fn TaskView(task: TaskDetail, reload: RwSignal<u32>, assign_outcome: RwSignal<Option<Result<String, String>>>) -> impl IntoView {
    let viewer = viewer();
    let summary = task.summary.clone();
    let is_lead_office = viewer.is(&[Role::LeadOffice]);
    let on_change = Callback::new(move |_: ()| reload.update(|n| *n += 1));
    let print = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    };
    view! {
        <header class="task-head">
            <p class="crumbs">
                <A href="/tasks">{strings::NAV_TASKS}</A>
                {summary.level1.as_ref().map(|indicator| view! {
                    " › " <A href=format!("/tasks?indicator={}", indicator.id)>{format!("{}、{}", indicator.code, indicator.title)}</A>
                })}
                {summary.level2.as_ref().map(|indicator| view! {
                    " › " <A href=format!("/tasks?indicator={}", indicator.id)>{format!("{}{}", indicator.code, indicator.title)}</A>
                })}
            </p>
            <h2><span class="code">{summary.code.clone()}</span>" "{summary.list.zh_name()}" "{strings::NUMBER}" "{summary.number}</h2>
            <p class="task-text">{summary.text.clone()}</p>
            <p>
                <span class=format!("status {}", summary.status.as_str()) data-figure="task-status">{summary.status.zh_name()}</span>
                {summary.next_due.map(|due| view! { " " {strings::DUE}"："{due.to_string()} })}
                <button class="print no-print" on:click=print>{strings::PRINT}</button>
            </p>
            <dl class="parties">
                <dt>{strings::LEADS}</dt>
                <dd>{summary.leads.iter().map(|party| party.as_written.clone()).collect::<Vec<_>>().join("、")}</dd>
                <dt>{strings::RESPONSIBLE}</dt>
                <dd>{summary.responsible.clone().unwrap_or_else(|| strings::NONE.to_owned())}</dd>
            </dl>
            {(!task.targets.is_empty()).then(|| view! {
                <h3>{strings::TARGETS}</h3>
                <ul class="targets">
                    {task.targets.iter().map(|target| view! {
                        <li>{format!("{} {} {}{}", target.metric, target.comparator.as_str(),
                            target.value.map(|value| value.to_string()).or_else(|| target.reference.clone()).unwrap_or_default(),
                            target.unit.as_str())}</li>
                    }).collect_view()}
                </ul>
            })}
        </header>

        <section class="assignments">
            <h3>{strings::ASSIGNMENTS}</h3>
            {task.assignments.iter().map(|assignment| view! {
                <AssignmentPanel assignment=assignment.clone() on_change />
            }).collect_view()}
            {(is_lead_office && task.assignments.iter().any(|assignment| assignment.overdue)).then(|| {
                let late = LateFilter { task_id: Some(summary.id), ..LateFilter::default() };
                view! {
                    <div class="supervise toolbar no-print">
                        <A href=format!("/notices?campaign={}&late_task={}", summary.campaign, summary.id) attr:class="button issue">{strings::ISSUE_FOR_LATE}</A>
                        <UrgeButton campaign=summary.campaign.clone() late=Some(late) label=strings::URGE_LATE on_done=on_change />
                    </div>
                }
            })}
            {is_lead_office.then(|| view! { <AssignForm task_id=summary.id on_change outcome=assign_outcome /> })}
        </section>
    }
}

/// The lead office assigns responsible units, one or a whole group, with a
/// due date.
#[component]
fn AssignForm(task_id: i64, on_change: Callback<()>, outcome: RwSignal<Option<Result<String, String>>>) -> impl IntoView {
    let groups = LocalResource::new(|| api::get::<Vec<UnitGroup>>("/api/v1/unit-groups"));
    let unit = RwSignal::new(String::new());
    let group = RwSignal::new(String::new());
    let due = RwSignal::new(String::new());
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let body = NewAssignments {
            unit_ids: unit.get_untracked().parse().ok().into_iter().collect(),
            group_id: group.get_untracked().parse().ok(),
            role: PartyRole::Responsible,
            due_date: due.get_untracked().parse().ok(),
        };
        spawn_local(async move {
            let result = api::call::<_, AssignmentsCreated>(api::Verb::Post, &format!("/api/v1/tasks/{task_id}/assignments"), &body).await;
            match result {
                Ok(created) => {
                    outcome.set(Some(Ok(format!("{} {}", strings::ASSIGNED, created.created.len()))));
                    on_change.run(());
                }
                Err(error) => outcome.set(Some(Err(error.to_string()))),
            }
        });
    };
    view! {
        <form class="card assign no-print" on:submit=submit>
            <h4>{strings::ASSIGN}</h4>
            <label>{strings::ASSIGN_UNIT}
                <select name="unit" prop:value=unit on:change=move |e| unit.set(event_target_value(&e))>
                    <UnitOptions />
                </select>
            </label>
            <label>{strings::ASSIGN_GROUP}
                <select name="group" prop:value=group on:change=move |e| group.set(event_target_value(&e))>
                    <option value="">"—"</option>
                    {move || groups.get().and_then(Result::ok).map(|groups| groups.into_iter().map(|group| view! {
                        <option value=group.id.to_string()>{group.phrase}</option>
                    }).collect_view())}
                </select>
            </label>
            <label>{strings::DUE}
                <input type="date" name="due_date" prop:value=due on:input=move |e| due.set(event_target_value(&e)) />
            </label>
            {move || outcome.get().map(|result| match result {
                Ok(message) => view! { <p class="ok" role="status">{message}</p> }.into_any(),
                Err(message) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
            })}
            <button type="submit">{strings::ASSIGN}</button>
        </form>
    }
}
