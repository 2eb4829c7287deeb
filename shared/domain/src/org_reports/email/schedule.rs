//! Scheduled reports (SPEC D7): an organisation admin schedules any report daily, weekly or
//! monthly at a local time, over a period relative to each run (yesterday, the last 7 days,
//! last week, last month, ...), in a zone, with a minimum duration, for recipients among the
//! organisation's accounts. Each run is one emailed-report job per recipient (the job, its
//! history entry and its email as if the recipient had asked), queued in the same transaction
//! that moves the schedule to its next run, so a run is never lost nor doubled.
//!
//! Storage: the schedule at `ORG#<org>` / `REPORT_SCHEDULE#<id>`; while active also in `gsi1
//! REPORT_SCHEDULES#DUE`, sorted by its next run, which the sweep reads (in AWS the job
//! function on its 5-minute schedule, locally the worker every second); the organisation's
//! count of schedules at `ORG#<org>` / `REPORT_SCHEDULES`, changed with each create and delete
//! on its version, holds the bound [`MAX_SCHEDULES`]. Every change is audited in its
//! transaction.

use super::job::EmailJob;
use super::mail::requester_email;
use crate::audit::{audit_op, AuditRecord};
use crate::auth::Principal;
use crate::error::Error;
use crate::org_reports::config::{load_config, parse_zone, MAX_MIN_DURATION_SECONDS};
use crate::org_reports::download::ReportType;
use crate::org_reports::params::{local_instant, ParamsRecord};
use crate::org_reports::ReportScope;
use crate::ports::{Condition, Index, Item, Key, Query, SkRange, Store, StoreError, TxOp};
use crate::readmodels::{keys, sort_time, Clinic};
use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Most schedules per organisation.
pub const MAX_SCHEDULES: u64 = 50;
/// Most recipients per schedule.
pub const MAX_RECIPIENTS: usize = 10;
/// The index partition of active schedules, sorted by their next run.
pub const DUE_SCHEDULES: &str = "REPORT_SCHEDULES#DUE";
/// When a schedule runs if it does not say.
pub const DEFAULT_RUN_AT: &str = "06:00";

/// How often a schedule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Daily,
    /// On `weekday`.
    Weekly,
    /// On `day_of_month` (1 to 28, so every month has it).
    Monthly,
}

/// The period a run reports on, relative to the local day it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelativePeriod {
    /// The day before the run.
    Yesterday,
    /// The 7 days before the run's day.
    #[serde(rename = "last_7_days")]
    Last7Days,
    /// The 30 days before the run's day.
    #[serde(rename = "last_30_days")]
    Last30Days,
    /// Monday to Sunday of the week before the run's week.
    LastWeek,
    /// The calendar month before the run's month.
    LastMonth,
}

impl RelativePeriod {
    /// The first and last local day of the period, for a run on local day `day`.
    pub fn range(self, day: NaiveDate) -> (NaiveDate, NaiveDate) {
        let back = |n: u64| day.checked_sub_days(Days::new(n)).unwrap_or(day);
        match self {
            RelativePeriod::Yesterday => (back(1), back(1)),
            RelativePeriod::Last7Days => (back(7), back(1)),
            RelativePeriod::Last30Days => (back(30), back(1)),
            RelativePeriod::LastWeek => {
                let monday = back(u64::from(day.weekday().num_days_from_monday()));
                let start = monday.checked_sub_days(Days::new(7)).unwrap_or(monday);
                (start, monday.pred_opt().unwrap_or(monday))
            }
            RelativePeriod::LastMonth => {
                let first = day.with_day(1).unwrap_or(day);
                let start = first.checked_sub_months(Months::new(1)).unwrap_or(first);
                (start, first.pred_opt().unwrap_or(first))
            }
        }
    }
}

/// Whether a schedule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleState {
    Active,
    Paused,
}

