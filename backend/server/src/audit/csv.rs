//! The audit log as CSV.

use serde_json::Value;

use super::chain::Row;

/// The rows as CSV, one line per row, before/after as JSON text. Every cell
/// is written so that a spreadsheet program shows it as text: a failed
/// sign-in's username is whatever a stranger typed.
pub fn to_csv(rows: &[Row]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "id",
        "at",
        "actor_kind",
        "actor_id",
        "actor_name",
        "unit_id",
        "action",
        "entity_type",
        "entity_id",
        "before",
        "after",
        "request_id",
        "client_address",
        "hash",
    ];
    writer.write_record(header).expect("writing to memory");
    let text = |value: &Option<Value>| value.as_ref().map(Value::to_string).unwrap_or_default();
    let number = |value: Option<i64>| value.map(|n| n.to_string()).unwrap_or_default();
    for row in rows {
        let cells = [
            row.id.to_string(),
            row.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            row.actor_kind.clone(),
            number(row.actor_id),
            row.actor_name.clone().unwrap_or_default(),
            number(row.unit_id),
            row.action.clone(),
            row.entity_type.clone().unwrap_or_default(),
            row.entity_id.clone().unwrap_or_default(),
            text(&row.before),
            text(&row.after),
            row.request_id.clone().unwrap_or_default(),
            row.client_address.clone().unwrap_or_default(),
            hex::encode(&row.hash),
        ];
        writer.write_record(cells.iter().map(|cell| duban_breakdown::cells::neutralise(cell).into_owned())).expect("writing to memory");
    }
    writer.into_inner().expect("flushing to memory")
}
