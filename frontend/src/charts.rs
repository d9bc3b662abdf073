//! The dashboard's charts, drawn as SVG by the app itself: no chart library,
//! nothing fetched from elsewhere. Every chart is a link to the task list
//! filtered to what it counts.

use duban_dto::api::{Lights, Progress};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::strings;

/// One segment of a stacked bar.
struct Segment {
    class: &'static str,
    label: &'static str,
    count: i64,
}

fn segments(progress: &Progress) -> [Segment; 4] {
    [
        Segment { class: "approved", label: duban_dto::TaskStatus::Approved.zh_name(), count: progress.approved },
        Segment { class: "submitted", label: duban_dto::TaskStatus::Submitted.zh_name(), count: progress.submitted },
        Segment {
            class: "in-progress",
            label: duban_dto::TaskStatus::InProgress.zh_name(),
            count: progress.in_progress + progress.returned,
        },
        Segment { class: "not-started", label: duban_dto::TaskStatus::NotStarted.zh_name(), count: progress.not_started },
    ]
}

/// A horizontal bar of the tasks by status, with the share approved.
#[component]
pub fn StatusBar(progress: Progress, href: String, label: String) -> impl IntoView {
    let total = progress.tasks.max(1) as f64;
    let mut x = 0.0;
    let rects = segments(&progress)
        .into_iter()
        .filter(|segment| segment.count > 0)
        .map(|segment| {
            let width = segment.count as f64 / total * 100.0;
            let rect = view! {
                <rect class=segment.class x=format!("{x:.2}") y="0" width=format!("{width:.2}") height="10">
                    <title>{format!("{}：{}", segment.label, segment.count)}</title>
                </rect>
            };
            x += width;
            rect
        })
        .collect_view();
    view! {
        <A href=href>
            <div class="bar-row">
                <span class="bar-label">{label}</span>
                <svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img"
                    aria-label=format!("{}/{}", progress.approved, progress.tasks)>
                    <rect class="track" x="0" y="0" width="100" height="10" />
                    {rects}
                </svg>
                <span class="bar-figure" data-figure="approved">{strings::of_total(progress.approved, progress.tasks)}</span>
                {(progress.overdue > 0).then(|| view! {
                    <span class="badge overdue" data-figure="overdue">{strings::OVERDUE}" "{progress.overdue}</span>
                })}
            </div>
        </A>
    }
}

/// The colour key of the bars.
#[component]
pub fn Legend() -> impl IntoView {
    let sample = Progress::default();
    view! {
        <ul class="legend">
            {segments(&sample).into_iter().map(|segment| view! {
                <li><svg viewBox="0 0 10 10" class="swatch"><rect class=segment.class width="10" height="10" /></svg>{segment.label}</li>
            }).collect_view()}
        </ul>
    }
}

/// The three schedule lights, each a link to its tasks.
#[component]
pub fn LightsChart(lights: Lights, campaign: String) -> impl IntoView {
    let lights = [
        ("red", strings::LIGHT_RED, lights.red),
        ("yellow", strings::LIGHT_YELLOW, lights.yellow),
        ("green", strings::LIGHT_GREEN, lights.green),
    ];
    view! {
        <ul class="lights">
            {lights.into_iter().map(|(colour, label, count)| view! {
                <li>
                    <A href=format!("/tasks?campaign={campaign}&light={colour}")>
                        <svg viewBox="0 0 20 20" class="light" role="img" aria-label=label>
                            <circle class=colour cx="10" cy="10" r="9" />
                        </svg>
                        <strong data-figure=format!("light-{colour}")>{count}</strong>
                        <span>{label}</span>
                    </A>
                </li>
            }).collect_view()}
        </ul>
    }
}

/// A ring of met, not met and unknown, with the counts beside it.
#[component]
pub fn OutcomeRing(met: i64, not_met: i64, unknown: i64, href: String) -> impl IntoView {
    let total = (met + not_met + unknown).max(1) as f64;
    // The circle's circumference is 100 (r = 15.915), so lengths are shares.
    let mut offset = 25.0;
    let arcs = [("met", met), ("not-met", not_met), ("unknown", unknown)]
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(class, count)| {
            let length = count as f64 / total * 100.0;
            let arc = view! {
                <circle class=class cx="21" cy="21" r="15.915" fill="none" stroke-width="6"
                    stroke-dasharray=format!("{length:.2} {:.2}", 100.0 - length) stroke-dashoffset=format!("{offset:.2}") />
            };
            offset -= length;
            arc
        })
        .collect_view();
    view! {
        <A href=href>
            <div class="ring-row">
                <svg viewBox="0 0 42 42" class="ring" role="img" aria-label=strings::QUANTIFIED>{arcs}</svg>
                <ul>
                    <li class="met">{strings::MET}" "<strong data-figure="met">{met}</strong></li>
                    <li class="not-met">{strings::NOT_MET}" "<strong data-figure="not-met">{not_met}</strong></li>
                    <li class="unknown">{strings::UNKNOWN}" "<strong data-figure="unknown">{unknown}</strong></li>
                </ul>
            </div>
        </A>
    }
}
