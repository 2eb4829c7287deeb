//! Deterministic demo data: a stream of platform events for the local run and the benchmarks.
//!
//! The generator builds a small *world* (organisations, clinics, rooms, accounts and their
//! memberships, marketplace practitioners, patients and vouchers) and then tells *stories*
//! about it, one at a time: a message thread from its first message to its rating, a
//! waiting-area call from the caller's entry through transfers to its end, a meeting-room
//! call, an account's logins, a practitioner's availability. Every story is sorted by time
//! and handed out as JSON envelopes (`{"id","type","occurred_at","data"}`), exactly what
//! [`domain::events::parse_event`] accepts. Only the world is held in memory; events are
//! produced in batches of at most [`BATCH`], so a million-row benchmark streams in constant
//! memory.
//!
//! # Order
//! Reference data (organisations ... vouchers, and their later updates, in time order) comes
//! first, then availability changes, threads, logins, waiting-area sessions and room calls.
//! The events of one story (one entity and what hangs off it) come in time order, which is
//! also their causal order; the stream as a whole is not globally sorted (ingest does not
//! need it).
//!
//! # Time
//! Activity is spread over the [`WINDOW_DAYS`] days before `now`, and stays strictly before
//! `now`. On the last Sunday of March and of October (the European DST changes, 01:00 UTC)
//! within the last [`DST_LOOKBACK_DAYS`] days (always at least one), a thread, a few
//! waiting-area sessions, a room call and two logins happen between 00:00 and 03:00 UTC,
//! some of them across 01:00.
//!
//! # Determinism
//! The same seed, scale and `now` give byte-identical events: randomness comes from a small
//! self-written splitmix64 generator, seeded per story (so stories do not disturb each
//! other), and JSON objects serialise with sorted keys. Event ids are `demo-<seed hex>-<n>`,
//! `n` counting from 1 in stream order; entity ids are readable (`org-1`, `clinic-3`,
//! `room-5`, `acc-40`, `prac-17`, `pat-220`, `thread-9`, `sess-12`, `seg-30`, `part-77`).
//! Because the event ids do not depend on `now`, one store should be loaded with one `now`:
//! loading it again with another `now` would reuse ids for different content, which ingest
//! refuses (and [`load_demo`] then fails).
//!
//! # Realism the reports rely on
//! - Only practitioners start calls: the practitioner joins first, except in a few calls
//!   where the patient joins first and waits; the call ends when the practitioner leaves.
//! - Waiting-area hosts carry an `account_id` and are members of the clinic at the time;
//!   callers never carry one (no patient data on the organisation side).
//! - Patient and practitioner messages carry only base64 `ciphertext`: each one is the
//!   base64 of `DEMO-SECRET-<n>`, so tests can look for the marker raw (`DEMO-SECRET-`) and
//!   encoded ([`SECRET_MARKER_BASE64`], the encoding of that 12-byte prefix). The marker
//!   appears in no other field. System messages carry `system_text`.
//! - Money is integer minor units; commission never exceeds the total; refunds are negative.
//! - Names carry accents ("Ángela Müller", "Élodie Durand", "Zoë Nuñez") for accent-insensitive
//!   search; account emails are `firstname.lastname@demo.example` in plain ASCII.

use base64::Engine;
use chrono::{DateTime, Datelike, Duration, NaiveDate, SecondsFormat, Utc, Weekday};
use domain::auth::{Principal, Role};
use domain::events::ingest::{ingest_batch, EventStatus, MAX_BATCH};
use domain::ports::{Store, StoreError};
use domain::readmodels::fold_name;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};

/// Largest batch the generator hands out (the ingest batch limit).
pub const BATCH: usize = MAX_BATCH;

/// The seed the local run uses unless told otherwise.
pub const DEFAULT_SEED: u64 = 42;

/// Days before `now` over which activity is spread (about six months).
pub const WINDOW_DAYS: i64 = 182;

/// How far back DST-change days are looked for: long enough that there is always one.
pub const DST_LOOKBACK_DAYS: i64 = 224;

/// Every ciphertext decodes to this prefix followed by a number.
pub const SECRET_MARKER: &str = "DEMO-SECRET-";

/// The base64 encoding of [`SECRET_MARKER`] (12 bytes, so every ciphertext starts with it).
pub const SECRET_MARKER_BASE64: &str = "REVNTy1TRUNSRVQt";

const MIN: i64 = 60;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

// ---- Configuration ----

/// How much to generate. Values below the documented minimums are raised to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scale {
    /// Organisations (at least 1; the first four have hand-written names).
    pub organisations: u32,
    /// Clinics (waiting areas) per organisation (at least 3, for the three-clinic transfer).
    pub clinics_per_org: u32,
    /// Accounts per organisation (at least 5 staff plus 3 anchor providers per clinic).
    pub accounts_per_org: u32,
    /// Marketplace practitioners (at least 5: one per approval state is guaranteed).
    pub practitioners: u32,
    /// Marketplace patients (at least 2).
    pub patients: u32,
    /// Message threads (at least 3), DST-day threads included.
    pub threads: u32,
    /// Voucher codes (at least 1).
    pub vouchers: u32,
    /// Meeting, user and group room calls.
    pub room_calls: u32,
    /// Target rows of the Consultations report (one per participant per segment):
    /// waiting-area sessions are generated until this is reached.
    pub consultation_rows: u64,
    /// Extra patient messages at the start of every thread (0 in the demo, whose threads hold
    /// about 8 messages each; the tab benchmark raises it to reach its message count).
    pub chatter: u32,
}

impl Scale {
    /// The local run's data: 4 organisations, 12 clinics, 240 accounts, 300 practitioners,
    /// 900 patients, 3,000 threads, 20 vouchers, 400 room calls and about 4,000
    /// consultation rows.
    pub fn demo() -> Self {
        Self {
            organisations: 4,
            clinics_per_org: 3,
            accounts_per_org: 60,
            practitioners: 300,
            patients: 900,
            threads: 3_000,
            vouchers: 20,
            room_calls: 400,
            consultation_rows: 4_000,
            chatter: 0,
        }
    }

    /// The demo world with the waiting-area consultations scaled up until the Consultations
    /// report reaches about `consultation_rows` rows (a million for the benchmarks).
    pub fn bench(consultation_rows: u64) -> Self {
        Self {
            consultation_rows,
            ..Self::demo()
        }
    }

    fn normalised(&self) -> Self {
        let clinics_per_org = self.clinics_per_org.max(3);
        Self {
            organisations: self.organisations.max(1),
            clinics_per_org,
            accounts_per_org: self.accounts_per_org.max(STAFF + ANCHORS * clinics_per_org),
            practitioners: self.practitioners.max(5),
            patients: self.patients.max(2),
            threads: self.threads.max(3),
            vouchers: self.vouchers.max(1),
            room_calls: self.room_calls,
            consultation_rows: self.consultation_rows,
            chatter: self.chatter,
        }
    }
}

/// What to generate: the seed, the volume, and the instant the data leads up to. Kept as JSON
/// by whoever must generate the same events again (the local run resuming an interrupted load).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoConfig {
    pub seed: u64,
    pub scale: Scale,
    pub now: DateTime<Utc>,
}

impl DemoConfig {
    /// The local run's configuration: [`DEFAULT_SEED`] and [`Scale::demo`].
    pub fn demo(now: DateTime<Utc>) -> Self {
        Self {
            seed: DEFAULT_SEED,
            scale: Scale::demo(),
            now,
        }
    }
}

// ---- Summary ----

/// What was generated: counts, interesting cases to point at, and whom to mint tokens for.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DemoSummary {
    /// Events generated.
    pub events: u64,
    /// Events per type (`message.sent` → n).
    pub by_type: BTreeMap<String, u64>,
    /// Message threads (each appears once in the Feed).
    pub threads: u64,
    /// Waiting-area sessions.
    pub sessions: u64,
    /// Rows of the Consultations report: participants per segment, summed.
    pub consultation_rows: u64,
    /// Meeting, user and group room calls.
    pub room_calls: u64,
    pub cases: DemoCases,
    /// Whom the local run mints demo tokens for (one per role).
    pub principals: Vec<Principal>,
    /// Set by [`load_demo`]: what ingest made of the events.
    pub loaded: Option<LoadCounts>,
}

impl DemoSummary {
    /// Events generated, all types.
    pub fn total_events(&self) -> u64 {
        self.events
    }

    /// Events generated of one type.
    pub fn count(&self, event_type: &str) -> u64 {
        self.by_type.get(event_type).copied().unwrap_or(0)
    }
}

/// Ids of cases worth looking at.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DemoCases {
    /// A waiting-area call transferred across three clinics: one session, three segments.
    pub transferred_session_id: String,
    /// The clinics of its segments, in order.
    pub transfer_clinic_ids: Vec<String>,
    /// A call whose caller left before any host joined.
    pub abandoned_session_id: String,
    /// A thread whose activity crosses a European DST change (01:00 UTC).
    pub dst_thread_id: String,
    /// The DST-change days with activity between 00:00 and 03:00 UTC.
    pub dst_days: Vec<NaiveDate>,
    /// A thread call the patient joined first and waited in.
    pub patient_first_call_id: String,
    pub approved_practitioner_id: String,
    pub pending_practitioner_id: String,
    pub rejected_practitioner_id: String,
    /// A clinic deleted during the window (empty when there are fewer than 3 organisations).
    pub deleted_clinic_id: String,
}

/// What ingest made of a demo load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LoadCounts {
    pub accepted: u64,
    pub duplicates: u64,
}

// ---- Entry points ----

/// Generates every demo event and hands them to `sink` in batches of at most [`BATCH`], in
/// the order described in the module documentation. Stops at the first error of `sink`.
pub fn demo_events<E>(
    config: &DemoConfig,
    mut sink: impl FnMut(Vec<Value>) -> Result<(), E>,
) -> Result<DemoSummary, E> {
    let mut generator = DemoGenerator::new(config);
    for batch in generator.by_ref() {
        sink(batch)?;
    }
    Ok(generator.into_summary())
}

/// The principals the local run mints demo tokens for: a platform admin, a practitioner and
/// a patient of the marketplace, the org admin (`acc-1`), coordinator (`acc-2`) and reporter
/// (`acc-3`) of `org-1`, the clinic admin of `clinic-1` (`acc-4`), and an ingest service.
/// Every subject exists in the demo data with that role.
pub fn demo_principals() -> Vec<Principal> {
    let p = |sub: &str, role: Role, orgs: &[&str], clinics: &[&str]| Principal {
        sub: sub.to_string(),
        role,
        orgs: orgs.iter().map(|s| s.to_string()).collect(),
        clinics: clinics.iter().map(|s| s.to_string()).collect(),
    };
    vec![
        p("admin-1", Role::PlatformAdmin, &[], &[]),
        p("prac-1", Role::Practitioner, &[], &[]),
        p("pat-1", Role::Patient, &[], &[]),
        p("acc-1", Role::OrgAdmin, &["org-1"], &[]),
        p("acc-2", Role::OrgCoordinator, &["org-1"], &[]),
        p("acc-3", Role::OrgReporter, &["org-1"], &[]),
        p("acc-4", Role::ClinicAdmin, &[], &["clinic-1"]),
        p("platform-ingest", Role::Service, &[], &[]),
    ]
}

/// Loads the demo data into `store` through THE ingest path ([`ingest_batch`]), batch by
/// batch. Fails if the store fails or if ingest refuses any event (a generator bug, or the
/// store already holds demo data generated with another seed or `now`). Loading the same
/// configuration again changes nothing: every event is reported as a duplicate.
pub async fn load_demo(store: &dyn Store, config: &DemoConfig) -> Result<DemoSummary, StoreError> {
    let mut generator = DemoGenerator::new(config);
    let mut counts = LoadCounts::default();
    for batch in generator.by_ref() {
        let report = ingest_batch(store, config.now, &batch).await?;
        for result in &report.results {
            if let EventStatus::Rejected { field, reason } = &result.status {
                return Err(StoreError::Invalid(format!(
                    "demo event {} was refused: {field} {reason}",
                    result.id.as_deref().unwrap_or("(no id)")
                )));
            }
        }
        counts.accepted += report.accepted as u64;
        counts.duplicates += report.duplicates as u64;
    }
    let mut summary = generator.into_summary();
    summary.loaded = Some(counts);
    Ok(summary)
}

