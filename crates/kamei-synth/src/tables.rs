//! The four tables' schemas and the generation of one chunk of rows as Arrow batches.

use std::fmt::Write as _;
use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, Date32Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;

use crate::country::Country;
use crate::obfuscate;
use crate::person::{self, User};
use crate::rng::{Rng, mix};
use crate::text;
use crate::time::{self, MICROS_PER_DAY};

const MESSAGE_COUNT_STREAM: u64 = 0x3C;
const MESSAGE_STREAM: u64 = 0x3E;
const REPORT_STREAM: u64 = 0x2E;
const PAYMENT_COUNT_STREAM: u64 = 0x9C;
const PAYMENT_STREAM: u64 = 0x9A;

/// Messages per user: 0 to 10, about 2.9 on average, a long tail of chatty users.
const MESSAGES_PER_USER: [u32; 11] = [15, 20, 18, 14, 10, 8, 5, 4, 3, 2, 1];
/// Payments per user: 0 to 3.
const PAYMENTS_PER_USER: [u32; 4] = [45, 30, 17, 8];
/// Reported messages per thousand.
const REPORTS_PER_MILLE: u64 = 15;

fn text(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}
fn int(name: &str) -> Field {
    Field::new(name, DataType::Int64, false)
}
fn timestamp(name: &str) -> Field {
    Field::new(name, DataType::Timestamp(TimeUnit::Microsecond, None), false)
}

pub(crate) static USERS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        int("user_id"),
        text("line_id", false),
        text("display_name", false),
        text("full_name", false),
        text("full_name_kana", true),
        text("phone", false),
        text("email", false),
        Field::new("birth_date", DataType::Date32, false),
        text("gender", false),
        text("postal_code", false),
        text("address", false),
        text("country", false),
        text("my_number", true),
        timestamp("created_at"),
    ]))
});

pub(crate) static MESSAGES: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        int("message_id"),
        int("chat_id"),
        int("sender_id"),
        int("recipient_id"),
        text("sender_country", false),
        timestamp("sent_at"),
        text("body", false),
    ]))
});

pub(crate) static REPORTS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        int("report_id"),
        int("reporter_id"),
        int("reported_user_id"),
        int("message_id"),
        text("reporter_country", false),
        text("reason", false),
        text("body", false),
        timestamp("reported_at"),
    ]))
});

pub(crate) static PAYMENTS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        int("payment_id"),
        int("user_id"),
        text("country", false),
        text("merchant", false),
        int("amount"),
        text("currency", false),
        text("card_number", false),
        timestamp("paid_at"),
    ]))
});

/// The four tables by name, in the order they are written.
pub(crate) fn all() -> [(&'static str, &'static Schema); 4] {
    [
        ("users", &USERS),
        ("messages", &MESSAGES),
        ("reports", &REPORTS),
        ("payments", &PAYMENTS),
    ]
}

/// A range of users and the ids their rows start at in the other tables.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkPlan {
    pub first_user: u64,
    pub end_user: u64,
    pub first_message: u64,
    pub first_report: u64,
    pub first_payment: u64,
}

/// How many messages and payments a range of users produces; cheap (no text), so the ids of
/// every chunk can be fixed before any chunk is generated.
pub(crate) fn count_rows(seed: u64, first_user: u64, end_user: u64) -> (u64, u64) {
    (first_user..end_user).fold((0, 0), |(m, p), user| {
        (m + message_count(seed, user), p + payment_count(seed, user))
    })
}

/// How many of a range of message ids were reported.
pub(crate) fn count_reports(seed: u64, messages: std::ops::Range<u64>) -> u64 {
    messages.filter(|id| is_reported(seed, *id)).count() as u64
}

fn message_count(seed: u64, user: u64) -> u64 {
    Rng::for_row(seed, MESSAGE_COUNT_STREAM, user).weighted(&MESSAGES_PER_USER) as u64
}

fn payment_count(seed: u64, user: u64) -> u64 {
    Rng::for_row(seed, PAYMENT_COUNT_STREAM, user).weighted(&PAYMENTS_PER_USER) as u64
}

/// Whether a message was reported: a pure function of its id.
pub(crate) fn is_reported(seed: u64, message_id: u64) -> bool {
    mix(seed, REPORT_STREAM, message_id) % 1000 < REPORTS_PER_MILLE
}