/// The body of `POST /orgs/{org_id}/reports/schedules`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    pub report_type: String,
    /// One clinic of the organisation; the whole organisation when absent.
    #[serde(default)]
    pub clinic_id: Option<String>,
    pub frequency: Frequency,
    /// Weekly schedules: `monday` to `sunday`.
    #[serde(default)]
    pub weekday: Option<String>,
    /// Monthly schedules: 1 to 28.
    #[serde(default)]
    pub day_of_month: Option<u32>,
    /// Local time `HH:MM` (default [`DEFAULT_RUN_AT`]).
    #[serde(default)]
    pub run_at: Option<String>,
    pub period: RelativePeriod,
    /// IANA zone (default: the configuration's).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Default: the configuration's.
    #[serde(default)]
    pub min_duration_seconds: Option<u32>,
    /// Account ids of the organisation (1 to [`MAX_RECIPIENTS`]).
    pub recipients: Vec<String>,
}

/// A stored schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub schedule_id: String,
    pub org_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clinic_id: Option<String>,
    pub report_type: String,
    pub frequency: Frequency,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekday: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_month: Option<u32>,
    pub run_at: String,
    pub period: RelativePeriod,
    pub time_zone: String,
    pub min_duration_seconds: u32,
    pub recipients: Vec<String>,
    pub state: ScheduleState,
    /// The next run (UTC); kept while paused, moved on when resumed.
    pub next_run_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run_at: Option<DateTime<Utc>>,
    /// Runs so far.
    #[serde(default)]
    pub runs: u64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// A page of an organisation's schedules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchedulePage {
    pub items: Vec<Schedule>,
}

fn schedule_key(org_id: &str, schedule_id: &str) -> Key {
    Key::new(
        format!("ORG#{org_id}"),
        format!("REPORT_SCHEDULE#{schedule_id}"),
    )
}

fn count_key(org_id: &str) -> Key {
    Key::new(format!("ORG#{org_id}"), "REPORT_SCHEDULES")
}

impl Schedule {
    fn item(&self, version: u64) -> Item {
        let key = schedule_key(&self.org_id, &self.schedule_id);
        let item = Item::new(
            key.pk,
            key.sk,
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null),
        )
        .with_version(version);
        match self.state {
            ScheduleState::Active => item.with_gsi1(
                DUE_SCHEDULES,
                format!(
                    "{}#{}#{}",
                    sort_time(self.next_run_at),
                    self.org_id,
                    self.schedule_id
                ),
            ),
            ScheduleState::Paused => item,
        }
    }

    fn zone(&self) -> Tz {
        self.time_zone.parse().unwrap_or(Tz::UTC)
    }

    fn time(&self) -> NaiveTime {
        NaiveTime::parse_from_str(&self.run_at, "%H:%M").unwrap_or(NaiveTime::MIN)
    }

    /// Whether the schedule runs on local day `day`.
    fn runs_on(&self, day: NaiveDate) -> bool {
        match self.frequency {
            Frequency::Daily => true,
            Frequency::Weekly => {
                self.weekday.as_deref().and_then(parse_weekday) == Some(day.weekday())
            }
            Frequency::Monthly => Some(day.day()) == self.day_of_month,
        }
    }

    /// The first run strictly after `after`.
    pub fn next_run_after(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        let zone = self.zone();
        let time = self.time();
        let mut day = after.with_timezone(&zone).date_naive();
        // A monthly day comes within 31 days; the day before is looked at for a local time
        // that a DST change moved.
        day = day.pred_opt().unwrap_or(day);
        for _ in 0..40 {
            if self.runs_on(day) {
                let at = local_instant(zone, day, time);
                if at > after {
                    return at;
                }
            }
            day = day.succ_opt().unwrap_or(day);
        }
        after + chrono::Duration::days(1)
    }

    /// The parameters of the run at `at`: the period before the run's local day.
    pub fn params_at(&self, at: DateTime<Utc>) -> ParamsRecord {
        let day = at.with_timezone(&self.zone()).date_naive();
        let (from, to) = self.period.range(day);
        ParamsRecord {
            from,
            to,
            time_zone: self.time_zone.clone(),
            min_duration_seconds: self.min_duration_seconds,
        }
    }

    fn scope(&self) -> ReportScope {
        match &self.clinic_id {
            None => ReportScope::Org {
                org_id: self.org_id.clone(),
            },
            Some(c) => ReportScope::Clinic {
                org_id: self.org_id.clone(),
                clinic_id: c.clone(),
            },
        }
    }
}