/// The streaming generator: an iterator of event batches (each at most [`BATCH`] envelopes).
/// [`DemoGenerator::summary`] describes what has been generated so far.
pub struct DemoGenerator {
    seed: u64,
    scale: Scale,
    world: World,
    state: State,
    phase: Phase,
    pending: VecDeque<Value>,
    next_event: u64,
    summary: DemoSummary,
}

impl Iterator for DemoGenerator {
    type Item = Vec<Value>;

    fn next(&mut self) -> Option<Vec<Value>> {
        while self.pending.len() < BATCH && self.phase != Phase::Done {
            self.step();
        }
        if self.pending.is_empty() {
            return None;
        }
        let n = self.pending.len().min(BATCH);
        Some(self.pending.drain(..n).collect())
    }
}

impl DemoGenerator {
    /// A generator for `config`; nothing is generated until the first batch is asked for.
    pub fn new(config: &DemoConfig) -> Self {
        let scale = config.scale.normalised();
        let now = config.now.timestamp();
        let world = World::build(config.seed, &scale, now);
        let mut summary = DemoSummary {
            principals: demo_principals(),
            ..DemoSummary::default()
        };
        summary.cases = DemoCases {
            dst_days: world.dst_days.iter().map(|&d| date_of(d)).collect(),
            approved_practitioner_id: world.pracs[0].id.clone(),
            pending_practitioner_id: world.pracs[PENDING_PRAC].id.clone(),
            rejected_practitioner_id: world.pracs[REJECTED_PRAC].id.clone(),
            deleted_clinic_id: world
                .clinics
                .iter()
                .find(|c| c.deleted.is_some())
                .map(|c| c.id.clone())
                .unwrap_or_default(),
            ..DemoCases::default()
        };
        let state = State {
            voucher_uses: vec![0; world.vouchers.len()],
            ..State::default()
        };
        Self {
            seed: config.seed,
            scale,
            world,
            state,
            phase: Phase::Reference,
            pending: VecDeque::new(),
            next_event: 0,
            summary,
        }
    }

    /// What has been generated so far (all of it once the iterator is exhausted).
    pub fn summary(&self) -> &DemoSummary {
        &self.summary
    }

    /// The final summary (call after exhausting the iterator).
    pub fn into_summary(self) -> DemoSummary {
        self.summary
    }

    /// Generates the next story (or the whole reference data) into `pending`.
    fn step(&mut self) {
        let w = &self.world;
        match self.phase {
            Phase::Reference => {
                let story = reference_story(w);
                self.emit(story);
                self.phase = Phase::Availability(0);
            }
            Phase::Availability(i) => {
                if let Some(&p) = w.approved.get(i) {
                    let story = availability_story(w, self.seed, p);
                    self.emit(story);
                    self.phase = Phase::Availability(i + 1);
                } else {
                    self.phase = Phase::Threads(0);
                }
            }
            Phase::Threads(i) => {
                let total = u64::from(self.scale.threads);
                let dst = (w.dst_days.len() as u64).min(total - 1);
                if i >= total {
                    self.phase = Phase::Logins(0);
                    return;
                }
                let thread_id = format!("thread-{}", i + 1);
                let story = if i < total - dst {
                    thread_story(w, &mut self.state, self.seed, i, &thread_id)
                } else {
                    let day = w.dst_days[(i - (total - dst)) as usize];
                    if self.summary.cases.dst_thread_id.is_empty() {
                        self.summary.cases.dst_thread_id = thread_id.clone();
                    }
                    dst_thread_story(w, &mut self.state, self.seed, i, &thread_id, day)
                };
                if self.summary.cases.patient_first_call_id.is_empty() {
                    if let Some(call) = self.state.patient_first_call.take() {
                        self.summary.cases.patient_first_call_id = call;
                    }
                }
                self.summary.threads += 1;
                self.emit(story);
                self.phase = Phase::Threads(i + 1);
            }
            Phase::Logins(a) => {
                if a < w.accounts.len() {
                    let story = login_story(w, self.seed, a);
                    self.emit(story);
                    self.phase = Phase::Logins(a + 1);
                } else {
                    self.phase = Phase::Sessions(0);
                }
            }
            Phase::Sessions(k) => match self.sessions(k) {
                Some(stories) => {
                    for s in stories {
                        self.summary.sessions += 1;
                        self.summary.consultation_rows += s.rows;
                        self.emit(s.story);
                    }
                    self.phase = Phase::Sessions(k + 1);
                }
                None => self.phase = Phase::RoomCalls(0),
            },
            Phase::RoomCalls(k) => {
                if k >= u64::from(self.scale.room_calls) {
                    self.phase = Phase::Done;
                    return;
                }
                let mut r = Rng::new(self.seed, S_ROOM_CALL, k);
                let story = match w.dst_days.get(k as usize) {
                    Some(&day) => room_call_story(
                        w,
                        &mut self.state,
                        &mut r,
                        day + 50 * MIN,
                        w.orgs[0].rooms[0],
                        Some(35 * MIN),
                    ),
                    None => {
                        let (start, room) = w.random_room_call(&mut r);
                        room_call_story(w, &mut self.state, &mut r, start, room, None)
                    }
                };
                self.summary.room_calls += 1;
                self.emit(story);
                self.phase = Phase::RoomCalls(k + 1);
            }
            Phase::Done => {}
        }
    }

    /// The `k`-th step of waiting-area sessions: first the three-clinic transfer, then the
    /// abandoned call, then the DST-night calls, then random calls until the row target is
    /// reached (`None` then).
    fn sessions(&mut self, k: u64) -> Option<Vec<SessionStory>> {
        let w = &self.world;
        let st = &mut self.state;
        let cases = &mut self.summary.cases;
        let mut r = Rng::new(self.seed, S_SESSION, k);
        let org1 = &w.orgs[0].clinics;
        let stories = match k {
            0 => {
                let start = day_start(w.now) - 9 * DAY + 9 * HOUR;
                let clinics = [org1[0], org1[1], org1[2]];
                let s = session_story(w, st, &mut r, start, &clinics, false, None);
                cases.transferred_session_id = s.id.clone();
                cases.transfer_clinic_ids =
                    clinics.iter().map(|&c| w.clinics[c].id.clone()).collect();
                vec![s]
            }
            1 => {
                let start = day_start(w.now) - 8 * DAY + 14 * HOUR;
                let s = session_story(w, st, &mut r, start, &[org1[0]], true, None);
                cases.abandoned_session_id = s.id.clone();
                vec![s]
            }
            2 => {
                // (start after midnight, consultation length): the second spans 01:00 UTC.
                const NIGHT: [(i64, i64); 4] = [
                    (10 * MIN, 20 * MIN),
                    (40 * MIN, 35 * MIN),
                    (80 * MIN, 15 * MIN),
                    (125 * MIN, 25 * MIN),
                ];
                let mut out = Vec::new();
                for &day in &w.dst_days {
                    for (n, (at, len)) in NIGHT.into_iter().enumerate() {
                        let clinic = [org1[n % org1.len()]];
                        out.push(session_story(
                            w,
                            st,
                            &mut r,
                            day + at,
                            &clinic,
                            false,
                            Some(len),
                        ));
                    }
                }
                out
            }
            _ if self.summary.consultation_rows < self.scale.consultation_rows => {
                let (start, clinics) = w.random_session(
                    &mut r,
                    self.summary.consultation_rows,
                    self.scale.consultation_rows,
                );
                let abandoned = clinics.len() == 1 && r.permille(60);
                vec![session_story(
                    w, st, &mut r, start, &clinics, abandoned, None,
                )]
            }
            _ => return None,
        };
        Some(stories)
    }

    /// Sorts a story by time (stable: ties keep their causal order), keeps it before `now`,
    /// and appends its envelopes to the pending queue.
    fn emit(&mut self, mut story: Story) {
        story.events.sort_by_key(|e| e.0);
        let latest = self.world.now - MIN;
        let shift = story.events.last().map_or(0, |e| (e.0 - latest).max(0));
        for (at, kind, data) in story.events {
            self.next_event += 1;
            let envelope = json!({
                "id": format!("demo-{:x}-{}", self.seed, self.next_event),
                "type": kind,
                "occurred_at": fmt_time(at - shift),
                "data": data,
            });
            self.pending.push_back(envelope);
            self.summary.events += 1;
            match self.summary.by_type.get_mut(kind) {
                Some(n) => *n += 1,
                None => {
                    self.summary.by_type.insert(kind.to_string(), 1);
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Reference,
    Availability(usize),
    Threads(u64),
    Logins(usize),
    Sessions(u64),
    RoomCalls(u64),
    Done,
}

// ---- Randomness ----

/// Random streams: each story draws from its own, seeded by (seed, stream, index).
const S_WORLD: u64 = 1;
const S_AVAILABILITY: u64 = 2;
const S_THREAD: u64 = 3;
const S_LOGIN: u64 = 4;
const S_SESSION: u64 = 5;
const S_ROOM_CALL: u64 = 6;

/// splitmix64: tiny, fast, and good enough for demo data.
#[derive(Debug, Clone)]
struct Rng(u64);

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    fn new(seed: u64, stream: u64, index: u64) -> Rng {
        Rng(mix(seed
            ^ mix(
                stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ mix(index ^ 0x632B_E59B_D9B4_E019)
            )))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// Uniform in `lo..hi` (`lo` when the range is empty).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below((hi - lo) as u64) as i64
        }
    }

    fn permille(&mut self, p: u64) -> bool {
        self.below(1000) < p
    }

    /// An index in `0..len` favouring low ones (busy practitioners have many threads).
    fn skewed(&mut self, len: usize) -> usize {
        self.index(len).min(self.index(len))
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.index(items.len())]
    }
}

fn bump(counter: &mut u64) -> u64 {
    *counter += 1;
    *counter
}

// ---- Time ----

fn fmt_time(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn date_of(secs: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .unwrap_or_default()
        .date_naive()
}

/// Midnight UTC of the day holding `secs`.
fn day_start(secs: i64) -> i64 {
    secs - secs.rem_euclid(DAY)
}

/// The last Sunday of a month.
fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    let mut d = first_of_next? - Duration::days(1);
    while d.weekday() != Weekday::Sun {
        d = d.pred_opt()?;
    }
    Some(d)
}

/// Midnights (UTC) of the European DST changes in the last [`DST_LOOKBACK_DAYS`] days whose
/// first three hours are over before `now`.
fn dst_days(now: i64) -> Vec<i64> {
    let year = date_of(now).year();
    let mut out: Vec<i64> = [year - 1, year]
        .into_iter()
        .flat_map(|y| [last_sunday(y, 3), last_sunday(y, 10)])
        .flatten()
        .filter_map(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc().timestamp())
        .filter(|&d| d > now - DST_LOOKBACK_DAYS * DAY && d + 4 * HOUR < now)
        .collect();
    out.sort_unstable();
    out
}

// ---- Names ----

const FIRST_NAMES: [&str; 40] = [
    "Ángela",
    "Élodie",
    "Zoë",
    "José",
    "Søren",
    "François",
    "Chloé",
    "Björn",
    "Inês",
    "Łukasz",
    "Mónica",
    "Noémie",
    "Jürgen",
    "Anaïs",
    "Raúl",
    "Çağla",
    "Ayşe",
    "Håkon",
    "Renée",
    "Dolores",
    "Tomás",
    "Ludmila",
    "Mattéo",
    "Gaëlle",
    "Niamh",
    "Siobhán",
    "Oskar",
    "Amélie",
    "Jonas",
    "Lucía",
    "Emma",
    "Liam",
    "Sofia",
    "Noah",
    "Olivia",
    "Mateo",
    "Léa",
    "Hugo",
    "Marta",
    "Pál",
];

const LAST_NAMES: [&str; 40] = [
    "Müller",
    "Durand",
    "Nuñez",
    "García",
    "Jørgensen",
    "Lefèvre",
    "Dvořák",
    "Østergaard",
    "Gonçalves",
    "Kowalczyk",
    "Peña",
    "Schröder",
    "Brontë",
    "Fernández",
    "Öztürk",
    "Håland",
    "Żak",
    "Ibáñez",
    "Mäkinen",
    "Sánchez",
    "Rossi",
    "Smith",
    "O'Brien",
    "Novák",
    "Weiß",
    "Leclerc",
    "Björk",
    "Díaz",
    "Herrera",
    "Grünewald",
    "Castaño",
    "Lindqvist",
    "Moreau",
    "Ferreira",
    "Ó Súilleabháin",
    "Costa",
    "Janssen",
    "De Vries",
    "Papadopoulos",
    "Łukasiewicz",
];

/// Offsets into the name space, so practitioners, accounts and patients differ.
const PRAC_NAMES: usize = 0;
const ACCOUNT_NAMES: usize = 400;
const PATIENT_NAMES: usize = 700;

/// The `i`-th name: distinct for the first 1,600; `0..3` are Ángela Müller, Élodie Durand
/// and Zoë Nuñez.
fn name_parts(i: usize) -> (&'static str, &'static str) {
    let (f, l) = (FIRST_NAMES.len(), LAST_NAMES.len());
    let i = i % (f * l);
    (FIRST_NAMES[i % f], LAST_NAMES[(i % f + i / f) % l])
}

fn full_name(i: usize) -> String {
    let (first, last) = name_parts(i);
    format!("{first} {last}")
}

/// A name part as an ASCII email label: accents dropped, spaces to dashes.
fn email_label(part: &str) -> String {
    let mut out = String::new();
    for c in fold_name(part).chars() {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            ' ' | '-' => out.push('-'),
            'ß' => out.push_str("ss"),
            'ł' => out.push('l'),
            'ø' => out.push('o'),
            'æ' => out.push_str("ae"),
            'œ' => out.push_str("oe"),
            'đ' => out.push('d'),
            'ı' => out.push('i'),
            _ => {}
        }
    }
    out
}

