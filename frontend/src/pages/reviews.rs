//! 待审核: submissions waiting for the viewer — a lead unit's units'
//! submissions, or, for the lead office, everything submitted or accepted.

use duban_dto::api::Assignment;
use leptos::prelude::*;

use crate::work::AssignmentPanel;
use crate::{api, loaded, strings};

#[component]
pub fn ReviewsPage() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let queue = LocalResource::new(move || {
        reload.track();
        async move { api::get_every_page::<Assignment>("/api/v1/reviews").await }
    });
    let on_change = Callback::new(move |_: ()| reload.update(|n| *n += 1));
    view! {
        <h2>{strings::NAV_REVIEWS}</h2>
        {move || loaded(queue.get(), move |page| {
            if page.items.is_empty() {
                view! { <p class="muted" data-figure="queue-empty">{strings::QUEUE_EMPTY}</p> }.into_any()
            } else {
                page.items.into_iter().map(|assignment| view! {
                    <AssignmentPanel assignment on_change show_task=true />
                }).collect_view().into_any()
            }
        })}
    }
}
