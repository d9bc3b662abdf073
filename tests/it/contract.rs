//! The API contract as integrators read it: every reference resolves, and a
//! client generator (openapi-python-client, from PyPI) generates every
//! operation without a warning.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

use crate::support::workspace;

fn document() -> Value {
    serde_json::from_str(&std::fs::read_to_string(workspace().join("openapi/openapi.json")).unwrap()).unwrap()
}

fn references(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(reference)) => {
                        into.insert(reference.clone());
                    }
                    _ => references(inner, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, into)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves_to_a_component() {
    let document = document();
    let mut found = BTreeSet::new();
    references(&document, &mut found);
    assert!(!found.is_empty());
    let unresolved: Vec<&String> = found
        .iter()
        .filter(|reference| {
            let pointer = reference.strip_prefix('#').unwrap_or("(not local)");
            document.pointer(pointer).is_none()
        })
        .collect();
    assert!(unresolved.is_empty(), "references without a component: {unresolved:?}");
}

#[test]
fn binary_bodies_are_described_as_binary_strings() {
    let text = std::fs::read_to_string(workspace().join("openapi/openapi.json")).unwrap();
    let document: Value = serde_json::from_str(&text).unwrap();
    let workbook = &document["paths"]["/api/v1/campaigns/{code}/export.xlsx"]["get"]["responses"]["200"]["content"]["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
        ["schema"];
    assert_eq!(workbook["format"], "binary", "{workbook}");
    let download = &document["paths"]["/api/v1/evidence-versions/{id}/content"]["get"]["responses"]["200"]["content"]["application/octet-stream"]
        ["schema"];
    assert_eq!(download["format"], "binary", "{download}");
}

#[test]
fn a_generated_python_client_has_every_operation_without_a_warning() {
    let generator = workspace().join(".tools/venv/bin/openapi-python-client");
    assert!(generator.exists(), "{} is missing: run `cargo xtask setup`", generator.display());
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(&generator)
        .arg("generate")
        .arg("--path")
        .arg(workspace().join("openapi/openapi.json"))
        .arg("--config")
        .arg(workspace().join("openapi/openapi-python-client.yaml"))
        .args(["--meta", "none", "--output-path"])
        .arg(out.path().join("client"))
        .current_dir(out.path())
        .output()
        .unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "openapi-python-client failed:\n{said}");
    assert!(!said.to_lowercase().contains("warning"), "openapi-python-client warned:\n{said}");

    let document = document();
    let operations: BTreeSet<String> = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values().filter_map(|operation| operation["operationId"].as_str().map(str::to_owned)))
        .collect();
    let mut generated = BTreeSet::new();
    for tag in std::fs::read_dir(out.path().join("client/api")).unwrap().flatten().filter(|entry| entry.path().is_dir()) {
        for module in std::fs::read_dir(tag.path()).unwrap().flatten() {
            let name = module.file_name().to_string_lossy().into_owned();
            if let Some(operation) = name.strip_suffix(".py").filter(|name| *name != "__init__") {
                generated.insert(operation.to_owned());
            }
        }
    }
    let skipped: Vec<&String> = operations.iter().filter(|operation| !generated.contains(*operation)).collect();
    assert!(skipped.is_empty(), "operations the generated client lacks: {skipped:?}");
}

#[test]
fn the_document_is_valid_openapi_with_page_items_by_reference() {
    let validator = workspace().join(".tools/venv/bin/openapi-spec-validator");
    assert!(validator.exists(), "{} is missing: run `cargo xtask setup`", validator.display());
    let output = Command::new(&validator).arg(workspace().join("openapi/openapi.json")).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success() && said.contains("OK"), "openapi-spec-validator:\n{said}");

    let document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(workspace().join("openapi/openapi.json")).unwrap()).unwrap();
    let schemas = document["components"]["schemas"].as_object().unwrap();
    let pages: Vec<&String> = schemas.keys().filter(|name| name.starts_with("Page_")).collect();
    assert!(pages.len() >= 5);
    for page in pages {
        let items = &schemas[page]["properties"]["items"]["items"];
        assert_eq!(items["$ref"], format!("#/components/schemas/{}", &page["Page_".len()..]), "{page}");
    }
}
