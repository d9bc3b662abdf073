//! 本单位任务: what was returned and why, what is due soon, what else the
//! unit has to do, and what it has handed in and awaits review; each item
//! with its evidence, upload and submit. A unit may lead a hundred tasks, so
//! the page searches, and each section shows its first items and more on
//! request (every panel loads its own evidence and history).

use std::collections::BTreeSet;

use duban_dto::AssignmentStatus;
use duban_dto::api::Assignment;
use duban_rules::workflow::{self, Standing, Step};
use leptos::prelude::*;

use crate::work::AssignmentPanel;
use crate::{api, loaded, strings, viewer};

/// How many items a section shows at first, and adds per "more".
const PAGE: usize = 10;

#[component]
pub fn MyUnitPage() -> impl IntoView {
    let viewer = viewer();
    let Some(unit) = viewer.unit_id() else {
        return view! { <p>{strings::NO_UNIT}</p> }.into_any();
    };
    let reload = RwSignal::new(0u32);
    let all = LocalResource::new(move || {
        reload.track();
        async move { api::get_every_page::<Assignment>(&format!("/api/v1/assignments?unit={unit}")).await }
    });
    let due_soon = LocalResource::new(move || {
        reload.track();
        async move { api::get_every_page::<Assignment>(&format!("/api/v1/assignments?unit={unit}&due_within_working_days=5")).await }
    });
    let on_change = Callback::new(move |_: ()| reload.update(|n| *n += 1));
    let search = RwSignal::new(String::new());
    let matches = move |assignment: &Assignment| {
        let wanted = search.get();
        let wanted = wanted.trim();
        wanted.is_empty() || assignment.task.code.contains(wanted) || assignment.task.text.contains(wanted)
    };
    view! {
        <h2>{strings::NAV_MY_UNIT}" · "{viewer.0.unit.as_ref().map(|unit| unit.name.clone())}</h2>
        <p class="filters">
            <input type="search" name="q" placeholder=strings::SEARCH_MY_TASKS
                prop:value=search on:input=move |e| search.set(event_target_value(&e)) />
        </p>
        {move || {
            let (Some(all), Some(due_soon)) = (all.get(), due_soon.get()) else {
                return loaded(None::<Result<(), api::ApiError>>, |()| ());
            };
            let (all, due_soon) = match (all, due_soon) {
                (Ok(all), Ok(due_soon)) => (all.items, due_soon.items),
                (Err(failure), _) | (_, Err(failure)) => return loaded(Some(Err::<(), _>(failure)), |()| ()),
            };
            // Each item once, in the first section it belongs to.
            let returned: Vec<Assignment> = all.iter().filter(|a| a.status == AssignmentStatus::Returned).cloned().collect();
            let submittable = |a: &Assignment| workflow::open_steps(a.status, Standing::OwnUnit, a.role).contains(&Step::Submit);
            let soon: Vec<Assignment> =
                due_soon.into_iter().filter(|a| a.status != AssignmentStatus::Returned && submittable(a)).collect();
            let soon_ids: BTreeSet<i64> = soon.iter().map(|a| a.id).collect();
            let to_do: Vec<Assignment> = all
                .iter()
                .filter(|a| a.status != AssignmentStatus::Returned && !soon_ids.contains(&a.id) && submittable(a))
                .cloned()
                .collect();
            let handed_in: Vec<Assignment> = all.iter().filter(|a| workflow::awaiting_review(a.status)).cloned().collect();
            let filtered = |items: Vec<Assignment>| items.into_iter().filter(|a| matches(a)).collect::<Vec<_>>();
            view! {
                <Section title=strings::RETURNED_TO_US class="returned" items=filtered(returned) on_change />
                <Section title=strings::DUE_SOON class="due-soon" items=filtered(soon) on_change />
                <Section title=strings::TO_DO class="to-do" items=filtered(to_do) on_change />
                <Section title=strings::HANDED_IN class="handed-in" items=filtered(handed_in) on_change />
            }
            .into_any()
        }}
    }
    .into_any()
}

/// One section: its count, its first items, and more on request.
#[component]
fn Section(title: &'static str, class: &'static str, items: Vec<Assignment>, on_change: Callback<()>) -> impl IntoView {
    let shown = RwSignal::new(PAGE);
    let total = items.len();
    view! {
        <section class=format!("card {class}")>
            <h3>{title}" "<small data-figure=class>{total}</small></h3>
            {if items.is_empty() {
                view! { <p class="muted">{strings::NOTHING}</p> }.into_any()
            } else {
                let items = items.clone();
                view! {
                    {move || items.iter().take(shown.get()).cloned().map(|assignment| view! {
                        <AssignmentPanel assignment on_change show_task=true />
                    }).collect_view()}
                    {move || (shown.get() < total).then(|| view! {
                        <button type="button" class="more" on:click=move |_| shown.update(|n| *n += PAGE)>
                            {format!("{}（{}/{}）", strings::SHOW_MORE, shown.get().min(total), total)}
                        </button>
                    })}
                }.into_any()
            }}
        </section>
    }
}
