//! The AWS [`Store`] adapter: one DynamoDB table through the official SDK.
//!
//! Attribute layout (the same names as `template.yaml`): `pk`, `sk` (S) the primary key;
//! `gsi1pk`/`gsi1sk` and `gsi2pk`/`gsi2sk` (S, only when the item is in that index) the keys
//! of the indexes `gsi1` and `gsi2`; `expires_at` (N) the table's TTL attribute; `version`
//! (N); `count` (N, changed by `ADD`); `body` (S, the JSON text of the body).
//!
//! Conditions become ConditionExpressions, transactions TransactWriteItems (a cancellation
//! reason `ConditionalCheckFailed` becomes [`StoreError::ConditionFailed`] with the index of
//! the op, `TransactionConflict` becomes [`StoreError::Conflict`]), counters UpdateItem `ADD`.
//! A query reads DynamoDB pages with `Limit` = what it still needs + 1, so that
//! [`Page::next`] is set exactly when more items match. Requests are checked (keys, cursor,
//! transaction shape) the same way as in the embedded adapter before anything is sent.

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, PutRequest, ReturnValue,
    TransactWriteItem, Update, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use domain::ports::store::{
    check_item, check_key, check_query, check_transaction, normalize_range, Condition, Cursor,
    Index, Item, Key, Page, Query, SkRange, Store, StoreError, TxOp,
};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

mod table;

pub use table::create_table;

/// Attribute names of the table.
const PK: &str = "pk";
const SK: &str = "sk";
const GSI1PK: &str = "gsi1pk";
const GSI1SK: &str = "gsi1sk";
const GSI2PK: &str = "gsi2pk";
const GSI2SK: &str = "gsi2sk";
const EXPIRES_AT: &str = "expires_at";
const VERSION: &str = "version";
const COUNT: &str = "count";
const BODY: &str = "body";
/// Index names of the table.
const GSI1: &str = "gsi1";
const GSI2: &str = "gsi2";

/// Items per BatchWriteItem (DynamoDB's limit).
const BATCH: usize = 25;
/// BatchWriteItem (BatchGetItem) requests in flight at once in `put_many` (`get_many`).
const BATCH_CONCURRENCY: usize = 4;
/// Keys per BatchGetItem (DynamoDB's limit).
const GET_BATCH: usize = 100;
/// Attempts at writing the unprocessed items of one batch (or reading the unprocessed keys
/// of one BatchGetItem) before giving up.
const BATCH_ATTEMPTS: u32 = 10;

type Attrs = HashMap<String, AttributeValue>;

/// The store on a DynamoDB table: see the module documentation.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// The store on table `table` (created by `template.yaml`, or by [`create_table`]).
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }
}

/// Maps an SDK error to the port's error (the SDK types never leave this module).
fn sdk_error<E, R>(op: &str, err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err.as_service_error() {
        Some(service) => {
            let code = service.code().unwrap_or("Unknown");
            let message = service.message().unwrap_or_default();
            match code {
                "ConditionalCheckFailedException" => StoreError::ConditionFailed { op: None },
                "TransactionConflictException" => StoreError::Conflict,
                "ValidationException" => StoreError::Invalid(format!("{op}: {message}")),
                _ => StoreError::Unavailable(format!("{op}: {code}: {message}")),
            }
        }
        None => StoreError::Unavailable(format!("{op}: {}", DisplayErrorContext(&err))),
    }
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn key_attrs(key: &Key) -> Attrs {
    HashMap::from([(PK.to_string(), s(&key.pk)), (SK.to_string(), s(&key.sk))])
}

/// The attributes of an item.
fn to_attrs(item: &Item) -> Result<Attrs, StoreError> {
    let mut attrs = key_attrs(&item.key());
    if let Some(k) = &item.gsi1 {
        attrs.insert(GSI1PK.into(), s(&k.pk));
        attrs.insert(GSI1SK.into(), s(&k.sk));
    }
    if let Some(k) = &item.gsi2 {
        attrs.insert(GSI2PK.into(), s(&k.pk));
        attrs.insert(GSI2SK.into(), s(&k.sk));
    }
    if let Some(at) = item.expires_at {
        attrs.insert(EXPIRES_AT.into(), n(at));
    }
    attrs.insert(VERSION.into(), n(item.version));
    if let Some(count) = item.count {
        attrs.insert(COUNT.into(), n(count));
    }
    let body = serde_json::to_string(&item.body)
        .map_err(|e| StoreError::Invalid(format!("body does not serialize: {e}")))?;
    attrs.insert(BODY.into(), AttributeValue::S(body));
    Ok(attrs)
}

fn corrupt(attrs: &Attrs, what: &str) -> StoreError {
    let pk = attrs.get(PK).and_then(|v| v.as_s().ok()).cloned();
    let sk = attrs.get(SK).and_then(|v| v.as_s().ok()).cloned();
    StoreError::Corrupt(format!(
        "item {}/{}: {what}",
        pk.unwrap_or_default(),
        sk.unwrap_or_default()
    ))
}

fn get_s(attrs: &Attrs, name: &str) -> Result<Option<String>, StoreError> {
    match attrs.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::S(v)) => Ok(Some(v.clone())),
        Some(_) => Err(corrupt(attrs, &format!("{name} is not a string"))),
    }
}

