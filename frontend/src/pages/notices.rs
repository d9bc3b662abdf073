//! 督办: the notices list, one notice with each addressed unit's history and
//! the steps the viewer may take, and the forms that issue a notice or urge
//! late units — shared with the dashboard's late list and the task page.

use duban_dto::api::{LateFilter, NewNotice, Notice, NoticeAction, NoticeRecipient, NoticeReply, NoticeSummary, Page, UrgeRequest, Urged};
use duban_dto::{NoticeLevel, NoticeStep, Role};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use wasm_bindgen::JsCast;

use super::dashboard::campaign_code;
use crate::{api, loaded, strings, viewer};

/// Beijing time, as the office reads it.
pub(crate) fn local(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is valid")).format("%Y-%m-%d %H:%M").to_string()
}

fn level_badge(level: NoticeLevel) -> impl IntoView {
    view! { <span class=format!("badge level {}", level.colour()) data-level=level.as_str()>{level.zh_name()}</span> }
}

#[component]
pub fn NoticesPage() -> impl IntoView {
    let viewer = viewer();
    let query = use_query_map();
    let open = RwSignal::new(Some(true));
    let reload = RwSignal::new(0u32);
    let notices = LocalResource::new(move || {
        reload.track();
        let open = open.get();
        let assignment = query.read().get("assignment_id");
        async move {
            let mut path = "/api/v1/notices?limit=200".to_owned();
            if let Some(open) = open {
                path.push_str(&format!("&open={open}"));
            }
            if let Some(assignment) = assignment {
                path.push_str(&format!("&assignment_id={}", api::encode(&assignment)));
            }
            api::get::<Page<NoticeSummary>>(&path).await
        }
    });
    let campaign = LocalResource::new(move || campaign_code(query.read().get("campaign")));
    let is_office = viewer.is(&[Role::LeadOffice]);
    // Arriving from the dashboard or a task: the assignments to address.
    let preset: Vec<i64> =
        query.read_untracked().get("assignments").unwrap_or_default().split(',').filter_map(|id| id.parse().ok()).collect();
    let preset_task: Option<i64> = query.read_untracked().get("late_task").and_then(|id| id.parse().ok());
    let issuing = RwSignal::new(!preset.is_empty() || preset_task.is_some());
    let filter = move |value: Option<bool>, label: &'static str| {
        view! {
            <button class:active=move || open.get() == value on:click=move |_| open.set(value)>{label}</button>
        }
    };
    view! {
        <h2>{strings::NOTICES}</h2>
        <div class="toolbar no-print">
            {filter(Some(true), strings::OPEN_NOTICES)}
            {filter(Some(false), strings::CLOSED_NOTICES)}
            {filter(None, strings::ALL)}
            {is_office.then(|| view! {
                <button class="issue primary" on:click=move |_| issuing.update(|shown| *shown = !*shown)>{strings::ISSUE_NOTICE}</button>
            })}
        </div>
        {move || (is_office && issuing.get()).then(|| {
            let preset = preset.clone();
            move || loaded(campaign.get(), {
                let preset = preset.clone();
                move |code| {
                    let late = preset_task.map(|task_id| LateFilter { task_id: Some(task_id), ..LateFilter::default() });
                    view! {
                        <IssueNoticeForm campaign=code assignment_ids=preset.clone() late
                            on_issued=Callback::new(move |notice: Notice| {
                                issuing.set(false);
                                reload.update(|n| *n += 1);
                                let _ = web_sys::window().map(|window| window.location().set_href(&format!("/notices/{}", notice.id)));
                            }) />
                    }
                }
            })
        })}
        {move || loaded(notices.get(), |page| {
            if page.items.is_empty() {
                return view! { <p class="muted" data-figure="no-notices">{strings::NO_NOTICES}</p> }.into_any();
            }
            view! {
                <table class="notices">
                    <thead><tr>
                        <th>{strings::NOTICE_LEVEL}</th><th>{strings::NOTICES}</th><th>{strings::UNITS_ADDRESSED}</th>
                        <th>{strings::ACKNOWLEDGED}</th><th>{strings::REPLIED}</th><th>{strings::CLOSED}</th><th>{strings::REPLY_DUE}</th>
                    </tr></thead>
                    <tbody>
                        {page.items.into_iter().map(|notice| view! {
                            <tr data-notice=notice.id class:closed=notice.closed_at.is_some()>
                                <td>{level_badge(notice.level)}</td>
                                <td>
                                    <A href=format!("/notices/{}", notice.id)>{notice.doc_number.clone()}</A>
                                    <br /><span class="notice-title">{notice.title.clone()}</span>
                                </td>
                                <td>{notice.units}</td>
                                <td data-figure="acknowledged">{format!("{}/{}", notice.acknowledged, notice.units)}</td>
                                <td>{format!("{}/{}", notice.replied, notice.units)}</td>
                                <td>{format!("{}/{}", notice.closed, notice.units)}</td>
                                <td>
                                    {notice.next_reply_due.map(|due| due.to_string())}
                                    {(notice.overdue > 0).then(|| view! { " " <span class="badge overdue" data-figure="overdue">{format!("{} {}", strings::OVERDUE, notice.overdue)}</span> })}
                                    {(notice.extensions_pending > 0).then(|| view! { " " <span class="badge pending">{format!("{} {}", strings::EXTENSIONS_PENDING, notice.extensions_pending)}</span> })}
                                </td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        })}
    }
}

/// The lead office issues a notice on the given assignments, or on the late
/// ones of a filter, with attachments.
#[component]
pub fn IssueNoticeForm(
    campaign: String,
    #[prop(optional)] assignment_ids: Vec<i64>,
    #[prop(default = None)] late: Option<LateFilter>,
    on_issued: Callback<Notice>,
) -> impl IntoView {
    let title = RwSignal::new("关于加快推进逾期任务办理的督办通知".to_owned());
    let requirement = RwSignal::new(strings::DEFAULT_REQUIREMENT.to_owned());
    let level = RwSignal::new(NoticeLevel::General);
    let days = RwSignal::new("5".to_owned());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let files = RwSignal::new_local(Vec::<web_sys::File>::new());
    let addressed = if !assignment_ids.is_empty() { format!("{} 项任务", assignment_ids.len()) } else { strings::LATE_WORK.to_owned() };
    let on_files = move |event: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event.target().expect("an input fired it").unchecked_into();
        if let Some(list) = input.files() {
            files.set((0..list.length()).filter_map(|i| list.get(i)).collect());
        }
    };
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let new = NewNotice {
            campaign: campaign.clone(),
            level: level.get_untracked(),
            title: title.get_untracked(),
            requirement: requirement.get_untracked(),
            reply_working_days: days.get_untracked().trim().parse().unwrap_or(0),
            assignment_ids: assignment_ids.clone(),
            late: late.clone(),
        };
        let chosen = files.get_untracked();
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let result = if chosen.is_empty() {
                api::call::<_, Notice>(api::Verb::Post, "/api/v1/notices", &new).await
            } else {
                let form = web_sys::FormData::new().expect("a form");
                let _ = form.append_with_str("notice", &serde_json::to_string(&new).unwrap_or_default());
                for file in &chosen {
                    let _ = form.append_with_blob_and_filename("file", file, &file.name());
                }
                api::upload::<Notice>("/api/v1/notices", &form, |_| {}).await
            };
            busy.set(false);
            match result {
                Ok(notice) => on_issued.run(notice),
                Err(failure) => error.set(Some(failure.to_string())),
            }
        });
    };
    view! {
        <form class="card issue-notice no-print" on:submit=submit>
            <h3>{strings::ISSUE_NOTICE}" · "<small>{addressed}</small></h3>
            <label>{strings::NOTICE_TITLE}
                <input name="title" required maxlength="100" prop:value=title on:input=move |e| title.set(event_target_value(&e)) />
            </label>
            <label>{strings::NOTICE_LEVEL}
                <select name="level" on:change=move |e| level.set(match event_target_value(&e).as_str() {
                    "key" => NoticeLevel::Key,
                    "urgent" => NoticeLevel::Urgent,
                    _ => NoticeLevel::General,
                })>
                    {NoticeLevel::ALL.iter().map(|choice| view! {
                        <option value=choice.as_str() selected=*choice == NoticeLevel::General>
                            {format!("{}（{}）", choice.zh_name(), choice.colour_zh())}
                        </option>
                    }).collect_view()}
                </select>
            </label>
            <label>{strings::REQUIREMENT}
                <textarea name="requirement" required prop:value=requirement on:input=move |e| requirement.set(event_target_value(&e))></textarea>
            </label>
            <label>{strings::REPLY_DAYS}
                <input name="reply_working_days" type="number" min="1" max="60" required prop:value=days on:input=move |e| days.set(event_target_value(&e)) />
            </label>
            <label>{strings::ATTACHMENTS}
                <input type="file" name="file" multiple on:change=on_files />
            </label>
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            <button type="submit" class="primary" disabled=busy>{strings::ISSUE_NOTICE}</button>
        </form>
    }
}

