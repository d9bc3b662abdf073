//! 管理: units and groups, users, API clients (a key shown once), imports
//! with their dry-run report and progress, exports, and the audit log.
//! Each tab appears only to roles the API lets use it.

use duban_dto::api::{
    ApiClient, AuditEntry, CreatedApiKey, ImportJob, NewApiClient, NewApiKey, NewUnit, NewUser, Page, Unit, UnitGroup, User,
};
use duban_dto::{ImportJobStatus, ImportKind, Role, RowAction, Scope, UnitKind};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use wasm_bindgen::JsCast;

use super::dashboard::campaign_code;
use crate::{UnitOptions, api, loaded, strings, viewer};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Units,
    Users,
    Clients,
    Import,
    Export,
    Audit,
    Supervision,
    Channels,
}

impl Tab {
    const ALL: [Tab; 8] = [Tab::Units, Tab::Users, Tab::Clients, Tab::Import, Tab::Export, Tab::Audit, Tab::Supervision, Tab::Channels];

    fn key(self) -> &'static str {
        match self {
            Tab::Units => "units",
            Tab::Users => "users",
            Tab::Clients => "clients",
            Tab::Import => "import",
            Tab::Export => "export",
            Tab::Audit => "audit",
            Tab::Supervision => "supervision",
            Tab::Channels => "channels",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Tab::Units => strings::TAB_UNITS,
            Tab::Users => strings::TAB_USERS,
            Tab::Clients => strings::TAB_CLIENTS,
            Tab::Import => strings::TAB_IMPORT,
            Tab::Export => strings::TAB_EXPORT,
            Tab::Audit => strings::TAB_AUDIT,
            Tab::Supervision => strings::REMINDER_RULES,
            Tab::Channels => strings::ENDPOINTS,
        }
    }

    /// The roles the API lets use the tab (see authz.rs).
    fn roles(self) -> &'static [Role] {
        match self {
            Tab::Units => &[Role::SystemAdmin, Role::LeadOffice, Role::Inspector],
            Tab::Users => &[Role::SystemAdmin, Role::SecurityAdmin, Role::LeadOffice, Role::UnitManager, Role::Inspector],
            Tab::Clients => &[Role::SecurityAdmin],
            Tab::Import => &[Role::LeadOffice],
            Tab::Export => &[Role::SystemAdmin, Role::LeadOffice, Role::UnitManager, Role::UnitStaff, Role::Inspector],
            Tab::Audit => &[Role::AuditAdmin, Role::LeadOffice, Role::Inspector],
            Tab::Supervision => &[Role::LeadOffice],
            Tab::Channels => &[Role::SystemAdmin],
        }
    }
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let viewer = viewer();
    let query = use_query_map();
    let tabs: Vec<Tab> = Tab::ALL.into_iter().filter(|tab| viewer.is(tab.roles())).collect();
    let first = tabs.first().copied().unwrap_or(Tab::Export);
    let allowed = tabs.clone();
    let current = move || {
        let wanted = query.read().get("tab");
        allowed.iter().copied().find(|tab| Some(tab.key()) == wanted.as_deref()).unwrap_or(first)
    };
    let current_for_nav = current.clone();
    view! {
        <nav class="tabs" role="tablist">
            {tabs.into_iter().map(|tab| {
                let current = current_for_nav.clone();
                view! {
                    <A href=format!("/admin?tab={}", tab.key())>
                        <span role="tab" aria-selected=move || (current() == tab).to_string()>{tab.title()}</span>
                    </A>
                }
            }).collect_view()}
        </nav>
        {move || match current() {
            Tab::Units => view! { <UnitsTab /> }.into_any(),
            Tab::Users => view! { <UsersTab /> }.into_any(),
            Tab::Clients => view! { <ClientsTab /> }.into_any(),
            Tab::Import => view! { <ImportTab /> }.into_any(),
            Tab::Export => view! { <ExportTab /> }.into_any(),
            Tab::Audit => view! { <AuditTab /> }.into_any(),
            Tab::Supervision => view! { <super::channels::SupervisionSettingsTab /> }.into_any(),
            Tab::Channels => view! { <super::channels::EndpointsTab /> }.into_any(),
        }}
    }
}