fn email(i: usize) -> String {
    let (first, last) = name_parts(i);
    format!("{}.{}@demo.example", email_label(first), email_label(last))
}

// ---- The world ----

/// Staff accounts at the head of every organisation: org admin, coordinator, reporter, clinic
/// admin (of the first clinic), receptionist.
const STAFF: u32 = 5;
/// Providers per clinic created before the window and never deactivated: there is always a
/// host to take a call.
const ANCHORS: u32 = 3;
/// Days before `now` the closed waiting area was closed.
const CLOSED_DAYS: i64 = 3;
/// Practitioners whose approval state is fixed (indexes).
const PENDING_PRAC: usize = 3;
const REJECTED_PRAC: usize = 4;

struct OrgPreset {
    name: &'static str,
    short: &'static str,
    slug: &'static str,
    state: &'static str,
    specialty: &'static str,
    contract: &'static str,
}

const ORG_PRESETS: [OrgPreset; 4] = [
    OrgPreset {
        name: "Nordlicht Telemedizin GmbH",
        short: "Nordlicht",
        slug: "nordlicht",
        state: "active",
        specialty: "General practice",
        contract: "enterprise",
    },
    OrgPreset {
        name: "Santé Connectée",
        short: "Santé",
        slug: "sante",
        state: "active",
        specialty: "Paediatrics",
        contract: "standard",
    },
    OrgPreset {
        name: "Clínica Aurora",
        short: "Aurora",
        slug: "aurora",
        state: "active",
        specialty: "Dermatology",
        contract: "standard",
    },
    OrgPreset {
        name: "Harbour Health Network",
        short: "Harbour",
        slug: "harbour",
        state: "trial",
        specialty: "Mental health",
        contract: "trial",
    },
];

const CLINIC_SPECIALTIES: [(&str, &str); 8] = [
    ("Cardiology", "cardio"),
    ("Dermatology", "derma"),
    ("Paediatrics", "paeds"),
    ("Psychiatry", "psych"),
    ("General practice", "gp"),
    ("Orthopaedics", "ortho"),
    ("Neurology", "neuro"),
    ("Physiotherapy", "physio"),
];

const PRAC_SPECIALTIES: [&str; 10] = [
    "General practice",
    "Dermatology",
    "Psychology",
    "Paediatrics",
    "Gynaecology",
    "Nutrition",
    "Cardiology",
    "Psychiatry",
    "Endocrinology",
    "Sexual health",
];

struct OrgW {
    id: String,
    name: String,
    preset: usize,
    created: i64,
    clinics: Vec<usize>,
    /// Rooms of the organisation (its first is a meeting room of its first clinic).
    rooms: Vec<usize>,
}

/// A provider's membership as the hosts of a clinic see it: valid from `from` until `until`.
struct Host {
    account: usize,
    from: i64,
    until: i64,
}

struct ClinicW {
    id: String,
    org: usize,
    name: String,
    subdomain: String,
    status: &'static str,
    specialty: &'static str,
    created: i64,
    deleted: Option<i64>,
    /// Waiting-area calls happen from here on (anchors are members by then)...
    open_from: i64,
    /// ...until the waiting area is closed or deleted, if it is.
    open_until: Option<i64>,
    hosts: Vec<Host>,
    /// Hosts that are always valid (indexes into `hosts`).
    anchors: Vec<usize>,
}

impl ClinicW {
    fn active(&self, t: i64) -> bool {
        t >= self.open_from && self.open_until.is_none_or(|d| t + 4 * HOUR < d)
    }

    /// A host account valid over `[t, t + 4h]`; an anchor when the draws miss.
    fn pick_host(&self, r: &mut Rng, t: i64) -> usize {
        for _ in 0..6 {
            let h = &self.hosts[r.index(self.hosts.len())];
            if h.from <= t && t + 4 * HOUR < h.until {
                return h.account;
            }
        }
        self.hosts[self.anchors[r.index(self.anchors.len())]].account
    }
}

struct AccountW {
    id: String,
    org: usize,
    name: usize,
    platform_role: &'static str,
    access_level: &'static str,
    created: i64,
    deactivated: Option<i64>,
}

struct MemberW {
    account: usize,
    clinic: usize,
    role: &'static str,
    granted: i64,
    revoked: Option<i64>,
}

struct RoomW {
    id: String,
    clinic: usize,
    kind: &'static str,
    name: String,
    owner: Option<usize>,
    created: i64,
    deleted: Option<i64>,
}

impl RoomW {
    fn active(&self, t: i64) -> bool {
        t >= self.created + HOUR && self.deleted.is_none_or(|d| t + 2 * HOUR < d)
    }
}

struct PracW {
    id: String,
    name: String,
    specialties: Vec<&'static str>,
    approval: &'static str,
    price: i64,
    currency: &'static str,
    scheduling: bool,
    created: i64,
    /// A later profile change: when, and the new price.
    update: Option<(i64, i64)>,
}

struct PersonW {
    id: String,
    name: String,
    created: i64,
}

struct VoucherW {
    code: String,
    limit: Option<u32>,
    expires: Option<i64>,
    created: i64,
}

/// Everything stories refer to; built once, never changed.
struct World {
    now: i64,
    window_start: i64,
    dst_days: Vec<i64>,
    orgs: Vec<OrgW>,
    clinics: Vec<ClinicW>,
    rooms: Vec<RoomW>,
    accounts: Vec<AccountW>,
    members: Vec<MemberW>,
    pracs: Vec<PracW>,
    /// Indexes of approved practitioners (the first is `prac-1`).
    approved: Vec<usize>,
    patients: Vec<PersonW>,
    vouchers: Vec<VoucherW>,
    /// [`Scale::chatter`].
    chatter: u32,
}

impl World {
    fn build(seed: u64, scale: &Scale, now: i64) -> World {
        let mut r = Rng::new(seed, S_WORLD, 0);
        let ws = now - WINDOW_DAYS * DAY;
        let mut w = World {
            now,
            window_start: ws,
            dst_days: dst_days(now),
            orgs: Vec::new(),
            clinics: Vec::new(),
            rooms: Vec::new(),
            accounts: Vec::new(),
            members: Vec::new(),
            pracs: Vec::new(),
            approved: Vec::new(),
            patients: Vec::new(),
            vouchers: Vec::new(),
            chatter: scale.chatter,
        };
        let cpo = scale.clinics_per_org as usize;
        let norgs = scale.organisations as usize;
        for o in 0..norgs {
            let preset = o % ORG_PRESETS.len();
            let name = if o < ORG_PRESETS.len() {
                ORG_PRESETS[o].name.to_string()
            } else {
                format!("{} {}", ORG_PRESETS[preset].name, o / ORG_PRESETS.len() + 1)
            };
            // The fourth organisation joined during the window; the others long before.
            let created = if o == 3 {
                ws + 20 * DAY
            } else {
                now - r.range(900, 1_300) * DAY
            };
            w.orgs.push(OrgW {
                id: format!("org-{}", o + 1),
                name,
                preset,
                created,
                clinics: Vec::new(),
                rooms: Vec::new(),
            });
            // Clinics.
            for k in 0..cpo {
                let c = w.clinics.len();
                let (specialty, spec_slug) = CLINIC_SPECIALTIES[(o + k) % CLINIC_SPECIALTIES.len()];
                let created_c = if o == 1 && k == cpo - 1 {
                    ws + 40 * DAY // a new waiting area
                } else if o == 3 {
                    created + r.range(DAY, 3 * DAY)
                } else {
                    created + r.range(DAY, 200 * DAY)
                };
                let deleted = (o == 2 && k == cpo - 1).then(|| now - 30 * DAY);
                let status = match (deleted, o, k) {
                    (Some(_), _, _) => "disabled",
                    (None, 1, 1) => "closed",
                    _ => "open",
                };
                let suffix = if o < ORG_PRESETS.len() {
                    String::new()
                } else {
                    format!("-{}", o + 1)
                };
                w.clinics.push(ClinicW {
                    id: format!("clinic-{}", c + 1),
                    org: o,
                    name: format!("{} {specialty}", ORG_PRESETS[preset].short),
                    subdomain: format!("{}{suffix}-{spec_slug}", ORG_PRESETS[preset].slug),
                    status,
                    specialty,
                    created: created_c,
                    deleted,
                    open_from: created_c + 7 * DAY,
                    open_until: deleted.or((status == "closed").then_some(now - CLOSED_DAYS * DAY)),
                    hosts: Vec::new(),
                    anchors: Vec::new(),
                });
                w.orgs[o].clinics.push(c);
            }
            w.build_accounts(&mut r, scale, o);
            w.build_rooms(&mut r, o);
        }
        w.build_marketplace(&mut r, scale);
        w
    }

