//! The benchmark dataset generator, and the province dashboard over it.

use duban::audit::{self, Verdict};
use duban_tests::{TestDb, TestServer};
use serde_json::Value;

use crate::support::count;

#[test]
fn generated_counties_have_the_demo_shape_and_a_valid_audit_chain() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let generated = duban::generate::generate(&mut conn, &duban::authz::Operator::for_tests(), 2, &mut |_| {}).unwrap();
    assert_eq!(generated.campaigns, 2);
    assert_eq!(generated.tasks, 2 * 229);
    // Each county has the demo's roster.
    let demo = TestDb::with_demo();
    let demo_units = count(&mut demo.conn(), "SELECT count(*) FROM units");
    assert_eq!(generated.units, 2 * demo_units);
    for sql in [
        "SELECT count(*) FROM indicators WHERE level = 2",
        "SELECT count(*) FROM tasks WHERE list = 'quantified'",
        "SELECT count(*) FROM task_targets",
        "SELECT count(*) FROM assignments WHERE role = 'lead'",
    ] {
        assert_eq!(count(&mut conn, sql), 2 * count(&mut demo.conn(), sql), "{sql}");
    }
    // Work in every state, with evidence and decisions to match.
    for status in ["not_started", "in_progress", "submitted", "returned", "accepted", "approved"] {
        assert!(count(&mut conn, &format!("SELECT count(*) FROM assignments WHERE status = '{status}'")) > 0, "{status}");
    }
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM evidence e JOIN assignments a ON a.id = e.assignment_id WHERE a.status = 'not_started'"),
        0
    );
    assert!(generated.evidence > generated.assignments / 2);
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM decisions WHERE action = 'approve'"),
        count(&mut conn, "SELECT count(*) FROM assignments WHERE status = 'approved'")
    );
    assert!(matches!(audit::verify(&mut conn).unwrap(), Verdict::Intact { .. }));

    // Running it again adds nothing; asking for more adds only the new county.
    let again = duban::generate::generate(&mut conn, &duban::authz::Operator::for_tests(), 2, &mut |_| {}).unwrap();
    assert_eq!((again.assignments, again.evidence, again.audit_rows), (generated.assignments, generated.evidence, generated.audit_rows));
    let more = duban::generate::generate(&mut conn, &duban::authz::Operator::for_tests(), 3, &mut |_| {}).unwrap();
    assert_eq!(more.tasks, 3 * 229);
    assert!(more.audit_rows > generated.audit_rows);
    assert!(matches!(audit::verify(&mut conn).unwrap(), Verdict::Intact { .. }));

    // The province's dashboard adds up the counties'.
    let server = TestServer::start(&db);
    let province_office = server.login("ynfzb");
    let province: Value = province_office.get_json("/api/v1/dashboard");
    assert_eq!(province["total"]["tasks"], 3 * 229);
    let campaigns = province["campaigns"].as_array().unwrap();
    assert_eq!(campaigns.len(), 3);
    for campaign in campaigns {
        let code = campaign["code"].as_str().unwrap();
        let county: Value = province_office.get_json(&format!("/api/v1/campaigns/{code}/dashboard"));
        assert_eq!(campaign["progress"], county["total"], "{code}");
    }
}
