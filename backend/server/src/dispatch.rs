//! The dispatcher: delivers the outbox, at least once. It claims a few due
//! messages at a time (`FOR UPDATE SKIP LOCKED`, so several duban instances
//! never take the same one), leases them (`delivery_lease_s`), delivers them
//! outside any transaction, and records each attempt. A message whose
//! delivery failed is retried with exponential back-off for a day; one
//! whose instance died mid-delivery comes back when its lease ends. Every
//! delivery carries the message's idempotency key, so a receiver can drop
//! a repeat.
//!
//! Channels:
//! - e-mail over SMTP (STARTTLS or TLS, with credentials), UTF-8 subject and body;
//! - DingTalk custom robots: the URL signed with `timestamp` and
//!   `sign = base64(HMAC-SHA256(secret, "<timestamp>\n<secret>"))`, a markdown message;
//! - WeCom group robots: a markdown message;
//! - webhooks: the JSON event with `X-Duban-Delivery` (the idempotency key),
//!   `X-Duban-Timestamp` and `X-Duban-Signature: sha256=<hex>` over
//!   `"<timestamp>.<body>"` with the endpoint's secret.

use std::time::{Duration, Instant};

use base64::Engine;
use chrono::Utc;
use diesel::prelude::*;
use duban_dto::{Channel, DeliveryStatus, NotificationKind};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::{Messaging, Smtp, SmtpTls};
use crate::db::PgPool;
use crate::db::schema::{endpoints, outbox, outbox_attempts};

/// How long a message is retried.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);
/// How many messages one round claims.
const BATCH: i64 = 20;
/// The request timeout of a webhook or robot delivery.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

/// The wait before attempt `attempt` (1 for the first retry): 30 s, doubling, at most an hour.
pub fn back_off(attempt: i32) -> Duration {
    let exponent = (attempt.max(1) - 1).min(7) as u32;
    Duration::from_secs(30 * 2u64.pow(exponent)).min(Duration::from_secs(3600))
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox, check_for_backend(diesel::pg::Pg))]
struct Claimed {
    id: i64,
    channel: Channel,
    endpoint_id: Option<i64>,
    destination: String,
    kind: NotificationKind,
    payload: serde_json::Value,
    idempotency_key: String,
    attempts: i32,
    created_at: chrono::DateTime<Utc>,
}

/// What one attempt came to.
#[derive(Debug)]
struct Outcome {
    status_code: Option<i32>,
    error: Option<String>,
}

impl Outcome {
    fn delivered(&self) -> bool {
        self.error.is_none()
    }
}

/// Delivers what is due. Returns how many messages it attempted.
pub struct Dispatcher {
    pool: PgPool,
    messaging: Messaging,
    http: reqwest::blocking::Client,
}

impl Dispatcher {
    pub fn new(pool: PgPool, messaging: Messaging) -> Dispatcher {
        let http = reqwest::blocking::Client::builder()
            .timeout(HTTP_TIMEOUT)
            // A redirect could lead where registration would have refused.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        Dispatcher { pool, messaging, http }
    }

    /// Claims and delivers one round of due messages.
    pub fn round(&self) -> anyhow::Result<usize> {
        let mut conn = self.pool.get()?;
        let channels: Vec<Channel> = if self.messaging.smtp.is_some() {
            Channel::ALL.to_vec()
        } else {
            // E-mail waits in the outbox until a mail server is configured.
            vec![Channel::Dingtalk, Channel::Wecom, Channel::Webhook]
        };
        let lease_until = Utc::now() + chrono::Duration::from_std(self.messaging.delivery_lease)?;
        let claimed: Vec<Claimed> = conn.transaction(|conn| {
            let due: Vec<i64> = outbox::table
                .filter(outbox::status.eq(DeliveryStatus::Pending))
                .filter(outbox::next_attempt_at.le(Utc::now()))
                .filter(outbox::channel.eq_any(channels.iter().map(|channel| channel.as_str()).collect::<Vec<_>>()))
                .order(outbox::id)
                .limit(BATCH)
                .for_update()
                .skip_locked()
                .select(outbox::id)
                .load(conn)?;
            diesel::update(outbox::table.filter(outbox::id.eq_any(&due)))
                .set((outbox::attempts.eq(outbox::attempts + 1), outbox::next_attempt_at.eq(lease_until)))
                .returning(Claimed::as_returning())
                .get_results(conn)
        })?;
        for message in &claimed {
            let started = Instant::now();
            let outcome = self.deliver(&mut conn, message);
            let latency = started.elapsed();
            self.record(&mut conn, message, &outcome, latency)?;
        }
        Ok(claimed.len())
    }

