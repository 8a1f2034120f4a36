//! Synthetic MariaDB `server_audit` lines and PutLogEvents batches made of them.
//!
//! Everything here runs before any timed phase, so generation cost never shows
//! up in a figure. The generator is seeded, so every run writes the same corpus
//! and storage ratios are comparable between runs.

/// User name injected into ~1% of lines; the FilterLogEvents phase searches for it.
///
/// It must not occur anywhere else in the corpus, so none of the vocabulary
/// below contains it.
pub const RARE_USER: &str = "zzauditrare";

/// AWS's per-event overhead in the PutLogEvents batch size limit.
pub const EVENT_OVERHEAD: u64 = 26;

/// AWS's PutLogEvents limit: UTF-8 message bytes plus 26 per event.
pub const MAX_BATCH_BYTES: u64 = 1_048_576;

/// AWS's PutLogEvents limit on events per batch.
pub const MAX_BATCH_EVENTS: usize = 10_000;

/// Lines per batch in the small-batch phase (~2 KB per request).
pub const SMALL_BATCH_EVENTS: usize = 10;

/// A pre-generated PutLogEvents batch; timestamps are stamped at send time.
pub struct Batch {
    /// The log lines, in send order.
    pub messages: Vec<String>,
    /// UTF-8 message bytes, without AWS's per-event overhead.
    pub bytes: u64,
    /// How many of the lines carry [`RARE_USER`].
    pub injected: u64,
}

/// Generates batches of at most [`MAX_BATCH_BYTES`] until `total_bytes` of messages exist.
pub fn large_pool(generator: &mut AuditGen, total_bytes: u64) -> Vec<Batch> {
    let mut pool = Vec::new();
    let mut bytes = 0;
    while bytes < total_bytes {
        let batch = pack(generator, MAX_BATCH_BYTES, MAX_BATCH_EVENTS);
        bytes += batch.bytes;
        pool.push(batch);
    }
    pool
}

/// Generates `count` batches of [`SMALL_BATCH_EVENTS`] lines each.
pub fn small_pool(generator: &mut AuditGen, count: usize) -> Vec<Batch> {
    (0..count).map(|_| pack(generator, MAX_BATCH_BYTES, SMALL_BATCH_EVENTS)).collect()
}

/// Fills one batch until the next line would break either AWS limit.
fn pack(generator: &mut AuditGen, max_bytes: u64, max_events: usize) -> Batch {
    let mut batch = Batch { messages: Vec::new(), bytes: 0, injected: 0 };
    let mut limit_bytes = 0;
    while batch.messages.len() < max_events {
        let (line, injected) = generator.line();
        let cost = line.len() as u64 + EVENT_OVERHEAD;
        if limit_bytes + cost > max_bytes {
            // The line is dropped rather than carried over: it was never
            // sent, so it is never counted.
            break;
        }
        limit_bytes += cost;
        batch.bytes += line.len() as u64;
        batch.injected += u64::from(injected);
        batch.messages.push(line);
    }
    batch
}

/// xorshift64*: tiny, deterministic, and plenty for synthetic log text.
pub struct Rng(u64);

impl Rng {
    /// Creates a generator; the seed is scrambled so small seeds work too.
    pub fn new(seed: u64) -> Self {
        Self((seed ^ 0x9E37_79B9_7F4A_7C15).max(1))
    }

    /// Next raw 64-bit value.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish value in `lo..=hi` (modulo bias is irrelevant here).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.range(0, 999) < per_mille
    }

    /// A random element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as u64 - 1) as usize]
    }
}

/// Application accounts and the database each one mostly works in.
const USERS: &[(&str, &str)] = &[
    ("app_user", "shop"),
    ("shop_api", "shop"),
    ("checkout_svc", "shop"),
    ("billing_svc", "billing"),
    ("inventory_svc", "inventory"),
    ("reporting", "analytics"),
    ("etl_loader", "analytics"),
    ("support_ro", "shop"),
    ("admin", "mysql"),
    ("backup_svc", "shop"),
];
const ORDER_STATUSES: &[&str] = &["open", "pending", "paid", "shipped", "cancelled"];
const FIRST_NAMES: &[&str] = &["alice", "bob", "carol", "dmitri", "elena", "farid", "grace"];
const DOMAINS: &[&str] = &["example.com", "mail.test", "corp.example.org"];
const ACTIONS: &[&str] = &["login", "refund", "export", "password_reset", "role_change"];

/// One client connection as the audit plugin sees it.
struct Session {
    server: u64,
    user: &'static str,
    db: &'static str,
    ip: String,
    conn_id: u64,
    /// Set after a DISCONNECT so the session's next line is its CONNECT.
    reconnecting: bool,
}

/// Produces a stream of realistic `server_audit` lines.
pub struct AuditGen {
    rng: Rng,
    sessions: Vec<Session>,
    next_conn_id: u64,
    next_query_id: u64,
    clock_ms: i64,
}