    fn build_accounts(&mut self, r: &mut Rng, scale: &Scale, o: usize) {
        let (now, ws) = (self.now, self.window_start);
        let org_created = self.orgs[o].created;
        let new_org = org_created > ws;
        let clinics = self.orgs[o].clinics.clone();
        let cpo = clinics.len();
        for j in 0..scale.accounts_per_org as usize {
            let a = self.accounts.len();
            let provider = j >= STAFF as usize;
            let k = j.saturating_sub(STAFF as usize);
            let anchor = provider && k < ANCHORS as usize * cpo;
            let created = if !provider || anchor {
                org_created + r.range(HOUR, 2 * DAY)
            } else if new_org {
                org_created + r.range(HOUR, (now - org_created - 7 * DAY).max(2 * HOUR))
            } else if r.permille(250) {
                ws + r.range(0, WINDOW_DAYS * DAY - 7 * DAY) // new during the window
            } else {
                org_created + r.range(HOUR, (ws - org_created - DAY).max(2 * HOUR))
            };
            let deactivated = (provider && !anchor && r.permille(50))
                .then(|| (created + DAY).max(ws) + r.range(0, 60 * DAY))
                .filter(|&d| d < now - DAY);
            let (platform_role, access_level) = match j {
                0 => ("org_admin", "full"),
                1 => ("org_coordinator", "full"),
                2 => ("org_reporter", "read_only"),
                _ if provider && r.permille(200) => ("standard", "limited"),
                _ => ("standard", "full"),
            };
            self.accounts.push(AccountW {
                id: format!("acc-{}", a + 1),
                org: o,
                name: ACCOUNT_NAMES + a,
                platform_role,
                access_level,
                created,
                deactivated,
            });
            // Memberships: (clinic, role).
            let mut grants: Vec<(usize, &'static str, bool)> = match j {
                0 => clinics.iter().map(|&c| (c, "admin", false)).collect(),
                1 => vec![(clinics[0], "coordinator", false)],
                2 => vec![(clinics[0], "reporter", false)],
                3 => vec![(clinics[0], "admin", false)],
                4 => vec![(clinics[1 % cpo], "receptionist", false)],
                _ => vec![(clinics[k % cpo], "provider", false)],
            };
            if provider && !anchor && r.permille(300) {
                grants.push((clinics[(k + 1) % cpo], "provider", true));
            }
            for (c, role, later) in grants {
                let clinic = &self.clinics[c];
                let base = created.max(clinic.created);
                let granted = if later {
                    (base + r.range(HOUR, 120 * DAY)).min(now - 2 * DAY)
                } else {
                    base + r.range(HOUR, DAY)
                };
                let mut revoked = deactivated;
                if later && revoked.is_none() && r.permille(150) {
                    revoked = Some(granted + r.range(DAY, 30 * DAY)).filter(|&t| t < now - DAY);
                }
                if revoked.is_some_and(|t| t <= granted) {
                    continue;
                }
                if role == "provider" {
                    let clinic = &mut self.clinics[c];
                    if anchor {
                        clinic.anchors.push(clinic.hosts.len());
                    }
                    clinic.hosts.push(Host {
                        account: a,
                        from: granted,
                        until: revoked.unwrap_or(i64::MAX),
                    });
                }
                self.members.push(MemberW {
                    account: a,
                    clinic: c,
                    role,
                    granted,
                    revoked,
                });
            }
        }
    }

    fn build_rooms(&mut self, r: &mut Rng, o: usize) {
        let clinics = self.orgs[o].clinics.clone();
        for c in clinics {
            let clinic = &self.clinics[c];
            let base = clinic.created;
            let mut new_rooms: Vec<(&'static str, String, Option<usize>)> = vec![
                ("meeting", format!("{} meeting room", clinic.name), None),
                ("group", format!("{} group room", clinic.name), None),
            ];
            for &h in &clinic.anchors {
                let acc = clinic.hosts[h].account;
                let (first, last) = name_parts(self.accounts[acc].name);
                new_rooms.push(("user", format!("{first} {last}'s room"), Some(acc)));
            }
            for (n, (kind, name, owner)) in new_rooms.into_iter().enumerate() {
                let id = self.rooms.len();
                let created = base + r.range(HOUR, 5 * DAY);
                // Every fourth clinic lost its meeting room during the window.
                let deleted = (n == 0 && c % 4 == 1)
                    .then(|| self.window_start + r.range(30 * DAY, 150 * DAY))
                    .filter(|&d| d > created + DAY);
                self.rooms.push(RoomW {
                    id: format!("room-{}", id + 1),
                    clinic: c,
                    kind,
                    name,
                    owner,
                    created,
                    deleted,
                });
                self.orgs[o].rooms.push(id);
            }
        }
    }

    fn build_marketplace(&mut self, r: &mut Rng, scale: &Scale) {
        let ws = self.window_start;
        for i in 0..scale.practitioners as usize {
            let approval = match i {
                0..=2 => "approved",
                PENDING_PRAC => "pending",
                REJECTED_PRAC => "rejected",
                _ if r.permille(50) => "pending",
                _ if r.permille(50) => "rejected",
                _ => "approved",
            };
            let created = if approval == "pending" {
                ws + r.range(0, 150 * DAY)
            } else {
                ws - 60 * DAY - r.range(0, 700 * DAY)
            };
            let mut specialties = vec![PRAC_SPECIALTIES[r.index(PRAC_SPECIALTIES.len())]];
            if r.permille(300) {
                let second = PRAC_SPECIALTIES[r.index(PRAC_SPECIALTIES.len())];
                if second != specialties[0] {
                    specialties.push(second);
                }
            }
            let price = 2_500 + 500 * r.range(0, 20);
            let update = (approval == "approved" && r.permille(200)).then(|| {
                (
                    ws + r.range(10 * DAY, 170 * DAY),
                    price + 500 * r.range(1, 4),
                )
            });
            if approval == "approved" {
                self.approved.push(i);
            }
            self.pracs.push(PracW {
                id: format!("prac-{}", i + 1),
                name: full_name(PRAC_NAMES + i),
                specialties,
                approval,
                price,
                currency: if i % 10 == 9 { "GBP" } else { "EUR" },
                scheduling: r.permille(600),
                created,
                update,
            });
        }
        for i in 0..scale.patients as usize {
            self.patients.push(PersonW {
                id: format!("pat-{}", i + 1),
                name: full_name(PATIENT_NAMES + i),
                created: ws - 60 * DAY - r.range(0, 500 * DAY),
            });
        }
        const WORDS: [&str; 6] = ["WELCOME", "SPRING", "CARE", "FAMILY", "STUDENT", "PARTNER"];
        for i in 0..scale.vouchers as usize {
            let limit = (i % 3 != 0).then(|| 20 + r.range(0, 80) as u32);
            let expires = match i % 4 {
                0 => None,
                1 => Some(ws + r.range(30 * DAY, 120 * DAY)), // expired during the window
                _ => Some(self.now + r.range(30 * DAY, 365 * DAY)),
            };
            self.vouchers.push(VoucherW {
                code: format!("{}-{:02}", WORDS[i % WORDS.len()], i + 1),
                limit,
                expires,
                created: ws - 30 * DAY - r.range(0, 60 * DAY),
            });
        }
    }

    /// Where and when the next random waiting-area call happens: its day follows the rows
    /// generated so far, so the calls spread evenly over the window.
    fn random_session(&self, r: &mut Rng, rows: u64, target: u64) -> (i64, Vec<usize>) {
        let day = (u128::from(rows) * (WINDOW_DAYS as u128 - 1) / u128::from(target.max(1))) as i64;
        let mut start =
            day_start(self.window_start) + (day + 1) * DAY + r.range(6 * HOUR, 19 * HOUR);
        if start + 4 * HOUR > self.now {
            start = self.now - 4 * HOUR - r.range(0, 2 * HOUR);
        }
        let org = &self.orgs[r.index(self.orgs.len())];
        let active: Vec<usize> = org
            .clinics
            .iter()
            .copied()
            .filter(|&c| self.clinics[c].active(start))
            .collect();
        let Some(&first) = active.get(r.index(active.len())) else {
            return (start, vec![self.orgs[0].clinics[0]]);
        };
        let segments = match r.below(1000) {
            0..=14 => 3,
            15..=114 => 2,
            _ => 1,
        };
        let mut clinics = vec![first];
        let mut others: Vec<usize> = active.into_iter().filter(|&c| c != first).collect();
        while clinics.len() < segments && !others.is_empty() {
            clinics.push(others.remove(r.index(others.len())));
        }
        (start, clinics)
    }

    /// When and in which room the next random room call happens.
    fn random_room_call(&self, r: &mut Rng) -> (i64, usize) {
        let start = self.window_start + r.range(DAY, WINDOW_DAYS * DAY - 2 * HOUR);
        for _ in 0..8 {
            let room = r.index(self.rooms.len());
            if self.rooms[room].active(start) {
                return (start, room);
            }
        }
        (start, self.orgs[0].rooms[0])
    }
}

// ---- Stories ----