/// Urges the given assignments, or the late ones of a filter, in one click.
#[component]
pub fn UrgeButton(
    campaign: String,
    #[prop(optional)] assignment_ids: Vec<i64>,
    #[prop(default = None)] late: Option<LateFilter>,
    #[prop(optional)] label: Option<&'static str>,
    #[prop(optional)] on_done: Option<Callback<()>>,
) -> impl IntoView {
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let urge = move |_| {
        let body = UrgeRequest { campaign: campaign.clone(), assignment_ids: assignment_ids.clone(), late: late.clone(), message: None };
        spawn_local(async move {
            match api::call::<_, Urged>(api::Verb::Post, "/api/v1/urgings", &body).await {
                Ok(urged) => {
                    outcome.set(Some(Ok(format!("{} {} 项", strings::URGED, urged.assignments.len()))));
                    if let Some(done) = on_done {
                        done.run(());
                    }
                }
                Err(failure) => outcome.set(Some(Err(failure.to_string()))),
            }
        });
    };
    view! {
        <span class="urge no-print">
            <button class="urge" on:click=urge>{label.unwrap_or(strings::URGE)}</button>
            {move || outcome.get().map(|result| match result {
                Ok(message) => view! { <span class="ok" role="status">" "{message}</span> }.into_any(),
                Err(message) => view! { <span class="error" role="alert">" "{message}</span> }.into_any(),
            })}
        </span>
    }
}

