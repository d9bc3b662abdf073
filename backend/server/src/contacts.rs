//! People's contacts and the channels each kind of message reaches them
//! by. Contacts are personal data: only the user, the manager of the user's
//! unit and administrators see or change them, and the audit log records
//! that they changed, not what they are.

use diesel::prelude::*;
use duban_dto::api::ChannelSettings;
use duban_dto::limits::NAME;
use duban_dto::{Channel, NotificationKind};
use serde_json::json;

use crate::audit::{self, Event};
use crate::authz::{Caller, ManageContacts};
use crate::db::schema::{channel_preferences, users};
use crate::error::Error;
use crate::limits::at_most;

/// A plausible e-mail address: something, one @, a domain with a dot.
pub fn is_email(address: &str) -> bool {
    match address.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.contains('@')
                && !address.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// The unit of a user, to decide who may see the user's contacts.
pub fn unit_of(conn: &mut PgConnection, user_id: i64) -> Result<Option<i64>, Error> {
    users::table.find(user_id).select(users::unit_id).first(conn).optional()?.ok_or_else(|| Error::not_found(format!("no user {user_id}")))
}

pub fn settings(conn: &mut PgConnection, can: &ManageContacts) -> Result<ChannelSettings, Error> {
    let (email, phone): (Option<String>, Option<String>) =
        users::table.find(can.user_id()).select((users::email, users::phone)).first(conn)?;
    let email_kinds: Vec<NotificationKind> = channel_preferences::table
        .filter(channel_preferences::user_id.eq(can.user_id()))
        .filter(channel_preferences::channel.eq(Channel::Email))
        .order(channel_preferences::kind)
        .select(channel_preferences::kind)
        .load::<NotificationKind>(conn)?;
    Ok(ChannelSettings { email, phone, email_kinds })
}

pub fn set_settings(
    conn: &mut PgConnection,
    can: &ManageContacts,
    caller: &Caller,
    wanted: &ChannelSettings,
) -> Result<ChannelSettings, Error> {
    for (field, value) in [("email", &wanted.email), ("phone", &wanted.phone)] {
        at_most(field, value.as_deref().unwrap_or_default(), NAME)?;
    }
    let email = wanted.email.as_deref().map(str::trim).filter(|email| !email.is_empty());
    let phone = wanted.phone.as_deref().map(str::trim).filter(|phone| !phone.is_empty());
    if email.is_some_and(|email| !is_email(email)) {
        return Err(Error::invalid("invalid_email", "the e-mail address is not one"));
    }
    if !wanted.email_kinds.is_empty() && email.is_none() {
        return Err(Error::invalid("email_required", "messages by e-mail need an e-mail address"));
    }
    conn.transaction(|conn| {
        diesel::update(users::table.find(can.user_id())).set((users::email.eq(email), users::phone.eq(phone))).execute(conn)?;
        diesel::delete(channel_preferences::table.filter(channel_preferences::user_id.eq(can.user_id()))).execute(conn)?;
        let mut kinds = wanted.email_kinds.clone();
        kinds.sort_unstable_by_key(|kind| kind.as_str());
        kinds.dedup();
        let rows: Vec<_> = kinds
            .iter()
            .map(|kind| {
                (
                    channel_preferences::user_id.eq(can.user_id()),
                    channel_preferences::kind.eq(kind.as_str()),
                    channel_preferences::channel.eq(Channel::Email),
                )
            })
            .collect();
        diesel::insert_into(channel_preferences::table).values(&rows).execute(conn)?;
        audit::record(
            conn,
            &caller.audit_actor(),
            Event::new("user.channels").entity("user", can.user_id()).after(json!({
                "email_set": email.is_some(), "phone_set": phone.is_some(), "email_kinds": kinds,
            })),
        )?;
        settings(conn, can)
    })
}

#[cfg(test)]
mod tests {
    use super::is_email;

    #[test]
    fn an_address_has_one_at_and_a_domain() {
        assert!(is_email("sfj@luoping.gov.cn"));
        for wrong in ["sfj", "@luoping.gov.cn", "sfj@localhost", "a@b@c.cn", "sf j@luoping.gov.cn", "sfj@.cn"] {
            assert!(!is_email(wrong), "{wrong}");
        }
    }
}
