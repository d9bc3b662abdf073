//! 本单位任务: what the unit has to do, what is due soon, and what was
//! returned and why; each with its evidence, upload and submit.

use duban_dto::AssignmentStatus;
use duban_dto::api::{Assignment, Page};
use duban_rules::workflow::{self, Standing, Step};
use leptos::prelude::*;

use crate::work::AssignmentPanel;
use crate::{api, loaded, strings, viewer};

#[component]
pub fn MyUnitPage() -> impl IntoView {
    let viewer = viewer();
    let Some(unit) = viewer.unit_id() else {
        return view! { <p>{strings::NO_UNIT}</p> }.into_any();
    };
    let reload = RwSignal::new(0u32);
    let all = LocalResource::new(move || {
        reload.track();
        async move { api::get::<Page<Assignment>>(&format!("/api/v1/assignments?unit={unit}&limit=200")).await }
    });
    let due_soon = LocalResource::new(move || {
        reload.track();
        async move { api::get::<Page<Assignment>>(&format!("/api/v1/assignments?unit={unit}&due_within_working_days=5&limit=200")).await }
    });
    let on_change = Callback::new(move |_: ()| reload.update(|n| *n += 1));
    let section = move |title: &'static str, class: &'static str, items: Vec<Assignment>| {
        view! {
            <section class=format!("card {class}")>
                <h3>{title}" "<small data-figure=class>{items.len()}</small></h3>
                {if items.is_empty() {
                    view! { <p class="muted">{strings::NOTHING}</p> }.into_any()
                } else {
                    items.into_iter().map(|assignment| view! {
                        <AssignmentPanel assignment on_change show_task=true />
                    }).collect_view().into_any()
                }}
            </section>
        }
    };
    view! {
        <h2>{strings::NAV_MY_UNIT}" · "{viewer.0.unit.as_ref().map(|unit| unit.name.clone())}</h2>
        {move || loaded(all.get(), move |page| {
            let (returned, rest): (Vec<_>, Vec<_>) = page.items.into_iter().partition(|a| a.status == AssignmentStatus::Returned);
            // To do: what the unit can still submit (the rulebook says which).
            let to_do: Vec<_> =
                rest.into_iter().filter(|a| workflow::open_steps(a.status, Standing::OwnUnit, a.role).contains(&Step::Submit)).collect();
            view! {
                {section(strings::RETURNED_TO_US, "returned", returned)}
                {section(strings::TO_DO, "to-do", to_do)}
            }
        })}
        {move || loaded(due_soon.get(), move |page| section(strings::DUE_SOON, "due-soon", page.items))}
    }
    .into_any()
}
