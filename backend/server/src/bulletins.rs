//! Bulletins (通报): the lead office writes a draft for a period, duban fills
//! in the figures from the record (`scores::bulletin_inputs`), and a
//! lead-office user signs and issues it. Issuing freezes it: the inputs as
//! they stood, the .docx made from them and its SHA-256 are kept, audited,
//! and a database trigger refuses any later change (the PDF rendered from
//! the frozen .docx may be added once). Regenerating an issued bulletin
//! from its frozen inputs gives the same bytes ([`regenerate`]).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use duban_dto::api::{Bulletin, BulletinDraft, BulletinInputs};
use duban_dto::{BulletinPeriod, BulletinState, NotificationKind, Role};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit::{self, Event};
use crate::authz::{Caller, IssueBulletins, ManageScoring, ReadProgress};
use crate::db::lookups;
use crate::db::schema::{bulletins, campaigns, users};
use crate::documents::bulletin::{BulletinText, document};
use crate::error::Error;
use crate::messages::{self, Message};
use crate::{clock, scores, supervision};

/// What an issued bulletin froze besides its text: who issued it, on what
/// day, and the figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Frozen {
    organ: String,
    issued_on: NaiveDate,
    inputs: BulletinInputs,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bulletins, check_for_backend(diesel::pg::Pg))]
struct Row {
    id: i64,
    campaign_id: i64,
    period: BulletinPeriod,
    from_day: NaiveDate,
    as_of: NaiveDate,
    state: BulletinState,
    title: String,
    addressees: String,
    summary: String,
    requirements: String,
    created_at: chrono::DateTime<Utc>,
    doc_number: Option<String>,
    issued_by: Option<i64>,
    issued_at: Option<chrono::DateTime<Utc>>,
    sha256: Option<Vec<u8>>,
    #[diesel(select_expression = bulletins::pdf.is_not_null())]
    has_pdf: bool,
    version: i32,
}

/// The columns a draft's author writes.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = bulletins)]
struct DraftColumns<'a> {
    period: BulletinPeriod,
    from_day: NaiveDate,
    as_of: NaiveDate,
    title: &'a str,
    addressees: &'a str,
    summary: &'a str,
    requirements: &'a str,
}

