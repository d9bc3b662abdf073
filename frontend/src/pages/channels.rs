//! Where messages go: each user's contacts and e-mail choices (on the
//! account page); for administrators the portals' webhooks and group
//! robots with the delivery log; for the lead office the reminder rules and
//! the units' leaders in charge.

use duban_dto::api::{ChannelSettings, Delivery, Endpoint, NewEndpoint, Page, ReminderRule, ReminderRules, Unit, UnitLeader};
use duban_dto::{Channel, DeliveryStatus, NotificationKind};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::{api, loaded, strings};

fn outcome_view(outcome: Option<Result<String, String>>) -> Option<AnyView> {
    outcome.map(|result| match result {
        Ok(message) => view! { <p class="ok" role="status">{message}</p> }.into_any(),
        Err(message) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
    })
}

/// The signed-in user's e-mail, phone and the kinds of message also sent by e-mail.
#[component]
pub fn ChannelSettingsForm() -> impl IntoView {
    let current = LocalResource::new(|| api::get::<ChannelSettings>("/api/v1/me/channels"));
    view! {
        {move || loaded(current.get(), |settings| view! { <ChannelSettingsFields settings /> })}
    }
}

#[component]
fn ChannelSettingsFields(settings: ChannelSettings) -> impl IntoView {
    let email = RwSignal::new(settings.email.unwrap_or_default());
    let phone = RwSignal::new(settings.phone.unwrap_or_default());
    let kinds = RwSignal::new(settings.email_kinds);
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let body = ChannelSettings {
            email: Some(email.get_untracked()).filter(|email| !email.trim().is_empty()),
            phone: Some(phone.get_untracked()).filter(|phone| !phone.trim().is_empty()),
            email_kinds: kinds.get_untracked(),
        };
        spawn_local(async move {
            let result = api::call::<_, ChannelSettings>(api::Verb::Put, "/api/v1/me/channels", &body).await;
            outcome.set(Some(result.map(|_| strings::SAVED.to_owned()).map_err(|failure| failure.to_string())));
        });
    };
    view! {
        <form class="card narrow channels" on:submit=submit>
            <h2>{strings::CHANNELS}</h2>
            <label>{strings::EMAIL}
                <input type="email" name="email" prop:value=email on:input=move |e| email.set(event_target_value(&e)) />
            </label>
            <label>{strings::PHONE}
                <input type="tel" name="phone" prop:value=phone on:input=move |e| phone.set(event_target_value(&e)) />
            </label>
            <fieldset>
                <legend>{strings::ALSO_BY_EMAIL}</legend>
                {NotificationKind::ALL.iter().copied().map(|kind| view! {
                    <label class="inline">
                        <input type="checkbox" name="email_kind" value=kind.as_str()
                            prop:checked=move || kinds.read().contains(&kind)
                            on:change=move |e| {
                                let on = event_target_checked(&e);
                                kinds.update(|kinds| {
                                    kinds.retain(|k| *k != kind);
                                    if on {
                                        kinds.push(kind);
                                    }
                                });
                            } />
                        {kind.zh_name()}
                    </label>
                }).collect_view()}
            </fieldset>
            {move || outcome_view(outcome.get())}
            <button type="submit">{strings::SAVE}</button>
        </form>
    }
}

