//! One unit's work on one task: status, progress note, evidence with its
//! versions and previews, uploading (drag and drop, several files, a
//! progress bar), submitting, the review history and, for reviewers, the
//! review actions. Shared by the task page, the unit's page and the review
//! queue.

use duban_dto::api::{Assignment, AssignmentPatch, Decision, Evidence, NoticeSummary, Page, Review};
use duban_dto::{AssignmentStatus, ReviewDecision};
use duban_rules::workflow::{self, AssignmentFacts, Standing, Step};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use wasm_bindgen::JsCast;

use crate::{api, strings, viewer};

#[component]
pub fn AssignmentPanel(
    assignment: Assignment,
    on_change: Callback<()>,
    /// Show which task it is (on pages listing several tasks).
    #[prop(optional)]
    show_task: bool,
) -> impl IntoView {
    let viewer = viewer();
    let id = assignment.id;
    let status = assignment.status;
    // What the viewer may do here is the rulebook's answer, the same the
    // server gives; the server still decides every request.
    let facts = AssignmentFacts { unit_id: assignment.unit.id, lead_unit_ids: assignment.lead_unit_ids.clone() };
    let standing = Standing::of(Some(viewer.0.role), viewer.unit_id(), &facts);
    let open = workflow::open_steps(status, standing, assignment.role);
    let editable = standing == Standing::OwnUnit && workflow::evidence_editable(status);
    let can_submit = open.contains(&Step::Submit);
    let can_accept = open.contains(&Step::Accept);
    let can_return = open.contains(&Step::Return);
    let can_approve = open.contains(&Step::Approve);
    // Saving a note on untouched work starts it (the unit's own step).
    let note_starts_work = status == AssignmentStatus::NotStarted && open.contains(&Step::Start);
    let reload = RwSignal::new(0u32);
    let evidence = LocalResource::new(move || {
        reload.track();
        async move { api::get::<Vec<Evidence>>(&format!("/api/v1/assignments/{id}/evidence")).await }
    });
    let history = LocalResource::new(move || {
        reload.track();
        async move { api::get::<Vec<Decision>>(&format!("/api/v1/assignments/{id}/history")).await }
    });
    // The notices about this work, fetched when its history is opened.
    let history_open = RwSignal::new(false);
    let notices = LocalResource::new(move || {
        let open = history_open.get();
        async move {
            if !open {
                return Ok(Vec::new());
            }
            api::get::<Page<NoticeSummary>>(&format!("/api/v1/notices?assignment_id={id}&limit=50")).await.map(|page| page.items)
        }
    });
    let changed = move || {
        reload.update(|n| *n += 1);
        on_change.run(());
    };
    let error = RwSignal::new(None::<String>);
    let fail = move |failure: api::ApiError| error.set(Some(failure.to_string()));

    let submit = move |_| {
        spawn_local(async move {
            match api::act::<()>(api::Verb::Post, &format!("/api/v1/assignments/{id}/submit"), None).await {
                Ok(()) => changed(),
                Err(failure) => fail(failure),
            }
        });
    };

    let reason = RwSignal::new(String::new());
    let decide = move |decision: ReviewDecision| {
        let body = Review { decision, reason: Some(reason.get_untracked()).filter(|reason| !reason.trim().is_empty()) };
        spawn_local(async move {
            match api::act(api::Verb::Post, &format!("/api/v1/assignments/{id}/review"), Some(&body)).await {
                Ok(()) => {
                    reason.set(String::new());
                    changed();
                }
                Err(failure) => fail(failure),
            }
        });
    };

    let note = RwSignal::new(assignment.progress_note.clone().unwrap_or_default());
    let version = assignment.version;
    let save_note = move |_| {
        let mut patch = AssignmentPatch { progress_note: Some(Some(note.get_untracked())), ..AssignmentPatch::default() };
        if note_starts_work {
            patch.status = Some(AssignmentStatus::InProgress);
        }
        spawn_local(async move {
            let body = match serde_json::to_value(&patch) {
                Ok(body) => body,
                Err(failure) => return fail(api::ApiError::Network(failure.to_string())),
            };
            let etag = format!("\"{version}\"");
            match api::send(api::Verb::Patch, &format!("/api/v1/assignments/{id}"), api::Body::Json(body), &[("If-Match", &etag)]).await {
                Ok(_) => changed(),
                Err(failure) => fail(failure),
            }
        });
    };

    // The lead office sets or changes the due date, or removes the unit's
    // assignment; the server checks the version (If-Match) as for notes.
    let plans = viewer.is(&[duban_dto::Role::LeadOffice]);
    let due = RwSignal::new(assignment.due_date.map(|due| due.to_string()).unwrap_or_default());
    let save_due = move |_| {
        let due_date = due.get_untracked().parse::<chrono::NaiveDate>().ok();
        let patch = AssignmentPatch { due_date: Some(due_date), ..AssignmentPatch::default() };
        spawn_local(async move {
            let body = match serde_json::to_value(&patch) {
                Ok(body) => body,
                Err(failure) => return fail(api::ApiError::Network(failure.to_string())),
            };
            let etag = format!("\"{version}\"");
            match api::send(api::Verb::Patch, &format!("/api/v1/assignments/{id}"), api::Body::Json(body), &[("If-Match", &etag)]).await {
                Ok(_) => changed(),
                Err(failure) => fail(failure),
            }
        });
    };
    let remove = move |_| {
        let confirmed =
            web_sys::window().and_then(|window| window.confirm_with_message(strings::CONFIRM_REMOVE_ASSIGNMENT).ok()).unwrap_or(false);
        if !confirmed {
            return;
        }
        spawn_local(async move {
            match api::act::<()>(api::Verb::Delete, &format!("/api/v1/assignments/{id}"), None).await {
                Ok(()) => on_change.run(()),
                Err(failure) => fail(failure),
            }
        });
    };

    let last_return = move || {
        history
            .get()
            .and_then(Result::ok)
            .and_then(|decisions| decisions.into_iter().rev().find(|d| d.action == "return"))
            .and_then(|d| d.reason)
    };

    view! {
        <article class="card assignment" data-assignment=id data-unit=assignment.unit.name.clone() data-status=status.as_str()>
            <header>
                {show_task.then(|| view! {
                    <p class="task-ref">
                        <A href=format!("/tasks/{}", assignment.task.id)><span class="code">{assignment.task.code.clone()}</span></A>
                        " " {assignment.task.text.clone()}
                    </p>
                })}
                <h4>
                    {assignment.unit.name.clone()}
                    <small>{format!("（{}单位）", if assignment.role == duban_dto::PartyRole::Lead { strings::AS_LEAD } else { strings::AS_RESPONSIBLE })}</small>
                </h4>
                <span class=format!("status {}", status.as_str()) data-figure="assignment-status">{status.zh_name()}</span>
                {assignment.due_date.map(|due| view! { <span class="due">{strings::DUE}"："{due.to_string()}</span> })}
                {assignment.overdue.then(|| view! { <span class="badge overdue">{strings::OVERDUE}</span> })}
                {(assignment.urged > 0).then(|| view! {
                    <span class="badge urged" data-figure="urged">{format!("{}{}{}", strings::URGED_TIMES, assignment.urged, strings::TIMES)}</span>
                })}
            </header>

            {plans.then(|| view! {
                <div class="plan no-print">
                    <label>{strings::DUE}
                        <input type="date" name="due_date" prop:value=due on:input=move |e| due.set(event_target_value(&e)) />
                    </label>
                    <button type="button" class="save-due" on:click=save_due>{strings::SAVE_DUE}</button>
                    // Only work not begun can be removed (the server says the same).
                    {(status == AssignmentStatus::NotStarted && assignment.progress_note.is_none()).then(|| view! {
                        <button type="button" class="remove-assignment danger" on:click=remove>{strings::REMOVE_ASSIGNMENT}</button>
                    })}
                </div>
            })}

            {(status == AssignmentStatus::Returned).then(|| view! {
                {move || last_return().map(|reason| view! {
                    <p class="return-reason" role="alert" data-figure="return-reason">{strings::RETURNED_BECAUSE}{reason}</p>
                })}
            })}

            {if editable {
                view! {
                    <div class="note no-print">
                        <label>{strings::PROGRESS_NOTE}
                            <textarea name="progress_note" prop:value=note on:input=move |e| note.set(event_target_value(&e))></textarea>
                        </label>
                        <button on:click=save_note>{strings::SAVE}</button>
                    </div>
                }.into_any()
            } else {
                assignment.progress_note.clone().map(|text| view! { <p class="note">{strings::PROGRESS}"："{text}</p> }).into_any()
            }}

            <h5>{strings::EVIDENCE}</h5>
            {move || match evidence.get() {
                None => view! { <p class="loading">{strings::LOADING}</p> }.into_any(),
                Some(Err(failure)) => view! { <p class="error">{failure.to_string()}</p> }.into_any(),
                Some(Ok(items)) if items.is_empty() => view! { <p class="muted">{strings::NO_EVIDENCE}</p> }.into_any(),
                Some(Ok(items)) => view! {
                    <ul class="evidence">
                        {items.into_iter().filter(|item| !item.withdrawn).map(|item| view! {
                            <EvidenceItem item assignment_id=id editable on_change=Callback::new(move |_: ()| changed()) />
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}

            {editable.then(|| view! {
                <Uploader assignment_id=id evidence_id=None on_done=Callback::new(move |_: ()| changed()) />
            })}
            {can_submit.then(|| view! {
                <button class="submit primary" on:click=submit>{strings::SUBMIT}</button>
            })}

            {(can_accept || can_return || can_approve).then(|| view! {
                <div class="review no-print">
                    <label>{strings::RETURN_REASON}
                        <textarea name="reason" prop:value=reason on:input=move |e| reason.set(event_target_value(&e))></textarea>
                    </label>
                    {can_accept.then(|| view! {
                        <button class="accept primary" on:click=move |_| decide(ReviewDecision::Accept)>{if plans { strings::ACCEPT_AS_OFFICE } else { strings::ACCEPT }}</button>
                    })}
                    {can_approve.then(|| view! {
                        <button class="approve primary" on:click=move |_| decide(ReviewDecision::Approve)>{strings::APPROVE}</button>
                    })}
                    {can_return.then(|| view! {
                        <button class="return" on:click=move |_| decide(ReviewDecision::Return)>{strings::RETURN}</button>
                    })}
                </div>
            })}

            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}

            <details class="history" on:toggle=move |_| history_open.set(true)>
                <summary>{strings::HISTORY}</summary>
                {move || notices.get().and_then(Result::ok).filter(|notices| !notices.is_empty()).map(|notices| view! {
                    <p class="notice-links">{strings::NOTICE_HISTORY}"："
                        {notices.into_iter().map(|notice| view! {
                            <A href=format!("/notices/{}", notice.id)>{format!("{}（{}）", notice.doc_number, notice.level.zh_name())}</A>" "
                        }).collect_view()}
                    </p>
                })}
                {move || match history.get() {
                    Some(Ok(decisions)) if !decisions.is_empty() => view! {
                        <ol>
                            {decisions.into_iter().map(|decision| view! {
                                <li data-action=decision.action.clone()>
                                    <time>{decision.at.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is valid")).format("%Y-%m-%d %H:%M").to_string()}</time>
                                    " " {strings::decision(&decision.action)}
                                    // People by name and unit, as the office knows them.
                                    " " {decision.actor_name.clone().or_else(|| decision.actor.clone()).unwrap_or_default()}
                                    {decision.actor_unit.as_ref().map(|unit| format!("（{}）", unit.name))}
                                    {decision.reason.clone().map(|reason| view! { "：" <q>{reason}</q> })}
                                    {format!("（第 {} 轮）", decision.round)}
                                </li>
                            }).collect_view()}
                        </ol>
                    }.into_any(),
                    Some(Err(failure)) => view! { <p class="error">{failure.to_string()}</p> }.into_any(),
                    _ => view! { <p class="muted">{strings::NO_HISTORY}</p> }.into_any(),
                }}
            </details>
        </article>
    }
}

fn size_text(bytes: i64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.0} KB", b as f64 / (1 << 10) as f64),
        b => format!("{b} B"),
    }
}

#[component]
fn EvidenceItem(item: Evidence, assignment_id: i64, editable: bool, on_change: Callback<()>) -> impl IntoView {
    let current = item.current.clone();
    let previewable = current.content_type.starts_with("image/") || current.content_type == "application/pdf";
    let preview = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let path = format!("/api/v1/evidence-versions/{}/content", current.id);
    let show_path = path.clone();
    let show = move |_| {
        let path = show_path.clone();
        spawn_local(async move {
            match api::object_url(&path).await {
                Ok(url) => preview.set(Some(url)),
                Err(failure) => error.set(Some(failure.to_string())),
            }
        });
    };
    let file_name = current.file_name.clone();
    let download = move |_| {
        let (path, name) = (path.clone(), file_name.clone());
        spawn_local(async move {
            if let Err(failure) = api::download(&path, &name).await {
                error.set(Some(failure.to_string()));
            }
        });
    };
    let evidence_id = item.id;
    let withdraw = move |_| {
        spawn_local(async move {
            match api::act::<()>(api::Verb::Delete, &format!("/api/v1/evidence/{evidence_id}"), None).await {
                Ok(()) => on_change.run(()),
                Err(failure) => error.set(Some(failure.to_string())),
            }
        });
    };
    let content_type = current.content_type.clone();
    let older: Vec<_> = item.versions.iter().filter(|version| version.id != current.id).cloned().collect();
    view! {
        <li class="evidence-item" data-evidence=item.id data-version=current.version>
            <div>
                <strong class="file-name">{current.file_name.clone()}</strong>
                <small>{format!(" v{} · {}", current.version, size_text(current.size))}</small>
                {current.sealed.then(|| view! { <span class="badge sealed">{strings::SEALED}</span> })}
            </div>
            {(!item.description.is_empty()).then(|| view! { <p>{item.description.clone()}</p> })}
            {item.effective_date.map(|date| view! { <p><small>{strings::EFFECTIVE_DATE}"："{date.to_string()}</small></p> })}
            <div class="actions no-print">
                {previewable.then(|| view! { <button on:click=show>{strings::PREVIEW}</button> })}
                <button on:click=download>{strings::DOWNLOAD}</button>
                {editable.then(|| view! { <button class="withdraw" on:click=withdraw>{strings::WITHDRAW}</button> })}
            </div>
            {move || preview.get().map(|url| if content_type.starts_with("image/") {
                view! { <img class="preview" src=url alt="" /> }.into_any()
            } else {
                view! { <iframe class="preview" src=url title=strings::PREVIEW></iframe> }.into_any()
            })}
            {(!older.is_empty()).then(|| view! {
                <details>
                    <summary>{strings::VERSIONS}</summary>
                    <ul>{older.into_iter().map(|version| view! {
                        <li>{format!("v{} {} · {}", version.version, version.file_name, size_text(version.size))}</li>
                    }).collect_view()}</ul>
                </details>
            })}
            {editable.then(|| view! {
                <details class="new-version">
                    <summary>{strings::NEW_VERSION}</summary>
                    <Uploader assignment_id evidence_id=Some(evidence_id) on_done=on_change />
                </details>
            })}
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        </li>
    }
}

/// Files chosen or dropped, sent with a progress bar. With `evidence_id`,
/// one file becomes the evidence's new version.
#[component]
fn Uploader(assignment_id: i64, evidence_id: Option<i64>, on_done: Callback<()>) -> impl IntoView {
    // Files are browser objects, so the signal stays on this thread.
    let files = RwSignal::new_local(Vec::<web_sys::File>::new());
    let description = RwSignal::new(String::new());
    let date = RwSignal::new(String::new());
    let sent = RwSignal::new(None::<f64>);
    let error = RwSignal::new(None::<String>);
    let dragging = RwSignal::new(false);
    let take = move |list: Option<web_sys::FileList>| {
        let Some(list) = list else { return };
        let chosen: Vec<_> = (0..list.length()).filter_map(|i| list.get(i)).collect();
        files.set(if evidence_id.is_some() { chosen.into_iter().take(1).collect() } else { chosen });
    };
    let on_input = move |event: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event.target().expect("an input fired it").unchecked_into();
        take(input.files());
    };
    let on_drop = move |event: leptos::ev::DragEvent| {
        event.prevent_default();
        dragging.set(false);
        take(event.data_transfer().and_then(|transfer| transfer.files()));
    };
    let send = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let chosen = files.get_untracked();
        if chosen.is_empty() {
            error.set(Some(strings::DROP_FILES.to_owned()));
            return;
        }
        let form = match web_sys::FormData::new() {
            Ok(form) => form,
            Err(_) => return,
        };
        for file in &chosen {
            let _ = form.append_with_blob_and_filename("file", file, &file.name());
        }
        if !description.get_untracked().trim().is_empty() {
            let _ = form.append_with_str("description", &description.get_untracked());
        }
        if !date.get_untracked().is_empty() {
            let _ = form.append_with_str("effective_date", &date.get_untracked());
        }
        if let Some(evidence_id) = evidence_id {
            let _ = form.append_with_str("evidence_id", &evidence_id.to_string());
        }
        sent.set(Some(0.0));
        error.set(None);
        spawn_local(async move {
            let result = api::upload::<Vec<Evidence>>(&format!("/api/v1/assignments/{assignment_id}/evidence"), &form, move |share| {
                sent.set(Some(share))
            })
            .await;
            sent.set(None);
            match result {
                Ok(_) => {
                    // The description and date stay for the next file only on failure.
                    files.set(Vec::new());
                    description.set(String::new());
                    date.set(String::new());
                    on_done.run(());
                }
                Err(failure) => error.set(Some(failure.to_string())),
            }
        });
    };
    view! {
        <form class="uploader no-print" on:submit=send>
            <label class="drop" class:dragging=dragging
                on:dragover=move |event: leptos::ev::DragEvent| { event.prevent_default(); dragging.set(true); }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop>
                <span>{strings::DROP_FILES}</span>
                <input type="file" name="file" multiple=evidence_id.is_none() on:change=on_input />
            </label>
            {move || {
                let names: Vec<String> = files.get().iter().map(|file| file.name()).collect();
                (!names.is_empty()).then(|| view! { <ul class="chosen">{names.into_iter().map(|name| view! { <li>{name}</li> }).collect_view()}</ul> })
            }}
            {evidence_id.is_none().then(|| view! {
                <label>{strings::DESCRIPTION}
                    <input name="description" prop:value=description on:input=move |e| description.set(event_target_value(&e)) />
                </label>
                <label>{strings::EFFECTIVE_DATE}
                    <input type="date" name="effective_date" prop:value=date on:input=move |e| date.set(event_target_value(&e)) />
                </label>
            })}
            {move || sent.get().map(|share| view! {
                <progress max="100" value=format!("{:.0}", share * 100.0) aria-label=strings::UPLOADING></progress>
                <span>{format!("{}… {:.0}%", strings::UPLOADING, share * 100.0)}</span>
            })}
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            <button type="submit" class="upload">{if evidence_id.is_some() { strings::NEW_VERSION } else { strings::UPLOAD }}</button>
        </form>
    }
}