/// Events of one story: (time, type, data). Sorted (stably) before emission.
#[derive(Default)]
struct Story {
    events: Vec<(i64, &'static str, Value)>,
}

impl Story {
    fn push(&mut self, at: i64, kind: &'static str, data: Value) {
        self.events.push((at, kind, data));
    }
}

/// Counters shared by all stories (ids are numbered in generation order).
#[derive(Default)]
struct State {
    msg: u64,
    secret: u64,
    request: u64,
    payment: u64,
    consultation: u64,
    note: u64,
    call: u64,
    rating: u64,
    redemption: u64,
    session: u64,
    queued: u64,
    segment: u64,
    participant: u64,
    room_call: u64,
    voucher_uses: Vec<u32>,
    /// Set by the first thread call the patient joined first.
    patient_first_call: Option<String>,
}

fn money(amount_minor: i64, currency: &str) -> Value {
    json!({ "amount_minor": amount_minor, "currency": currency })
}

fn set(v: &mut Value, field: &str, value: Option<Value>) {
    if let (Some(value), Some(obj)) = (value, v.as_object_mut()) {
        obj.insert(field.to_string(), value);
    }
}

/// Organisations, clinics, rooms, accounts, memberships, practitioners, patients and
/// vouchers as created, then their later updates.
fn reference_story(w: &World) -> Story {
    let mut s = Story::default();
    let mut later = Story::default();
    for (o, org) in w.orgs.iter().enumerate() {
        let p = &ORG_PRESETS[org.preset];
        let mut data = json!({
            "org_id": org.id, "name": org.name, "state": p.state, "specialty": p.specialty,
            "contract": p.contract, "created_at": fmt_time(org.created),
        });
        s.push(org.created, "organisation.upserted", data.clone());
        if o == 3 {
            // The trial organisation signed a contract during the window.
            set(&mut data, "state", Some(json!("active")));
            set(&mut data, "contract", Some(json!("standard")));
            later.push(org.created + 60 * DAY, "organisation.upserted", data);
        }
    }
    for c in &w.clinics {
        let p = &ORG_PRESETS[w.orgs[c.org].preset];
        let mut data = json!({
            "clinic_id": c.id, "org_id": w.orgs[c.org].id, "name": c.name,
            "subdomain": c.subdomain, "waiting_area_status": "open", "state": p.state,
            "specialty": c.specialty, "contract": p.contract, "created_at": fmt_time(c.created),
        });
        s.push(c.created, "clinic.upserted", data.clone());
        if c.status != "open" || c.deleted.is_some() {
            set(&mut data, "waiting_area_status", Some(json!(c.status)));
            set(
                &mut data,
                "deleted_at",
                c.deleted.map(|d| json!(fmt_time(d))),
            );
            later.push(
                c.open_until.unwrap_or(w.now - CLOSED_DAYS * DAY),
                "clinic.upserted",
                data,
            );
        }
    }
    for room in &w.rooms {
        let clinic = &w.clinics[room.clinic];
        let mut data = json!({
            "room_id": room.id, "org_id": w.orgs[clinic.org].id, "clinic_id": clinic.id,
            "room_type": room.kind, "name": room.name, "created_at": fmt_time(room.created),
        });
        set(
            &mut data,
            "owner_account_id",
            room.owner.map(|a| json!(w.accounts[a].id)),
        );
        s.push(room.created, "room.upserted", data.clone());
        if let Some(d) = room.deleted {
            set(&mut data, "deleted_at", Some(json!(fmt_time(d))));
            later.push(d, "room.upserted", data);
        }
    }
    for a in &w.accounts {
        let (first, last) = name_parts(a.name);
        let mut data = json!({
            "account_id": a.id, "org_id": w.orgs[a.org].id, "email": email(a.name),
            "name": format!("{first} {last}"), "platform_role": a.platform_role,
            "access_level": a.access_level, "created_at": fmt_time(a.created),
        });
        s.push(a.created, "account.upserted", data.clone());
        if let Some(d) = a.deactivated {
            set(&mut data, "deactivated_at", Some(json!(fmt_time(d))));
            later.push(d, "account.upserted", data);
        }
    }
    for m in &w.members {
        let clinic = &w.clinics[m.clinic];
        let mut data = json!({
            "account_id": w.accounts[m.account].id, "clinic_id": clinic.id,
            "org_id": w.orgs[clinic.org].id, "clinic_role": m.role,
            "granted_at": fmt_time(m.granted),
        });
        s.push(m.granted, "membership.upserted", data.clone());
        if let Some(rv) = m.revoked {
            set(&mut data, "revoked_at", Some(json!(fmt_time(rv))));
            later.push(rv, "membership.upserted", data);
        }
    }
    for p in &w.pracs {
        let mut data = json!({
            "practitioner_id": p.id, "name": p.name, "specialties": p.specialties,
            "approval": p.approval, "price": money(p.price, p.currency),
            "has_scheduling_practice": p.scheduling,
        });
        s.push(p.created, "practitioner.upserted", data.clone());
        if let Some((at, price)) = p.update {
            set(&mut data, "price", Some(money(price, p.currency)));
            later.push(at, "practitioner.upserted", data);
        }
    }
    for p in &w.patients {
        s.push(
            p.created,
            "patient.upserted",
            json!({ "patient_id": p.id, "name": p.name }),
        );
    }
    for v in &w.vouchers {
        let mut data = json!({ "code": v.code });
        set(&mut data, "usage_limit", v.limit.map(|l| json!(l)));
        set(
            &mut data,
            "expires_at",
            v.expires.map(|e| json!(fmt_time(e))),
        );
        s.push(v.created, "voucher.created", data);
    }
    // Every update is later than the creation it follows, so the emitter's stable time sort
    // keeps each entity's events in causal order.
    s.events.append(&mut later.events);
    s
}

/// A practitioner switching between available and away a few times.
fn availability_story(w: &World, seed: u64, p: usize) -> Story {
    let mut r = Rng::new(seed, S_AVAILABILITY, p as u64);
    let mut s = Story::default();
    let n = 1 + r.below(5);
    let mut times: Vec<i64> = (0..n)
        .map(|_| w.window_start + r.range(0, WINDOW_DAYS * DAY - HOUR))
        .collect();
    times.sort_unstable();
    let mut available = r.permille(500);
    for t in times {
        available = !available;
        s.push(
            t,
            "practitioner.availability_changed",
            json!({
                "practitioner_id": w.pracs[p].id,
                "availability": if available { "available" } else { "away" },
            }),
        );
    }
    s
}

/// An account's logins over the window (none for some; the first account also logs in
/// twice on each DST-change night).
fn login_story(w: &World, seed: u64, a: usize) -> Story {
    let mut r = Rng::new(seed, S_LOGIN, a as u64);
    let acc = &w.accounts[a];
    let from = acc.created.max(w.window_start) + HOUR;
    let until = acc.deactivated.unwrap_or(w.now - HOUR);
    let mut times: Vec<i64> = Vec::new();
    if until > from && !r.permille(100) {
        let n = 1 + r.below(12);
        times.extend((0..n).map(|_| r.range(from, until)));
    }
    if a == 0 {
        for &d in &w.dst_days {
            times.extend([d + 30 * MIN, d + 150 * MIN]);
        }
    }
    times.sort_unstable();
    let mut s = Story::default();
    for t in times {
        s.push(
            t,
            "account.logged_in",
            json!({ "account_id": acc.id, "org_id": w.orgs[acc.org].id }),
        );
    }
    s
}

/// A consultation opened by a payment.
struct Consult {
    id: String,
    total: i64,
    commission: i64,
}

/// Builds one thread's story, moving its clock forward as things happen.
struct ThreadBuilder<'a> {
    w: &'a World,
    st: &'a mut State,
    r: Rng,
    story: Story,
    t: i64,
    thread_id: String,
    patients: Vec<usize>,
    pracs: Vec<usize>,
}

const PATIENT_KINDS: [&str; 10] = [
    "text", "text", "text", "text", "text", "text", "text", "image", "file", "audio",
];
const NOTE_TYPES: [&str; 4] = [
    "diagnosis",
    "medical_advice",
    "prescription",
    "in_person_recommendation",
];
const COMMENTS: [&str; 6] = [
    "Très professionnelle, merci beaucoup !",
    "Muy amable y clara en sus explicaciones.",
    "Sehr hilfreich, gerne wieder.",
    "Quick and helpful.",
    "Waited a little, but the advice was excellent.",
    "Grazie, consulto rapido e chiaro.",
];

impl ThreadBuilder<'_> {
    fn wait(&mut self, lo: i64, hi: i64) {
        self.t += self.r.range(lo, hi).max(1);
    }

    fn push(&mut self, kind: &'static str, data: Value) {
        self.story.push(self.t, kind, data);
    }

    fn pat_id(&self) -> &str {
        &self.w.patients[self.patients[0]].id
    }

    fn prac(&self) -> &PracW {
        &self.w.pracs[self.pracs[0]]
    }

    fn system(&mut self, text: &str) {
        let id = format!("msg-{}", bump(&mut self.st.msg));
        let data = json!({
            "thread_id": self.thread_id, "message_id": id, "sender_id": "system",
            "sender_role": "system", "kind": "system", "system_text": text,
        });
        self.push("message.sent", data);
    }

    fn ciphertext(&mut self) -> String {
        let n = bump(&mut self.st.secret);
        base64::engine::general_purpose::STANDARD.encode(format!("{SECRET_MARKER}{n}"))
    }

    fn patient_message(&mut self) {
        let who = if self.patients.len() > 1 && self.r.permille(250) {
            self.patients[1]
        } else {
            self.patients[0]
        };
        let alt = self.r.permille(200);
        let device = patient_device(who, alt);
        let kind = self.r.pick(&PATIENT_KINDS);
        let id = format!("msg-{}", bump(&mut self.st.msg));
        let data = json!({
            "thread_id": self.thread_id, "message_id": id,
            "sender_id": self.w.patients[who].id, "sender_role": "patient", "kind": kind,
            "device": device, "ciphertext": self.ciphertext(),
        });
        self.push("message.sent", data);
    }

    fn prac_message(&mut self) {
        let who = if self.pracs.len() > 1 && self.r.permille(300) {
            self.pracs[1]
        } else {
            self.pracs[0]
        };
        let device = if who % 3 == 0 {
            json!({ "platform": "ios", "model": "iPad Pro", "app_version": "5.3.0" })
        } else {
            json!({ "platform": "web", "app_version": "web-2026.2" })
        };
        let kind = if self.r.permille(900) { "text" } else { "file" };
        let id = format!("msg-{}", bump(&mut self.st.msg));
        let data = json!({
            "thread_id": self.thread_id, "message_id": id, "sender_id": self.w.pracs[who].id,
            "sender_role": "practitioner", "kind": kind, "device": device,
            "ciphertext": self.ciphertext(),
        });
        self.push("message.sent", data);
    }

    fn opened(&mut self, practitioner: bool) {
        let (reader, role) = if practitioner {
            (self.prac().id.clone(), "practitioner")
        } else {
            (self.pat_id().to_string(), "patient")
        };
        let data = json!({ "thread_id": self.thread_id, "reader_id": reader, "reader_role": role });
        self.push("thread.opened", data);
    }

    /// A payment item; returns its id.
    fn payment(
        &mut self,
        kind: &str,
        consult: Option<&str>,
        total: i64,
        commission: i64,
        extra: &[(&str, &str)],
    ) -> String {
        let id = format!("pay-{}", bump(&mut self.st.payment));
        let prac = self.prac();
        let mut data = json!({
            "payment_id": id, "payment_type": kind, "thread_id": self.thread_id,
            "patient_id": self.pat_id(), "practitioner_id": prac.id,
            "total": money(total, prac.currency), "commission_minor": commission,
        });
        set(&mut data, "consultation_id", consult.map(|c| json!(c)));
        for (field, value) in extra {
            set(&mut data, field, Some(json!(value)));
        }
        self.push("payment.completed", data);
        id
    }

    fn price(&self) -> i64 {
        let p = self.prac();
        match p.update {
            Some((at, price)) if at <= self.t => price,
            _ => p.price,
        }
    }

    /// A payment that opens a consultation.
    fn open_consultation(&mut self, kind: &str, extra: &[(&str, &str)]) -> Consult {
        let id = format!("cons-{}", bump(&mut self.st.consultation));
        let total = self.price();
        let commission = total * 15 / 100;
        self.payment(kind, Some(&id), total, commission, extra);
        Consult {
            id,
            total,
            commission,
        }
    }

    fn request(&mut self) -> String {
        let id = format!("preq-{}", bump(&mut self.st.request));
        let amount = money(self.price(), self.prac().currency);
        let data = json!({
            "request_id": id, "thread_id": self.thread_id, "practitioner_id": self.prac().id,
            "patient_id": self.pat_id(), "amount": amount,
        });
        self.push("payment_request.sent", data);
        self.system("Payment request sent.");
        id
    }

    fn answer(&mut self, request: &str, accepted: bool) {
        let answer = if accepted { "accepted" } else { "rejected" };
        let data = json!({ "request_id": request, "thread_id": self.thread_id, "answer": answer });
        self.push("payment_request.answered", data);
    }

    /// A voucher the patient may redeem now, if any is left.
    fn usable_voucher(&mut self) -> Option<usize> {
        let n = self.w.vouchers.len();
        let start = self.r.index(n);
        (0..n).map(|k| (start + k) % n).find(|&v| {
            let voucher = &self.w.vouchers[v];
            voucher.expires.is_none_or(|e| self.t + 30 * DAY < e)
                && voucher.limit.is_none_or(|l| self.st.voucher_uses[v] < l)
        })
    }

    /// An audio or video call the practitioner starts (or the patient joins first and
    /// waits); it ends when the practitioner leaves.
    fn call(&mut self, patient_first: bool) {
        let id = format!("call-{}", bump(&mut self.st.call));
        let media = if self.r.permille(600) {
            "video"
        } else {
            "audio"
        };
        let prac = self.prac().id.clone();
        let pat = self.pat_id().to_string();
        let join = |s: &mut Self, who: &str, role: &str| {
            let data = json!({
                "call_id": id, "thread_id": s.thread_id, "practitioner_id": prac,
                "participant_id": who, "participant_role": role, "media": media,
            });
            s.push("call.joined", data);
        };
        let leave = |s: &mut Self, who: &str, role: &str| {
            let data = json!({ "call_id": id, "participant_id": who, "participant_role": role });
            s.push("call.left", data);
        };
        if patient_first {
            join(self, &pat, "patient");
            self.wait(30, 5 * MIN);
            join(self, &prac, "practitioner");
            if self.st.patient_first_call.is_none() {
                self.st.patient_first_call = Some(id.clone());
            }
        } else {
            join(self, &prac, "practitioner");
            self.wait(5, 90);
            join(self, &pat, "patient");
        }
        if self.r.permille(50) {
            // The patient's connection drops and comes back.
            self.wait(2 * MIN, 8 * MIN);
            leave(self, &pat, "patient");
            self.wait(20, 60);
            join(self, &pat, "patient");
        }
        self.wait(3 * MIN, 30 * MIN);
        if self.r.permille(300) {
            leave(self, &pat, "patient");
            self.wait(1, 60);
            leave(self, &prac, "practitioner");
        } else {
            leave(self, &prac, "practitioner");
            self.wait(1, 20);
            leave(self, &pat, "patient");
        }
        self.system(if media == "video" {
            "Video call ended."
        } else {
            "Audio call ended."
        });
    }

    fn note(&mut self, note_type: &str) {
        let id = format!("note-{}", bump(&mut self.st.note));
        let data = json!({
            "thread_id": self.thread_id, "note_id": id, "practitioner_id": self.prac().id,
            "note_type": note_type,
        });
        self.push("clinical_note.sent", data);
    }

    fn rating(&mut self) {
        let id = format!("rating-{}", bump(&mut self.st.rating));
        let stars = [5, 5, 5, 4, 4, 4, 3, 2, 1, 5][self.r.index(10)];
        let mut data = json!({
            "rating_id": id, "patient_id": self.pat_id(), "practitioner_id": self.prac().id,
            "stars": stars,
        });
        if self.r.permille(600) {
            set(&mut data, "comment", Some(json!(self.r.pick(&COMMENTS))));
        }
        self.push("rating.submitted", data);
    }
}

