//! 消息: the signed-in user's inbox, and the unread count in the header.

use duban_dto::api::{Notification, Page};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::{api, loaded, strings};

/// Bumped whenever the inbox changes here, so the header's count follows.
#[derive(Clone, Copy)]
pub struct InboxChanged(pub RwSignal<u32>);

/// The number of unread messages, refreshed every minute and on changes.
#[component]
pub fn UnreadCount() -> impl IntoView {
    let changed = use_context::<InboxChanged>().map(|changed| changed.0);
    let tick = RwSignal::new(0u32);
    let handle = set_interval_with_handle(
        move || {
            tick.try_update(|n| *n += 1);
        },
        std::time::Duration::from_secs(60),
    );
    on_cleanup(move || {
        if let Ok(handle) = handle {
            handle.clear();
        }
    });
    let unread = LocalResource::new(move || {
        tick.track();
        if let Some(changed) = changed {
            changed.track();
        }
        async move { api::get::<Page<Notification>>("/api/v1/notifications?unread=true&limit=1").await.map(|page| page.total) }
    });
    view! {
        <A href="/inbox" attr:class="inbox-link">
            {strings::NAV_INBOX}
            {move || unread.get().and_then(Result::ok).filter(|count| *count > 0).map(|count| view! {
                " " <span class="badge unread" data-figure="unread">{count}</span>
            })}
        </A>
    }
}

#[component]
pub fn InboxPage() -> impl IntoView {
    let changed = use_context::<InboxChanged>().map(|changed| changed.0);
    let only_unread = RwSignal::new(false);
    let reload = RwSignal::new(0u32);
    let messages = LocalResource::new(move || {
        reload.track();
        let unread = only_unread.get();
        async move { api::get::<Page<Notification>>(&format!("/api/v1/notifications?limit=200&unread={unread}")).await }
    });
    let refresh = move || {
        reload.update(|n| *n += 1);
        if let Some(changed) = changed {
            changed.update(|n| *n += 1);
        }
    };
    let read_all = move |_| {
        spawn_local(async move {
            if api::act::<()>(api::Verb::Post, "/api/v1/notifications/read-all", None).await.is_ok() {
                refresh();
            }
        });
    };
    view! {
        <h2>{strings::INBOX}</h2>
        <div class="toolbar">
            <label class="inline">
                <input type="checkbox" prop:checked=only_unread on:change=move |e| only_unread.set(event_target_checked(&e)) />
                {strings::ONLY_UNREAD}
            </label>
            <button class="read-all" on:click=read_all>{strings::MARK_ALL_READ}</button>
        </div>
        {move || loaded(messages.get(), move |page| {
            if page.items.is_empty() {
                return view! { <p class="muted">{strings::NO_MESSAGES}</p> }.into_any();
            }
            view! {
                <ul class="inbox">
                    {page.items.into_iter().map(|message| {
                        let id = message.id;
                        let mark = move |_| {
                            spawn_local(async move {
                                if api::act::<()>(api::Verb::Post, &format!("/api/v1/notifications/{id}/read"), None).await.is_ok() {
                                    refresh();
                                }
                            });
                        };
                        view! {
                            <li class:unread=!message.read data-kind=message.kind.as_str() data-message=id>
                                <span class="kind">{message.kind.zh_name()}</span>" "
                                <time>{message.created_at.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is valid")).format("%m-%d %H:%M").to_string()}</time>" "
                                {match message.notice_id {
                                    Some(notice) => view! { <A href=format!("/notices/{notice}")>{message.message.clone()}</A> }.into_any(),
                                    None => view! { <span>{message.message.clone()}</span> }.into_any(),
                                }}
                                {(!message.read).then(|| view! { " " <button class="mark-read" on:click=mark>{strings::MARK_READ}</button> })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        })}
    }
}
