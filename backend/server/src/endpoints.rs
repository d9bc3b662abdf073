//! Where messages go besides people: portals' signed webhooks and the group
//! robots county offices use (DingTalk, WeCom). An administrator registers
//! each with the kinds of event it receives; every delivery is logged and
//! can be repeated.
//!
//! A URL must not reach the server's own host or link-local network
//! (cloud metadata, the database's port …): such URLs are refused when
//! registered and again when delivered to (DNS may change in between),
//! unless the operator allows them (`outbound_allow_loopback`, for tests
//! and a receiver on the same host).

use std::net::{IpAddr, ToSocketAddrs};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use duban_dto::api::{Delivery, DeliveryAttempt, Endpoint, NewEndpoint, Page};
use duban_dto::{Channel, DeliveryStatus, NotificationKind};
use serde_json::json;

use crate::audit::{self, Event};
use crate::authz::{Caller, ManageEndpoints};
use crate::db::schema::{endpoints, outbox, outbox_attempts};
use crate::error::Error;
use crate::limits::at_most;
use crate::pagination::Cursor;

/// Whether an address is one a registered URL must not reach by default.
fn internal(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(|v4| internal(IpAddr::V4(v4)))
        }
    }
}

/// Refuses a URL that is not http(s), or that resolves to a loopback or
/// link-local address unless `allow_loopback`.
pub fn check_url(url: &str, allow_loopback: bool) -> Result<(), String> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).ok_or("the URL must start with http:// or https://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if host_port.is_empty() {
        return Err("the URL names no host".to_owned());
    }
    let default_port = if url.starts_with("https://") { 443 } else { 80 };
    let target = if host_port.starts_with('[') || host_port.rsplit_once(':').is_none_or(|(_, port)| port.parse::<u16>().is_err()) {
        format!("{host_port}:{default_port}")
    } else {
        host_port.to_owned()
    };
    let addresses: Vec<IpAddr> =
        target.to_socket_addrs().map_err(|error| format!("the host cannot be resolved: {error}"))?.map(|address| address.ip()).collect();
    if addresses.is_empty() {
        return Err("the host resolves to no address".to_owned());
    }
    if !allow_loopback && addresses.iter().any(|address| internal(*address)) {
        return Err("the URL reaches a loopback or link-local address, which is refused".to_owned());
    }
    Ok(())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = endpoints, check_for_backend(diesel::pg::Pg))]
struct EndpointRow {
    id: i64,
    channel: Channel,
    name: String,
    url: String,
    events: Vec<NotificationKind>,
    enabled: bool,
    created_at: DateTime<Utc>,
}

impl EndpointRow {
    fn dto(self) -> Endpoint {
        Endpoint {
            id: self.id,
            channel: self.channel,
            name: self.name,
            url: self.url,
            events: self.events,
            enabled: self.enabled,
            created_at: self.created_at,
        }
    }
}

pub fn list(conn: &mut PgConnection, _can: &ManageEndpoints) -> Result<Vec<Endpoint>, Error> {
    let rows: Vec<EndpointRow> = endpoints::table.order(endpoints::id).select(EndpointRow::as_select()).load(conn)?;
    Ok(rows.into_iter().map(EndpointRow::dto).collect())
}

pub fn create(
    conn: &mut PgConnection,
    _can: &ManageEndpoints,
    caller: &Caller,
    new: &NewEndpoint,
    allow_loopback: bool,
) -> Result<Endpoint, Error> {
    at_most("name", &new.name, duban_dto::limits::NAME)?;
    at_most("url", &new.url, 2000)?;
    at_most("secret", new.secret.as_deref().unwrap_or_default(), 256)?;
    if new.channel == Channel::Email {
        return Err(Error::invalid("invalid_channel", "e-mail goes to people's addresses; an endpoint is a webhook, dingtalk or wecom"));
    }
    if new.name.trim().is_empty() {
        return Err(Error::invalid("blank", "an endpoint needs a name"));
    }
    if new.events.is_empty() {
        return Err(Error::invalid("no_events", "name the kinds of event the endpoint receives"));
    }
    if new.channel == Channel::Webhook && new.secret.as_deref().is_none_or(|secret| secret.len() < 16) {
        return Err(Error::invalid("weak_secret", "a webhook's secret signs its deliveries: at least 16 characters"));
    }
    check_url(&new.url, allow_loopback).map_err(|why| Error::invalid("refused_url", why))?;
    conn.transaction(|conn| {
        let row: EndpointRow = diesel::insert_into(endpoints::table)
            .values((
                endpoints::channel.eq(new.channel),
                endpoints::name.eq(new.name.trim()),
                endpoints::url.eq(&new.url),
                endpoints::secret.eq(&new.secret),
                endpoints::events.eq(new.events.iter().map(|kind| kind.as_str()).collect::<Vec<_>>()),
                endpoints::created_by.eq(caller.user_id()),
            ))
            .returning(EndpointRow::as_returning())
            .get_result(conn)?;
        // The secret never enters the audit log.
        audit::record(
            conn,
            &caller.audit_actor(),
            Event::new("endpoint.create")
                .entity("endpoint", row.id)
                .after(json!({"channel": new.channel, "name": row.name, "url": row.url, "events": new.events})),
        )?;
        Ok(row.dto())
    })
}