impl<'a> DraftColumns<'a> {
    fn of(draft: &'a BulletinDraft) -> DraftColumns<'a> {
        DraftColumns {
            period: draft.period,
            from_day: draft.from,
            as_of: draft.as_of,
            title: draft.title.trim(),
            addressees: draft.addressees.trim(),
            summary: &draft.summary,
            requirements: &draft.requirements,
        }
    }
}

fn dto(conn: &mut PgConnection, row: Row) -> Result<Bulletin, Error> {
    Ok(dtos(conn, vec![row])?.remove(0))
}

/// The rows as the API gives them, with their campaigns' codes and their
/// signers' names looked up once for all of them.
fn dtos(conn: &mut PgConnection, rows: Vec<Row>) -> Result<Vec<Bulletin>, Error> {
    let campaign_ids: Vec<i64> = rows.iter().map(|row| row.campaign_id).collect();
    let signer_ids: Vec<i64> = rows.iter().filter_map(|row| row.issued_by).collect();
    let codes: BTreeMap<i64, String> = campaigns::table
        .filter(campaigns::id.eq_any(&campaign_ids))
        .select((campaigns::id, campaigns::code))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let signers: BTreeMap<i64, String> = users::table
        .filter(users::id.eq_any(&signer_ids))
        .select((users::id, users::display_name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| Bulletin {
            id: row.id,
            campaign: codes.get(&row.campaign_id).cloned().unwrap_or_default(),
            period: row.period,
            from: row.from_day,
            as_of: row.as_of,
            state: row.state,
            doc_number: row.doc_number,
            title: row.title,
            addressees: row.addressees,
            summary: row.summary,
            requirements: row.requirements,
            created_at: row.created_at,
            issued_at: row.issued_at,
            issued_by: row.issued_by.and_then(|id| signers.get(&id).cloned()),
            sha256: row.sha256.map(hex::encode),
            has_pdf: row.has_pdf,
            version: row.version,
        })
        .collect())
}

/// Whether the caller sees drafts: those who write them.
fn sees_drafts(caller: &Caller) -> bool {
    caller.role() == Some(Role::LeadOffice)
}

fn load(conn: &mut PgConnection, caller: &Caller, id: i64) -> Result<Row, Error> {
    let row: Row = bulletins::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .filter(|row| row.state == BulletinState::Issued || sees_drafts(caller))
        .ok_or_else(|| Error::not_found(format!("there is no bulletin {id}")))?;
    Ok(row)
}

fn check_draft(draft: &BulletinDraft) -> Result<(), Error> {
    crate::limits::at_most("title", &draft.title, duban_dto::limits::NAME)?;
    crate::limits::at_most("addressees", &draft.addressees, duban_dto::limits::NAME)?;
    crate::limits::at_most("summary", &draft.summary, duban_dto::limits::NOTE)?;
    crate::limits::at_most("requirements", &draft.requirements, duban_dto::limits::NOTE)?;
    if draft.title.trim().is_empty() || draft.addressees.trim().is_empty() {
        return Err(Error::invalid("blank", "a bulletin needs a title and addressees (主送)"));
    }
    if draft.from > draft.as_of {
        return Err(Error::invalid("invalid_period", "the period starts after it ends: `from` must not be after `as_of`"));
    }
    if draft.as_of > clock::today() {
        return Err(Error::invalid("as_of_in_future", "a bulletin reports on days that have begun: `as_of` is today or earlier"));
    }
    Ok(())
}

/// A campaign's bulletins, newest first: issued ones for everyone who reads
/// progress, drafts too for the lead office.
pub fn list(conn: &mut PgConnection, _can: &ReadProgress, caller: &Caller, code: &str) -> Result<Vec<Bulletin>, Error> {
    let campaign_id = lookups::campaign_id(conn, code)?;
    let mut query = bulletins::table.filter(bulletins::campaign_id.eq(campaign_id)).into_boxed();
    if !sees_drafts(caller) {
        query = query.filter(bulletins::state.eq(BulletinState::Issued));
    }
    let rows: Vec<Row> = query.order(bulletins::id.desc()).select(Row::as_select()).load(conn)?;
    dtos(conn, rows)
}

pub fn get(conn: &mut PgConnection, _can: &ReadProgress, caller: &Caller, id: i64) -> Result<Bulletin, Error> {
    let row = load(conn, caller, id)?;
    dto(conn, row)
}

/// Starts a draft, audited.
pub fn create(
    conn: &mut PgConnection,
    _can: &ManageScoring,
    caller: &Caller,
    code: &str,
    draft: &BulletinDraft,
) -> Result<Bulletin, Error> {
    check_draft(draft)?;
    conn.transaction(|conn| {
        let campaign_id = lookups::campaign_id(conn, code)?;
        let id: i64 = diesel::insert_into(bulletins::table)
            .values((DraftColumns::of(draft), bulletins::campaign_id.eq(campaign_id), bulletins::created_by.eq(caller.user_id())))
            .returning(bulletins::id)
            .get_result(conn)?;
        audit::record(conn, &caller.audit_actor(), Event::new("bulletin.create").entity("bulletin", id).after(json!(draft)))?;
        let row = load(conn, caller, id)?;
        dto(conn, row)
    })
}

/// Replaces a draft's text and period; refused once issued, or when the
/// draft changed since `version` was read.
pub fn update(
    conn: &mut PgConnection,
    _can: &ManageScoring,
    caller: &Caller,
    id: i64,
    version: Option<i32>,
    draft: &BulletinDraft,
) -> Result<Bulletin, Error> {
    check_draft(draft)?;
    conn.transaction(|conn| {
        let row = locked_draft(conn, caller, id, version)?;
        diesel::update(bulletins::table.find(id)).set((DraftColumns::of(draft), bulletins::version.eq(row.version + 1))).execute(conn)?;
        audit::record(conn, &caller.audit_actor(), Event::new("bulletin.update").entity("bulletin", id).after(json!(draft)))?;
        let row = load(conn, caller, id)?;
        dto(conn, row)
    })
}

/// The draft, locked for the transaction; refused once issued or stale.
fn locked_draft(conn: &mut PgConnection, caller: &Caller, id: i64, version: Option<i32>) -> Result<Row, Error> {
    let row: Row = bulletins::table
        .find(id)
        .for_update()
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .filter(|_| sees_drafts(caller))
        .ok_or_else(|| Error::not_found(format!("there is no bulletin {id}")))?;
    if row.state == BulletinState::Issued {
        return Err(Error::conflict("bulletin_issued", "the bulletin is issued and frozen; write a new one"));
    }
    if version.is_some_and(|version| version != row.version) {
        return Err(Error::Stale(format!("bulletin {id} changed since version {}; reload it", version.unwrap_or_default())));
    }
    Ok(row)
}

fn text<'a>(row: &'a Row, organ: &'a str, dated: NaiveDate) -> BulletinText<'a> {
    BulletinText {
        organ,
        doc_number: row.doc_number.as_deref(),
        dated,
        title: &row.title,
        addressees: &row.addressees,
        summary: &row.summary,
        requirements: &row.requirements,
        from: row.from_day,
        as_of: row.as_of,
    }
}

fn frozen(conn: &mut PgConnection, id: i64) -> Result<Frozen, Error> {
    let value: Option<serde_json::Value> = bulletins::table.find(id).select(bulletins::inputs).first(conn)?;
    let value = value.ok_or_else(|| Error::internal(anyhow::anyhow!("issued bulletin {id} has no frozen inputs")))?;
    serde_json::from_value(value).map_err(Error::internal)
}

/// The figures of a bulletin: frozen once issued, else as the record stands.
pub fn inputs(conn: &mut PgConnection, _can: &ReadProgress, caller: &Caller, id: i64) -> Result<BulletinInputs, Error> {
    let row = load(conn, caller, id)?;
    match row.state {
        BulletinState::Issued => Ok(frozen(conn, id)?.inputs),
        BulletinState::Draft => live_inputs(conn, &row),
    }
}

fn live_inputs(conn: &mut PgConnection, row: &Row) -> Result<BulletinInputs, Error> {
    let code: String = campaigns::table.find(row.campaign_id).select(campaigns::code).first(conn)?;
    scores::bulletin_inputs(conn, &code, row.as_of)
}

/// The .docx and its file name: the frozen document once issued, else a
/// preview made now.
pub fn document_file(conn: &mut PgConnection, _can: &ReadProgress, caller: &Caller, id: i64) -> Result<(String, Vec<u8>), Error> {
    let row = load(conn, caller, id)?;
    match row.state {
        BulletinState::Issued => {
            let bytes: Option<Vec<u8>> = bulletins::table.find(id).select(bulletins::docx).first(conn)?;
            let bytes = bytes.ok_or_else(|| Error::internal(anyhow::anyhow!("issued bulletin {id} has no document")))?;
            Ok((format!("{} {}.docx", row.doc_number.as_deref().unwrap_or_default(), row.title), bytes))
        }
        BulletinState::Draft => {
            let organ = supervision::issuer(conn, row.campaign_id)?.organ;
            let inputs = live_inputs(conn, &row)?;
            let bytes = document(&text(&row, &organ, clock::today()), &inputs).to_bytes();
            Ok((format!("（送审稿）{}.docx", row.title), bytes))
        }
    }
}

/// The .docx of an issued bulletin made again from its frozen inputs; the
/// same bytes as the document kept.
pub fn regenerate(conn: &mut PgConnection, id: i64) -> Result<Vec<u8>, Error> {
    let row: Row = bulletins::table.find(id).select(Row::as_select()).first(conn)?;
    if row.state != BulletinState::Issued {
        return Err(Error::conflict("bulletin_draft", "only an issued bulletin has frozen inputs"));
    }
    let frozen = frozen(conn, id)?;
    Ok(document(&text(&row, &frozen.organ, frozen.issued_on), &frozen.inputs).to_bytes())
}

/// Signs and issues (签发) a draft: numbers it, freezes its inputs and
/// document with the document's SHA-256, audits it, and tells every user of
/// the county (inbox, e-mail by preference, webhooks and robots).
pub fn issue(conn: &mut PgConnection, _can: &IssueBulletins, caller: &Caller, id: i64, version: Option<i32>) -> Result<Bulletin, Error> {
    conn.transaction(|conn| {
        let mut row = locked_draft(conn, caller, id, version)?;
        if row.as_of > clock::today() {
            return Err(Error::invalid("as_of_in_future", "the bulletin reports on a day to come; issue it on or after that day"));
        }
        // One number at a time per campaign: the campaign's row is the lock.
        campaigns::table.find(row.campaign_id).select(campaigns::id).for_update().first::<i64>(conn)?;
        let now = Utc::now();
        let issued_on = clock::today_at(now);
        let year = issued_on.year();
        let last: Option<i32> = bulletins::table
            .filter(bulletins::campaign_id.eq(row.campaign_id))
            .filter(bulletins::year.eq(year))
            .select(diesel::dsl::max(bulletins::number))
            .first(conn)?;
        let number = last.unwrap_or(0) + 1;
        let issuer = supervision::issuer(conn, row.campaign_id)?;
        let doc_number = duban_rules::supervision::document_number(&format!("{}通", issuer.prefix), year, number as u32);
        let inputs = live_inputs(conn, &row)?;
        row.doc_number = Some(doc_number.clone());
        let bytes = document(&text(&row, &issuer.organ, issued_on), &inputs).to_bytes();
        let sha256: Vec<u8> = Sha256::digest(&bytes).to_vec();
        let frozen = Frozen { organ: issuer.organ.clone(), issued_on, inputs };
        diesel::update(bulletins::table.find(id))
            .set((
                bulletins::state.eq(BulletinState::Issued),
                bulletins::year.eq(year),
                bulletins::number.eq(number),
                bulletins::doc_number.eq(&doc_number),
                bulletins::issued_by.eq(caller.user_id()),
                bulletins::issued_at.eq(now),
                bulletins::inputs.eq(serde_json::to_value(&frozen).map_err(Error::internal)?),
                bulletins::docx.eq(&bytes),
                bulletins::sha256.eq(&sha256),
                bulletins::version.eq(row.version + 1),
            ))
            .execute(conn)?;
        let event = Event::new("bulletin.issue")
            .entity("bulletin", id)
            .after(json!({"doc_number": doc_number, "title": row.title, "as_of": row.as_of, "sha256": hex::encode(&sha256)}));
        audit::record(conn, &caller.audit_actor(), event)?;
        let code: String = campaigns::table.find(row.campaign_id).select(campaigns::code).first(conn)?;
        let readers: Vec<i64> = users::table
            .filter(users::disabled_at.is_null())
            .filter(users::role.eq_any([Role::LeadOffice, Role::UnitManager, Role::UnitStaff, Role::Inspector]))
            .select(users::id)
            .load(conn)?;
        let message = Message::new(
            NotificationKind::BulletinIssued,
            format!("【通报】{doc_number} {}", row.title),
            format!("{}印发通报 {doc_number}《{}》（截至{}），请查阅。", issuer.organ, row.title, row.as_of),
        )
        .in_campaign(code)
        .keyed(format!("bulletin_issued:{id}"));
        messages::publish(conn, &readers, &message)?;
        let row = load(conn, caller, id)?;
        dto(conn, row)
    })
}

/// The PDF of a bulletin: kept once rendered for an issued one; a draft's
/// is rendered for the preview and not kept.
pub fn pdf_source(conn: &mut PgConnection, can: &ReadProgress, caller: &Caller, id: i64) -> Result<PdfSource, Error> {
    let row = load(conn, caller, id)?;
    let kept: Option<Vec<u8>> = bulletins::table.find(id).select(bulletins::pdf).first(conn)?;
    let (name, docx) = document_file(conn, can, caller, id)?;
    let name = name.trim_end_matches(".docx").to_owned() + ".pdf";
    Ok(match kept {
        Some(pdf) => PdfSource::Kept { name, pdf },
        None => PdfSource::Render { name, docx, keep: row.state == BulletinState::Issued },
    })
}

/// Where a bulletin's PDF comes from.
pub enum PdfSource {
    Kept {
        name: String,
        pdf: Vec<u8>,
    },
    /// To be rendered from the .docx; `keep` it if the bulletin is issued.
    Render {
        name: String,
        docx: Vec<u8>,
        keep: bool,
    },
}

/// Keeps the PDF rendered from an issued bulletin's frozen document, for
/// whoever may read it: a rendering of what is frozen, not a change to it
/// (the trigger allows setting it once).
pub fn keep_pdf(conn: &mut PgConnection, _can: &ReadProgress, id: i64, pdf: &[u8]) -> Result<(), Error> {
    diesel::update(bulletins::table.find(id).filter(bulletins::pdf.is_null())).set(bulletins::pdf.eq(pdf)).execute(conn)?;
    Ok(())
}

/// The inputs of a bulletin as CSV (UTF-8 with a BOM, cells made inert
/// like every CSV duban writes), one row per figure's source so each number
/// can be checked: unit scores with their counts, then every late assignment.
pub fn inputs_csv(inputs: &BulletinInputs) -> String {
    const HEADINGS: [&str; 13] = [
        "section",
        "unit",
        "kind",
        "score",
        "rank",
        "completion",
        "on_time",
        "first_pass",
        "notices",
        "assignment_id",
        "task",
        "due_date",
        "days_late",
    ];
    let rate = |rate: &duban_dto::api::Rate| format!("{}/{}", rate.met, rate.of);
    let mut rows: Vec<Vec<String>> = Vec::new();
    for unit in &inputs.scores.units {
        rows.push(vec![
            "score".into(),
            unit.unit.name.clone(),
            unit.kind.as_str().into(),
            unit.score.map(|score| format!("{score:.1}")).unwrap_or_default(),
            unit.rank.map(|rank| rank.to_string()).unwrap_or_default(),
            rate(&unit.completion),
            rate(&unit.on_time),
            rate(&unit.first_pass),
            rate(&unit.notices),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    for late in &inputs.late_assignments {
        let mut row = vec!["late".into(), late.unit.clone()];
        row.extend(std::iter::repeat_n(String::new(), 7));
        row.extend([late.assignment_id.to_string(), late.task_code.clone(), late.due_date.to_string(), late.days.to_string()]);
        rows.push(row);
    }
    let mut writer = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    writer.write_record(HEADINGS).expect("writing to memory");
    for row in rows {
        writer.write_record(row.iter().map(|cell| duban_breakdown::cells::neutralise(cell).into_owned())).expect("writing to memory");
    }
    String::from_utf8(writer.into_inner().expect("writing to memory")).expect("CSV of UTF-8 cells is UTF-8")
}