/// Administrators: webhooks and robots, and every delivery with its attempts.
#[component]
pub fn EndpointsTab() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let endpoints = LocalResource::new(move || {
        reload.track();
        api::get::<Vec<Endpoint>>("/api/v1/endpoints")
    });
    let deliveries = LocalResource::new(move || {
        reload.track();
        api::get::<Page<Delivery>>("/api/v1/deliveries?limit=100")
    });
    let channel = RwSignal::new(Channel::Webhook);
    let name = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let secret = RwSignal::new(String::new());
    let events = RwSignal::new(vec![NotificationKind::NoticeIssued]);
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let create = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let body = NewEndpoint {
            channel: channel.get_untracked(),
            name: name.get_untracked(),
            url: url.get_untracked(),
            secret: Some(secret.get_untracked()).filter(|secret| !secret.is_empty()),
            events: events.get_untracked(),
        };
        spawn_local(async move {
            match api::call::<_, Endpoint>(api::Verb::Post, "/api/v1/endpoints", &body).await {
                Ok(endpoint) => {
                    outcome.set(Some(Ok(format!("{} {}", strings::ADD_ENDPOINT, endpoint.name))));
                    secret.set(String::new());
                    reload.update(|n| *n += 1);
                }
                Err(failure) => outcome.set(Some(Err(failure.to_string()))),
            }
        });
    };
    let disable = move |id: i64| {
        spawn_local(async move {
            if api::act::<()>(api::Verb::Delete, &format!("/api/v1/endpoints/{id}"), None).await.is_ok() {
                reload.update(|n| *n += 1);
            }
        });
    };
    let redeliver = move |id: i64| {
        spawn_local(async move {
            if api::act::<()>(api::Verb::Post, &format!("/api/v1/deliveries/{id}/redeliver"), None).await.is_ok() {
                reload.update(|n| *n += 1);
            }
        });
    };
    view! {
        <section class="card endpoints">
            <h3>{strings::ENDPOINTS}</h3>
            {move || loaded(endpoints.get(), move |list| view! {
                <table>
                    <thead><tr><th>{strings::ENDPOINT_NAME}</th><th>{strings::ENDPOINT_CHANNEL}</th><th>{strings::ENDPOINT_URL}</th><th>{strings::ENDPOINT_EVENTS}</th><th></th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|endpoint| {
                            let id = endpoint.id;
                            view! {
                                <tr data-endpoint=id class:disabled=!endpoint.enabled>
                                    <td>{endpoint.name}</td>
                                    <td>{endpoint.channel.as_str()}</td>
                                    <td><code>{endpoint.url}</code></td>
                                    <td>{endpoint.events.iter().map(|kind| kind.zh_name()).collect::<Vec<_>>().join("、")}</td>
                                    <td>{endpoint.enabled.then(|| view! { <button on:click=move |_| disable(id)>{strings::DISABLE}</button> })}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            <form class="new-endpoint" on:submit=create>
                <label>{strings::ENDPOINT_CHANNEL}
                    <select name="channel" on:change=move |e| channel.set(match event_target_value(&e).as_str() {
                        "dingtalk" => Channel::Dingtalk,
                        "wecom" => Channel::Wecom,
                        _ => Channel::Webhook,
                    })>
                        <option value="webhook">"Webhook"</option>
                        <option value="dingtalk">"钉钉机器人"</option>
                        <option value="wecom">"企业微信机器人"</option>
                    </select>
                </label>
                <label>{strings::ENDPOINT_NAME}<input name="name" required prop:value=name on:input=move |e| name.set(event_target_value(&e)) /></label>
                <label>{strings::ENDPOINT_URL}<input name="url" type="url" required prop:value=url on:input=move |e| url.set(event_target_value(&e)) /></label>
                <label>{strings::ENDPOINT_SECRET}<input name="secret" type="password" autocomplete="off" prop:value=secret on:input=move |e| secret.set(event_target_value(&e)) /></label>
                <fieldset>
                    <legend>{strings::ENDPOINT_EVENTS}</legend>
                    {NotificationKind::ALL.iter().copied().map(|kind| view! {
                        <label class="inline">
                            <input type="checkbox" name="event" value=kind.as_str() prop:checked=move || events.read().contains(&kind)
                                on:change=move |e| {
                                    let on = event_target_checked(&e);
                                    events.update(|events| {
                                        events.retain(|k| *k != kind);
                                        if on {
                                            events.push(kind);
                                        }
                                    });
                                } />
                            {kind.zh_name()}
                        </label>
                    }).collect_view()}
                </fieldset>
                {move || outcome_view(outcome.get())}
                <button type="submit">{strings::ADD_ENDPOINT}</button>
            </form>
        </section>
        <section class="card deliveries">
            <h3>{strings::DELIVERIES}</h3>
            {move || loaded(deliveries.get(), move |page| view! {
                <table>
                    <tbody>
                        {page.items.into_iter().map(|delivery| {
                            let id = delivery.id;
                            let log = delivery.log.iter().map(|attempt| format!(
                                "{} {}ms{}",
                                attempt.status_code.map(|code| code.to_string()).unwrap_or_else(|| "—".into()),
                                attempt.latency_ms,
                                attempt.error.as_ref().map(|error| format!(" {error}")).unwrap_or_default()
                            )).collect::<Vec<_>>().join("；");
                            view! {
                                <tr data-delivery=id data-status=delivery.status.as_str()>
                                    <td>{delivery.created_at.format("%m-%d %H:%M").to_string()}</td>
                                    <td>{delivery.channel.as_str()}</td>
                                    <td>{delivery.kind.zh_name()}</td>
                                    <td><code>{delivery.destination}</code></td>
                                    <td>{delivery.status.as_str()}</td>
                                    <td>{format!("{} {}：{log}", strings::ATTEMPTS, delivery.attempts)}</td>
                                    <td>{(delivery.status != DeliveryStatus::Pending).then(|| view! {
                                        <button on:click=move |_| redeliver(id)>{strings::REDELIVER}</button>
                                    })}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </section>
    }
}

/// The lead office: reminder rules and the units' leaders in charge.
#[component]
pub fn SupervisionSettingsTab() -> impl IntoView {
    let rules = LocalResource::new(|| api::get::<ReminderRules>("/api/v1/reminder-rules"));
    view! {
        {move || loaded(rules.get(), |rules| view! { <RulesForm rules /> })}
        <LeaderForm />
    }
}

/// One rule's fields, as text for the inputs.
#[derive(Clone, Copy)]
struct RuleFields {
    before: RwSignal<String>,
    overdue_every: RwSignal<String>,
    manager: RwSignal<String>,
    leader: RwSignal<String>,
}

impl RuleFields {
    fn of(rule: &ReminderRule) -> RuleFields {
        let number = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
        RuleFields {
            before: RwSignal::new(rule.before.iter().map(u32::to_string).collect::<Vec<_>>().join(",")),
            overdue_every: RwSignal::new(rule.overdue_every.to_string()),
            manager: RwSignal::new(number(rule.escalate_to_manager_after)),
            leader: RwSignal::new(number(rule.escalate_to_leader_after)),
        }
    }

    fn rule(&self) -> ReminderRule {
        let number = |text: String| text.trim().parse().ok();
        ReminderRule {
            before: self.before.get_untracked().split([',', '，', ' ']).filter_map(|part| part.trim().parse().ok()).collect(),
            overdue_every: self.overdue_every.get_untracked().trim().parse().unwrap_or(0),
            escalate_to_manager_after: number(self.manager.get_untracked()),
            escalate_to_leader_after: number(self.leader.get_untracked()),
        }
    }
}

#[component]
fn RulesForm(rules: ReminderRules) -> impl IntoView {
    let rows = [
        ("deadlines", strings::RULE_DEADLINES, RuleFields::of(&rules.deadlines), false),
        ("general", duban_dto::NoticeLevel::General.zh_name(), RuleFields::of(&rules.general), true),
        ("key", duban_dto::NoticeLevel::Key.zh_name(), RuleFields::of(&rules.key), true),
        ("urgent", duban_dto::NoticeLevel::Urgent.zh_name(), RuleFields::of(&rules.urgent), true),
    ];
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let body =
            ReminderRules { deadlines: rows[0].2.rule(), general: rows[1].2.rule(), key: rows[2].2.rule(), urgent: rows[3].2.rule() };
        spawn_local(async move {
            let result = api::call::<_, ReminderRules>(api::Verb::Put, "/api/v1/reminder-rules", &body).await;
            outcome.set(Some(result.map(|_| strings::SAVED.to_owned()).map_err(|failure| failure.to_string())));
        });
    };
    let input = |signal: RwSignal<String>, name: String| {
        view! {
            <input name=name size="6" prop:value=signal on:input=move |e| signal.set(event_target_value(&e)) />
        }
    };
    view! {
        <form class="card reminder-rules" on:submit=submit>
            <h3>{strings::REMINDER_RULES}</h3>
            <table>
                <thead><tr><th></th><th>{strings::RULE_BEFORE}</th><th>{strings::RULE_OVERDUE_EVERY}</th><th>{strings::RULE_MANAGER}</th><th>{strings::RULE_LEADER}</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|(key, label, fields, escalates)| view! {
                        <tr data-rule=key>
                            <th scope="row">{label}</th>
                            <td>{input(fields.before, format!("{key}.before"))}</td>
                            <td>{input(fields.overdue_every, format!("{key}.overdue_every"))}</td>
                            <td>{escalates.then(|| input(fields.manager, format!("{key}.manager")))}</td>
                            <td>{escalates.then(|| input(fields.leader, format!("{key}.leader")))}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            {move || outcome_view(outcome.get())}
            <button type="submit">{strings::SAVE}</button>
        </form>
    }
}

/// The leader in charge (分管领导) of a unit, to whom unacknowledged notices escalate.
#[component]
fn LeaderForm() -> impl IntoView {
    let units = LocalResource::new(|| api::get_every_page::<Unit>("/api/v1/units"));
    let unit = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let title = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let pick = move |chosen: String| {
        unit.set(chosen.clone());
        spawn_local(async move {
            let leader = api::get::<UnitLeader>(&format!("/api/v1/units/{chosen}/leader")).await.unwrap_or_default();
            name.set(leader.name);
            title.set(leader.title.unwrap_or_default());
            email.set(leader.email.unwrap_or_default());
            phone.set(leader.phone.unwrap_or_default());
        });
    };
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let optional = |signal: RwSignal<String>| Some(signal.get_untracked()).filter(|text| !text.trim().is_empty());
        let body = UnitLeader { name: name.get_untracked(), title: optional(title), email: optional(email), phone: optional(phone) };
        let unit = unit.get_untracked();
        spawn_local(async move {
            let result = api::call::<_, UnitLeader>(api::Verb::Put, &format!("/api/v1/units/{unit}/leader"), &body).await;
            outcome.set(Some(result.map(|_| strings::SAVED.to_owned()).map_err(|failure| failure.to_string())));
        });
    };
    view! {
        <form class="card unit-leader" on:submit=submit>
            <h3>{strings::UNIT_LEADER}</h3>
            <label>{strings::UNIT}
                <select name="unit" required on:change=move |e| pick(event_target_value(&e))>
                    <option value="">"—"</option>
                    {move || units.get().and_then(Result::ok).map(|page| page.items.into_iter().map(|unit| view! {
                        <option value=unit.id.to_string()>{unit.name}</option>
                    }).collect_view())}
                </select>
            </label>
            <label>{strings::LEADER_NAME}<input name="name" required prop:value=name on:input=move |e| name.set(event_target_value(&e)) /></label>
            <label>{strings::LEADER_TITLE}<input name="title" prop:value=title on:input=move |e| title.set(event_target_value(&e)) /></label>
            <label>{strings::EMAIL}<input name="email" type="email" prop:value=email on:input=move |e| email.set(event_target_value(&e)) /></label>
            <label>{strings::PHONE}<input name="phone" prop:value=phone on:input=move |e| phone.set(event_target_value(&e)) /></label>
            {move || outcome_view(outcome.get())}
            <button type="submit">{strings::SAVE}</button>
        </form>
    }
}