fn parse_weekday(text: &str) -> Option<Weekday> {
    match text {
        "monday" => Some(Weekday::Mon),
        "tuesday" => Some(Weekday::Tue),
        "wednesday" => Some(Weekday::Wed),
        "thursday" => Some(Weekday::Thu),
        "friday" => Some(Weekday::Fri),
        "saturday" => Some(Weekday::Sat),
        "sunday" => Some(Weekday::Sun),
        _ => None,
    }
}

/// Checks a schedule's input against the organisation's data and configuration: the schedule it
/// describes, first run after `now`.
async fn checked(
    store: &dyn Store,
    actor: &Principal,
    org_id: &str,
    input: ScheduleInput,
    now: DateTime<Utc>,
) -> Result<Schedule, Error> {
    let report_type = ReportType::parse(&input.report_type)
        .map_err(|_| Error::invalid("report_type", "not a report type"))?;
    if let Some(clinic_id) = &input.clinic_id {
        let theirs = match store.get(&keys::clinic(clinic_id)).await? {
            Some(item) => item.decode::<Clinic>()?.org_id == org_id,
            None => false,
        };
        if !theirs {
            return Err(Error::invalid(
                "clinic_id",
                "not a clinic of this organisation",
            ));
        }
    }
    let (weekday, day_of_month) = match input.frequency {
        Frequency::Daily => {
            if input.weekday.is_some() {
                return Err(Error::invalid("weekday", "only for weekly schedules"));
            }
            if input.day_of_month.is_some() {
                return Err(Error::invalid("day_of_month", "only for monthly schedules"));
            }
            (None, None)
        }
        Frequency::Weekly => {
            let day = input.weekday.as_deref().unwrap_or_default();
            if parse_weekday(day).is_none() {
                return Err(Error::invalid(
                    "weekday",
                    "a weekly schedule needs monday, tuesday, ... or sunday",
                ));
            }
            if input.day_of_month.is_some() {
                return Err(Error::invalid("day_of_month", "only for monthly schedules"));
            }
            (Some(day.to_string()), None)
        }
        Frequency::Monthly => {
            if input.weekday.is_some() {
                return Err(Error::invalid("weekday", "only for weekly schedules"));
            }
            match input.day_of_month {
                Some(d @ 1..=28) => (None, Some(d)),
                _ => {
                    return Err(Error::invalid(
                        "day_of_month",
                        "a monthly schedule needs a day from 1 to 28",
                    ))
                }
            }
        }
    };
    let run_at = input.run_at.unwrap_or_else(|| DEFAULT_RUN_AT.to_string());
    if run_at.len() != 5 || NaiveTime::parse_from_str(&run_at, "%H:%M").is_err() {
        return Err(Error::invalid("run_at", "must be a local time HH:MM"));
    }
    let config = load_config(store, org_id).await?;
    let time_zone = input.time_zone.unwrap_or(config.time_zone);
    parse_zone("time_zone", &time_zone)?;
    let min_duration_seconds = input
        .min_duration_seconds
        .unwrap_or(config.min_duration_seconds);
    if min_duration_seconds > MAX_MIN_DURATION_SECONDS {
        return Err(Error::invalid(
            "min_duration_seconds",
            format!("must be at most {MAX_MIN_DURATION_SECONDS}"),
        ));
    }
    if input.recipients.is_empty() || input.recipients.len() > MAX_RECIPIENTS {
        return Err(Error::invalid(
            "recipients",
            format!("from 1 to {MAX_RECIPIENTS} accounts"),
        ));
    }
    for (i, account) in input.recipients.iter().enumerate() {
        let field = format!("recipients[{i}]");
        if crate::events::types::Id::parse(account).is_err()
            || input.recipients[..i].contains(account)
        {
            return Err(Error::invalid(&field, "not a distinct account id"));
        }
        if requester_email(store, account, org_id).await?.is_none() {
            return Err(Error::invalid(
                &field,
                "not an active account of this organisation with an email address",
            ));
        }
    }
    let mut schedule = Schedule {
        schedule_id: crate::ids::new_id("sch", now),
        org_id: org_id.to_string(),
        clinic_id: input.clinic_id,
        report_type: report_type.as_str().to_string(),
        frequency: input.frequency,
        weekday,
        day_of_month,
        run_at,
        period: input.period,
        time_zone,
        min_duration_seconds,
        recipients: input.recipients,
        state: ScheduleState::Active,
        next_run_at: now,
        last_run_at: None,
        runs: 0,
        created_by: actor.sub.clone(),
        created_at: now,
    };
    schedule.next_run_at = schedule.next_run_after(now);
    Ok(schedule)
}