impl AuditGen {
    /// Creates a generator whose line timestamps start at `start_ms` (Unix ms).
    pub fn new(seed: u64, start_ms: i64) -> Self {
        let mut generator =
            Self { rng: Rng::new(seed), sessions: Vec::new(), next_conn_id: 3000, next_query_id: 90_000, clock_ms: start_ms };
        generator.sessions = (0..256).map(|_| generator.new_session()).collect();
        generator
    }

    /// Returns the next line and whether it carries [`RARE_USER`].
    pub fn line(&mut self) -> (String, bool) {
        self.clock_ms += 1;
        let injected = self.rng.chance(10);
        let index = self.rng.range(0, self.sessions.len() as u64 - 1) as usize;
        let (op, query_id, object, retcode) = self.event(index);
        let s = &self.sessions[index];
        let user = if injected { RARE_USER } else { s.user };
        let line = format!(
            "{},db-host-{},{},{},{},{},{},{},{},{}",
            format_audit_time(self.clock_ms),
            s.server,
            user,
            s.ip,
            s.conn_id,
            query_id,
            op,
            s.db,
            object,
            retcode
        );
        (line, injected)
    }

    /// Picks what session `index` does next: (operation, query id, object, retcode).
    fn event(&mut self, index: usize) -> (&'static str, u64, String, u32) {
        if self.sessions[index].reconnecting {
            self.sessions[index].reconnecting = false;
            // A few logins fail with ER_ACCESS_DENIED_ERROR.
            let retcode = if self.rng.chance(50) { 1045 } else { 0 };
            return ("CONNECT", 0, String::new(), retcode);
        }
        if self.rng.chance(20) {
            self.sessions[index].reconnecting = true;
            self.sessions[index].conn_id = self.take_conn_id();
            return ("DISCONNECT", 0, String::new(), 0);
        }
        self.next_query_id += 1;
        let sql = if self.rng.chance(20) { ddl(&mut self.rng) } else { dml(&mut self.rng) };
        // Occasional syntax errors, missing tables and deadlocks.
        let retcode = if self.rng.chance(5) { *self.rng.pick(&[1064, 1146, 1213]) } else { 0 };
        ("QUERY", self.next_query_id, quote(&sql), retcode)
    }

    fn new_session(&mut self) -> Session {
        let (user, db) = *self.rng.pick(USERS);
        Session {
            server: self.rng.range(1, 6),
            user,
            db,
            ip: format!("10.0.{}.{}", self.rng.range(0, 7), self.rng.range(2, 250)),
            conn_id: self.take_conn_id(),
            reconnecting: false,
        }
    }

    fn take_conn_id(&mut self) -> u64 {
        self.next_conn_id += self.rng.range(1, 9);
        self.next_conn_id
    }
}

/// Wraps a statement the way server_audit does: single quotes, inner quotes escaped.
fn quote(sql: &str) -> String {
    format!("'{}'", sql.replace('\'', "\\'"))
}

/// A data-manipulation statement: mostly reads, then inserts, updates, deletes.
fn dml(rng: &mut Rng) -> String {
    match rng.range(0, 99) {
        0..=59 => select(rng),
        60..=79 => insert(rng),
        80..=94 => update(rng),
        _ => delete(rng),
    }
}

fn select(rng: &mut Rng) -> String {
    match rng.range(0, 5) {
        0 => format!("SELECT * FROM orders WHERE customer_id = {} AND status = '{}'", rng.range(1, 99_999), rng.pick(ORDER_STATUSES)),
        1 => format!(
            "SELECT id, email, created_at FROM customers WHERE email = '{}{}@{}'",
            rng.pick(FIRST_NAMES),
            rng.range(1, 9999),
            rng.pick(DOMAINS)
        ),
        2 => format!("SELECT COUNT(*) FROM order_items WHERE order_id = {}", rng.range(100_000, 999_999)),
        3 => format!(
            "SELECT p.id, p.sku, p.price FROM products p JOIN inventory i ON i.product_id = p.id \
             WHERE i.warehouse_id = {} AND i.qty < {} ORDER BY p.price DESC LIMIT 50",
            rng.range(1, 12),
            rng.range(1, 40)
        ),
        4 => format!(
            "SELECT SUM(amount) FROM payments WHERE account_id = {} AND paid_at >= '2026-{:02}-{:02}'",
            rng.range(1, 50_000),
            rng.range(1, 12),
            rng.range(1, 28)
        ),
        _ => "SELECT @@version_comment LIMIT 1".to_owned(),
    }
}

fn insert(rng: &mut Rng) -> String {
    match rng.range(0, 3) {
        0 => format!(
            "INSERT INTO orders (customer_id, total, status, created_at) VALUES ({}, {}.{:02}, 'pending', NOW())",
            rng.range(1, 99_999),
            rng.range(1, 2500),
            rng.range(0, 99)
        ),
        1 => format!(
            "INSERT INTO order_items (order_id, product_id, qty, unit_price) VALUES ({}, {}, {}, {}.{:02})",
            rng.range(100_000, 999_999),
            rng.range(1, 20_000),
            rng.range(1, 6),
            rng.range(1, 400),
            rng.range(0, 99)
        ),
        2 => format!(
            "INSERT INTO audit_trail (actor, action, target_id, note) VALUES ('{}{}', '{}', {}, 'ticket #{}')",
            rng.pick(FIRST_NAMES),
            rng.range(1, 99),
            rng.pick(ACTIONS),
            rng.range(1, 99_999),
            rng.range(10_000, 99_999)
        ),
        _ => format!(
            "INSERT INTO sessions (token, user_id, expires_at) VALUES ('{:016x}', {}, NOW() + INTERVAL 30 MINUTE)",
            rng.next_u64(),
            rng.range(1, 99_999)
        ),
    }
}