    fn record(&self, conn: &mut PgConnection, message: &Claimed, outcome: &Outcome, latency: Duration) -> QueryResult<()> {
        conn.transaction(|conn| {
            diesel::insert_into(outbox_attempts::table)
                .values((
                    outbox_attempts::outbox_id.eq(message.id),
                    outbox_attempts::status_code.eq(outcome.status_code),
                    outbox_attempts::latency_ms.eq(latency.as_millis() as i64),
                    outbox_attempts::error.eq(&outcome.error),
                ))
                .execute(conn)?;
            let now = Utc::now();
            if outcome.delivered() {
                diesel::update(outbox::table.find(message.id))
                    .set((outbox::status.eq(DeliveryStatus::Delivered), outbox::delivered_at.eq(now)))
                    .execute(conn)?;
            } else {
                let next = now + chrono::Duration::from_std(back_off(message.attempts)).unwrap_or_default();
                let gave_up = next - message.created_at > chrono::Duration::from_std(GIVE_UP_AFTER).unwrap_or_default();
                let status = if gave_up { DeliveryStatus::Failed } else { DeliveryStatus::Pending };
                diesel::update(outbox::table.find(message.id)).set((outbox::status.eq(status), outbox::next_attempt_at.eq(next))).execute(conn)?;
                tracing::warn!(id = message.id, channel = %message.channel, error = outcome.error.as_deref().unwrap_or_default(), gave_up, "a delivery failed");
            }
            Ok(())
        })
    }

    fn deliver(&self, conn: &mut PgConnection, message: &Claimed) -> Outcome {
        let mut secret = || -> Option<String> {
            let endpoint = message.endpoint_id?;
            endpoints::table.find(endpoint).select(endpoints::secret).first::<Option<String>>(conn).ok().flatten()
        };
        let result = match message.channel {
            Channel::Email => match &self.messaging.smtp {
                Some(smtp) => send_mail(smtp, &message.destination, &message.payload, &message.idempotency_key),
                None => Err((None, "no mail server is configured".to_owned())),
            },
            Channel::Webhook | Channel::Dingtalk | Channel::Wecom => {
                match crate::endpoints::check_url(&message.destination, self.messaging.allow_loopback) {
                    Err(why) => Err((None, why)),
                    Ok(()) => self.post(message, secret()),
                }
            }
        };
        match result {
            Ok(status_code) => Outcome { status_code, error: None },
            Err((status_code, error)) => Outcome { status_code, error: Some(error) },
        }
    }

    fn post(&self, message: &Claimed, secret: Option<String>) -> Result<Option<i32>, (Option<i32>, String)> {
        let timestamp = Utc::now();
        let (url, body, headers) = match message.channel {
            Channel::Webhook => {
                let body = serde_json::to_vec(&message.payload).expect("JSON serialises");
                let seconds = timestamp.timestamp().to_string();
                let signature = webhook_signature(secret.as_deref().unwrap_or_default(), &seconds, &body);
                let headers = vec![
                    ("X-Duban-Delivery", message.idempotency_key.clone()),
                    ("X-Duban-Timestamp", seconds),
                    ("X-Duban-Signature", format!("sha256={signature}")),
                    ("X-Duban-Event", message.kind.as_str().to_owned()),
                ];
                (message.destination.clone(), body, headers)
            }
            Channel::Dingtalk => {
                let millis = timestamp.timestamp_millis().to_string();
                let url = match &secret {
                    Some(secret) => {
                        let sign = dingtalk_sign(secret, &millis);
                        let separator = if message.destination.contains('?') { '&' } else { '?' };
                        format!("{}{separator}timestamp={millis}&sign={}", message.destination, percent(&sign))
                    }
                    None => message.destination.clone(),
                };
                let title = message.payload["title"].as_str().unwrap_or_default();
                let text = message.payload["text"].as_str().unwrap_or_default();
                let body =
                    serde_json::json!({"msgtype": "markdown", "markdown": {"title": title, "text": format!("### {title}\n\n{text}")}});
                (url, serde_json::to_vec(&body).expect("JSON serialises"), vec![("X-Duban-Delivery", message.idempotency_key.clone())])
            }
            Channel::Wecom => {
                let title = message.payload["title"].as_str().unwrap_or_default();
                let text = message.payload["text"].as_str().unwrap_or_default();
                let body = serde_json::json!({"msgtype": "markdown", "markdown": {"content": format!("**{title}**\n{text}")}});
                (
                    message.destination.clone(),
                    serde_json::to_vec(&body).expect("JSON serialises"),
                    vec![("X-Duban-Delivery", message.idempotency_key.clone())],
                )
            }
            Channel::Email => unreachable!("e-mail is sent by SMTP"),
        };
        let mut request = self.http.post(&url).header("Content-Type", "application/json; charset=utf-8").body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().map_err(|error| (None, format!("the request failed: {error}")))?;
        let status = response.status();
        let code = Some(status.as_u16() as i32);
        if !status.is_success() {
            return Err((code, format!("the receiver answered {status}")));
        }
        // The robots answer 200 with an error code of their own.
        if matches!(message.channel, Channel::Dingtalk | Channel::Wecom) {
            let answer: serde_json::Value = response.json().unwrap_or_default();
            if answer["errcode"].as_i64().is_some_and(|code| code != 0) {
                return Err((code, format!("the robot refused: {} {}", answer["errcode"], answer["errmsg"])));
            }
        }
        Ok(code)
    }