fn audit(actor: &Principal, now: DateTime<Utc>, action: &str, s: &Schedule) -> TxOp {
    audit_op(&AuditRecord::in_org(
        actor,
        now,
        action,
        &s.org_id,
        &s.schedule_id,
        serde_json::json!({
            "report_type": s.report_type,
            "clinic_id": s.clinic_id,
            "frequency": s.frequency,
            "period": s.period,
            "recipients": s.recipients.len(),
        }),
    ))
}

/// The organisation's count of schedules and its version (0 when never written).
async fn count(store: &dyn Store, org_id: &str) -> Result<(u64, Option<u64>), StoreError> {
    Ok(match store.get(&count_key(org_id)).await? {
        Some(item) => (item.body["count"].as_u64().unwrap_or(0), Some(item.version)),
        None => (0, None),
    })
}

fn count_op(org_id: &str, count: u64, version: Option<u64>) -> TxOp {
    let key = count_key(org_id);
    let item = Item::new(key.pk, key.sk, serde_json::json!({ "count": count }))
        .with_version(version.map_or(1, |v| v + 1));
    let condition = match version {
        Some(v) => Condition::VersionIs(v),
        None => Condition::NotExists,
    };
    TxOp::put(item, condition)
}

/// Creates a schedule (org admins): 201 and the schedule; 409 at [`MAX_SCHEDULES`].
pub async fn create(
    store: &dyn Store,
    actor: &Principal,
    org_id: &str,
    input: ScheduleInput,
    now: DateTime<Utc>,
) -> Result<Schedule, Error> {
    let schedule = checked(store, actor, org_id, input, now).await?;
    for _ in 0..8 {
        let (n, version) = count(store, org_id).await?;
        if n >= MAX_SCHEDULES {
            return Err(Error::Conflict(format!(
                "an organisation has at most {MAX_SCHEDULES} schedules; delete one first"
            )));
        }
        match store
            .transact(vec![
                count_op(org_id, n + 1, version),
                TxOp::put(schedule.item(1), Condition::NotExists),
                audit(actor, now, "report_schedule.created", &schedule),
            ])
            .await
        {
            Ok(()) => return Ok(schedule),
            Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Conflict("concurrent changes; retry".into()))
}

/// The organisation's schedules (at most [`MAX_SCHEDULES`], one Query), in id order.
pub async fn list(store: &dyn Store, org_id: &str) -> Result<SchedulePage, Error> {
    let q = Query::partition(Index::Primary, format!("ORG#{org_id}"))
        .range(SkRange::BeginsWith("REPORT_SCHEDULE#".into()))
        .limit(MAX_SCHEDULES as usize);
    let page = store.query(&q).await?;
    let items = page
        .items
        .iter()
        .map(Item::decode::<Schedule>)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SchedulePage { items })
}

async fn load(
    store: &dyn Store,
    org_id: &str,
    schedule_id: &str,
) -> Result<(Schedule, u64), Error> {
    match store.get(&schedule_key(org_id, schedule_id)).await? {
        Some(item) => Ok((item.decode()?, item.version)),
        None => Err(Error::NotFound("schedule")),
    }
}