fn outcome_view(outcome: Option<Result<String, String>>) -> Option<AnyView> {
    outcome.map(|result| match result {
        Ok(message) => view! { <p class="ok" role="status">{message}</p> }.into_any(),
        Err(message) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
    })
}

#[component]
fn UnitsTab() -> impl IntoView {
    let writable = viewer().is(&[Role::SystemAdmin, Role::LeadOffice]);
    let reload = RwSignal::new(0u32);
    let units = LocalResource::new(move || {
        reload.track();
        api::get_every_page::<Unit>("/api/v1/units")
    });
    let groups = LocalResource::new(|| api::get::<Vec<UnitGroup>>("/api/v1/unit-groups"));
    let name = RwSignal::new(String::new());
    let kind = RwSignal::new(UnitKind::GovernmentDepartment.as_str().to_owned());
    let law = RwSignal::new(false);
    let aliases = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let add = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let region = units.get_untracked().and_then(Result::ok).and_then(|page| page.items.first().map(|unit| unit.region.clone()));
        let body = NewUnit {
            region: region.unwrap_or_default(),
            name: name.get_untracked().trim().to_owned(),
            kind: UnitKind::parse(&kind.get_untracked()).unwrap_or(UnitKind::Other),
            law_enforcement: law.get_untracked(),
            aliases: aliases.get_untracked().split(['、', ',', '，']).map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned).collect(),
            note: None,
        };
        spawn_local(async move {
            match api::call::<_, Unit>(api::Verb::Post, "/api/v1/units", &body).await {
                Ok(unit) => {
                    outcome.set(Some(Ok(format!("{} {}", strings::DONE, unit.name))));
                    name.set(String::new());
                    aliases.set(String::new());
                    reload.update(|n| *n += 1);
                }
                // The form keeps what was typed.
                Err(error) => outcome.set(Some(Err(error.to_string()))),
            }
        });
    };
    let merge_from = RwSignal::new(String::new());
    let merge_into = RwSignal::new(String::new());
    let merged = RwSignal::new(None::<Result<String, String>>);
    let merge = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let (Ok(from), Ok(into)) = (merge_from.get_untracked().parse::<i64>(), merge_into.get_untracked().parse::<i64>()) else {
            merged.set(Some(Err(strings::MERGE_PICK_BOTH.to_owned())));
            return;
        };
        let confirmed = web_sys::window().and_then(|window| window.confirm_with_message(strings::CONFIRM_MERGE).ok()).unwrap_or(false);
        if !confirmed {
            return;
        }
        spawn_local(async move {
            let body = duban_dto::api::UnitMerge { into };
            match api::call::<_, Unit>(api::Verb::Post, &format!("/api/v1/units/{from}/merge"), &body).await {
                Ok(unit) => {
                    merged.set(Some(Ok(format!("{} {}", strings::MERGED_INTO, unit.name))));
                    reload.update(|n| *n += 1);
                }
                Err(error) => merged.set(Some(Err(error.to_string()))),
            }
        });
    };
    view! {
        {writable.then(|| view! {
            <form class="card inline merge-units" on:submit=merge>
                <h3>{strings::MERGE_UNITS}</h3>
                <label>{strings::MERGE_FROM}
                    <select name="from" on:change=move |e| merge_from.set(event_target_value(&e))><crate::UnitOptions /></select>
                </label>
                <label>{strings::MERGE_INTO}
                    <select name="into" on:change=move |e| merge_into.set(event_target_value(&e))><crate::UnitOptions /></select>
                </label>
                <button type="submit">{strings::MERGE}</button>
                {move || outcome_view(merged.get())}
            </form>
        })}
        {writable.then(|| view! {
            <form class="card inline" on:submit=add>
                <h3>{strings::ADD_UNIT}</h3>
                <label>{strings::NAME}<input name="name" required prop:value=name on:input=move |e| name.set(event_target_value(&e)) /></label>
                <label>{strings::KIND}
                    <select name="kind" prop:value=kind on:change=move |e| kind.set(event_target_value(&e))>
                        {UnitKind::ALL.iter().map(|kind| view! { <option value=kind.as_str()>{kind.zh_name()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="check"><input type="checkbox" prop:checked=law on:change=move |e| law.set(event_target_checked(&e)) />{strings::LAW_ENFORCEMENT}</label>
                <label>{strings::ALIASES}<input name="aliases" prop:value=aliases on:input=move |e| aliases.set(event_target_value(&e)) /></label>
                <button type="submit">{strings::SAVE}</button>
                {move || outcome_view(outcome.get())}
            </form>
        })}
        <section class="card">
            {move || loaded(units.get(), |page| view! {
                <table>
                    <thead><tr><th>{strings::NAME}</th><th>{strings::KIND}</th><th>{strings::LAW_ENFORCEMENT}</th><th>{strings::ALIASES}</th></tr></thead>
                    <tbody>{page.items.into_iter().map(|unit| view! {
                        <tr><td>{unit.name}</td><td>{unit.kind.zh_name()}</td><td>{if unit.law_enforcement { "是" } else { "" }}</td><td>{unit.aliases.join("、")}</td></tr>
                    }).collect_view()}</tbody>
                </table>
            })}
        </section>
        <section class="card">
            <h3>{strings::GROUPS}</h3>
            {move || loaded(groups.get(), |groups| view! {
                <table>
                    <thead><tr><th>{strings::NAME}</th><th>{strings::MEMBERS}</th></tr></thead>
                    <tbody>{groups.into_iter().map(|group| view! {
                        <tr><td>{group.phrase}</td><td>{group.member_count}</td></tr>
                    }).collect_view()}</tbody>
                </table>
            })}
        </section>
    }
}

#[component]
fn UsersTab() -> impl IntoView {
    let viewer = viewer();
    let writable = viewer.is(&[Role::SystemAdmin, Role::SecurityAdmin, Role::UnitManager]);
    let security = viewer.is(&[Role::SecurityAdmin]);
    let manager_unit = viewer.is(&[Role::UnitManager]).then(|| viewer.unit_id()).flatten();
    let reload = RwSignal::new(0u32);
    let users = LocalResource::new(move || {
        reload.track();
        api::get::<Vec<User>>("/api/v1/users")
    });
    let username = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::UnitStaff.as_str().to_owned());
    let unit = RwSignal::new(manager_unit.map(|id| id.to_string()).unwrap_or_default());
    let password = RwSignal::new(String::new());
    let region = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let add = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let body = NewUser {
            username: username.get_untracked(),
            display_name: display_name.get_untracked(),
            role: Role::parse(&role.get_untracked()).unwrap_or(Role::UnitStaff),
            unit_id: unit.get_untracked().parse().ok(),
            region: Some(region.get_untracked().trim().to_owned()).filter(|name| !name.is_empty()),
            password: password.get_untracked(),
        };
        spawn_local(async move {
            match api::call::<_, User>(api::Verb::Post, "/api/v1/users", &body).await {
                Ok(user) => {
                    outcome.set(Some(Ok(format!("{} {}", strings::DONE, user.username))));
                    username.set(String::new());
                    password.set(String::new());
                    reload.update(|n| *n += 1);
                }
                Err(error) => outcome.set(Some(Err(error.to_string()))),
            }
        });
    };
    view! {
        {writable.then(|| view! {
            <form class="card inline" on:submit=add>
                <h3>{strings::ADD_USER}</h3>
                <label>{strings::USERNAME}<input name="username" required prop:value=username on:input=move |e| username.set(event_target_value(&e)) /></label>
                <label>{strings::DISPLAY_NAME}<input name="display_name" required prop:value=display_name on:input=move |e| display_name.set(event_target_value(&e)) /></label>
                <label>{strings::ROLE}
                    <select name="role" prop:value=role on:change=move |e| role.set(event_target_value(&e))>
                        {Role::ALL.iter().map(|role| view! { <option value=role.as_str()>{role.zh_name()}</option> }).collect_view()}
                    </select>
                </label>
                <label>{strings::UNIT}
                    <select name="unit" prop:value=unit on:change=move |e| unit.set(event_target_value(&e))>
                        <UnitOptions />
                    </select>
                </label>
                <label>{strings::REGION}<input name="region" placeholder="罗平县 / 曲靖市" prop:value=region on:input=move |e| region.set(event_target_value(&e)) /></label>
                <label>{strings::PASSWORD}<input type="password" name="password" autocomplete="new-password" required minlength="10"
                    prop:value=password on:input=move |e| password.set(event_target_value(&e)) /></label>
                <button type="submit">{strings::SAVE}</button>
                {move || outcome_view(outcome.get())}
            </form>
        })}
        <section class="card">
            {move || loaded(users.get(), move |users| view! {
                <table>
                    <thead><tr><th>{strings::USERNAME}</th><th>{strings::DISPLAY_NAME}</th><th>{strings::ROLE}</th><th>{strings::UNIT}</th><th></th><th></th></tr></thead>
                    <tbody>{users.into_iter().map(|user| {
                        let id = user.id;
                        let username = user.username.clone();
                        view! {
                            <tr data-username=username><td>{user.username}</td><td>{user.display_name}</td><td>{user.role.zh_name()}</td>
                                <td>{user.unit.map(|unit| unit.name).or(user.region).unwrap_or_default()}</td>
                                <td>{user.disabled.then_some(strings::DISABLED)}</td>
                                // The security administrator unlocks accounts and resets a lost authenticator.
                                <td>{security.then(|| view! {
                                    <button type="button" class="unlock" on:click=move |_| account_action(id, "unlock", outcome)>{strings::UNLOCK}</button>
                                    <button type="button" class="mfa-reset" on:click=move |_| account_action(id, "mfa-reset", outcome)>{strings::MFA_RESET}</button>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table>
            })}
        </section>
    }
}

/// Unlocks an account or resets its second factor, saying how it went.
fn account_action(id: i64, action: &'static str, outcome: RwSignal<Option<Result<String, String>>>) {
    spawn_local(async move {
        let result = api::act::<()>(api::Verb::Post, &format!("/api/v1/users/{id}/{action}"), None).await;
        outcome.set(Some(result.map(|()| strings::DONE.to_owned()).map_err(|failure| failure.to_string())));
    });
}

#[component]
fn ClientsTab() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let clients = LocalResource::new(move || {
        reload.track();
        api::get::<Vec<ApiClient>>("/api/v1/api-clients")
    });
    let name = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let new_key = RwSignal::new(None::<String>);
    let add = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let body = NewApiClient { name: name.get_untracked(), description: None };
        spawn_local(async move {
            match api::call::<_, ApiClient>(api::Verb::Post, "/api/v1/api-clients", &body).await {
                Ok(_) => {
                    name.set(String::new());
                    reload.update(|n| *n += 1);
                }
                Err(error) => outcome.set(Some(Err(error.to_string()))),
            }
        });
    };
    let create_key = move |client: i64, scopes: Vec<Scope>| {
        spawn_local(async move {
            let body = NewApiKey { scopes, expires_at: None };
            match api::call::<_, CreatedApiKey>(api::Verb::Post, &format!("/api/v1/api-clients/{client}/keys"), &body).await {
                Ok(created) => {
                    new_key.set(Some(created.key));
                    reload.update(|n| *n += 1);
                }
                Err(error) => outcome.set(Some(Err(error.to_string()))),
            }
        });
    };
    view! {
        <form class="card inline" on:submit=add>
            <h3>{strings::ADD_CLIENT}</h3>
            <label>{strings::NAME}<input name="name" required prop:value=name on:input=move |e| name.set(event_target_value(&e)) /></label>
            <button type="submit">{strings::SAVE}</button>
            {move || outcome_view(outcome.get())}
        </form>
        {move || new_key.get().map(|key| view! {
            <p class="banner key" role="status">{strings::KEY_SHOWN_ONCE}<code data-figure="new-key">{key}</code></p>
        })}
        <section class="card">
            {move || loaded(clients.get(), move |clients| view! {
                <table>
                    <thead><tr><th>{strings::NAME}</th><th>{strings::SCOPES}</th><th></th></tr></thead>
                    <tbody>{clients.into_iter().map(|client| {
                        let scopes = RwSignal::new(Vec::<Scope>::new());
                        let id = client.id;
                        view! {
                            <tr>
                                <td>{client.name}
                                    <ul>{client.keys.into_iter().filter(|key| !key.revoked).map(|key| view! {
                                        <li><code>{key.prefix}</code>" "{key.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")}</li>
                                    }).collect_view()}</ul>
                                </td>
                                <td>{Scope::ALL.iter().map(|&scope| view! {
                                    <label class="check"><input type="checkbox" on:change=move |e| {
                                        let on = event_target_checked(&e);
                                        scopes.update(|list| if on { list.push(scope) } else { list.retain(|s| *s != scope) });
                                    } />{scope.as_str()}</label>
                                }).collect_view()}</td>
                                <td><button on:click=move |_| create_key(id, scopes.get_untracked())>{strings::NEW_KEY}</button></td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table>
            })}
        </section>
    }
}

#[component]
fn ImportTab() -> impl IntoView {
    let kind = RwSignal::new(ImportKind::Breakdown.as_str().to_owned());
    let dry_run = RwSignal::new(true);
    let file = RwSignal::new_local(None::<web_sys::File>);
    let job = RwSignal::new(None::<ImportJob>);
    let error = RwSignal::new(None::<String>);
    let start = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(chosen) = file.get_untracked() else {
            error.set(Some(strings::DROP_FILES.to_owned()));
            return;
        };
        let path = format!(
            "/api/v1/imports?kind={}&dry_run={}&file_name={}",
            kind.get_untracked(),
            dry_run.get_untracked(),
            api::encode(&chosen.name())
        );
        error.set(None);
        job.set(None);
        spawn_local(async move {
            let shown = move |current: &ImportJob| job.set(Some(current.clone()));
            if let Err(failure) = run_import(&path, chosen, shown).await {
                error.set(Some(failure.to_string()));
            }
        });
    };
    view! {
        <p><A href="/new-county" attr:class="new-county-link">{strings::NEW_COUNTY}</A></p>
        <form class="card inline" on:submit=start>
            <h3>{strings::TAB_IMPORT}</h3>
            <label>{strings::IMPORT_KIND}
                <select name="kind" prop:value=kind on:change=move |e| kind.set(event_target_value(&e))>
                    {ImportKind::ALL.iter().map(|kind| view! { <option value=kind.as_str()>{strings::import_kind(*kind)}</option> }).collect_view()}
                </select>
            </label>
            <input type="file" name="file" accept=".docx,.xlsx,.xls,.csv,.json,.txt" on:change=move |event| {
                let input: web_sys::HtmlInputElement = event.target().expect("an input fired it").unchecked_into();
                file.set(input.files().and_then(|files| files.get(0)));
            } />
            <label class="check"><input type="checkbox" name="dry_run" prop:checked=dry_run on:change=move |e| dry_run.set(event_target_checked(&e)) />{strings::DRY_RUN}</label>
            <button type="submit">{strings::START_IMPORT}</button>
        </form>
        {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        {move || job.get().map(|job| view! { <JobView job /> })}
    }
}

/// Sends a file to `POST /api/v1/imports…` (`path` with its query) and
/// follows the job until it finishes, telling `shown` each state; answers
/// the finished job.
pub(crate) async fn run_import(path: &str, file: web_sys::File, shown: impl Fn(&ImportJob)) -> Result<ImportJob, api::ApiError> {
    let content_type = file.type_();
    let content_type = (!content_type.is_empty()).then_some(content_type);
    let body: wasm_bindgen::JsValue = file.into();
    let response = api::send(api::Verb::Post, path, api::Body::Raw(&body, content_type.as_deref()), &[]).await?;
    let mut current = response.json::<ImportJob>().await.map_err(|e| api::ApiError::Network(e.to_string()))?;
    loop {
        shown(&current);
        if !matches!(current.status, ImportJobStatus::Queued | ImportJobStatus::Running) {
            return Ok(current);
        }
        gloo_timers_sleep(400).await;
        current = api::get::<ImportJob>(&format!("/api/v1/imports/{}", current.id)).await?;
    }
}

/// Waits without blocking the page.
async fn gloo_timers_sleep(milliseconds: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, milliseconds);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

#[component]
pub(crate) fn JobView(job: ImportJob) -> impl IntoView {
    let progress = job.progress.clone();
    view! {
        <section class="card job" data-status=job.status.as_str()>
            <h3>{strings::job_status(job.status)}{job.dry_run.then_some(format!("（{}）", strings::DRY_RUN))}</h3>
            {progress.rows_total.map(|total| view! {
                <progress max=total.max(1) value=progress.rows_done></progress>
                <span>{format!("{}/{} {}", progress.rows_done, total, strings::ROWS)}</span>
            })}
            {job.report.map(|report| view! {
                <p data-figure="import-summary">{strings::import_summary(report.summary.created, report.summary.updated, report.summary.unchanged, report.summary.invalid)}</p>
                <ul class="errors">{report.errors.into_iter().map(|error| view! { <li class="error">{error}</li> }).collect_view()}</ul>
                <ul class="warnings">{report.warnings.into_iter().map(|warning| view! { <li>{warning}</li> }).collect_view()}</ul>
                <table>
                    <thead><tr><th>{strings::ROWS}</th><th>{strings::NAME}</th><th>{strings::ACTION}</th><th></th></tr></thead>
                    <tbody>{report.rows.into_iter()
                        .filter(|row| row.action != RowAction::Unchanged)
                        .take(500)
                        .map(|row| view! {
                            <tr class:invalid=row.action == RowAction::Invalid>
                                <td>{row.place.map(|place| format!("{place} ")).unwrap_or_default()}{row.row}</td>
                                <td>{row.key.unwrap_or_default()}</td>
                                <td>{strings::row_action(row.action)}</td>
                                <td>{row.errors.into_iter().map(|e| format!("{}{}", e.field.map(|f| format!("{f}：")).unwrap_or_default(), e.message)).collect::<Vec<_>>().join("；")}
                                    {row.fields.join("、")}</td>
                            </tr>
                        }).collect_view()}</tbody>
                </table>
            })}
        </section>
    }
}

#[component]
fn ExportTab() -> impl IntoView {
    let code = LocalResource::new(|| campaign_code(None));
    let error = RwSignal::new(None::<String>);
    let fetch = move |path: String, name: String| {
        spawn_local(async move {
            if let Err(failure) = api::download(&path, &name).await {
                error.set(Some(failure.to_string()));
            }
        });
    };
    view! {
        <section class="card exports">
            {move || loaded(code.get(), move |code| view! {
                <button on:click={
                    let code = code.clone();
                    move |_| fetch(format!("/api/v1/campaigns/{code}/export.xlsx"), format!("{code}-任务分解表.xlsx"))
                }>{strings::EXPORT_WORKBOOK}</button>
                <button on:click={
                    let code = code.clone();
                    move |_| fetch(format!("/api/v1/campaigns/{code}/export.csv"), format!("{code}-任务分解表.csv"))
                }>{strings::EXPORT_CSV}</button>
                <button on:click={
                    let code = code.clone();
                    move |_| fetch(format!("/api/v1/campaigns/{code}/export.csv?table=units"), format!("{code}-单位任务清单.csv"))
                }>{strings::EXPORT_UNITS_CSV}</button>
            })}
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        </section>
    }
}

#[component]
fn AuditTab() -> impl IntoView {
    let action = RwSignal::new(String::new());
    let actor_kind = RwSignal::new(String::new());
    let applied = RwSignal::new(String::new());
    let rows = RwSignal::new(Vec::<AuditEntry>::new());
    let next = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let load = move |cursor: Option<String>| {
        let filters = applied.get_untracked();
        spawn_local(async move {
            let cursor = cursor.map(|cursor| format!("&cursor={}", api::encode(&cursor))).unwrap_or_default();
            match api::get::<Page<AuditEntry>>(&format!("/api/v1/audit?limit=50{filters}{cursor}")).await {
                Ok(page) => {
                    next.set(page.next_cursor);
                    if cursor.is_empty() {
                        rows.set(page.items);
                    } else {
                        rows.update(|rows| rows.extend(page.items));
                    }
                }
                Err(failure) => error.set(Some(failure.to_string())),
            }
        });
    };
    load(None);
    let filter = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let mut filters = String::new();
        for (name, value) in [("action", action.get_untracked()), ("actor_kind", actor_kind.get_untracked())] {
            if !value.trim().is_empty() {
                filters.push_str(&format!("&{name}={}", api::encode(value.trim())));
            }
        }
        applied.set(filters);
        load(None);
    };
    let export = move |_| {
        let filters = applied.get_untracked();
        spawn_local(async move {
            if let Err(failure) =
                api::download(&format!("/api/v1/audit/export?{}", filters.trim_start_matches('&')), "duban-audit.csv").await
            {
                error.set(Some(failure.to_string()));
            }
        });
    };
    view! {
        <form class="card inline" on:submit=filter>
            <label>{strings::ACTION}<input name="action" placeholder="auth.login" prop:value=action on:input=move |e| action.set(event_target_value(&e)) /></label>
            <label>{strings::ACTOR}
                <select name="actor_kind" prop:value=actor_kind on:change=move |e| actor_kind.set(event_target_value(&e))>
                    <option value="">"—"</option>
                    {["user", "api_client", "system", "anonymous"].into_iter().map(|kind| view! { <option value=kind>{kind}</option> }).collect_view()}
                </select>
            </label>
            <button type="submit">{strings::FILTER}</button>
            <button type="button" on:click=export>{strings::EXPORT_AUDIT}</button>
        </form>
        {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        <table class="audit card">
            <thead><tr><th>{strings::TIME}</th><th>{strings::ACTOR}</th><th>{strings::ACTION}</th><th>{strings::ENTITY}</th></tr></thead>
            <tbody>
                {move || rows.get().into_iter().map(|entry| view! {
                    <tr>
                        <td>{entry.at.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is valid")).format("%Y-%m-%d %H:%M:%S").to_string()}</td>
                        <td>{entry.actor_name.unwrap_or(entry.actor_kind)}</td>
                        <td><code>{entry.action}</code></td>
                        <td>{entry.entity_type.unwrap_or_default()}" "{entry.entity_id.unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        {move || next.get().map(|cursor| view! { <button class="more" on:click=move |_| load(Some(cursor.clone()))>{strings::MORE}</button> })}
    }
}