fn get_n<T: std::str::FromStr>(attrs: &Attrs, name: &str) -> Result<Option<T>, StoreError> {
    match attrs.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::N(v)) => v
            .parse()
            .map(Some)
            .map_err(|_| corrupt(attrs, &format!("{name} = {v} is out of range"))),
        Some(_) => Err(corrupt(attrs, &format!("{name} is not a number"))),
    }
}

fn index_key(
    attrs: &Attrs,
    pk: &str,
    sk: &str,
) -> Result<Option<domain::ports::store::IndexKey>, StoreError> {
    match (get_s(attrs, pk)?, get_s(attrs, sk)?) {
        (Some(p), Some(s)) => Ok(Some(domain::ports::store::IndexKey::new(p, s))),
        _ => Ok(None),
    }
}

/// The item of a set of attributes.
fn from_attrs(attrs: &Attrs) -> Result<Item, StoreError> {
    let pk = get_s(attrs, PK)?.ok_or_else(|| corrupt(attrs, "no pk"))?;
    let sk = get_s(attrs, SK)?.ok_or_else(|| corrupt(attrs, "no sk"))?;
    let body = match get_s(attrs, BODY)? {
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| corrupt(attrs, &format!("body is not JSON: {e}")))?,
        None => serde_json::Value::Null,
    };
    Ok(Item {
        gsi1: index_key(attrs, GSI1PK, GSI1SK)?,
        gsi2: index_key(attrs, GSI2PK, GSI2SK)?,
        expires_at: get_n(attrs, EXPIRES_AT)?,
        version: get_n(attrs, VERSION)?.unwrap_or(0),
        count: get_n(attrs, COUNT)?,
        body,
        pk,
        sk,
    })
}

/// A ConditionExpression with its names and values.
#[derive(Default)]
struct Expr {
    text: Option<String>,
    names: Option<HashMap<String, String>>,
    values: Option<Attrs>,
}

/// Sets an [`Expr`] on a request builder: a condition's as its ConditionExpression, an
/// `ADD`'s (from [`add_expr`]) as its UpdateExpression. The SDK's request builders share these
/// setters by name, not by a trait.
macro_rules! with_expr {
    ($builder:expr, condition = $condition:expr) => {
        with_expr!(@set $builder, set_condition_expression, condition_expr($condition))
    };
    ($builder:expr, update = $expr:expr) => {
        with_expr!(@set $builder, set_update_expression, $expr)
    };
    (@set $builder:expr, $setter:ident, $expr:expr) => {{
        let expr: Expr = $expr;
        $builder
            .$setter(expr.text)
            .set_expression_attribute_names(expr.names)
            .set_expression_attribute_values(expr.values)
    }};
}

fn condition_expr(condition: &Condition) -> Expr {
    let names = |pairs: &[(&str, &str)]| {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    };
    match condition {
        Condition::None => Expr::default(),
        Condition::NotExists => Expr {
            text: Some("attribute_not_exists(#pk)".into()),
            names: names(&[("#pk", PK)]),
            values: None,
        },
        Condition::Exists => Expr {
            text: Some("attribute_exists(#pk)".into()),
            names: names(&[("#pk", PK)]),
            values: None,
        },
        Condition::VersionIs(v) => Expr {
            text: Some("#version = :version".into()),
            names: names(&[("#version", VERSION)]),
            values: Some(HashMap::from([(":version".to_string(), n(v))])),
        },
    }
}

