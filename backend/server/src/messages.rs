//! Messages to people and portals, written in the transaction of the event
//! that causes them: each recipient's inbox (`notifications`), and — as
//! rows of the outbox, which the dispatcher delivers — e-mail to those who
//! asked for this kind by e-mail, and the webhooks and group robots
//! subscribed to it. Nothing is sent from inside a transaction: a message
//! exists exactly when its event committed.

use chrono::Utc;
use diesel::prelude::*;
use duban_dto::api::{UnitRef, WebhookEvent};
use duban_dto::{Channel, NotificationKind};
use serde_json::json;

use crate::db::schema::{channel_preferences, endpoints, notifications, outbox, users};

/// What happened, for whom, with the words each channel uses.
#[derive(Debug, Clone)]
pub struct Message {
    pub kind: NotificationKind,
    /// The inbox's line, and the body of e-mails and robot posts.
    pub text: String,
    /// An e-mail's subject, a robot post's title.
    pub subject: String,
    pub campaign: Option<String>,
    pub assignment_id: Option<i64>,
    pub notice_id: Option<i64>,
    pub unit: Option<UnitRef>,
    /// The event, uniquely: each delivery's idempotency key is made from it,
    /// so that the same event never makes two deliveries to one place.
    pub event_key: String,
}

impl Message {
    pub fn new(kind: NotificationKind, subject: impl Into<String>, text: impl Into<String>) -> Message {
        Message {
            kind,
            text: text.into(),
            subject: subject.into(),
            campaign: None,
            assignment_id: None,
            notice_id: None,
            unit: None,
            event_key: format!("{}:{}", kind.as_str(), uuid::Uuid::new_v4().simple()),
        }
    }

    pub fn about_assignment(mut self, assignment_id: i64) -> Message {
        self.assignment_id = Some(assignment_id);
        self
    }

    pub fn about_notice(mut self, notice_id: i64) -> Message {
        self.notice_id = Some(notice_id);
        self
    }

    pub fn in_campaign(mut self, campaign: impl Into<String>) -> Message {
        self.campaign = Some(campaign.into());
        self
    }

    pub fn for_unit(mut self, unit: UnitRef) -> Message {
        self.unit = Some(unit);
        self
    }

    /// A key of the event from what it is about, for events that can
    /// happen only once (a reminder of a rule on a day).
    pub fn keyed(mut self, event_key: impl Into<String>) -> Message {
        self.event_key = event_key.into();
        self
    }

    fn webhook_event(&self, delivery_key: &str) -> WebhookEvent {
        WebhookEvent {
            id: delivery_key.to_owned(),
            kind: self.kind,
            created_at: Utc::now(),
            message: self.text.clone(),
            campaign: self.campaign.clone(),
            assignment_id: self.assignment_id,
            notice_id: self.notice_id,
            unit: self.unit.clone(),
        }
    }
}

/// Writes `message` to the inboxes of `users`, and to the outbox for their
/// e-mail (by their preferences) and for the endpoints subscribed to its
/// kind. E-mail waits in the outbox while no mail server is configured.
pub fn publish(conn: &mut PgConnection, users_to: &[i64], message: &Message) -> QueryResult<()> {
    let inbox: Vec<_> = users_to
        .iter()
        .map(|user| {
            (
                notifications::user_id.eq(*user),
                notifications::kind.eq(message.kind),
                notifications::assignment_id.eq(message.assignment_id),
                notifications::notice_id.eq(message.notice_id),
                notifications::message.eq(&message.text),
            )
        })
        .collect();
    diesel::insert_into(notifications::table).values(&inbox).execute(conn)?;
    let addressed: Vec<(i64, String)> = users::table
        .inner_join(channel_preferences::table)
        .filter(users::id.eq_any(users_to))
        .filter(users::disabled_at.is_null())
        .filter(users::email.is_not_null())
        .filter(channel_preferences::kind.eq(message.kind))
        .filter(channel_preferences::channel.eq(Channel::Email))
        .select((users::id, users::email.assume_not_null()))
        .load(conn)?;
    for (user, address) in addressed {
        enqueue_email(conn, &address, message, &format!("{}:email:user-{user}", message.event_key))?;
    }
    to_endpoints(conn, message)
}

/// Sends `message` by e-mail to an address that is no user's (a county
/// leader in charge of a unit).
pub fn email_to(conn: &mut PgConnection, address: &str, message: &Message) -> QueryResult<()> {
    enqueue_email(conn, address, message, &format!("{}:email:{address}", message.event_key))
}