    /// Runs rounds until the process ends, pausing when nothing is due.
    pub fn run(self) {
        loop {
            match self.round() {
                Ok(0) => std::thread::sleep(Duration::from_secs(1)),
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "delivering the outbox");
                    std::thread::sleep(Duration::from_secs(5));
                }
            }
        }
    }
}

/// HMAC-SHA256 of the parts, one after another.
fn hmac_sha256(secret: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// The hex HMAC-SHA256 of `"<timestamp>.<body>"`: what a webhook receiver
/// recomputes with its secret to check `X-Duban-Signature`.
pub fn webhook_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    hex::encode(hmac_sha256(secret.as_bytes(), &[timestamp.as_bytes(), b".", body]))
}

/// DingTalk's signature: base64 of HMAC-SHA256 over "<timestamp>\n<secret>".
pub fn dingtalk_sign(secret: &str, timestamp_millis: &str) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(hmac_sha256(secret.as_bytes(), &[timestamp_millis.as_bytes(), b"\n", secret.as_bytes()]))
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn send_mail(smtp: &Smtp, to: &str, payload: &serde_json::Value, key: &str) -> Result<Option<i32>, (Option<i32>, String)> {
    use lettre::message::header::ContentType;
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{Message, SmtpTransport, Transport};

    let fail = |what: &str, error: &dyn std::fmt::Display| (None, format!("{what}: {error}"));
    let subject = payload["subject"].as_str().unwrap_or("duban");
    let body = payload["body"].as_str().unwrap_or_default();
    let email = Message::builder()
        .from(smtp.from.parse().map_err(|error| fail("the sender address", &error))?)
        .to(to.parse().map_err(|error| fail("the address", &error))?)
        .subject(subject)
        // Receivers can drop a repeat by its Message-ID.
        .message_id(Some(format!(
            "<{}@duban>",
            key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '.' }).collect::<String>()
        )))
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_owned())
        .map_err(|error| fail("composing the e-mail", &error))?;
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    let tls = |smtp: &Smtp| -> Result<TlsParameters, (Option<i32>, String)> {
        let mut parameters = TlsParameters::builder(smtp.host.clone());
        if let Some(file) = &smtp.ca_file {
            let pem = std::fs::read(file).map_err(|error| fail(&format!("reading {}", file.display()), &error))?;
            let certificate =
                Certificate::from_pem(&pem).map_err(|error| fail(&format!("the certificate in {}", file.display()), &error))?;
            parameters = parameters.add_root_certificate(certificate);
        }
        parameters.build_rustls().map_err(|error| fail("TLS to the mail server", &error))
    };
    let builder = SmtpTransport::builder_dangerous(&smtp.host).tls(match smtp.tls {
        SmtpTls::StartTls => Tls::Required(tls(smtp)?),
        SmtpTls::Tls => Tls::Wrapper(tls(smtp)?),
        SmtpTls::None => Tls::None,
    });
    let mut builder = builder.port(smtp.port).timeout(Some(Duration::from_secs(30)));
    if let (Some(username), Some(password)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(username.clone(), password.clone()));
    }
    let response = builder.build().send(&email).map_err(|error| fail("sending the e-mail", &error))?;
    Ok(Some(i32::from(u16::from(response.code()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(back_off(1), Duration::from_secs(30));
        assert_eq!(back_off(2), Duration::from_secs(60));
        assert_eq!(back_off(5), Duration::from_secs(480));
        assert_eq!(back_off(20), Duration::from_secs(3600));
    }

    #[test]
    fn signatures_are_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"])),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let signature = webhook_signature("secret", "1700000000", b"{}");
        assert_eq!(signature, webhook_signature("secret", "1700000000", b"{}"));
        assert_ne!(signature, webhook_signature("secret", "1700000001", b"{}"));
        assert!(!dingtalk_sign("SEC123", "1700000000000").is_empty());
    }
}