/// The UpdateExpression of an `ADD` (with the index key and expiry it sets, if any).
fn add_expr(
    delta: i64,
    gsi1: Option<&domain::ports::store::IndexKey>,
    expires_at: Option<i64>,
) -> Expr {
    let mut names = HashMap::from([("#count".to_string(), COUNT.to_string())]);
    let mut values = HashMap::from([(":delta".to_string(), n(delta))]);
    let mut sets = Vec::new();
    if let Some(k) = gsi1 {
        names.insert("#g1pk".into(), GSI1PK.into());
        names.insert("#g1sk".into(), GSI1SK.into());
        values.insert(":g1pk".into(), s(&k.pk));
        values.insert(":g1sk".into(), s(&k.sk));
        sets.push("#g1pk = :g1pk, #g1sk = :g1sk");
    }
    if let Some(at) = expires_at {
        names.insert("#exp".into(), EXPIRES_AT.into());
        values.insert(":exp".into(), n(at));
        sets.push("#exp = :exp");
    }
    let mut text = "ADD #count :delta".to_string();
    if !sets.is_empty() {
        text.push_str(" SET ");
        text.push_str(&sets.join(", "));
    }
    Expr {
        text: Some(text),
        names: Some(names),
        values: Some(values),
    }
}

fn build_error(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Invalid(format!("request does not build: {e}"))
}

/// Index name and key attribute names of the index a query runs on.
fn index_attrs(index: Index) -> (Option<&'static str>, &'static str, &'static str) {
    match index {
        Index::Primary => (None, PK, SK),
        Index::Gsi1 => (Some(GSI1), GSI1PK, GSI1SK),
        Index::Gsi2 => (Some(GSI2), GSI2PK, GSI2SK),
    }
}

/// The ExclusiveStartKey of a cursor (index keys included for an index query).
fn start_key(cursor: &Cursor, index: Index) -> Attrs {
    let mut key = key_attrs(&Key::new(cursor.pk.clone(), cursor.sk.clone()));
    let (_, ipk, isk) = index_attrs(index);
    if index != Index::Primary {
        if let (Some(p), Some(s_)) = (&cursor.ipk, &cursor.isk) {
            key.insert(ipk.into(), s(p));
            key.insert(isk.into(), s(s_));
        }
    }
    key
}