/// The devices a patient uses: a main one and an occasional second one.
fn patient_device(patient: usize, alt: bool) -> Value {
    let version = format!("5.{}.{}", patient % 4, patient % 7);
    match (patient + usize::from(alt)) % 3 {
        0 => {
            let model = ["iPhone 13", "iPhone 15 Pro", "iPad Air"][patient % 3];
            json!({ "platform": "ios", "model": model, "app_version": version })
        }
        1 => {
            let model = ["Pixel 8", "Galaxy S23", "Fairphone 5"][patient % 3];
            json!({ "platform": "android", "model": model, "app_version": version })
        }
        _ => json!({ "platform": "web" }),
    }
}

/// One message thread from its creation to its end: messages, opens, payments,
/// consultations (some cancelled), calls, clinical notes and a rating.
fn thread_story(w: &World, st: &mut State, seed: u64, idx: u64, thread_id: &str) -> Story {
    let mut r = Rng::new(seed, S_THREAD, idx);
    // The first thread is the showcase of the demo patient and practitioner.
    let showcase = idx == 0;
    let (pat, prac) = if showcase {
        (0, w.approved[0])
    } else {
        (
            r.index(w.patients.len()),
            w.approved[r.skewed(w.approved.len())],
        )
    };
    let mut patients = vec![pat];
    if r.permille(30) {
        let other = r.index(w.patients.len());
        if other != pat {
            patients.push(other);
        }
    }
    let mut pracs = vec![prac];
    if r.permille(20) {
        let other = w.approved[r.index(w.approved.len())];
        if other != prac {
            pracs.push(other);
        }
    }
    let t = if showcase {
        w.now - 12 * DAY
    } else {
        w.window_start + r.range(0, WINDOW_DAYS * DAY - HOUR)
    };
    let mut b = ThreadBuilder {
        w,
        st,
        r,
        story: Story::default(),
        t,
        thread_id: thread_id.to_string(),
        patients,
        pracs,
    };
    let created = json!({
        "thread_id": thread_id,
        "patient_ids": b.patients.iter().map(|&p| &w.patients[p].id).collect::<Vec<_>>(),
        "practitioner_ids": b.pracs.iter().map(|&p| &w.pracs[p].id).collect::<Vec<_>>(),
    });
    b.push("thread.created", created);
    b.system("Welcome! Your practitioner will answer as soon as possible.");

    let mut consult: Option<Consult> = None;
    let booked = showcase || b.r.permille(300);
    if booked {
        b.wait(MIN, 2 * HOUR);
        consult = Some(b.open_consultation("booked_appointment", &[]));
        b.system("Appointment booked.");
    }
    b.wait(MIN, 30 * MIN);
    for _ in 0..1 + b.r.below(3) {
        b.patient_message();
        b.wait(10, 10 * MIN);
    }
    for _ in 0..w.chatter {
        b.patient_message();
        b.wait(10, 10 * MIN);
    }
    let mode = if showcase { 999 } else { b.r.below(1000) };
    if mode < 70 {
        return b.story; // Not seen, waiting answer.
    }
    b.wait(5 * MIN, 8 * HOUR);
    b.opened(true);
    if mode < 140 {
        return b.story; // Seen, still waiting answer.
    }
    for round in 0..1 + b.r.below(3) {
        b.wait(MIN, 30 * MIN);
        b.prac_message();
        b.wait(MIN, 6 * HOUR);
        b.opened(false);
        if round > 0 || b.r.permille(800) {
            b.wait(MIN, 20 * MIN);
            b.patient_message();
            b.wait(MIN, 4 * HOUR);
            b.opened(true);
        }
    }

    if consult.is_none() {
        match b.r.below(1000) {
            0..=449 => {
                b.wait(MIN, 2 * HOUR);
                let request = b.request();
                b.wait(10 * MIN, 2 * DAY);
                match b.r.below(1000) {
                    0..=749 => {
                        b.answer(&request, true);
                        consult = Some(b.open_consultation(
                            "thread_request",
                            &[("request_id", request.as_str())],
                        ));
                        b.system("Payment request accepted.");
                    }
                    750..=929 => {
                        b.answer(&request, false);
                        b.system("Payment request declined.");
                        return b.story;
                    }
                    _ => return b.story, // Still awaiting the patient.
                }
            }
            450..=529 => {
                if let Some(v) = b.usable_voucher() {
                    b.wait(MIN, 2 * HOUR);
                    b.st.voucher_uses[v] += 1;
                    let code = w.vouchers[v].code.clone();
                    let c = b.open_consultation("voucher", &[("voucher_code", code.as_str())]);
                    let payment = format!("pay-{}", b.st.payment);
                    let redemption = format!("redeem-{}", bump(&mut b.st.redemption));
                    let data = json!({
                        "code": code, "redemption_id": redemption, "patient_id": b.pat_id(),
                        "payment_id": payment,
                    });
                    b.push("voucher.redeemed", data);
                    consult = Some(c);
                }
            }
            _ => {}
        }
    }

    if let Some(c) = consult {
        let outcome = if showcase { 999 } else { b.r.below(1000) };
        if outcome < 70 {
            // Cancelled: refunded in full; a late cancellation by the patient costs a fee.
            b.wait(HOUR, 2 * DAY);
            let by_patient = b.r.permille(600);
            let data = json!({
                "consultation_id": c.id,
                "cancelled_by": if by_patient { "patient" } else { "practitioner" },
            });
            b.push("consultation.cancelled", data);
            b.system("Consultation cancelled.");
            b.wait(MIN, 6 * HOUR);
            b.payment("refund", Some(&c.id), -c.total, -c.commission, &[]);
            if by_patient && b.r.permille(500) {
                let fee = c.total * 30 / 100;
                b.payment(
                    "late_cancellation_fee",
                    Some(&c.id),
                    fee,
                    fee * 15 / 100,
                    &[],
                );
            }
        } else if outcome < 90 {
            // The patient did not show up: refunded, minus a no-show fee.
            b.wait(DAY, 3 * DAY);
            b.payment("refund", Some(&c.id), -c.total, -c.commission, &[]);
            let fee = c.total * 40 / 100;
            b.payment("no_show_fee", Some(&c.id), fee, fee * 15 / 100, &[]);
        } else {
            if showcase || b.r.permille(650) {
                b.wait(10 * MIN, 2 * DAY);
                let patient_first = showcase || b.r.permille(80);
                b.call(patient_first);
            }
            if showcase || b.r.permille(600) {
                let mut types = NOTE_TYPES.to_vec();
                for _ in 0..1 + b.r.below(3) {
                    let note = types.remove(b.r.index(types.len()));
                    b.wait(MIN, 3 * HOUR);
                    b.note(note);
                }
            }
            if !showcase && b.r.permille(120) {
                // A further request: rejected or still pending.
                b.wait(HOUR, 3 * DAY);
                let request = b.request();
                if b.r.permille(500) {
                    b.wait(10 * MIN, DAY);
                    b.answer(&request, false);
                }
            }
            if showcase || b.r.permille(450) {
                b.wait(HOUR, 3 * DAY);
                b.rating();
            }
        }
    }

    // How the thread stands now.
    match b.r.below(1000) {
        0..=149 => {
            b.wait(HOUR, 5 * DAY);
            b.patient_message(); // Waiting answer (maybe not seen).
            if b.r.permille(500) {
                b.wait(MIN, 2 * HOUR);
                b.opened(true);
            }
        }
        150..=449 => {
            b.wait(MIN, 2 * HOUR);
            b.prac_message();
            if b.r.permille(500) {
                b.wait(MIN, DAY);
                b.opened(false);
            }
        }
        _ => {}
    }
    b.story
}

/// A thread whose activity crosses a European DST change: it starts at 00:20 UTC and goes on
/// past 01:00 UTC (when the clocks change) until about 02:45 UTC.
fn dst_thread_story(
    w: &World,
    st: &mut State,
    seed: u64,
    idx: u64,
    thread_id: &str,
    day: i64,
) -> Story {
    let r = Rng::new(seed, S_THREAD, idx);
    let (pat, prac) = (1 % w.patients.len(), w.approved[1 % w.approved.len()]);
    let mut b = ThreadBuilder {
        w,
        st,
        r,
        story: Story::default(),
        t: day + 20 * MIN,
        thread_id: thread_id.to_string(),
        patients: vec![pat],
        pracs: vec![prac],
    };
    let created = json!({
        "thread_id": thread_id, "patient_ids": [w.patients[pat].id], "practitioner_ids": [w.pracs[prac].id],
    });
    b.push("thread.created", created);
    b.system("Welcome! Your practitioner will answer as soon as possible.");
    b.t = day + 35 * MIN;
    b.patient_message();
    b.t = day + 52 * MIN;
    b.opened(true);
    b.t = day + 68 * MIN;
    b.prac_message();
    b.t = day + 75 * MIN;
    let request = b.request();
    b.t = day + 91 * MIN;
    b.answer(&request, true);
    b.open_consultation("thread_request", &[("request_id", request.as_str())]);
    b.system("Payment request accepted.");
    b.t = day + 100 * MIN;
    b.call(false);
    b.t = b.t.max(day + 150 * MIN);
    b.note("diagnosis");
    b.t += 5 * MIN;
    b.opened(false);
    b.story
}

/// A generated waiting-area session and its rows in the Consultations report.
struct SessionStory {
    id: String,
    story: Story,
    rows: u64,
}

fn bandwidth(r: &mut Rng) -> Value {
    let send = r.range(250, 2_500);
    let receive = r.range(250, 2_500);
    json!({
        "send_kbps_avg": send, "receive_kbps_avg": receive,
        "send_kbps_max": send + r.range(0, 1_500), "receive_kbps_max": receive + r.range(0, 1_500),
        "packet_loss_permille": if r.permille(100) { r.range(10, 80) } else { r.range(0, 10) },
        "round_trip_ms_avg": r.range(20, 300),
    })
}

