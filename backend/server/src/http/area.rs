//! The one check that keeps each caller inside its area: every resource a
//! request names in its path (by the segment before each `{parameter}`)
//! or in its query (`campaign`, `region`, `unit`, `unit_id`,
//! `assignment_id`) must lie in the caller's area, or the request is
//! answered 404 as if it were absent. The `Caller` extractor runs it with
//! the credential check, on the same pooled connection. Lists without such
//! a name are filtered by the read functions (see `authz::Area`).

use std::collections::HashMap;

use actix_web::HttpRequest;
use diesel::PgConnection;

use crate::authz::Area;
use crate::db::areas::{self, Resource};
use crate::error::Error;

/// The path segments before a parameter that name a resource with a
/// region, and how.
const AREA_BOUND: &[(&str, fn(&str) -> Option<Resource>)] = &[
    ("campaigns", |code| Some(Resource::Campaign(code.to_owned()))),
    ("tasks", |id| id.parse().ok().map(Resource::Task)),
    ("assignments", |id| id.parse().ok().map(Resource::Assignment)),
    ("evidence", |id| id.parse().ok().map(Resource::Evidence)),
    ("evidence-versions", |id| id.parse().ok().map(Resource::EvidenceVersion)),
    ("units", |id| id.parse().ok().map(Resource::Unit)),
    ("unit-groups", |id| id.parse().ok().map(Resource::Group)),
    ("notices", |id| id.parse().ok().map(Resource::Notice)),
    ("notice-recipients", |id| id.parse().ok().map(Resource::NoticeRecipient)),
    ("bulletins", |id| id.parse().ok().map(Resource::Bulletin)),
    ("negative-reports", |id| id.parse().ok().map(Resource::NegativeReport)),
    ("imports", |id| id.parse().ok().map(Resource::ImportJob)),
    ("users", |id| id.parse().ok().map(Resource::User)),
];

/// Path segments before a parameter that name something of no region, or
/// a part of a resource named earlier in the same path, with why.
pub const NOT_AREA_BOUND: &[(&str, &str)] = &[
    ("sessions", "sessions are the caller's own, or the administrators' to manage"),
    ("api-clients", "API clients belong to the whole installation (security administrator)"),
    ("keys", "an API client's key, below the client"),
    ("endpoints", "webhooks and robots belong to the whole installation (system administrator)"),
    ("deliveries", "deliveries to the installation's endpoints"),
    ("notifications", "the caller's own inbox"),
    ("calendar", "the working-day calendar is the whole installation's"),
    ("files", "a notice's file, below the notice checked before it"),
    ("targets", "a task's target, below the task checked before it"),
];

/// The query parameters that name a resource with a region.
const AREA_BOUND_QUERY: &[(&str, fn(&str) -> Option<Resource>)] = &[
    ("campaign", |code| Some(Resource::Campaign(code.to_owned()))),
    ("region", |name| Some(Resource::Region(name.to_owned()))),
    ("unit", |id| id.parse().ok().map(Resource::Unit)),
    ("unit_id", |id| id.parse().ok().map(Resource::Unit)),
    ("assignment_id", |id| id.parse().ok().map(Resource::Assignment)),
];

/// The segment before each parameter of a route pattern, with the
/// parameter's name: `/api/v1/tasks/{id}` gives `("tasks", "id")`.
pub fn parameters(pattern: &str) -> Vec<(&str, &str)> {
    let segments: Vec<&str> = pattern.split('/').collect();
    segments
        .windows(2)
        .filter_map(|pair| {
            let name = pair[1].strip_prefix('{')?.strip_suffix('}')?;
            Some((pair[0], name))
        })
        .collect()
}

/// Whether a segment before a parameter is accounted for, one way or the other.
pub fn is_classified(segment: &str) -> bool {
    AREA_BOUND.iter().any(|(name, _)| *name == segment) || NOT_AREA_BOUND.iter().any(|(name, _)| *name == segment)
}

/// The resources `request` names in its path and query.
pub fn named_resources(request: &HttpRequest) -> Vec<Resource> {
    let mut named = Vec::new();
    if let Some(pattern) = request.match_pattern() {
        for (segment, parameter) in parameters(&pattern) {
            let kind = AREA_BOUND.iter().find(|(name, _)| *name == segment);
            if let (Some((_, resource)), Some(value)) = (kind, request.match_info().get(parameter)) {
                named.extend(resource(value));
            }
        }
    }
    if let Ok(query) = actix_web::web::Query::<HashMap<String, String>>::from_query(request.query_string()) {
        for (name, resource) in AREA_BOUND_QUERY {
            if let Some(value) = query.get(*name) {
                named.extend(resource(value));
            }
        }
    }
    named
}

/// Refuses, as absent, a request that names anything outside `area`.
pub fn check(conn: &mut PgConnection, area: &Area, named: &[Resource]) -> Result<(), Error> {
    if *area == Area::Everywhere {
        return Ok(());
    }
    for resource in named {
        if !areas::placement(conn, resource)?.visible_in(area) {
            return Err(Error::not_found(format!("there is no {}", describe(resource))));
        }
    }
    Ok(())
}

fn describe(resource: &Resource) -> String {
    match resource {
        Resource::Campaign(code) => format!("campaign {code:?}"),
        Resource::Region(name) => format!("region {name:?}"),
        Resource::Task(id) => format!("task {id}"),
        Resource::Assignment(id) => format!("assignment {id}"),
        Resource::Evidence(id) => format!("evidence {id}"),
        Resource::EvidenceVersion(id) => format!("evidence version {id}"),
        Resource::Unit(id) => format!("unit {id}"),
        Resource::Group(id) => format!("unit group {id}"),
        Resource::Notice(id) => format!("notice {id}"),
        Resource::NoticeRecipient(id) => format!("notice recipient {id}"),
        Resource::Bulletin(id) => format!("bulletin {id}"),
        Resource::NegativeReport(id) => format!("negative-list report {id}"),
        Resource::ImportJob(id) => format!("import job {id}"),
        Resource::User(id) => format!("user {id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tidy: a new route with a parameter must say whether what it names
    /// lies in a region, so no route escapes the area check unnoticed.
    #[test]
    fn every_path_parameter_is_classified() {
        let document = crate::http::openapi::document();
        let mut unclassified = Vec::new();
        for path in document.paths.paths.keys() {
            for (segment, parameter) in parameters(path) {
                if !is_classified(segment) {
                    unclassified.push(format!("{path} ({segment}/{{{parameter}}})"));
                }
            }
        }
        assert!(unclassified.is_empty(), "say in http/area.rs whether these lie in a region: {unclassified:?}");
    }

    #[test]
    fn parameters_follow_their_segments() {
        assert_eq!(parameters("/api/v1/campaigns/{code}/scores/units/{unit_id}"), vec![("campaigns", "code"), ("units", "unit_id")]);
        assert!(parameters("/api/v1/tasks").is_empty());
    }
}
