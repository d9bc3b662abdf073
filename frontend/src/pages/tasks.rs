//! 任务清单: the tasks in the table's own layout (一级/二级/序号/任务/
//! 牵头单位/责任单位/状态), with the API's filters and Chinese search kept in
//! the address, and the indicator tree to navigate by.

use duban_dto::api::{Indicator, Page, TaskSummary};
use duban_dto::{TaskList, TaskStatus};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::dashboard::campaign_code;
use crate::{api, loaded, strings};

/// The filters the page passes on to `GET /api/v1/tasks`.
const FILTERS: [&str; 10] =
    ["campaign", "list", "indicator", "lead_unit", "responsible_unit", "status", "overdue", "light", "q", "due_before"];

#[component]
pub fn TasksPage() -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    // The address holds the filters; changing one replaces it.
    let set_filter = move |name: &'static str, value: String| {
        let mut pairs: Vec<(String, String)> = FILTERS
            .iter()
            .filter(|filter| **filter != name)
            .filter_map(|filter| query.read_untracked().get(filter).map(|value| (filter.to_string(), value)))
            .collect();
        if !value.is_empty() {
            pairs.push((name.to_owned(), value));
        }
        let search: Vec<String> = pairs.iter().map(|(name, value)| format!("{name}={}", api::encode(value))).collect();
        navigate(&format!("/tasks?{}", search.join("&")), NavigateOptions { replace: true, ..NavigateOptions::default() });
    };
    let current = move |name: &str| query.read().get(name).unwrap_or_default();
    let search_text = RwSignal::new(query.read_untracked().get("q").unwrap_or_default());

    let code = LocalResource::new(move || {
        let wanted = query.read().get("campaign");
        campaign_code(wanted)
    });
    let tree = LocalResource::new(move || {
        let code = code.get();
        async move {
            match code {
                Some(Ok(code)) => api::get::<Vec<Indicator>>(&format!("/api/v1/campaigns/{}/indicators", api::encode(&code))).await,
                Some(Err(error)) => Err(error),
                None => Ok(Vec::new()),
            }
        }
    });

    // Pages of the list: the first loads with the filters; "more" appends.
    let rows = RwSignal::new(Vec::<TaskSummary>::new());
    let next = RwSignal::new(None::<String>);
    let total = RwSignal::new(None::<i64>);
    let failure = RwSignal::new(None::<String>);
    let filters = move || {
        FILTERS
            .iter()
            .filter_map(|filter| query.read().get(filter).map(|value| format!("{filter}={}", api::encode(&value))))
            .collect::<Vec<_>>()
            .join("&")
    };
    Effect::new(move || {
        let filters = filters();
        leptos::task::spawn_local(async move {
            match api::get::<Page<TaskSummary>>(&format!("/api/v1/tasks?limit=100&{filters}")).await {
                Ok(page) => {
                    total.set(Some(page.total));
                    next.set(page.next_cursor);
                    rows.set(page.items);
                    failure.set(None);
                }
                Err(error) => failure.set(Some(error.to_string())),
            }
        });
    });
    let more = move |_| {
        let Some(cursor) = next.get_untracked() else { return };
        let filters = filters();
        leptos::task::spawn_local(async move {
            match api::get::<Page<TaskSummary>>(&format!("/api/v1/tasks?limit=100&cursor={}&{filters}", api::encode(&cursor))).await {
                Ok(page) => {
                    next.set(page.next_cursor);
                    rows.update(|rows| rows.extend(page.items));
                }
                Err(error) => failure.set(Some(error.to_string())),
            }
        });
    };

    let set_list = set_filter.clone();
    let set_status = set_filter.clone();
    let set_overdue = set_filter.clone();
    let set_search = set_filter.clone();
    view! {
        <div class="with-tree">
            <nav class="tree card" aria-label=strings::INDICATOR_TREE>
                <h3>{strings::INDICATOR_TREE}</h3>
                <A href="/tasks">{strings::ALL_INDICATORS}</A>
                {move || loaded(tree.get(), |tree| view! {
                    <ul>
                        {tree.into_iter().map(|level1| view! {
                            <li>
                                <A href=format!("/tasks?indicator={}", level1.id)>{format!("{}、{}", level1.code, level1.title)}</A>
                                <ul>
                                    {level1.children.into_iter().map(|level2| view! {
                                        <li><A href=format!("/tasks?indicator={}", level2.id)>{format!("{}{}", level2.code, level2.title)}</A></li>
                                    }).collect_view()}
                                </ul>
                            </li>
                        }).collect_view()}
                        {TaskList::ALL.iter().filter(|list| **list != TaskList::Basic).map(|list| view! {
                            <li><A href=format!("/tasks?list={list}")>{list.zh_name()}</A></li>
                        }).collect_view()}
                    </ul>
                })}
            </nav>
            <section class="tasks">
                <form class="filters" on:submit=move |event| {
                    event.prevent_default();
                    set_search("q", search_text.get_untracked());
                }>
                    <input type="search" name="q" placeholder=strings::SEARCH aria-label=strings::SEARCH
                        prop:value=search_text on:input=move |e| search_text.set(event_target_value(&e)) />
                    <select name="list" aria-label=strings::ALL_LISTS prop:value=move || current("list")
                        on:change=move |e| set_list("list", event_target_value(&e))>
                        <option value="">{strings::ALL_LISTS}</option>
                        {TaskList::ALL.iter().map(|list| view! { <option value=list.as_str()>{list.zh_name()}</option> }).collect_view()}
                    </select>
                    <select name="status" aria-label=strings::ALL_STATUSES prop:value=move || current("status")
                        on:change=move |e| set_status("status", event_target_value(&e))>
                        <option value="">{strings::ALL_STATUSES}</option>
                        {TaskStatus::ALL.iter().map(|status| view! { <option value=status.as_str()>{status.zh_name()}</option> }).collect_view()}
                    </select>
                    <label class="check">
                        <input type="checkbox" name="overdue" prop:checked=move || current("overdue") == "true"
                            on:change=move |e| set_overdue("overdue", if event_target_checked(&e) { "true".to_owned() } else { String::new() }) />
                        {strings::ONLY_OVERDUE}
                    </label>
                    <button type="submit">{strings::FILTER}</button>
                    <A href="/tasks">{strings::CLEAR_FILTERS}</A>
                </form>
                {move || failure.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                {move || total.get().map(|total| view! { <p class="count" data-figure="task-count">{format!("共 {total} 项")}</p> })}
                {move || {
                    let rows = rows.get();
                    if rows.is_empty() && total.get().is_some() {
                        view! { <p>{strings::NO_TASKS}</p> }.into_any()
                    } else {
                        view! { <TaskTable rows /> }.into_any()
                    }
                }}
                {move || next.get().is_some().then(|| view! { <button class="more" on:click=more>{strings::MORE}</button> })}
            </section>
        </div>
    }
}

