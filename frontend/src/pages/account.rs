//! 账户: signing in (with the second factor when the account has one), what
//! a restricted session must do first (a new password, an authenticator),
//! and the account page: password, authenticator, recovery codes and the
//! user's live sessions.

use duban_dto::Restriction;
use duban_dto::api::{Me, PasswordChange, RecoveryCodes, SessionInfo, TotpCode, TotpEnrolment};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::notices::local;
use crate::{api, loaded, strings};

#[component]
pub fn Login() -> impl IntoView {
    // What the user typed stays in the form when signing in fails.
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let second_factor = RwSignal::new(String::new());
    let asks_second_factor = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        busy.set(true);
        spawn_local(async move {
            let code = second_factor.get_untracked();
            let code = asks_second_factor.get_untracked().then_some(code.as_str());
            match api::login(&username.get_untracked(), &password.get_untracked(), code).await {
                Ok(()) => {}
                Err(failure) if failure.code() == Some("mfa_required") && !asks_second_factor.get_untracked() => {
                    // The password was right; the account has a second factor.
                    asks_second_factor.set(true);
                    error.set(None);
                }
                Err(failure) => error.set(Some(failure.to_string())),
            }
            busy.set(false);
        });
    };
    view! {
        <header class="top"><h1>{strings::APP_TITLE}</h1></header>
        <main>
            <form class="login card" on:submit=submit>
                <h2>{strings::SIGN_IN}</h2>
                <label>{strings::USERNAME}
                    <input name="username" autocomplete="username" required autofocus
                        prop:value=username on:input=move |e| username.set(event_target_value(&e)) />
                </label>
                <label>{strings::PASSWORD}
                    <input name="password" type="password" autocomplete="current-password" required
                        prop:value=password on:input=move |e| password.set(event_target_value(&e)) />
                </label>
                {move || asks_second_factor.get().then(|| view! {
                    <label>{strings::OTP}
                        <input name="otp" inputmode="numeric" autocomplete="one-time-code" required autofocus
                            prop:value=second_factor on:input=move |e| second_factor.set(event_target_value(&e)) />
                        <small>{strings::OTP_HINT}</small>
                    </label>
                })}
                {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                <button type="submit" disabled=busy>{strings::SIGN_IN}</button>
            </form>
        </main>
    }
}

/// What a session must do before anything else: the API refuses every
/// other call until it is done.
#[component]
pub fn Restricted(me: Me, restriction: Restriction) -> impl IntoView {
    view! {
        <header class="top">
            <h1>{strings::APP_TITLE}</h1>
            <div class="user">
                <span>{me.display_name.clone()} " · " {me.role.zh_name()}</span>
                <button class="sign-out" on:click=move |_| spawn_local(api::logout())>{strings::SIGN_OUT}</button>
            </div>
        </header>
        <main>
            {match restriction {
                Restriction::PasswordChangeRequired => view! {
                    <p class="banner" role="status">{strings::MUST_CHANGE_PASSWORD}</p>
                    <PasswordForm class="forced-password" />
                }.into_any(),
                Restriction::MfaEnrolmentRequired => view! {
                    <p class="banner" role="status">{strings::MUST_ENROL_MFA}</p>
                    <TotpSection me=me />
                }.into_any(),
            }}
        </main>
    }
}

/// Changing one's own password; the app reads the account again after, so
/// a forced change lets the user in.
#[component]
fn PasswordForm(class: &'static str) -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<Result<(), String>>);
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        spawn_local(async move {
            let body = PasswordChange { current_password: current.get_untracked(), new_password: new.get_untracked() };
            let result = api::act(api::Verb::Post, "/api/v1/auth/password", Some(&body)).await;
            if result.is_ok() {
                let _ = api::reload_me().await;
            }
            outcome.set(Some(result.map_err(|failure| failure.to_string())));
        });
    };
    view! {
        <form class=format!("card narrow {class}") on:submit=submit>
            <h2>{strings::CHANGE_PASSWORD}</h2>
            <label>{strings::CURRENT_PASSWORD}
                <input name="current_password" type="password" autocomplete="current-password" required
                    prop:value=current on:input=move |e| current.set(event_target_value(&e)) />
            </label>
            <label>{strings::NEW_PASSWORD}
                <input name="new_password" type="password" autocomplete="new-password" required minlength="8"
                    prop:value=new on:input=move |e| new.set(event_target_value(&e)) />
                <small>{strings::PASSWORD_RULES}</small>
            </label>
            {move || outcome.get().map(|result| match result {
                Ok(()) => view! { <p class="ok" role="status">{strings::PASSWORD_CHANGED}</p> }.into_any(),
                Err(message) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
            })}
            <button type="submit">{strings::SAVE}</button>
        </form>
    }
}