fn update(rng: &mut Rng) -> String {
    match rng.range(0, 3) {
        0 => format!(
            "UPDATE orders SET status = '{}', updated_at = NOW() WHERE id = {}",
            rng.pick(ORDER_STATUSES),
            rng.range(100_000, 999_999)
        ),
        1 => format!(
            "UPDATE inventory SET qty = qty - {} WHERE product_id = {} AND warehouse_id = {}",
            rng.range(1, 5),
            rng.range(1, 20_000),
            rng.range(1, 12)
        ),
        2 => format!("UPDATE customers SET last_login = NOW(), login_count = login_count + 1 WHERE id = {}", rng.range(1, 99_999)),
        _ => format!(
            "UPDATE accounts SET balance = balance + {}.{:02} WHERE id = {}",
            rng.range(1, 900),
            rng.range(0, 99),
            rng.range(1, 50_000)
        ),
    }
}

fn delete(rng: &mut Rng) -> String {
    if rng.chance(500) {
        format!("DELETE FROM sessions WHERE expires_at < NOW() - INTERVAL {} MINUTE", rng.range(5, 120))
    } else {
        format!("DELETE FROM cart_items WHERE cart_id = {} AND product_id = {}", rng.range(1, 500_000), rng.range(1, 20_000))
    }
}

/// A schema change, the rare but interesting part of an audit trail.
fn ddl(rng: &mut Rng) -> String {
    match rng.range(0, 5) {
        0 => format!("ALTER TABLE orders ADD INDEX idx_orders_status_{} (status, created_at)", rng.range(1, 999)),
        1 => format!("CREATE TABLE tmp_report_{} (id BIGINT PRIMARY KEY, total DECIMAL(12,2), created_at DATETIME)", rng.range(1, 9999)),
        2 => format!("DROP TABLE IF EXISTS tmp_report_{}", rng.range(1, 9999)),
        3 => format!("TRUNCATE TABLE staging_import_{}", rng.range(1, 99)),
        4 => format!("ALTER TABLE customers MODIFY COLUMN phone VARCHAR({})", rng.range(16, 64)),
        _ => format!("GRANT SELECT ON analytics.* TO 'report_{}'@'10.0.%'", rng.range(1, 99)),
    }
}

/// Formats Unix milliseconds as server_audit does: `YYYYMMDD HH:MM:SS` (UTC).
fn format_audit_time(unix_ms: i64) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] =
        time::macros::format_description!("[year][month][day] [hour]:[minute]:[second]");
    let at = time::OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000)).expect("a time within years ±9999");
    at.format(FORMAT).expect("formattable")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_audit_time() {
        // 2026-11-21T11:45:01Z
        assert_eq!(format_audit_time(1_795_261_501_000), "20261121 11:45:01");
        assert_eq!(format_audit_time(0), "19700101 00:00:00");
        assert_eq!(format_audit_time(951_782_400_000), "20000229 00:00:00");
    }

    #[test]
    fn batches_respect_aws_limits() {
        let mut generator = AuditGen::new(7, 1_795_261_501_000);
        for batch in large_pool(&mut generator, 3 * MAX_BATCH_BYTES) {
            let n = batch.messages.len() as u64;
            assert!(batch.bytes + n * EVENT_OVERHEAD <= MAX_BATCH_BYTES);
            assert!(batch.messages.len() <= MAX_BATCH_EVENTS);
            // Nearly full: within one line of the limit.
            assert!(batch.bytes + n * EVENT_OVERHEAD > MAX_BATCH_BYTES - 1024);
        }
    }

    #[test]
    fn injected_count_is_exact_and_about_one_percent() {
        let mut generator = AuditGen::new(7, 1_795_261_501_000);
        let pool = large_pool(&mut generator, 4 * MAX_BATCH_BYTES);
        let lines: Vec<&String> = pool.iter().flat_map(|b| &b.messages).collect();
        let counted = lines.iter().filter(|l| l.contains(RARE_USER)).count() as u64;
        let recorded: u64 = pool.iter().map(|b| b.injected).sum();
        assert_eq!(counted, recorded);
        let share = counted as f64 / lines.len() as f64;
        assert!((0.007..0.013).contains(&share), "share {share}");
    }

    #[test]
    fn lines_have_ten_audit_fields() {
        let mut generator = AuditGen::new(1, 1_795_261_501_000);
        for _ in 0..1000 {
            let (line, _) = generator.line();
            // Fields before the quoted object never contain commas.
            assert!(line.splitn(9, ',').count() == 9, "{line}");
            assert!(line.ends_with(char::is_numeric), "{line}");
        }
    }
}