#[component]
pub fn NoticePage() -> impl IntoView {
    let params = use_params_map();
    let reload = RwSignal::new(0u32);
    let notice = LocalResource::new(move || {
        let id = params.read().get("id").unwrap_or_default();
        reload.track();
        async move { api::get::<Notice>(&format!("/api/v1/notices/{}", api::encode(&id))).await }
    });
    view! {
        <article class="notice-page">
            {move || loaded(notice.get(), move |notice| view! { <NoticeView notice reload /> })}
        </article>
    }
}

#[component]
fn NoticeView(notice: Notice, reload: RwSignal<u32>) -> impl IntoView {
    let id = notice.id;
    let document_name = format!("{} {}.docx", notice.doc_number, notice.title);
    let download = move |_| {
        let name = document_name.clone();
        spawn_local(async move {
            let _ = api::download(&format!("/api/v1/notices/{id}/document"), &name).await;
        });
    };
    let on_change = Callback::new(move |_: ()| reload.update(|n| *n += 1));
    view! {
        <header class="notice-head" data-notice=id>
            <p class="crumbs"><A href="/notices">{strings::NOTICES}</A></p>
            <h2>
                {level_badge(notice.level)}" "
                <span class="doc-number" data-figure="doc-number">{notice.doc_number.clone()}</span>
            </h2>
            <h3>{notice.title.clone()}</h3>
            <p class="requirement">{notice.requirement.clone()}</p>
            <p class="muted">
                {local(notice.issued_at)}" · "{notice.issued_by.clone().unwrap_or_default()}
                {notice.closed_at.map(|at| view! { " · " <span class="ok" data-figure="notice-closed">{strings::CLOSED}" "{local(at)}</span> })}
            </p>
            {(!notice.attachments.is_empty()).then(|| view! {
                <p>{strings::ATTACHMENTS}"："
                    {notice.attachments.iter().map(|file| view! { <FileLink notice_id=id file_id=file.id name=file.file_name.clone() /> }).collect_view()}
                </p>
            })}
            <button class="document no-print" on:click=download>{strings::DOCUMENT}</button>
        </header>
        <section class="recipients">
            {notice.recipients.into_iter().map(|recipient| view! { <RecipientCard notice_id=id recipient on_change /> }).collect_view()}
        </section>
    }
}