/// One chunk of every table, and the labels of its messages as JSON lines.
#[derive(Debug)]
pub(crate) struct Chunk {
    pub users: RecordBatch,
    pub messages: RecordBatch,
    pub reports: RecordBatch,
    pub payments: RecordBatch,
    pub labels_jsonl: String,
    /// The handles (ACCOUNT_ID) of its messages as JSON lines, only for messages that have one.
    pub account_ids_jsonl: String,
    pub labelled_entities: u64,
}

pub(crate) fn generate_chunk(seed: u64, total_users: u64, plan: ChunkPlan) -> Result<Chunk, ArrowError> {
    let n = (plan.end_user - plan.first_user) as usize;
    let mut u = UserColumns::with_capacity(n);
    let mut m = MessageColumns::default();
    let mut r = ReportColumns::default();
    let mut p = PaymentColumns::default();
    let mut labels_jsonl = String::new();
    let mut account_ids_jsonl = String::new();
    let mut labelled_entities = 0;
    let (mut message_id, mut report_id, mut payment_id) =
        (plan.first_message, plan.first_report, plan.first_payment);

    for user_id in plan.first_user..plan.end_user {
        let user = User::generate(seed, user_id);
        for _ in 0..payment_count(seed, user_id) {
            p.push(seed, payment_id, &user);
            payment_id += 1;
        }
        for _ in 0..message_count(seed, user_id) {
            let mut rng = Rng::for_row(seed, MESSAGE_STREAM, message_id);
            let recipient = recipient(&mut rng, seed, user_id, total_users);
            let recipient_country = Country::of_user(seed, recipient);
            let (lo, hi) = (user_id.min(recipient), user_id.max(recipient));
            let chat_id = (mix(seed, 0xC4A7, lo.wrapping_mul(0x1_0000_0001) ^ hi) >> 11) as i64;
            let sent_at = time::micros_between(&mut rng, time::days(2026, 1, 1), time::days(2026, 11, 1));
            // The template body is drawn either way, so the message's own stream (and the
            // report drawn after it) stays the same whether or not it is replaced.
            let body = text::message(&mut rng, user.country);
            let body = obfuscate::message(seed, message_id, user.country).unwrap_or(body);

            let _ = write!(labels_jsonl, "{{\"message_id\":{message_id},\"entities\":[");
            for (i, l) in body.labels.iter().enumerate() {
                let sep = if i == 0 { "" } else { "," };
                let _ = write!(
                    labels_jsonl,
                    "{sep}{{\"type\":\"{}\",\"start\":{},\"end\":{}",
                    l.pii_type, l.start, l.end
                );
                if let Some(form) = l.form {
                    let _ = write!(labels_jsonl, ",\"form\":\"{form}\"");
                }
                labels_jsonl.push('}');
            }
            labels_jsonl.push_str("]}\n");
            labelled_entities += body.labels.len() as u64;
            if !body.handles.is_empty() {
                let _ = write!(account_ids_jsonl, "{{\"message_id\":{message_id},\"entities\":[");
                for (i, h) in body.handles.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "," };
                    let _ = write!(
                        account_ids_jsonl,
                        "{sep}{{\"type\":\"ACCOUNT_ID\",\"start\":{},\"end\":{},\"form\":\"{}\"}}",
                        h.start, h.end, h.form
                    );
                }
                account_ids_jsonl.push_str("]}\n");
            }

            if is_reported(seed, message_id) {
                let reported_at = sent_at + (rng.range(60, 3 * 86_400) * 1_000_000) as i64;
                r.push(
                    report_id,
                    recipient,
                    user_id,
                    message_id,
                    recipient_country,
                    reason(&mut rng),
                    &body.text,
                    reported_at,
                );
                report_id += 1;
            }
            m.push(
                message_id,
                chat_id,
                user_id,
                recipient,
                user.country,
                sent_at,
                &body.text,
            );
            message_id += 1;
        }
        u.push(&user);
    }
    Ok(Chunk {
        users: u.finish()?,
        messages: m.finish()?,
        reports: r.finish()?,
        payments: p.finish()?,
        labels_jsonl,
        account_ids_jsonl,
        labelled_entities,
    })
}