/// A waiting-area call: the caller enters the first clinic's waiting area, hosts join, and
/// the call is transferred from clinic to clinic (`clinics`: one segment each) until the
/// last segment ends. An abandoned call has one segment and no host. `first_len` fixes the
/// length of the first consultation.
fn session_story(
    w: &World,
    st: &mut State,
    r: &mut Rng,
    start: i64,
    clinics: &[usize],
    abandoned: bool,
    first_len: Option<i64>,
) -> SessionStory {
    let mut s = Story::default();
    let session = format!("sess-{}", bump(&mut st.session));
    let queued = format!("qc-{}", bump(&mut st.queued));
    let org = &w.orgs[w.clinics[clinics[0]].org].id;
    let caller = format!("part-{}", bump(&mut st.participant));
    let mut segment = format!("seg-{}", bump(&mut st.segment));
    s.push(
        start,
        "queued_call.entered",
        json!({ "queued_call_id": queued, "session_id": session, "org_id": org, "clinic_id": w.clinics[clinics[0]].id }),
    );
    let joined = |s: &mut Story, at: i64, seg: &str, part: &str, account: Option<&str>| {
        let mut data = json!({
            "session_id": session, "segment_id": seg, "participant_id": part,
            "participant_type": if account.is_some() { "host" } else { "caller" },
        });
        set(&mut data, "account_id", account.map(|a| json!(a)));
        s.push(at, "participant.joined", data);
    };
    let left = |s: &mut Story, r: &mut Rng, at: i64, seg: &str, part: &str| {
        let data = json!({
            "session_id": session, "segment_id": seg, "participant_id": part,
            "bandwidth": bandwidth(r),
        });
        s.push(at, "participant.left", data);
    };
    let mut rows = 0;
    let mut t = start;
    let extra_caller = clinics.len() == 1 && !abandoned && r.permille(50);
    for (k, &c) in clinics.iter().enumerate() {
        let clinic = &w.clinics[c];
        s.push(
            t,
            "segment.started",
            json!({
                "session_id": session, "segment_id": segment, "queued_call_id": queued,
                "org_id": org, "clinic_id": clinic.id,
            }),
        );
        joined(&mut s, t, &segment, &caller, None);
        rows += 1;
        if abandoned {
            let gone = t + r.range(30, 15 * MIN);
            left(&mut s, r, gone, &segment, &caller);
            s.push(
                gone,
                "queued_call.abandoned",
                json!({ "queued_call_id": queued, "session_id": session, "segment_id": segment }),
            );
            s.push(
                gone,
                "segment.ended",
                json!({ "session_id": session, "segment_id": segment }),
            );
            break;
        }
        let wait = if k == 0 {
            r.range(30, 15 * MIN)
        } else {
            r.range(10, 3 * MIN)
        };
        let host_join = t + wait;
        let len = match first_len {
            Some(len) if k == 0 => len,
            _ if r.permille(50) => r.range(10, 55), // a very short one
            _ => r.range(2 * MIN, 40 * MIN),
        };
        let end = host_join + len;
        // Hosts: (participant, joined, left).
        let mut hosts: Vec<(String, i64, i64)> = Vec::new();
        let first = clinic.pick_host(r, host_join);
        let first_part = format!("part-{}", bump(&mut st.participant));
        joined(
            &mut s,
            host_join,
            &segment,
            &first_part,
            Some(&w.accounts[first].id),
        );
        hosts.push((first_part, host_join, end));
        if r.permille(200) && len > 2 * MIN {
            let second = clinic.pick_host(r, host_join);
            if second != first {
                let part = format!("part-{}", bump(&mut st.participant));
                let at = host_join + r.range(MIN, len / 2);
                joined(&mut s, at, &segment, &part, Some(&w.accounts[second].id));
                let until = end - r.range(0, (end - at) / 2);
                hosts.push((part, at, until));
            }
        }
        let mut segment_end = end;
        if extra_caller {
            let part = format!("part-{}", bump(&mut st.participant));
            let at = t + r.range(0, wait + 1);
            joined(&mut s, at, &segment, &part, None);
            let gone = end + r.range(1, 20);
            left(&mut s, r, gone, &segment, &part);
            segment_end = segment_end.max(gone);
            rows += 1;
        }
        rows += hosts.len() as u64;
        if let Some(&next_clinic) = clinics.get(k + 1) {
            let next = format!("seg-{}", bump(&mut st.segment));
            s.push(
                end,
                "segment.transferred",
                json!({
                    "session_id": session, "segment_id": segment,
                    "to_clinic_id": w.clinics[next_clinic].id, "to_segment_id": next,
                }),
            );
            for (part, _, until) in &hosts {
                left(&mut s, r, (*until).min(end), &segment, part);
            }
            left(&mut s, r, end, &segment, &caller);
            s.push(
                end + 1,
                "segment.ended",
                json!({ "session_id": session, "segment_id": segment }),
            );
            segment = next;
            t = end + 1;
        } else {
            for (part, _, until) in &hosts {
                left(&mut s, r, *until, &segment, part);
            }
            let gone = end + r.range(1, 15);
            left(&mut s, r, gone, &segment, &caller);
            segment_end = segment_end.max(gone);
            s.push(
                segment_end,
                "segment.ended",
                json!({ "session_id": session, "segment_id": segment }),
            );
        }
    }
    SessionStory {
        id: session,
        story: s,
        rows,
    }
}

/// A call in a meeting, user or group room: a team member opens it, guests and colleagues
/// join and leave, the opener leaves last.
fn room_call_story(
    w: &World,
    st: &mut State,
    r: &mut Rng,
    start: i64,
    room: usize,
    len: Option<i64>,
) -> Story {
    let mut s = Story::default();
    let rm = &w.rooms[room];
    let clinic = &w.clinics[rm.clinic];
    let org = &w.orgs[clinic.org].id;
    let call = format!("rcall-{}", bump(&mut st.room_call));
    let end = start + len.unwrap_or_else(|| r.range(5 * MIN, 60 * MIN));
    let opener = rm.owner.unwrap_or_else(|| clinic.pick_host(r, start));
    let mut members = vec![opener];
    // (participant, account, joined, left)
    let mut people: Vec<(String, Option<usize>, i64, i64)> = Vec::new();
    people.push((
        format!("part-{}", bump(&mut st.participant)),
        Some(opener),
        start,
        end,
    ));
    for _ in 0..1 + r.below(4) {
        let account = if r.permille(400) {
            Some(clinic.pick_host(r, start)).filter(|a| !members.contains(a))
        } else {
            None
        };
        if let Some(a) = account {
            members.push(a);
        }
        let at = start + r.range(0, 5 * MIN);
        let until = end - r.range(0, ((end - at) / 3).max(1));
        people.push((
            format!("part-{}", bump(&mut st.participant)),
            account,
            at,
            until.max(at + 1),
        ));
    }
    for (part, account, at, until) in people {
        let mut data =
            json!({ "room_id": rm.id, "call_id": call, "org_id": org, "participant_id": part });
        set(
            &mut data,
            "account_id",
            account.map(|a| json!(w.accounts[a].id)),
        );
        s.push(at, "room_call.joined", data);
        s.push(
            until,
            "room_call.left",
            json!({ "room_id": rm.id, "call_id": call, "participant_id": part, "bandwidth": bandwidth(r) }),
        );
    }
    s
}

// ---- What logs must not hold ----