/// Pauses or resumes a schedule (org admins): the schedule as it is now. Resuming moves the
/// next run to the first one after `now`: runs missed while paused are not made up.
pub async fn set_state(
    store: &dyn Store,
    actor: &Principal,
    org_id: &str,
    schedule_id: &str,
    state: ScheduleState,
    now: DateTime<Utc>,
) -> Result<Schedule, Error> {
    for _ in 0..8 {
        let (mut s, version) = load(store, org_id, schedule_id).await?;
        if s.state == state {
            return Ok(s);
        }
        s.state = state;
        if state == ScheduleState::Active {
            s.next_run_at = s.next_run_after(now);
        }
        let action = match state {
            ScheduleState::Active => "report_schedule.resumed",
            ScheduleState::Paused => "report_schedule.paused",
        };
        match store
            .transact(vec![
                TxOp::put(s.item(version + 1), Condition::VersionIs(version)),
                audit(actor, now, action, &s),
            ])
            .await
        {
            Ok(()) => return Ok(s),
            Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Conflict("concurrent changes; retry".into()))
}

/// Deletes a schedule (org admins); its runs already queued go on.
pub async fn delete(
    store: &dyn Store,
    actor: &Principal,
    org_id: &str,
    schedule_id: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    for _ in 0..8 {
        let (s, version) = load(store, org_id, schedule_id).await?;
        let (n, count_version) = count(store, org_id).await?;
        match store
            .transact(vec![
                TxOp::Delete {
                    key: schedule_key(org_id, schedule_id),
                    condition: Condition::VersionIs(version),
                },
                count_op(org_id, n.saturating_sub(1), count_version),
                audit(actor, now, "report_schedule.deleted", &s),
            ])
            .await
        {
            Ok(()) => return Ok(()),
            Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Conflict("concurrent changes; retry".into()))
}

/// What one sweep of the schedules did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchedulesSwept {
    /// Runs made (each queued one job per recipient).
    pub runs: usize,
    /// Jobs queued.
    pub jobs: usize,
    /// Schedules another sweep or a change moved first (left to it).
    pub skipped: usize,
    /// Schedules whose run could not be made (unreadable, or refused by the store): logged and
    /// left, so that one schedule never holds up the others nor the jobs.
    pub failed: usize,
}

/// Runs up to `batch` schedules due at `now`, the longest due first. A run is one transaction:
/// the schedule moved to its next run (on its version) with a queued emailed-report job per
/// recipient and the run's audit record. A run missed for longer than a period (the service
/// was down) is made once, for the latest period, never repeated for each missed one.
pub async fn sweep_schedules(
    store: &dyn Store,
    now: DateTime<Utc>,
    batch: usize,
) -> Result<SchedulesSwept, StoreError> {
    let q = Query::partition(Index::Gsi1, DUE_SCHEDULES)
        .range(SkRange::AtMost(format!("{}#~", sort_time(now))))
        .limit(batch);
    let mut swept = SchedulesSwept::default();
    for item in store.query(&q).await?.items {
        let version = item.version;
        let mut s: Schedule = match item.decode() {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(pk = %item.pk, sk = %item.sk, error = %e, "schedule not readable");
                swept.failed += 1;
                continue;
            }
        };
        if s.state != ScheduleState::Active || s.next_run_at > now {
            swept.skipped += 1;
            continue;
        }
        let params = s.params_at(now);
        let scope = s.scope();
        let mut ops = Vec::with_capacity(s.recipients.len() + 2);
        let mut jobs = 0;
        for recipient in &s.recipients {
            let job = EmailJob::queued(
                &scope,
                &s.report_type,
                params.clone(),
                recipient,
                "org_reporter",
                now,
            );
            ops.push(TxOp::put(job.item(1), Condition::NotExists));
            jobs += 1;
        }
        s.last_run_at = Some(now);
        s.runs += 1;
        s.next_run_at = s.next_run_after(now);
        let system = Principal {
            sub: "scheduler".into(),
            role: crate::auth::Role::Service,
            orgs: vec![s.org_id.clone()],
            clinics: vec![],
        };
        ops.push(audit(&system, now, "report_schedule.ran", &s));
        ops.insert(
            0,
            TxOp::put(s.item(version + 1), Condition::VersionIs(version)),
        );
        match store.transact(ops).await {
            Ok(()) => {
                tracing::info!(schedule_id = %s.schedule_id, jobs, "scheduled report run queued");
                swept.runs += 1;
                swept.jobs += jobs;
            }
            Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => {
                swept.skipped += 1
            }
            Err(e) => {
                tracing::error!(schedule_id = %s.schedule_id, error = %e, "scheduled run not made");
                swept.failed += 1;
            }
        }
    }
    Ok(swept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    #[test]
    fn relative_periods_end_the_day_before_the_run() {
        let run = d("2026-03-04"); // a Wednesday
        let range = |p: RelativePeriod| p.range(run);
        assert_eq!(
            range(RelativePeriod::Yesterday),
            (d("2026-03-03"), d("2026-03-03"))
        );
        assert_eq!(
            range(RelativePeriod::Last7Days),
            (d("2026-02-25"), d("2026-03-03"))
        );
        assert_eq!(
            range(RelativePeriod::Last30Days),
            (d("2026-02-02"), d("2026-03-03"))
        );
        assert_eq!(
            range(RelativePeriod::LastWeek),
            (d("2026-02-23"), d("2026-03-01"))
        );
        assert_eq!(
            range(RelativePeriod::LastMonth),
            (d("2026-02-01"), d("2026-02-28"))
        );
        // On a Monday, last week is the whole week before; on the 1st, last month is whole.
        assert_eq!(
            RelativePeriod::LastWeek.range(d("2026-03-02")),
            (d("2026-02-23"), d("2026-03-01"))
        );
        assert_eq!(
            RelativePeriod::LastMonth.range(d("2026-01-01")),
            (d("2025-12-01"), d("2025-12-31"))
        );
    }

    fn schedule(frequency: Frequency, zone: &str, run_at: &str) -> Schedule {
        Schedule {
            schedule_id: "sch-1".into(),
            org_id: "org-1".into(),
            clinic_id: None,
            report_type: "clinics".into(),
            frequency,
            weekday: (frequency == Frequency::Weekly).then(|| "monday".into()),
            day_of_month: (frequency == Frequency::Monthly).then_some(1),
            run_at: run_at.into(),
            period: RelativePeriod::Yesterday,
            time_zone: zone.into(),
            min_duration_seconds: 0,
            recipients: vec!["acc-1".into()],
            state: ScheduleState::Active,
            next_run_at: Utc::now(),
            last_run_at: None,
            runs: 0,
            created_by: "acc-1".into(),
            created_at: Utc::now(),
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().expect("an instant")
    }

    #[test]
    fn the_next_run_is_the_local_time_on_the_next_matching_day() {
        let daily = schedule(Frequency::Daily, "Australia/Sydney", "06:00");
        // 06:00 in Sydney (UTC+11 in summer) is 19:00 UTC the day before.
        assert_eq!(
            daily.next_run_after(t("2026-01-10T18:59:59Z")),
            t("2026-01-10T19:00:00Z")
        );
        assert_eq!(
            daily.next_run_after(t("2026-01-10T19:00:00Z")),
            t("2026-01-11T19:00:00Z")
        );
        let weekly = schedule(Frequency::Weekly, "UTC", "06:00");
        // 2026-01-10 is a Saturday: the next Monday is the 12th.
        assert_eq!(
            weekly.next_run_after(t("2026-01-10T12:00:00Z")),
            t("2026-01-12T06:00:00Z")
        );
        let monthly = schedule(Frequency::Monthly, "UTC", "00:30");
        assert_eq!(
            monthly.next_run_after(t("2026-01-31T12:00:00Z")),
            t("2026-02-01T00:30:00Z")
        );
    }

    #[test]
    fn a_run_in_a_dst_gap_or_repeat_happens_once_at_a_valid_time() {
        // Europe/London springs forward at 01:00 UTC on 2026-03-29: 01:30 local does not exist.
        let gap = schedule(Frequency::Daily, "Europe/London", "01:30");
        let run = gap.next_run_after(t("2026-03-28T12:00:00Z"));
        assert_eq!(run, t("2026-03-29T01:00:00Z")); // 02:00 BST, the first valid local time
        assert_eq!(gap.next_run_after(run), t("2026-03-30T00:30:00Z"));
        // It falls back at 01:00 UTC on 2026-10-25: 01:30 local happens twice; it runs once.
        let repeat = schedule(Frequency::Daily, "Europe/London", "01:30");
        let first = repeat.next_run_after(t("2026-10-24T12:00:00Z"));
        assert_eq!(first, t("2026-10-25T00:30:00Z"));
        assert_eq!(repeat.next_run_after(first), t("2026-10-26T01:30:00Z"));
    }
}