/// How many rows from `start` share the same key: the row span of a
/// merged cell, as in the table's original.
fn run_length<K: PartialEq>(rows: &[TaskSummary], start: usize, key: impl Fn(&TaskSummary) -> K) -> usize {
    let first = key(&rows[start]);
    rows[start..].iter().take_while(|row| key(row) == first).count()
}

#[component]
fn TaskTable(rows: Vec<TaskSummary>) -> impl IntoView {
    let level1 = |task: &TaskSummary| task.level1.as_ref().map(|indicator| indicator.id).ok_or(task.list);
    let level2 = |task: &TaskSummary| task.level2.as_ref().map(|indicator| indicator.id).ok_or(task.list);
    let body = (0..rows.len())
        .map(|index| {
            let task = &rows[index];
            let starts1 = index == 0 || level1(&rows[index - 1]) != level1(task);
            let starts2 = index == 0 || level2(&rows[index - 1]) != level2(task);
            let span1 = run_length(&rows, index, level1);
            let span2 = run_length(&rows, index, level2);
            let label1 = task.level1.as_ref().map(|indicator| format!("{}、{}", indicator.code, indicator.title)).unwrap_or_default();
            let label2 = task
                .level2
                .as_ref()
                .map(|indicator| format!("{}{}", indicator.code, indicator.title))
                .unwrap_or_else(|| task.list.zh_name().to_owned());
            let leads: Vec<String> = task.leads.iter().map(|party| party.as_written.clone()).collect();
            let status = task.status;
            let (code, text) = (task.code.clone(), task.text.clone());
            let shown_code = code.clone();
            view! {
                <tr data-code=code data-status=status.as_str()>
                    {starts1.then(|| view! { <td rowspan=span1 class="merged">{label1}</td> })}
                    {starts2.then(|| view! { <td rowspan=span2 class="merged">{label2}</td> })}
                    <td class="number">{task.number}</td>
                    <td><A href=format!("/tasks/{}", task.id)><span class="code">{shown_code}</span>" "{text}</A></td>
                    <td class="units">{leads.into_iter().map(|lead| view! { <div>{lead}</div> }).collect_view()}</td>
                    <td class="units">{task.responsible.clone().unwrap_or_default()}</td>
                    <td><span class=format!("status {}", status.as_str())>{status.zh_name()}</span>
                        {task.next_due.map(|due| view! { <small class="due">{due.to_string()}</small> })}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="breakdown">
            <thead>
                <tr>
                    <th>{strings::LEVEL1}</th><th>{strings::LEVEL2}</th><th>{strings::NUMBER}</th><th>{strings::TASK}</th>
                    <th>{strings::LEADS}</th><th>{strings::RESPONSIBLE}</th><th>{strings::STATUS}</th>
                </tr>
            </thead>
            <tbody>{body}</tbody>
        </table>
    }
}