pub fn delete(conn: &mut PgConnection, _can: &ManageEndpoints, caller: &Caller, id: i64) -> Result<(), Error> {
    conn.transaction(|conn| {
        let disabled = diesel::update(endpoints::table.find(id)).set(endpoints::enabled.eq(false)).execute(conn)?;
        if disabled == 0 {
            return Err(Error::not_found(format!("there is no endpoint {id}")));
        }
        // Kept for its delivery log; pending deliveries to it fail.
        diesel::update(outbox::table.filter(outbox::endpoint_id.eq(id)).filter(outbox::status.eq(DeliveryStatus::Pending)))
            .set(outbox::status.eq(DeliveryStatus::Failed))
            .execute(conn)?;
        audit::record(conn, &caller.audit_actor(), Event::new("endpoint.disable").entity("endpoint", id))?;
        Ok(())
    })
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = outbox, check_for_backend(diesel::pg::Pg))]
struct DeliveryRow {
    id: i64,
    channel: Channel,
    endpoint_id: Option<i64>,
    destination: String,
    kind: NotificationKind,
    idempotency_key: String,
    status: DeliveryStatus,
    attempts: i32,
    created_at: DateTime<Utc>,
    delivered_at: Option<DateTime<Utc>>,
    next_attempt_at: DateTime<Utc>,
}

/// The deliveries, newest first: all, or one endpoint's.
pub fn deliveries(
    conn: &mut PgConnection,
    _can: &ManageEndpoints,
    endpoint: Option<i64>,
    cursor: &Cursor,
) -> Result<Page<Delivery>, Error> {
    let query = || {
        let mut query = outbox::table.into_boxed();
        if let Some(endpoint) = endpoint {
            query = query.filter(outbox::endpoint_id.eq(endpoint));
        }
        query
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows: Vec<DeliveryRow> =
        query().order(outbox::id.desc()).limit(cursor.limit).offset(cursor.offset).select(DeliveryRow::as_select()).load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
    let attempts: Vec<(i64, DateTime<Utc>, Option<i32>, i64, Option<String>)> = outbox_attempts::table
        .filter(outbox_attempts::outbox_id.eq_any(&ids))
        .order(outbox_attempts::id)
        .select((
            outbox_attempts::outbox_id,
            outbox_attempts::at,
            outbox_attempts::status_code,
            outbox_attempts::latency_ms,
            outbox_attempts::error,
        ))
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|row| Delivery {
            log: attempts
                .iter()
                .filter(|attempt| attempt.0 == row.id)
                .map(|attempt| DeliveryAttempt { at: attempt.1, status_code: attempt.2, latency_ms: attempt.3, error: attempt.4.clone() })
                .collect(),
            id: row.id,
            channel: row.channel,
            endpoint_id: row.endpoint_id,
            destination: row.destination,
            kind: row.kind,
            idempotency_key: row.idempotency_key,
            status: row.status,
            attempts: row.attempts,
            created_at: row.created_at,
            delivered_at: row.delivered_at,
            next_attempt_at: (row.status == DeliveryStatus::Pending).then_some(row.next_attempt_at),
        })
        .collect();
    Ok(cursor.page(items, total))
}

/// Delivers a message again, now (with the same idempotency key).
pub fn redeliver(conn: &mut PgConnection, _can: &ManageEndpoints, caller: &Caller, id: i64) -> Result<(), Error> {
    conn.transaction(|conn| {
        let updated = diesel::update(outbox::table.find(id))
            .set((outbox::status.eq(DeliveryStatus::Pending), outbox::next_attempt_at.eq(Utc::now()), outbox::created_at.eq(Utc::now())))
            .execute(conn)?;
        if updated == 0 {
            return Err(Error::not_found(format!("there is no delivery {id}")));
        }
        audit::record(conn, &caller.audit_actor(), Event::new("delivery.redeliver").entity("delivery", id))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_link_local_urls_are_refused_unless_allowed() {
        assert!(check_url("http://127.0.0.1:9000/hook", false).is_err());
        assert!(check_url("http://localhost/hook", false).is_err());
        assert!(check_url("http://169.254.169.254/latest/meta-data", false).is_err());
        assert!(check_url("http://[::1]:8080/", false).is_err());
        assert!(check_url("http://user@127.0.0.1/", false).is_err(), "credentials in the URL change nothing");
        assert!(check_url("http://127.0.0.1:9000/hook", true).is_ok());
        assert!(check_url("ftp://example.com/", true).is_err());
        assert!(check_url("http://10.1.2.3/hook", false).is_ok(), "a county intranet address is allowed");
    }
}
