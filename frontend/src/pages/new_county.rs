//! 新建县: the guided start of a new county's campaign for its lead office.
//! Its own unit list (optional) and its breakdown table are tried first
//! (a dry run that writes nothing); the page shows the units and groups the
//! import would create — with their kinds, and the names duban's built-in
//! knowledge resolved — and what to check; on confirmation both are
//! imported, and the page ends on the new campaign's dashboard.

use duban_dto::api::{ImportJob, ImportJobReport};
use duban_dto::{ImportJobStatus, RowAction};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use wasm_bindgen::JsCast;

use super::admin::{JobView, run_import};
use crate::{api, strings};

/// The two files and where they go.
#[derive(Clone)]
struct Plan {
    code: String,
    region: String,
    roster: Option<web_sys::File>,
    table: web_sys::File,
}

impl Plan {
    fn roster_path(&self, dry_run: bool, file: &web_sys::File) -> String {
        format!("/api/v1/imports?kind=units&region={}&dry_run={dry_run}&file_name={}", api::encode(&self.region), api::encode(&file.name()))
    }

    /// The unit list (if any), then the table, each followed to its end;
    /// answers the table's finished job.
    async fn run(&self, dry_run: bool, show: impl Fn(&ImportJob) + Copy) -> Result<ImportJob, String> {
        if let Some(file) = self.roster.clone() {
            finished(run_import(&self.roster_path(dry_run, &file), file, show).await.map_err(|e| e.to_string())?)?;
        }
        finished(run_import(&self.table_path(dry_run), self.table.clone(), show).await.map_err(|e| e.to_string())?)
    }

    fn table_path(&self, dry_run: bool) -> String {
        format!(
            "/api/v1/imports?kind=breakdown&campaign={}&dry_run={dry_run}&file_name={}",
            api::encode(&self.code),
            api::encode(&self.table.name())
        )
    }
}

fn picked(event: &leptos::ev::Event) -> Option<web_sys::File> {
    let input: web_sys::HtmlInputElement = event.target()?.unchecked_into();
    input.files().and_then(|files| files.get(0))
}

/// Fails unless the job finished well.
fn finished(job: ImportJob) -> Result<ImportJob, String> {
    match job.status {
        ImportJobStatus::Completed => Ok(job),
        _ => Err(job
            .report
            .map(|report| report.errors.join("；"))
            .filter(|text| !text.is_empty())
            .unwrap_or_else(|| strings::IMPORT_REFUSED.to_owned())),
    }
}

#[component]
pub fn NewCountyPage() -> impl IntoView {
    let code = RwSignal::new(String::new());
    let region = RwSignal::new(String::new());
    let roster = RwSignal::new_local(None::<web_sys::File>);
    let table = RwSignal::new_local(None::<web_sys::File>);
    let trial = RwSignal::new(None::<ImportJobReport>);
    let job = RwSignal::new(None::<ImportJob>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let plan = move || -> Result<Plan, String> {
        let table = table.get_untracked().ok_or_else(|| strings::PICK_TABLE.to_owned())?;
        let code = code.get_untracked().trim().to_owned();
        if code.is_empty() {
            return Err(strings::CAMPAIGN_CODE_NEEDED.to_owned());
        }
        let region = region.get_untracked().trim().to_owned();
        let roster = roster.get_untracked();
        if roster.is_some() && region.is_empty() {
            return Err(strings::REGION_NEEDED.to_owned());
        }
        Ok(Plan { code, region, roster, table })
    };
    let try_it = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let plan = match plan() {
            Ok(plan) => plan,
            Err(message) => return error.set(Some(message)),
        };
        error.set(None);
        trial.set(None);
        busy.set(true);
        spawn_local(async move {
            let result = plan.run(true, move |current: &ImportJob| job.set(Some(current.clone()))).await;
            busy.set(false);
            match result {
                Ok(done) => trial.set(done.report),
                Err(message) => error.set(Some(message)),
            }
        });
    };
    let navigate = use_navigate();
    let confirm = move |_| {
        let plan = match plan() {
            Ok(plan) => plan,
            Err(message) => return error.set(Some(message)),
        };
        busy.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            let result = plan.run(false, move |current: &ImportJob| job.set(Some(current.clone()))).await;
            busy.set(false);
            match result {
                Ok(_) => navigate(&format!("/?campaign={}", api::encode(&plan.code)), Default::default()),
                Err(message) => error.set(Some(message)),
            }
        });
    };
    view! {
        <h2>{strings::NEW_COUNTY}</h2>
        <p class="muted">{strings::NEW_COUNTY_INTRO}</p>
        <form class="card new-county" on:submit=try_it>
            <label>{strings::CAMPAIGN_CODE}
                <input name="code" required pattern="[a-z0-9][a-z0-9-]*" placeholder="shizong" prop:value=code on:input=move |e| code.set(event_target_value(&e)) />
            </label>
            <label>{strings::COUNTY_NAME}
                <input name="region" placeholder="师宗县" prop:value=region on:input=move |e| region.set(event_target_value(&e)) />
            </label>
            <label>{strings::ROSTER_FILE}
                <input type="file" name="roster" accept=".csv,.xlsx,.json" on:change=move |e| roster.set(picked(&e)) />
            </label>
            <label>{strings::TABLE_FILE}
                <input type="file" name="table" accept=".docx,.xlsx,.xls,.txt,.csv,.json" on:change=move |e| table.set(picked(&e)) />
            </label>
            <button type="submit" class="try-import" disabled=busy>{strings::TRY_IMPORT}</button>
        </form>
        {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        {move || trial.get().map(|report| {
            let created = |entity: &str| -> Vec<String> {
                report.changes.iter().filter(|c| c.entity == entity && c.action == RowAction::Created).map(|c| c.key.clone()).collect()
            };
            let (units, groups) = (created("unit"), created("unit_group"));
            view! {
                <section class="card new-county-review">
                    <h3>{strings::WILL_CREATE}</h3>
                    <p data-figure="units-to-create">{format!("{} {} · {} {}", units.len(), strings::UNITS_TO_CREATE, groups.len(), strings::GROUPS_TO_CREATE)}</p>
                    <ul class="units-to-create">{units.into_iter().map(|name| view! { <li>{name}</li> }).collect_view()}</ul>
                    <ul class="groups-to-create">{groups.into_iter().map(|phrase| view! { <li>{phrase}</li> }).collect_view()}</ul>
                    {(!report.resolved_by_builtin_names.is_empty()).then(|| view! {
                        <h4>{strings::RESOLVED_BY_BUILTIN}</h4>
                        <ul class="resolved">{report.resolved_by_builtin_names.iter().map(|line| view! { <li>{line.clone()}</li> }).collect_view()}</ul>
                    })}
                    <h4>{strings::TO_CHECK}</h4>
                    <ul class="warnings">{report.warnings.iter().map(|line| view! { <li>{line.clone()}</li> }).collect_view()}</ul>
                    <p class="muted">{strings::CORRECT_AFTER}</p>
                    <button class="primary confirm-import" disabled=busy on:click=confirm.clone()>{strings::CONFIRM_IMPORT}</button>
                </section>
            }
        })}
        {move || job.get().map(|job| view! { <JobView job /> })}
    }
}
