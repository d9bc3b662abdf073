//! 通报: the bulletins issued (and the lead office's drafts), a new draft,
//! and one bulletin — its text to edit while a draft, its figures as they
//! will be printed, the preview, signing and issuing, and the downloads.

use duban_dto::api::{Bulletin, BulletinDraft, BulletinInputs};
use duban_dto::{BulletinPeriod, BulletinState, Role};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use super::dashboard::campaign_code;
use super::notices::local;
use crate::{api, loaded, strings, viewer};

fn period_name(period: BulletinPeriod) -> &'static str {
    match period {
        BulletinPeriod::Week => strings::PERIOD_WEEK,
        BulletinPeriod::Month => strings::PERIOD_MONTH,
        BulletinPeriod::Quarter => strings::PERIOD_QUARTER,
        BulletinPeriod::Special => strings::PERIOD_SPECIAL,
    }
}

/// Today in China, from the browser's clock.
fn today() -> chrono::NaiveDate {
    let millis = js_sys::Date::now() as i64;
    let now = chrono::DateTime::from_timestamp_millis(millis).unwrap_or_default();
    now.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is valid")).date_naive()
}

#[component]
pub fn BulletinsPage() -> impl IntoView {
    let query = use_query_map();
    let is_office = viewer().is(&[Role::LeadOffice]);
    let campaign = LocalResource::new(move || campaign_code(query.read().get("campaign")));
    let bulletins = LocalResource::new(move || async move {
        let code = campaign_code(query.read_untracked().get("campaign")).await?;
        api::get::<Vec<Bulletin>>(&format!("/api/v1/campaigns/{}/bulletins", api::encode(&code))).await
    });
    let writing = RwSignal::new(false);
    view! {
        <h2>{strings::NAV_BULLETINS}</h2>
        {is_office.then(|| view! {
            <div class="toolbar no-print">
                <button class="new-bulletin primary" on:click=move |_| writing.update(|shown| *shown = !*shown)>{strings::NEW_BULLETIN}</button>
            </div>
        })}
        {move || (is_office && writing.get()).then(|| loaded(campaign.get(), |code| view! { <DraftForm campaign=code /> }))}
        {move || loaded(bulletins.get(), |bulletins| {
            if bulletins.is_empty() {
                return view! { <p class="muted" data-figure="no-bulletins">{strings::NO_BULLETINS}</p> }.into_any();
            }
            view! {
                <div class="scroll">
                    <table class="bulletins">
                        <thead><tr><th>{strings::DOC_NUMBER}</th><th>{strings::TITLE}</th><th>{strings::PERIOD}</th><th>{strings::AS_OF}</th><th>{strings::STATE}</th></tr></thead>
                        <tbody>
                            {bulletins.into_iter().map(|bulletin| view! {
                                <tr data-bulletin=bulletin.id data-state=bulletin.state.as_str()>
                                    <td>{bulletin.doc_number.clone().unwrap_or_else(|| strings::DRAFT.to_owned())}</td>
                                    <td><A href=format!("/bulletins/{}", bulletin.id)>{bulletin.title.clone()}</A></td>
                                    <td>{period_name(bulletin.period)}</td>
                                    <td>{format!("{} — {}", bulletin.from, bulletin.as_of)}</td>
                                    <td>{match bulletin.state { BulletinState::Draft => strings::DRAFT, BulletinState::Issued => strings::ISSUED }}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        })}
    }
}

/// The fields of a draft, new or being edited; `on_saved` hears the result.
#[component]
fn DraftFields(initial: BulletinDraft, save: Callback<(BulletinDraft, Callback<Result<(), String>>)>) -> impl IntoView {
    let period = RwSignal::new(initial.period);
    let from = RwSignal::new(initial.from.to_string());
    let as_of = RwSignal::new(initial.as_of.to_string());
    let title = RwSignal::new(initial.title);
    let addressees = RwSignal::new(initial.addressees);
    let summary = RwSignal::new(initial.summary);
    let requirements = RwSignal::new(initial.requirements);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let (Ok(from_day), Ok(as_of_day)) = (from.get_untracked().parse(), as_of.get_untracked().parse()) else {
            error.set(Some(strings::DATES_NEEDED.to_owned()));
            return;
        };
        let draft = BulletinDraft {
            period: period.get_untracked(),
            from: from_day,
            as_of: as_of_day,
            title: title.get_untracked(),
            addressees: addressees.get_untracked(),
            summary: summary.get_untracked(),
            requirements: requirements.get_untracked(),
        };
        busy.set(true);
        error.set(None);
        save.run((
            draft,
            Callback::new(move |result: Result<(), String>| {
                busy.set(false);
                error.set(result.err());
            }),
        ));
    };
    view! {
        <form class="card bulletin-draft no-print" on:submit=submit>
            <label>{strings::PERIOD}
                <select name="period" on:change=move |e| period.set(BulletinPeriod::parse(&event_target_value(&e)).unwrap_or(BulletinPeriod::Month))>
                    {BulletinPeriod::ALL.iter().map(|choice| view! {
                        <option value=choice.as_str() selected=*choice == period.get_untracked()>{period_name(*choice)}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>{strings::FROM}<input type="date" name="from" required prop:value=from on:input=move |e| from.set(event_target_value(&e)) /></label>
            <label>{strings::AS_OF}<input type="date" name="as_of" required prop:value=as_of on:input=move |e| as_of.set(event_target_value(&e)) /></label>
            <label>{strings::TITLE}<input name="title" required maxlength="100" prop:value=title on:input=move |e| title.set(event_target_value(&e)) /></label>
            <label>{strings::ADDRESSEES}<input name="addressees" required maxlength="100" prop:value=addressees on:input=move |e| addressees.set(event_target_value(&e)) /></label>
            <label>{strings::SUMMARY}<textarea name="summary" prop:value=summary on:input=move |e| summary.set(event_target_value(&e))></textarea></label>
            <label>{strings::REQUIREMENTS}<textarea name="requirements" prop:value=requirements on:input=move |e| requirements.set(event_target_value(&e))></textarea></label>
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            <button type="submit" class="primary save-draft" disabled=busy>{strings::SAVE_DRAFT}</button>
        </form>
    }
}

#[component]
fn DraftForm(campaign: String) -> impl IntoView {
    let today = today();
    let initial = BulletinDraft {
        period: BulletinPeriod::Month,
        from: today - chrono::Days::new(30),
        as_of: today,
        title: strings::DEFAULT_BULLETIN_TITLE.to_owned(),
        addressees: strings::DEFAULT_ADDRESSEES.to_owned(),
        summary: strings::DEFAULT_SUMMARY.to_owned(),
        requirements: strings::DEFAULT_REQUIREMENTS.to_owned(),
    };
    let navigate = use_navigate();
    let save = Callback::new(move |(draft, done): (BulletinDraft, Callback<Result<(), String>>)| {
        let path = format!("/api/v1/campaigns/{}/bulletins", api::encode(&campaign));
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::call::<_, Bulletin>(api::Verb::Post, &path, &draft).await {
                Ok(bulletin) => {
                    done.run(Ok(()));
                    navigate(&format!("/bulletins/{}", bulletin.id), Default::default());
                }
                Err(failure) => done.run(Err(failure.to_string())),
            }
        });
    });
    view! { <DraftFields initial save /> }
}

#[component]
pub fn BulletinPage() -> impl IntoView {
    let params = use_params_map();
    let reload = RwSignal::new(0u32);
    let id = move || params.read().get("id").unwrap_or_default();
    let bulletin = LocalResource::new(move || {
        reload.track();
        let id = id();
        async move { api::get::<Bulletin>(&format!("/api/v1/bulletins/{}", api::encode(&id))).await }
    });
    let inputs = LocalResource::new(move || {
        reload.track();
        let id = id();
        async move { api::get::<BulletinInputs>(&format!("/api/v1/bulletins/{}/inputs", api::encode(&id))).await }
    });
    view! {
        {move || loaded(bulletin.get(), move |bulletin| view! { <BulletinView bulletin reload /> })}
        <h3>{strings::BULLETIN_FIGURES}</h3>
        {move || loaded(inputs.get(), |inputs| view! { <Figures inputs /> })}
    }
}

#[component]
fn BulletinView(bulletin: Bulletin, reload: RwSignal<u32>) -> impl IntoView {
    let is_office = viewer().is(&[Role::LeadOffice]);
    let id = bulletin.id;
    let version = bulletin.version;
    let error = RwSignal::new(None::<String>);
    let download = move |path: String, name: String| {
        spawn_local(async move {
            if let Err(failure) = api::download(&path, &name).await {
                error.set(Some(failure.to_string()));
            }
        })
    };
    let issue = move |_| {
        let confirmed = web_sys::window().and_then(|window| window.confirm_with_message(strings::CONFIRM_ISSUE).ok()).unwrap_or(false);
        if !confirmed {
            return;
        }
        spawn_local(async move {
            let if_match = format!("\"{version}\"");
            let result =
                api::send(api::Verb::Post, &format!("/api/v1/bulletins/{id}/issue"), api::Body::None, &[("If-Match", &if_match)]).await;
            match result {
                Ok(_) => reload.update(|n| *n += 1),
                Err(failure) => error.set(Some(failure.to_string())),
            }
        });
    };
    let save = Callback::new(move |(draft, done): (BulletinDraft, Callback<Result<(), String>>)| {
        spawn_local(async move {
            let body = serde_json::to_value(&draft).unwrap_or_default();
            let if_match = format!("\"{version}\"");
            match api::send(api::Verb::Put, &format!("/api/v1/bulletins/{id}"), api::Body::Json(body), &[("If-Match", &if_match)]).await {
                Ok(_) => {
                    done.run(Ok(()));
                    reload.update(|n| *n += 1);
                }
                Err(failure) => done.run(Err(failure.to_string())),
            }
        });
    });
    let draft = bulletin.state == BulletinState::Draft;
    let file_stem = bulletin.doc_number.clone().unwrap_or_else(|| strings::DRAFT.to_owned());
    let (docx_name, pdf_name, csv_name) = (
        format!("{file_stem} {}.docx", bulletin.title),
        format!("{file_stem} {}.pdf", bulletin.title),
        format!("{file_stem}-数据来源.csv"),
    );
    let initial = BulletinDraft {
        period: bulletin.period,
        from: bulletin.from,
        as_of: bulletin.as_of,
        title: bulletin.title.clone(),
        addressees: bulletin.addressees.clone(),
        summary: bulletin.summary.clone(),
        requirements: bulletin.requirements.clone(),
    };
    view! {
        <h2 data-state=bulletin.state.as_str()>{bulletin.title.clone()}</h2>
        <p class="headline">
            <strong data-figure="doc-number">{bulletin.doc_number.clone().unwrap_or_else(|| strings::DRAFT.to_owned())}</strong>
            {format!(" · {} · {} — {}", period_name(bulletin.period), bulletin.from, bulletin.as_of)}
        </p>
        {bulletin.issued_at.map(|at| view! {
            <p class="muted">
                {format!("{} {} · {}", strings::ISSUED, local(at), bulletin.issued_by.clone().unwrap_or_default())}<br />
                "SHA-256 "<code data-figure="sha256">{bulletin.sha256.clone().unwrap_or_default()}</code>
            </p>
        })}
        <div class="toolbar">
            <button class="download-docx" on:click=move |_| download(format!("/api/v1/bulletins/{id}/document"), docx_name.clone())>
                {if draft { strings::PREVIEW_DOCX } else { strings::DOWNLOAD_DOCX }}
            </button>
            <button class="download-pdf" on:click=move |_| download(format!("/api/v1/bulletins/{id}/document.pdf"), pdf_name.clone())>{strings::DOWNLOAD_PDF}</button>
            <button class="download-csv" on:click=move |_| download(format!("/api/v1/bulletins/{id}/inputs.csv"), csv_name.clone())>{strings::DOWNLOAD_INPUTS}</button>
            {(draft && is_office).then(|| view! { <button class="issue-bulletin primary" on:click=issue>{strings::ISSUE_BULLETIN}</button> })}
        </div>
        {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        {(draft && is_office).then(|| view! { <DraftFields initial save /> })}
    }
}

/// The figures as the document will print them.
#[component]
fn Figures(inputs: BulletinInputs) -> impl IntoView {
    view! {
        <p>{strings::CAMPAIGN_SCORE}" "<strong data-figure="bulletin-score">{format!("{:.1}", inputs.scores.score)}</strong>
            {format!(" / {:.1}", inputs.scores.max_score)}</p>
        <div class="scroll">
            <table class="bulletin-progress">
                <thead><tr><th>{strings::INDICATOR}</th><th>{strings::TASKS}</th><th>{strings::APPROVED}</th><th>{strings::OVERDUE}</th></tr></thead>
                <tbody>
                    {inputs.progress.iter().map(|line| view! {
                        <tr class:list=line.list><td>{line.label.clone()}</td><td>{line.tasks}</td><td>{line.approved}</td><td>{line.overdue}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <h3>{strings::NAMED_LATE}</h3>
        {if inputs.late.is_empty() {
            view! { <p class="muted" data-figure="no-late">{strings::NO_LATE_UNITS}</p> }.into_any()
        } else {
            view! {
                <table class="late-units">
                    <thead><tr><th>{strings::UNIT}</th><th>{strings::LATE_ASSIGNMENTS}</th><th>{strings::MOST_DAYS_LATE}</th></tr></thead>
                    <tbody>
                        {inputs.late.iter().map(|late| view! {
                            <tr><td>{late.unit.name.clone()}</td><td>{late.late}</td><td>{late.most_days}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}