#[component]
fn FileLink(notice_id: i64, file_id: i64, name: String) -> impl IntoView {
    let file_name = name.clone();
    let fetch = move |_| {
        let name = file_name.clone();
        spawn_local(async move {
            let _ = api::download(&format!("/api/v1/notices/{notice_id}/files/{file_id}"), &name).await;
        });
    };
    view! { <button class="link file" on:click=fetch>{name}</button>" " }
}

/// One addressed unit: where it stands, its history, and the steps the
/// viewer may take (the server's `open_steps`, from the rulebook).
#[component]
fn RecipientCard(notice_id: i64, recipient: NoticeRecipient, on_change: Callback<()>) -> impl IntoView {
    let id = recipient.id;
    let steps = recipient.open_steps.clone();
    let can = move |step: NoticeStep| steps.contains(&step);
    let text = RwSignal::new(String::new());
    let until = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let files = RwSignal::new_local(Vec::<web_sys::File>::new());
    let fail = move |failure: api::ApiError| error.set(Some(failure.to_string()));
    let act = move |step: NoticeStep| {
        let body = NoticeAction {
            step,
            text: Some(text.get_untracked()).filter(|text| !text.trim().is_empty()),
            until: until.get_untracked().parse().ok(),
        };
        spawn_local(async move {
            match api::call::<_, Notice>(api::Verb::Post, &format!("/api/v1/notice-recipients/{id}/actions"), &body).await {
                Ok(_) => {
                    text.set(String::new());
                    on_change.run(());
                }
                Err(failure) => fail(failure),
            }
        });
    };
    let on_files = move |event: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event.target().expect("an input fired it").unchecked_into();
        if let Some(list) = input.files() {
            files.set((0..list.length()).filter_map(|i| list.get(i)).collect());
        }
    };
    let reply = move |_| {
        let chosen = files.get_untracked();
        let words = text.get_untracked();
        spawn_local(async move {
            let path = format!("/api/v1/notice-recipients/{id}/reply");
            let result = if chosen.is_empty() {
                api::call::<_, Notice>(api::Verb::Post, &path, &NoticeReply { text: words }).await
            } else {
                let form = web_sys::FormData::new().expect("a form");
                let _ = form.append_with_str("text", &words);
                for file in &chosen {
                    let _ = form.append_with_blob_and_filename("file", file, &file.name());
                }
                api::upload::<Notice>(&path, &form, |_| {}).await
            };
            match result {
                Ok(_) => {
                    text.set(String::new());
                    files.set(Vec::new());
                    on_change.run(());
                }
                Err(failure) => fail(failure),
            }
        });
    };
    let unit_steps = can(NoticeStep::Reply) || can(NoticeStep::RequestExtension);
    let office_steps =
        [NoticeStep::GrantExtension, NoticeStep::RefuseExtension, NoticeStep::Return, NoticeStep::Close].into_iter().any(&can);
    view! {
        <article class="card recipient" data-recipient=id data-unit=recipient.unit.name.clone() data-state=recipient.state.as_str()>
            <header>
                <h4>{recipient.unit.name.clone()}</h4>
                <span class=format!("status {}", recipient.state.as_str()) data-figure="recipient-state">{recipient.state.zh_name()}</span>
                <span class="due">{strings::REPLY_DUE}"："<span data-figure="reply-due">{recipient.reply_due.to_string()}</span></span>
                {recipient.overdue.then(|| view! { <span class="badge overdue">{strings::OVERDUE}</span> })}
                {(recipient.urged > 0).then(|| view! {
                    <span class="badge urged" data-figure="urged">{format!("{}{}{}", strings::URGED_TIMES, recipient.urged, strings::TIMES)}</span>
                })}
                <p class="task-ref">
                    <A href=format!("/tasks/{}", recipient.task.id)><span class="code">{recipient.task.code.clone()}</span></A>
                    " "{recipient.task.text.clone()}
                </p>
            </header>
            {recipient.extension.clone().map(|extension| view! {
                <p class="extension" data-figure="extension">{strings::EXTENSION_ASKED}" "{extension.until.to_string()}"："{extension.reason}</p>
            })}
            {can(NoticeStep::Acknowledge).then(|| view! {
                <button class="acknowledge primary no-print" on:click=move |_| act(NoticeStep::Acknowledge)>{strings::notice_event("acknowledge")}</button>
            })}
            {(unit_steps || office_steps).then(|| view! {
                <div class="notice-actions no-print">
                    <label>{if unit_steps { strings::REPLY_TEXT } else { strings::DECISION_TEXT }}
                        <textarea name="text" prop:value=text on:input=move |e| text.set(event_target_value(&e))></textarea>
                    </label>
                    {can(NoticeStep::Reply).then(|| view! {
                        <label>{strings::ATTACHMENTS}<input type="file" name="file" multiple on:change=on_files /></label>
                        <button class="reply primary" on:click=reply>{strings::SEND_REPLY}</button>
                    })}
                    {can(NoticeStep::RequestExtension).then(|| view! {
                        <label>{strings::EXTENSION_UNTIL}
                            <input type="date" name="until" prop:value=until on:input=move |e| until.set(event_target_value(&e)) />
                        </label>
                        <button class="request-extension" on:click=move |_| act(NoticeStep::RequestExtension)>{strings::ASK_EXTENSION}</button>
                    })}
                    {[NoticeStep::GrantExtension, NoticeStep::RefuseExtension, NoticeStep::Return, NoticeStep::Close].into_iter().filter(|step| can(*step)).map(|step| view! {
                        <button class=step.as_str().replace('_', "-") on:click=move |_| act(step)>{strings::notice_event(step.as_str())}</button>
                    }).collect_view()}
                </div>
            })}
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            <ol class="notice-history">
                {recipient.history.into_iter().map(|event| view! {
                    <li data-event=event.kind.clone()>
                        <time>{local(event.at)}</time>" "
                        {strings::notice_event(&event.kind)}" "
                        {event.actor.clone().unwrap_or_default()}
                        {event.actor_unit.as_ref().map(|unit| format!("（{}）", unit.name))}
                        {event.until.map(|until| format!(" {} {until}", strings::EXTENSION_UNTIL))}
                        {event.text.clone().map(|text| view! { "：" <q>{text}</q> })}
                        {event.files.into_iter().map(|file| view! { " " <FileLink notice_id file_id=file.id name=file.file_name /> }).collect_view()}
                    </li>
                }).collect_view()}
            </ol>
        </article>
    }
}