/// The authenticator: enrolling it (the server draws the QR code), the
/// recovery codes shown once, renewing them and turning it off.
#[component]
fn TotpSection(me: Me) -> impl IntoView {
    let enrolment = RwSignal::new(None::<TotpEnrolment>);
    let codes = RwSignal::new(None::<Vec<String>>);
    let code = RwSignal::new(String::new());
    let enabled = RwSignal::new(me.mfa_enabled);
    let error = RwSignal::new(None::<String>);
    let start = move |_| {
        spawn_local(async move {
            match api::call::<_, TotpEnrolment>(api::Verb::Post, "/api/v1/me/mfa/totp", &serde_json::json!({})).await {
                Ok(started) => {
                    enrolment.set(Some(started));
                    error.set(None);
                }
                Err(failure) => error.set(Some(failure.to_string())),
            }
        });
    };
    // One form confirms enrolment, renews the recovery codes or turns the
    // factor off, by what the button says.
    let send = move |path: &'static str| {
        spawn_local(async move {
            let body = TotpCode { code: code.get_untracked().trim().to_owned() };
            let result = if path.ends_with("disable") {
                api::act(api::Verb::Post, path, Some(&body)).await.map(|()| None)
            } else {
                api::call::<_, RecoveryCodes>(api::Verb::Post, path, &body).await.map(|issued| Some(issued.codes))
            };
            match result {
                Ok(issued) => {
                    enabled.set(issued.is_some());
                    codes.set(issued);
                    enrolment.set(None);
                    code.set(String::new());
                    error.set(None);
                }
                Err(failure) => error.set(Some(failure.to_string())),
            }
        });
    };
    let required = me.mfa_required;
    view! {
        <section class="card narrow totp">
            <h2>{strings::MFA}</h2>
            {move || match (enabled.get(), enrolment.get()) {
                (_, Some(started)) => view! {
                    <p>{strings::MFA_SCAN}</p>
                    <div class="qr" inner_html=started.qr_svg></div>
                    <p>{strings::MFA_SECRET} <code class="totp-secret">{started.secret}</code></p>
                    <form on:submit=move |event: SubmitEvent| { event.prevent_default(); send("/api/v1/me/mfa/totp/confirm"); }>
                        <label>{strings::OTP}
                            <input name="totp_code" inputmode="numeric" autocomplete="one-time-code" required
                                prop:value=code on:input=move |e| code.set(event_target_value(&e)) />
                        </label>
                        <button type="submit">{strings::MFA_CONFIRM}</button>
                    </form>
                }.into_any(),
                (false, None) => view! {
                    <p>{strings::MFA_OFF}</p>
                    <button class="enrol" on:click=start>{strings::MFA_ENABLE}</button>
                }.into_any(),
                (true, None) => view! {
                    <p class="ok">{strings::MFA_ON}</p>
                    <form on:submit=move |event: SubmitEvent| event.prevent_default()>
                        <label>{strings::OTP}
                            <input name="totp_code" inputmode="numeric" autocomplete="one-time-code"
                                prop:value=code on:input=move |e| code.set(event_target_value(&e)) />
                        </label>
                        <button type="button" on:click=move |_| send("/api/v1/me/mfa/recovery-codes")>{strings::MFA_RENEW_CODES}</button>
                        {(!required).then(|| view! {
                            <button type="button" class="danger" on:click=move |_| send("/api/v1/me/mfa/disable")>{strings::MFA_DISABLE}</button>
                        })}
                    </form>
                }.into_any(),
            }}
            {move || codes.get().map(|codes| view! {
                <div class="recovery-codes" role="status">
                    <p>{strings::MFA_RECOVERY_CODES}</p>
                    <ol>{codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}</ol>
                    <button type="button" on:click=move |_| { spawn_local(async move { let _ = api::reload_me().await; }); }>{strings::MFA_CODES_KEPT}</button>
                </div>
            })}
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        </section>
    }
}

/// The user's live sessions, each of which can be ended from here.
#[component]
fn SessionList() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let sessions = LocalResource::new(move || {
        reload.track();
        api::get::<Vec<SessionInfo>>("/api/v1/me/sessions")
    });
    let end = move |id: String| {
        spawn_local(async move {
            let _ = api::act::<()>(api::Verb::Delete, &format!("/api/v1/me/sessions/{id}"), None).await;
            reload.update(|n| *n += 1);
        });
    };
    view! {
        <section class="card sessions">
            <h2>{strings::SESSIONS}</h2>
            {move || loaded(sessions.get(), move |sessions: Vec<SessionInfo>| view! {
                <table>
                    <thead><tr>
                        <th>{strings::SESSION_STARTED}</th><th>{strings::SESSION_LAST_USED}</th>
                        <th>{strings::SESSION_ENDS}</th><th>{strings::SESSION_FROM}</th><th></th>
                    </tr></thead>
                    <tbody>
                        {sessions.into_iter().map(|session| {
                            let id = session.id.clone();
                            view! {
                                <tr data-current=session.current.to_string()>
                                    <td>{local(session.created_at)}</td>
                                    <td>{local(session.last_used_at)}</td>
                                    <td>{local(session.idle_until.min(session.ends_at))}</td>
                                    <td>{session.client_address.clone().unwrap_or_default()} " " <small>{session.user_agent.clone().unwrap_or_default()}</small></td>
                                    <td>{if session.current {
                                        view! { <span>{strings::SESSION_THIS}</span> }.into_any()
                                    } else {
                                        view! { <button type="button" on:click=move |_| end(id.clone())>{strings::SESSION_END}</button> }.into_any()
                                    }}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </section>
    }
}

#[component]
pub fn Account() -> impl IntoView {
    let me = crate::viewer().0;
    view! {
        <PasswordForm class="own-password" />
        <TotpSection me=me />
        <SessionList />
        <super::channels::ChannelSettingsForm />
    }
}