/// Sends a batch request until DynamoDB leaves nothing of it unprocessed: `send` answers what
/// it got and what is left (`None` when all was processed), and each retry waits longer than
/// the one before. Answers everything every attempt got.
async fn until_processed<R, T, Fut>(
    operation: &str,
    mut request: R,
    mut send: impl FnMut(R) -> Fut,
) -> Result<Vec<T>, StoreError>
where
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<R>), StoreError>>,
{
    let mut got = Vec::new();
    for attempt in 0..BATCH_ATTEMPTS {
        if attempt > 0 {
            let pause = 25u64 << attempt.min(7);
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        let (mut these, left) = send(request).await?;
        got.append(&mut these);
        match left {
            Some(left) => request = left,
            None => return Ok(got),
        }
    }
    Err(StoreError::Unavailable(format!(
        "{operation}: still unprocessed after {BATCH_ATTEMPTS} attempts"
    )))
}

/// What a batch request left unprocessed on `table` (batch answers are maps by table name).
fn left_of<T>(unprocessed: Option<HashMap<String, T>>, table: &str) -> Option<T> {
    unprocessed.and_then(|mut left| left.remove(table))
}

/// Reads one batch of at most [`GET_BATCH`] distinct keys (strongly consistent, as
/// [`Store::get`]), retrying the unprocessed ones: the items found.
async fn read_batch(
    client: Client,
    table: String,
    keys: Vec<Key>,
) -> Result<Vec<Item>, StoreError> {
    let request = KeysAndAttributes::builder()
        .set_keys(Some(keys.iter().map(key_attrs).collect()))
        .consistent_read(true)
        .build()
        .map_err(build_error)?;
    until_processed("BatchGetItem", request, |request| {
        let (client, table) = (client.clone(), table.clone());
        async move {
            let out = client
                .batch_get_item()
                .request_items(table.clone(), request)
                .send()
                .await
                .map_err(|e| sdk_error("BatchGetItem", e))?;
            let found = out
                .responses
                .and_then(|mut r| r.remove(&table))
                .unwrap_or_default()
                .iter()
                .map(from_attrs)
                .collect::<Result<Vec<_>, _>>()?;
            let left = left_of(out.unprocessed_keys, &table).filter(|l| !l.keys().is_empty());
            Ok((found, left))
        }
    })
    .await
}

/// Writes one batch of puts, retrying the unprocessed ones.
async fn write_batch(client: Client, table: String, batch: Vec<Attrs>) -> Result<(), StoreError> {
    let requests = batch
        .into_iter()
        .map(|item| {
            PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map(|put| WriteRequest::builder().put_request(put).build())
                .map_err(build_error)
        })
        .collect::<Result<Vec<_>, _>>()?;
    until_processed("BatchWriteItem", requests, |requests| {
        let (client, table) = (client.clone(), table.clone());
        async move {
            let out = client
                .batch_write_item()
                .request_items(table.clone(), requests)
                .send()
                .await
                .map_err(|e| sdk_error("BatchWriteItem", e))?;
            let left = left_of(out.unprocessed_items, &table).filter(|l| !l.is_empty());
            Ok((Vec::<()>::new(), left))
        }
    })
    .await
    .map(drop)
}

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        check_key(key)?;
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        out.item().map(from_attrs).transpose()
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        keys.iter().try_for_each(check_key)?;
        // One request may not name a key twice.
        let mut seen = HashSet::with_capacity(keys.len());
        let unique: Vec<Key> = keys.iter().filter(|k| seen.insert(*k)).cloned().collect();
        let mut found = HashMap::with_capacity(unique.len());
        // Up to BATCH_CONCURRENCY requests in flight, as `put_many` writes.
        let mut running = tokio::task::JoinSet::new();
        let mut chunks = unique.chunks(GET_BATCH);
        loop {
            while running.len() < BATCH_CONCURRENCY {
                let Some(chunk) = chunks.next() else { break };
                running.spawn(read_batch(
                    self.client.clone(),
                    self.table.clone(),
                    chunk.to_vec(),
                ));
            }
            let Some(done) = running.join_next().await else {
                break;
            };
            let items =
                done.map_err(|e| StoreError::Unavailable(format!("batch read task failed: {e}")))??;
            found.extend(items.into_iter().map(|item| (item.key(), item)));
        }
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        check_item(&item)?;
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_attrs(&item)?));
        with_expr!(request, condition = &condition)
            .send()
            .await
            .map_err(|e| sdk_error("PutItem", e))?;
        Ok(())
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        check_key(key)?;
        let request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)));
        with_expr!(request, condition = &condition)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteItem", e))?;
        Ok(())
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        check_transaction(&ops)?;
        // Position in the request -> index of the op (a Check without condition is dropped).
        let mut positions = Vec::with_capacity(ops.len());
        let mut items = Vec::with_capacity(ops.len());
        for (i, op) in ops.iter().enumerate() {
            let item = match op {
                TxOp::Put { item, condition } => {
                    let put = Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(to_attrs(item)?));
                    let put = with_expr!(put, condition = condition);
                    TransactWriteItem::builder()
                        .put(put.build().map_err(build_error)?)
                        .build()
                }
                TxOp::Delete { key, condition } => {
                    let delete = Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attrs(key)));
                    let delete = with_expr!(delete, condition = condition);
                    TransactWriteItem::builder()
                        .delete(delete.build().map_err(build_error)?)
                        .build()
                }
                TxOp::Check { condition, .. } if *condition == Condition::None => continue,
                TxOp::Check { key, condition } => {
                    let check = ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attrs(key)));
                    let check = with_expr!(check, condition = condition);
                    TransactWriteItem::builder()
                        .condition_check(check.build().map_err(build_error)?)
                        .build()
                }
                TxOp::Add {
                    key,
                    delta,
                    gsi1,
                    expires_at,
                } => {
                    let update = Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attrs(key)));
                    let update = with_expr!(
                        update,
                        update = add_expr(*delta, gsi1.as_ref(), *expires_at)
                    );
                    TransactWriteItem::builder()
                        .update(update.build().map_err(build_error)?)
                        .build()
                }
            };
            positions.push(i);
            items.push(item);
        }
        if items.is_empty() {
            return Ok(());
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(()),
            Err(err) => err,
        };
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancel)) =
            err.as_service_error()
        {
            let reasons = cancel.cancellation_reasons();
            let failed = reasons
                .iter()
                .position(|r| r.code() == Some("ConditionalCheckFailed"));
            if let Some(at) = failed {
                let op = positions.get(at).copied();
                return Err(StoreError::ConditionFailed { op });
            }
            if reasons
                .iter()
                .any(|r| r.code() == Some("TransactionConflict"))
            {
                return Err(StoreError::Conflict);
            }
            let codes: Vec<_> = reasons
                .iter()
                .filter_map(|r| r.code())
                .filter(|c| *c != "None")
                .collect();
            if codes.contains(&"ValidationError") {
                return Err(StoreError::Invalid(format!(
                    "TransactWriteItems: {}",
                    cancel.message().unwrap_or_default()
                )));
            }
            return Err(StoreError::Unavailable(format!(
                "TransactWriteItems cancelled: {codes:?}"
            )));
        }
        Err(sdk_error("TransactWriteItems", err))
    }

    async fn add(&self, key: &Key, delta: i64) -> Result<i64, StoreError> {
        check_key(key)?;
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)));
        let out = with_expr!(request, update = add_expr(delta, None, None))
            // ALL_NEW rather than UPDATED_NEW: moto leaves out of UPDATED_NEW the attributes
            // whose value did not change (an ADD of 0), where DynamoDB returns them all.
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| sdk_error("UpdateItem", e))?;
        let attrs = out.attributes.unwrap_or_default();
        get_n(&attrs, COUNT)?.ok_or_else(|| {
            StoreError::Corrupt(format!("ADD on {}/{} returned no count", key.pk, key.sk))
        })
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        check_query(query)?;
        let mut page = Page {
            items: Vec::new(),
            next: None,
            read: 0,
        };
        let Some(range) = normalize_range(&query.sk) else {
            return Ok(page);
        };
        let (index_name, ipk, isk) = index_attrs(query.index);
        let mut names = HashMap::from([("#pk".to_string(), ipk.to_string())]);
        let mut values = HashMap::from([(":pk".to_string(), s(&query.pk))]);
        let mut condition = "#pk = :pk".to_string();
        let sk_condition = match &range {
            SkRange::All => None,
            SkRange::BeginsWith(p) => {
                values.insert(":a".into(), s(p));
                Some("begins_with(#sk, :a)")
            }
            SkRange::Between(a, b) => {
                values.insert(":a".into(), s(a));
                values.insert(":b".into(), s(b));
                Some("#sk BETWEEN :a AND :b")
            }
            SkRange::AtLeast(a) => {
                values.insert(":a".into(), s(a));
                Some("#sk >= :a")
            }
            SkRange::AtMost(b) => {
                values.insert(":b".into(), s(b));
                Some("#sk <= :b")
            }
        };
        if let Some(c) = sk_condition {
            names.insert("#sk".into(), isk.to_string());
            condition.push_str(" AND ");
            condition.push_str(c);
        }
        let mut start = query.after.as_ref().map(|c| start_key(c, query.index));
        loop {
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index_name.map(str::to_string))
                .key_condition_expression(&condition)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(query.forward)
                .set_exclusive_start_key(start.take());
            if index_name.is_none() {
                request = request.consistent_read(true);
            }
            if let Some(limit) = query.limit {
                let wanted = limit.saturating_add(1).saturating_sub(page.items.len());
                request = request.limit(i32::try_from(wanted).unwrap_or(i32::MAX));
            }
            let out = request.send().await.map_err(|e| sdk_error("Query", e))?;
            page.read += usize::try_from(out.scanned_count()).unwrap_or_default();
            for attrs in out.items() {
                page.items.push(from_attrs(attrs)?);
            }
            let enough = query.limit.is_some_and(|limit| page.items.len() > limit);
            match out.last_evaluated_key {
                Some(key) if !enough => start = Some(key),
                _ => break,
            }
        }
        if let Some(limit) = query.limit {
            if page.items.len() > limit {
                page.items.truncate(limit);
                page.next = page.items.last().map(|i| Cursor::after(i, query.index));
            }
        }
        Ok(page)
    }

    async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError> {
        items.iter().try_for_each(check_item)?;
        // One batch may not name a key twice: keep the last write of each key.
        let mut seen = HashSet::with_capacity(items.len());
        let mut unique = Vec::with_capacity(items.len());
        for item in items.into_iter().rev() {
            if seen.insert(item.key()) {
                unique.push(item);
            }
        }
        drop(seen);
        unique.reverse();
        let mut running = tokio::task::JoinSet::new();
        let mut result = Ok(());
        for chunk in unique.chunks(BATCH) {
            let batch = match chunk.iter().map(to_attrs).collect::<Result<Vec<_>, _>>() {
                Ok(batch) => batch,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
            if running.len() >= BATCH_CONCURRENCY {
                if let Some(done) = running.join_next().await {
                    result = result.and(flatten(done));
                }
                if result.is_err() {
                    break;
                }
            }
            running.spawn(write_batch(self.client.clone(), self.table.clone(), batch));
        }
        while let Some(done) = running.join_next().await {
            result = result.and(flatten(done));
        }
        result
    }
}

fn flatten(done: Result<Result<(), StoreError>, tokio::task::JoinError>) -> Result<(), StoreError> {
    done.map_err(|e| StoreError::Unavailable(format!("batch write task failed: {e}")))?
}