fn enqueue_email(conn: &mut PgConnection, address: &str, message: &Message, key: &str) -> QueryResult<()> {
    let payload = json!({"subject": message.subject, "body": message.text});
    enqueue(conn, Channel::Email, None, address, message.kind, &payload, key)
}

/// One outbox row per enabled endpoint subscribed to the message's kind.
fn to_endpoints(conn: &mut PgConnection, message: &Message) -> QueryResult<()> {
    let subscribed: Vec<(i64, Channel, String)> = endpoints::table
        .filter(endpoints::enabled)
        .filter(endpoints::events.contains(vec![message.kind.as_str()]))
        .select((endpoints::id, endpoints::channel, endpoints::url))
        .load(conn)?;
    for (endpoint, channel, url) in subscribed {
        let key = format!("{}:endpoint-{endpoint}", message.event_key);
        let payload = match channel {
            Channel::Webhook => serde_json::to_value(message.webhook_event(&key)).expect("a webhook event serialises"),
            _ => json!({"title": message.subject, "text": message.text}),
        };
        enqueue(conn, channel, Some(endpoint), &url, message.kind, &payload, &key)?;
    }
    Ok(())
}

fn enqueue(
    conn: &mut PgConnection,
    channel: Channel,
    endpoint: Option<i64>,
    destination: &str,
    kind: NotificationKind,
    payload: &serde_json::Value,
    key: &str,
) -> QueryResult<()> {
    diesel::insert_into(outbox::table)
        .values((
            outbox::channel.eq(channel),
            outbox::endpoint_id.eq(endpoint),
            outbox::destination.eq(destination),
            outbox::kind.eq(kind),
            outbox::payload.eq(payload),
            outbox::idempotency_key.eq(key),
        ))
        .on_conflict(outbox::idempotency_key)
        .do_nothing()
        .execute(conn)
        .map(drop)
}

/// The statements that fan messages out when they are made in bulk by one
/// SQL statement (the scheduler's reminders): the same rows [`publish`]
/// writes, as data-modifying CTEs. The statement must define before them
/// `facts (event_key, kind, subject, message, campaign, assignment_id,
/// notice_id, unit_id, unit_name)`, one row per message; `addressed`, the
/// same columns and `user_id`, one row per message and recipient; and
/// `extra_mail`, the same columns and `address`, for e-mail to addresses
/// that are no user's (or no rows). Each part reads its own CTE, never
/// joining two of them on the text key, which the planner cannot estimate.
pub(crate) const FAN_OUT_CTES: &str = "
    inbox AS (
        INSERT INTO notifications (user_id, kind, assignment_id, notice_id, message)
        SELECT user_id, kind, assignment_id, notice_id, message FROM addressed
        RETURNING 1),
    mail AS (
        INSERT INTO outbox (channel, destination, kind, payload, idempotency_key)
        SELECT 'email', u.email, a.kind, jsonb_build_object('subject', a.subject, 'body', a.message),
               a.event_key || ':email:user-' || u.id
        FROM addressed a
        JOIN users u ON u.id = a.user_id AND u.email IS NOT NULL
        JOIN channel_preferences p ON p.user_id = u.id AND p.kind = a.kind AND p.channel = 'email'
        UNION ALL
        SELECT 'email', x.address, x.kind, jsonb_build_object('subject', x.subject, 'body', x.message),
               x.event_key || ':email:' || x.address
        FROM extra_mail x
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING 1),
    hooks AS (
        INSERT INTO outbox (channel, endpoint_id, destination, kind, payload, idempotency_key)
        SELECT e.channel, e.id, e.url, f.kind,
               CASE WHEN e.channel = 'webhook'
                    THEN jsonb_strip_nulls(jsonb_build_object(
                            'id', f.event_key || ':endpoint-' || e.id, 'kind', f.kind, 'created_at', now(),
                            'message', f.message, 'campaign', f.campaign, 'assignment_id', f.assignment_id,
                            'notice_id', f.notice_id, 'unit', jsonb_build_object('id', f.unit_id, 'name', f.unit_name)))
                    ELSE jsonb_build_object('title', f.subject, 'text', f.message) END,
               f.event_key || ':endpoint-' || e.id
        FROM facts f JOIN endpoints e ON e.enabled AND f.kind = ANY (e.events)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING 1)";