/// Every value of the generated data that must never reach a log (SPEC Q3), with its kind
/// (`name`, `email`, `message`, `comment`): each of the 1,600 names the generator can give
/// (as written and folded, as searches compare them) and its email, the plain and base64
/// message marker every ciphertext carries, the texts of system messages and the rating
/// comments. For the test run's log scan; tests/logs.rs holds it to generated data.
pub fn sensitive_needles() -> Vec<(&'static str, String)> {
    const SYSTEM_TEXTS: [&str; 8] = [
        "Welcome! Your practitioner will answer as soon as possible.",
        "Appointment booked.",
        "Payment request sent.",
        "Payment request accepted.",
        "Payment request declined.",
        "Consultation cancelled.",
        "Video call ended.",
        "Audio call ended.",
    ];
    let mut out = Vec::new();
    for i in 0..FIRST_NAMES.len() * LAST_NAMES.len() {
        let name = full_name(i);
        out.push(("name", fold_name(&name)));
        out.push(("name", name));
        out.push(("email", email(i)));
    }
    out.push(("message", SECRET_MARKER.to_string()));
    out.push(("message", SECRET_MARKER_BASE64.to_string()));
    out.extend(SYSTEM_TEXTS.iter().map(|t| ("message", t.to_string())));
    out.extend(COMMENTS.iter().map(|c| ("comment", c.to_string())));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use domain::events::parse_event;
    use domain::events::EVENT_TYPES;
    use std::collections::{BTreeSet, HashMap};

    fn now() -> DateTime<Utc> {
        "2026-05-15T10:30:00Z".parse().unwrap()
    }

    fn collect(config: &DemoConfig) -> (Vec<Value>, DemoSummary) {
        let mut all = Vec::new();
        let summary = demo_events(config, |batch| {
            assert!(!batch.is_empty() && batch.len() <= BATCH);
            all.extend(batch);
            Ok::<(), ()>(())
        })
        .unwrap();
        (all, summary)
    }

    fn small() -> DemoConfig {
        DemoConfig {
            seed: 7,
            scale: Scale {
                organisations: 2,
                clinics_per_org: 3,
                accounts_per_org: 20,
                practitioners: 20,
                patients: 30,
                threads: 60,
                vouchers: 3,
                room_calls: 10,
                consultation_rows: 200,
                chatter: 0,
            },
            now: now(),
        }
    }

    #[test]
    fn the_same_config_gives_the_same_bytes() {
        let (a, sa) = collect(&small());
        let (b, sb) = collect(&small());
        assert_eq!(
            serde_json::to_vec(&a).unwrap(),
            serde_json::to_vec(&b).unwrap()
        );
        assert_eq!(sa, sb);
        let other = DemoConfig { seed: 8, ..small() };
        let (c, _) = collect(&other);
        assert_ne!(a, c, "another seed gives other data");
    }

    #[test]
    fn demo_scale_events_all_parse_and_counts_are_in_range() {
        let config = DemoConfig::demo(now());
        let (events, summary) = collect(&config);
        assert_eq!(summary.events, events.len() as u64);
        let mut ids = BTreeSet::new();
        let now = config.now;
        let earliest = now - Duration::days(DST_LOOKBACK_DAYS + 2000);
        for raw in &events {
            let event = parse_event(raw, now).unwrap_or_else(|e| panic!("{raw}: {e:?}"));
            assert!(
                ids.insert(event.id.to_string()),
                "duplicate id {}",
                event.id
            );
            assert!(
                event.occurred_at < now && event.occurred_at > earliest,
                "{raw}"
            );
        }
        // Every event type of the catalogue appears.
        for t in EVENT_TYPES {
            assert!(summary.count(t) > 0, "no {t}");
        }
        assert_eq!(summary.count("organisation.upserted"), 4 + 1);
        assert_eq!(summary.count("clinic.upserted") - 2, 12); // one closed, one deleted later
        assert_eq!(summary.count("patient.upserted"), 900);
        assert!(summary.count("practitioner.upserted") >= 300);
        assert!(summary.count("account.upserted") >= 240);
        assert_eq!(summary.count("thread.created"), 3_000);
        assert_eq!(summary.threads, 3_000);
        assert!(
            summary.count("message.sent") > 10_000,
            "{}",
            summary.count("message.sent")
        );
        assert!(summary.count("payment.completed") > 900);
        assert!(summary.count("rating.submitted") > 200);
        assert!(
            (4_000..4_100).contains(&summary.consultation_rows),
            "{}",
            summary.consultation_rows
        );
        assert!(summary.sessions > 1_000);
        assert_eq!(summary.room_calls, 400);
        assert!(
            summary.events > 50_000 && summary.events < 120_000,
            "{}",
            summary.events
        );
        // Every payment type, note type, approval state, room type and media occurs.
        let mut seen: HashMap<&str, BTreeSet<String>> = HashMap::new();
        for raw in &events {
            let d = &raw["data"];
            for field in [
                "payment_type",
                "note_type",
                "approval",
                "room_type",
                "media",
                "answer",
                "clinic_role",
            ] {
                if let Some(v) = d[field].as_str() {
                    seen.entry(field).or_default().insert(v.to_string());
                }
            }
        }
        assert_eq!(seen["payment_type"].len(), 6, "{:?}", seen["payment_type"]);
        assert_eq!(seen["note_type"].len(), 4);
        assert_eq!(seen["approval"].len(), 3);
        assert_eq!(seen["room_type"].len(), 3);
        assert_eq!(seen["media"].len(), 2);
        assert_eq!(seen["answer"].len(), 2);
        assert_eq!(seen["clinic_role"].len(), 5);
        assert_eq!(summary.cases.approved_practitioner_id, "prac-1");
        assert!(!summary.cases.patient_first_call_id.is_empty());
        assert!(!summary.cases.deleted_clinic_id.is_empty());
    }

    #[test]
    fn money_secrets_and_names_follow_the_rules() {
        let (events, _) = collect(&small());
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut refunds = 0;
        for raw in &events {
            let d = &raw["data"];
            if let Some(c) = d["ciphertext"].as_str() {
                assert!(c.starts_with(SECRET_MARKER_BASE64));
                let plain = String::from_utf8(b64.decode(c).unwrap()).unwrap();
                assert!(plain.starts_with(SECRET_MARKER));
            }
            // The marker lives in ciphertexts only.
            let mut without = d.clone();
            if let Some(o) = without.as_object_mut() {
                o.remove("ciphertext");
            }
            let text = without.to_string();
            assert!(!text.contains(SECRET_MARKER) && !text.contains(SECRET_MARKER_BASE64));
            if raw["type"] == "payment.completed" {
                let total = d["total"]["amount_minor"].as_i64().unwrap();
                let commission = d["commission_minor"].as_i64().unwrap();
                assert!(commission.abs() <= total.abs());
                if d["payment_type"] == "refund" {
                    assert!(total < 0);
                    refunds += 1;
                }
            }
            if let Some(e) = d["email"].as_str() {
                assert!(e.ends_with("@demo.example") && e.is_ascii(), "{e}");
            }
        }
        assert!(refunds > 0);
        assert_eq!(full_name(0), "Ángela Müller");
        assert_eq!(full_name(1), "Élodie Durand");
        assert_eq!(full_name(2), "Zoë Nuñez");
        assert_eq!(email(0), "angela.muller@demo.example");
        assert_eq!(email_label("Weiß"), "weiss");
        assert_eq!(email_label("Ó Súilleabháin"), "o-suilleabhain");
        assert_eq!(email_label("Łukasz"), "lukasz");
    }

    #[test]
    fn principals_and_hosts_exist_with_their_roles() {
        let (events, summary) = collect(&small());
        fn data_of<'a>(events: &'a [Value], t: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
            events
                .iter()
                .filter(move |e| e["type"] == t)
                .map(|e| &e["data"])
        }
        let of = |t: &'static str| data_of(&events, t);
        let role = |acc: &str| {
            of("account.upserted")
                .find(|d| d["account_id"] == acc)
                .map(|d| d["platform_role"].as_str().unwrap().to_string())
        };
        assert_eq!(role("acc-1").as_deref(), Some("org_admin"));
        assert_eq!(role("acc-2").as_deref(), Some("org_coordinator"));
        assert_eq!(role("acc-3").as_deref(), Some("org_reporter"));
        assert!(of("membership.upserted").any(|d| d["account_id"] == "acc-4"
            && d["clinic_id"] == "clinic-1"
            && d["clinic_role"] == "admin"));
        assert!(of("practitioner.upserted").any(|d| d["practitioner_id"] == "prac-1"));
        assert!(of("patient.upserted").any(|d| d["patient_id"] == "pat-1"));
        assert_eq!(summary.principals, demo_principals());

        // Every waiting-area host is a provider of the segment's clinic at the time.
        let mut grants: HashMap<(String, String), (String, Option<String>)> = HashMap::new();
        for d in of("membership.upserted") {
            if d["clinic_role"] == "provider" {
                let key = (d["account_id"].to_string(), d["clinic_id"].to_string());
                let revoked = d["revoked_at"].as_str().map(str::to_string);
                grants.insert(
                    key,
                    (d["granted_at"].as_str().unwrap().to_string(), revoked),
                );
            }
        }
        let clinic_of: HashMap<String, String> = of("segment.started")
            .map(|d| (d["segment_id"].to_string(), d["clinic_id"].to_string()))
            .collect();
        let mut hosts = 0;
        for e in events.iter().filter(|e| e["type"] == "participant.joined") {
            let d = &e["data"];
            if d["participant_type"] != "host" {
                continue;
            }
            hosts += 1;
            let at = e["occurred_at"].as_str().unwrap();
            let clinic = &clinic_of[&d["segment_id"].to_string()];
            let (granted, revoked) = &grants[&(d["account_id"].to_string(), clinic.clone())];
            assert!(
                granted.as_str() <= at && revoked.as_deref().is_none_or(|r| at < r),
                "{e}"
            );
        }
        assert!(hosts > 50);
    }

    /// Events of one session, in stream order.
    fn session_events<'a>(events: &'a [Value], session: &str) -> Vec<&'a Value> {
        events
            .iter()
            .filter(|e| e["data"]["session_id"] == session)
            .collect()
    }

    #[test]
    fn the_transfer_case_has_three_segments_in_three_clinics() {
        let (events, summary) = collect(&small());
        let id = &summary.cases.transferred_session_id;
        let evs = session_events(&events, id);
        let started: Vec<&Value> = evs
            .iter()
            .copied()
            .filter(|e| e["type"] == "segment.started")
            .collect();
        assert_eq!(started.len(), 3);
        let clinics: BTreeSet<&str> = started
            .iter()
            .map(|e| e["data"]["clinic_id"].as_str().unwrap())
            .collect();
        assert_eq!(clinics.len(), 3);
        assert_eq!(summary.cases.transfer_clinic_ids.len(), 3);
        assert_eq!(
            evs.iter()
                .filter(|e| e["type"] == "segment.transferred")
                .count(),
            2
        );
        assert_eq!(
            evs.iter()
                .filter(|e| e["type"] == "queued_call.entered")
                .count(),
            1
        );
        // Every segment has a host with an account and the caller without.
        for seg in started {
            let seg_id = &seg["data"]["segment_id"];
            let joins: Vec<&Value> = evs
                .iter()
                .copied()
                .filter(|e| e["type"] == "participant.joined" && e["data"]["segment_id"] == *seg_id)
                .collect();
            assert!(joins
                .iter()
                .any(|e| e["data"]["participant_type"] == "host"
                    && e["data"]["account_id"].is_string()));
            assert!(joins
                .iter()
                .any(|e| e["data"]["participant_type"] == "caller"
                    && e["data"].get("account_id").is_none()));
        }
    }

    #[test]
    fn the_abandoned_case_has_no_host() {
        let (events, summary) = collect(&small());
        let evs = session_events(&events, &summary.cases.abandoned_session_id);
        assert!(evs.iter().any(|e| e["type"] == "queued_call.abandoned"));
        assert!(!evs.iter().any(|e| e["data"]["participant_type"] == "host"));
        assert_eq!(
            evs.iter()
                .filter(|e| e["type"] == "participant.joined")
                .count(),
            1
        );
    }

    #[test]
    fn dst_days_have_night_activity() {
        let (events, summary) = collect(&small());
        // 2026-05-15: the last changes were 2025-10-26 and 2026-03-29.
        let days: Vec<String> = summary
            .cases
            .dst_days
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(days, ["2025-10-26", "2026-03-29"]);
        for day in &days {
            let night: Vec<&Value> = events
                .iter()
                .filter(|e| {
                    let t = e["occurred_at"].as_str().unwrap();
                    t.starts_with(day.as_str()) && t[11..13] < *"03"
                })
                .collect();
            let before = night
                .iter()
                .any(|e| e["occurred_at"].as_str().unwrap()[11..13] == *"00");
            let after = night
                .iter()
                .any(|e| e["occurred_at"].as_str().unwrap()[11..13] == *"01");
            assert!(before && after, "{day}");
            for t in [
                "message.sent",
                "participant.joined",
                "room_call.joined",
                "account.logged_in",
                "call.joined",
            ] {
                assert!(night.iter().any(|e| e["type"] == t), "{day}: no {t}");
            }
        }
        let thread = &summary.cases.dst_thread_id;
        let times: Vec<&str> = events
            .iter()
            .filter(|e| e["data"]["thread_id"] == *thread)
            .map(|e| e["occurred_at"].as_str().unwrap())
            .collect();
        assert!(
            times.iter().any(|t| &t[11..13] == "00") && times.iter().any(|t| &t[11..13] == "02")
        );
        // Some lookback always holds a DST day, whatever the date.
        for month in 1..=12 {
            for day in [1, 15, 28] {
                let t = NaiveDate::from_ymd_opt(2027, month, day)
                    .unwrap()
                    .and_hms_opt(2, 0, 0)
                    .unwrap();
                assert!(!dst_days(t.and_utc().timestamp()).is_empty(), "{t}");
            }
        }
    }

    #[test]
    fn stories_keep_causal_order() {
        let (events, _) = collect(&small());
        // Per thread and per session, times never go backwards in stream order.
        let mut last: HashMap<String, String> = HashMap::new();
        for e in &events {
            let d = &e["data"];
            let key = d["session_id"]
                .as_str()
                .or(d["call_id"].as_str())
                .or(d["thread_id"].as_str());
            if let Some(k) = key {
                let t = e["occurred_at"].as_str().unwrap().to_string();
                if let Some(prev) = last.insert(k.to_string(), t.clone()) {
                    assert!(prev <= t, "{k}: {prev} then {t}");
                }
            }
        }
    }

    #[test]
    fn bench_scale_reaches_its_row_target() {
        let config = DemoConfig {
            scale: Scale {
                threads: 3,
                room_calls: 0,
                ..Scale::bench(20_000)
            },
            ..small()
        };
        let mut max_batch = 0;
        let summary = demo_events(&config, |b| {
            max_batch = max_batch.max(b.len());
            Ok::<(), ()>(())
        })
        .unwrap();
        assert!((20_000..20_100).contains(&summary.consultation_rows));
        assert!(max_batch <= BATCH);
    }

    /// `chatter` adds that many patient messages to every ordinary thread (the hand-made
    /// DST-day threads at the end keep their script): counted per thread from the events.
    #[test]
    fn chatter_adds_patient_messages_to_every_thread() {
        let number = |id: &Value| -> u64 {
            id.as_str()
                .and_then(|s| s.strip_prefix("thread-"))
                .and_then(|n| n.parse().ok())
                .expect("thread id")
        };
        let patient_messages = |chatter: u32| {
            let config = DemoConfig {
                scale: Scale {
                    chatter,
                    ..small().scale
                },
                ..small()
            };
            let mut per_thread: BTreeMap<u64, u64> = BTreeMap::new();
            let summary = demo_events(&config, |batch| {
                for e in batch {
                    if e["type"] == "thread.created" {
                        per_thread
                            .entry(number(&e["data"]["thread_id"]))
                            .or_default();
                    }
                    if e["type"] == "message.sent" && e["data"]["sender_role"] == "patient" {
                        *per_thread
                            .entry(number(&e["data"]["thread_id"]))
                            .or_default() += 1;
                    }
                }
                Ok::<(), ()>(())
            })
            .unwrap();
            assert_eq!(per_thread.len() as u64, summary.threads);
            let first_dst = number(&Value::from(summary.cases.dst_thread_id.clone()));
            per_thread.retain(|&n, _| n < first_dst);
            per_thread
        };
        let quiet = patient_messages(0);
        let chatty = patient_messages(3);
        assert!(quiet.len() >= 50, "{}", quiet.len());
        assert_eq!(chatty.len(), quiet.len());
        // Without chatter a thread opens with 1 to 3 patient messages; with it, 3 more.
        assert!(quiet.values().all(|&n| n >= 1));
        assert!(quiet.values().any(|&n| n < 4));
        assert!(chatty.values().all(|&n| n >= 4), "{chatty:?}");
    }
}