/// The other side of a chat: another user, of the sender's own country four times in five.
fn recipient(rng: &mut Rng, seed: u64, sender: u64, total_users: u64) -> u64 {
    let mut candidate = sender;
    for attempt in 0..6 {
        candidate = rng.range(1, total_users);
        if candidate == sender {
            continue;
        }
        if attempt >= 4
            || Country::of_user(seed, candidate) == Country::of_user(seed, sender)
            || rng.percent(20)
        {
            return candidate;
        }
    }
    // Only one user in the world: they write notes to themselves.
    candidate
}

fn reason(rng: &mut Rng) -> &'static str {
    [
        "spam",
        "harassment",
        "scam",
        "inappropriate_content",
        "impersonation",
        "other",
    ][rng.weighted(&[35, 20, 20, 12, 5, 8])]
}

struct UserColumns {
    user_id: Int64Builder,
    line_id: StringBuilder,
    display_name: StringBuilder,
    full_name: StringBuilder,
    full_name_kana: StringBuilder,
    phone: StringBuilder,
    email: StringBuilder,
    birth_date: Date32Builder,
    gender: StringBuilder,
    postal_code: StringBuilder,
    address: StringBuilder,
    country: StringBuilder,
    my_number: StringBuilder,
    created_at: TimestampMicrosecondBuilder,
}

impl UserColumns {
    fn with_capacity(n: usize) -> Self {
        let s = || StringBuilder::with_capacity(n, n * 16);
        UserColumns {
            user_id: Int64Builder::with_capacity(n),
            line_id: s(),
            display_name: s(),
            full_name: s(),
            full_name_kana: s(),
            phone: s(),
            email: s(),
            birth_date: Date32Builder::with_capacity(n),
            gender: s(),
            postal_code: s(),
            address: StringBuilder::with_capacity(n, n * 64),
            country: s(),
            my_number: s(),
            created_at: TimestampMicrosecondBuilder::with_capacity(n),
        }
    }

    fn push(&mut self, u: &User) {
        self.user_id.append_value(u.user_id);
        self.line_id.append_value(&u.line_id);
        self.display_name.append_value(&u.display_name);
        self.full_name.append_value(&u.name.full);
        self.full_name_kana.append_option(u.name.kana.as_deref());
        self.phone.append_value(&u.phone);
        self.email.append_value(&u.email);
        self.birth_date.append_value(u.birth_date);
        self.gender.append_value(u.gender);
        self.postal_code.append_value(&u.postal_code);
        self.address.append_value(&u.address);
        self.country.append_value(u.country.code());
        self.my_number.append_option(u.my_number.as_deref());
        self.created_at.append_value(u.created_at);
    }

    fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.user_id.finish()),
            Arc::new(self.line_id.finish()),
            Arc::new(self.display_name.finish()),
            Arc::new(self.full_name.finish()),
            Arc::new(self.full_name_kana.finish()),
            Arc::new(self.phone.finish()),
            Arc::new(self.email.finish()),
            Arc::new(self.birth_date.finish()),
            Arc::new(self.gender.finish()),
            Arc::new(self.postal_code.finish()),
            Arc::new(self.address.finish()),
            Arc::new(self.country.finish()),
            Arc::new(self.my_number.finish()),
            Arc::new(self.created_at.finish()),
        ];
        RecordBatch::try_new(USERS.clone(), columns)
    }
}

#[derive(Default)]
struct MessageColumns {
    message_id: Int64Builder,
    chat_id: Int64Builder,
    sender_id: Int64Builder,
    recipient_id: Int64Builder,
    sender_country: StringBuilder,
    sent_at: TimestampMicrosecondBuilder,
    body: StringBuilder,
}

impl MessageColumns {
    #[expect(clippy::too_many_arguments, reason = "one argument per column of the row")]
    fn push(
        &mut self,
        id: u64,
        chat: i64,
        sender: u64,
        recipient: u64,
        country: Country,
        sent_at: i64,
        body: &str,
    ) {
        self.message_id.append_value(id as i64);
        self.chat_id.append_value(chat);
        self.sender_id.append_value(sender as i64);
        self.recipient_id.append_value(recipient as i64);
        self.sender_country.append_value(country.code());
        self.sent_at.append_value(sent_at);
        self.body.append_value(body);
    }

    fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.message_id.finish()),
            Arc::new(self.chat_id.finish()),
            Arc::new(self.sender_id.finish()),
            Arc::new(self.recipient_id.finish()),
            Arc::new(self.sender_country.finish()),
            Arc::new(self.sent_at.finish()),
            Arc::new(self.body.finish()),
        ];
        RecordBatch::try_new(MESSAGES.clone(), columns)
    }
}

#[derive(Default)]
struct ReportColumns {
    report_id: Int64Builder,
    reporter_id: Int64Builder,
    reported_user_id: Int64Builder,
    message_id: Int64Builder,
    reporter_country: StringBuilder,
    reason: StringBuilder,
    body: StringBuilder,
    reported_at: TimestampMicrosecondBuilder,
}

impl ReportColumns {
    #[expect(clippy::too_many_arguments, reason = "one argument per column of the row")]
    fn push(
        &mut self,
        id: u64,
        reporter: u64,
        reported: u64,
        message: u64,
        country: Country,
        reason: &str,
        body: &str,
        at: i64,
    ) {
        self.report_id.append_value(id as i64);
        self.reporter_id.append_value(reporter as i64);
        self.reported_user_id.append_value(reported as i64);
        self.message_id.append_value(message as i64);
        self.reporter_country.append_value(country.code());
        self.reason.append_value(reason);
        self.body.append_value(body);
        self.reported_at.append_value(at);
    }

    fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.report_id.finish()),
            Arc::new(self.reporter_id.finish()),
            Arc::new(self.reported_user_id.finish()),
            Arc::new(self.message_id.finish()),
            Arc::new(self.reporter_country.finish()),
            Arc::new(self.reason.finish()),
            Arc::new(self.body.finish()),
            Arc::new(self.reported_at.finish()),
        ];
        RecordBatch::try_new(REPORTS.clone(), columns)
    }
}

#[derive(Default)]
struct PaymentColumns {
    payment_id: Int64Builder,
    user_id: Int64Builder,
    country: StringBuilder,
    merchant: StringBuilder,
    amount: Int64Builder,
    currency: StringBuilder,
    card_number: StringBuilder,
    paid_at: TimestampMicrosecondBuilder,
}

impl PaymentColumns {
    fn push(&mut self, seed: u64, id: u64, user: &User) {
        let mut rng = Rng::for_row(seed, PAYMENT_STREAM, id);
        let (merchants, lo, hi): (&[&str], u64, u64) = match user.country {
            Country::Jp => (
                &[
                    "セブン-イレブン",
                    "ローソン",
                    "ファミリーマート",
                    "Amazon.co.jp",
                    "Uber Eats",
                    "ユニクロ",
                    "楽天市場",
                    "LINE STORE",
                ],
                100,
                30_000,
            ),
            Country::Th => (
                &[
                    "7-Eleven Thailand",
                    "Grab",
                    "Lazada",
                    "Shopee",
                    "Central",
                    "LINE MAN",
                ],
                20,
                5_000,
            ),
            Country::Tw => (
                &[
                    "全家便利商店",
                    "7-ELEVEN 統一超商",
                    "momo購物網",
                    "蝦皮購物",
                    "LINE STORE",
                ],
                30,
                3_000,
            ),
            Country::Id => (
                &["Indomaret", "Tokopedia", "Shopee", "Gojek", "Alfamart"],
                5_000,
                1_000_000,
            ),
        };
        self.payment_id.append_value(id as i64);
        self.user_id.append_value(user.user_id);
        self.country.append_value(user.country.code());
        self.merchant.append_value(rng.pick(merchants));
        self.amount.append_value(rng.range(lo, hi) as i64);
        self.currency.append_value(user.country.currency());
        self.card_number
            .append_value(person::card_number(&mut rng, false));
        let paid_at = time::micros_between(&mut rng, time::days(2025, 1, 1), time::days(2026, 11, 1));
        self.paid_at
            .append_value(paid_at.max(user.created_at + MICROS_PER_DAY));
    }

    fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.payment_id.finish()),
            Arc::new(self.user_id.finish()),
            Arc::new(self.country.finish()),
            Arc::new(self.merchant.finish()),
            Arc::new(self.amount.finish()),
            Arc::new(self.currency.finish()),
            Arc::new(self.card_number.finish()),
            Arc::new(self.paid_at.finish()),
        ];
        RecordBatch::try_new(PAYMENTS.clone(), columns)
    }
}
