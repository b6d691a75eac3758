//! IndexedDB: the only place interview data is written. Every write is one transaction, committed
//! explicitly, with `durability: "strict"` so that "saved" means on disk even if the phone dies next.
//!
//! Records are JSON text under an explicit key (see `record.rs`); attachments are stored as bytes.
//! A closed connection (the browser may close it, or another tab upgrades the database) is reopened on
//! the next operation.

use std::cell::RefCell;
use std::rc::Rc;

use indexed_db_futures::database::Database;
use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::{TransactionDurability, TransactionMode, TransactionOptions};
use wasm_bindgen::JsCast;

use crate::save::SaveError;

const DB_NAME: &str = "doorstep";
const DB_VERSION: u32 = 1;

pub const FORMS: &str = "forms";
pub const SUBMISSIONS: &str = "submissions";
pub const MEDIA: &str = "media";
pub const BUNDLES: &str = "bundles";
pub const SETTINGS: &str = "settings";
const STORES: [&str; 5] = [FORMS, SUBMISSIONS, MEDIA, BUNDLES, SETTINGS];

thread_local! {
    static DB: RefCell<Option<Rc<Database>>> = const { RefCell::new(None) };
}

/// Turns any IndexedDB failure into what the surveyor is told.
pub fn classify(e: &indexed_db_futures::error::Error) -> SaveError {
    use indexed_db_futures::error::Error;
    match e {
        Error::DomException(d) => {
            let js: &wasm_bindgen::JsValue = d.as_ref();
            match js.dyn_ref::<web_sys::DomException>() {
                Some(x) => SaveError::classify(&x.name(), &x.message()),
                None => SaveError::classify("", &d.message()),
            }
        }
        other => SaveError::classify("", &format!("{other} {other:?}")),
    }
}

fn classify_open(e: &indexed_db_futures::error::OpenDbError) -> SaveError {
    SaveError::classify("", &format!("{e} {e:?}"))
}

/// True when this browser offers IndexedDB at all (private modes of some browsers do not).
pub fn available() -> bool {
    let Some(w) = web_sys::window() else {
        return false;
    };
    matches!(js_sys::Reflect::get(&w, &"indexedDB".into()), Ok(v) if !v.is_undefined() && !v.is_null())
}

/// Opens (or reuses) the database, creating the stores on first use.
pub async fn db() -> Result<Rc<Database>, SaveError> {
    if let Some(db) = DB.with(|d| d.borrow().clone()) {
        return Ok(db);
    }
    if !available() {
        return Err(SaveError::Other("IndexedDB is not available".into()));
    }
    let db = Database::open(DB_NAME)
        .with_version(DB_VERSION)
        .with_on_upgrade_needed(|_event, db| {
            let existing: Vec<String> = db.object_store_names().collect();
            for name in STORES {
                if !existing.iter().any(|e| e == name) {
                    db.create_object_store(name).build()?;
                }
            }
            Ok(())
        })
        .await
        .map_err(|e| classify_open(&e))?;
    // Another tab upgrading the schema asks us to let go; we close and reopen on the next operation.
    let sys: &web_sys::IdbDatabase = db.as_sys().unchecked_ref();
    let on_versionchange = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(|| forget_db(true));
    sys.set_onversionchange(Some(on_versionchange.as_ref().unchecked_ref()));
    on_versionchange.forget();
    let on_close = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(|| forget_db(false));
    sys.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    on_close.forget();
    let db = Rc::new(db);
    DB.with(|d| *d.borrow_mut() = Some(db.clone()));
    Ok(db)
}

fn forget_db(close: bool) {
    if let Some(db) = DB.with(|d| d.borrow_mut().take())
        && close
    {
        let sys: &web_sys::IdbDatabase = db.as_sys().unchecked_ref();
        sys.close();
    }
}

/// Runs `op`, and once more on a fresh connection when the old one turned out to be closed.
async fn with_retry<T, F, Fut>(op: F) -> Result<T, SaveError>
where
    F: Fn(Rc<Database>) -> Fut,
    Fut: std::future::Future<Output = Result<T, SaveError>>,
{
    let first = db().await?;
    match op(first).await {
        Err(SaveError::Closed) => {
            forget_db(false);
            let second = db().await?;
            op(second).await
        }
        other => other,
    }
}

fn strict() -> TransactionOptions {
    let mut o = TransactionOptions::new();
    o.set_durability(TransactionDurability::Strict);
    o
}

/// Writes records (store, key, JSON text) in one strict transaction: all or nothing.
pub async fn put_all(entries: Vec<(&'static str, String, String)>) -> Result<(), SaveError> {
    let mut stores: Vec<&'static str> = entries.iter().map(|e| e.0).collect();
    doorstep_core::sort::sort(&mut stores);
    stores.dedup();
    let first = stores.first().copied().unwrap_or(SUBMISSIONS);
    update(
        stores,
        first,
        Vec::new(),
        Box::new(move |_| Ok(entries.clone())),
    )
    .await
}

/// What [`update`] writes, made from what it read (behind `dyn`: one copy of the transaction's
/// code for all its callers).
pub type Change =
    Box<dyn Fn(Vec<Option<String>>) -> Result<Vec<(&'static str, String, String)>, SaveError>>;

/// Reads the records `keys` of `store` and writes what `change` makes of them (store, key, JSON
/// text) in one strict transaction over `stores`: nothing, from this tab or another, is written
/// between the read and the write. When `change` refuses, nothing is written.
pub async fn update(
    stores: Vec<&'static str>,
    store: &'static str,
    keys: Vec<String>,
    change: Change,
) -> Result<(), SaveError> {
    update_with_media(stores, store, keys, change, Vec::new()).await
}

/// [`update`], storing `media` (attachment bytes by media key) in the same transaction: a record
/// that names an attachment is never on disk without it.
pub async fn update_with_media(
    mut stores: Vec<&'static str>,
    store: &'static str,
    keys: Vec<String>,
    change: Change,
    media: Vec<(String, Rc<Vec<u8>>)>,
) -> Result<(), SaveError> {
    if !media.is_empty() && !stores.contains(&MEDIA) {
        stores.push(MEDIA);
    }
    let keys = Rc::new(keys);
    let stores = Rc::new(stores);
    let media = Rc::new(media);
    let change: Rc<dyn Fn(Vec<Option<String>>) -> _> = Rc::from(change);
    with_retry(move |db| {
        let (change, keys, stores, media) =
            (change.clone(), keys.clone(), stores.clone(), media.clone());
        async move {
            let tx = db
                .transaction(stores.as_slice())
                .with_mode(TransactionMode::Readwrite)
                .with_options(strict())
                .build()
                .map_err(|e| classify(&e))?;
            let os = tx.object_store(store).map_err(|e| classify(&e))?;
            let mut read = Vec::with_capacity(keys.len());
            for key in keys.iter() {
                read.push(text(&os, key).await?);
            }
            // A refusal drops the transaction uncommitted: it rolls back.
            for (store, key, json) in change(read)? {
                tx.object_store(store)
                    .map_err(|e| classify(&e))?
                    .put(json.as_str())
                    .with_key(key.as_str())
                    .build()
                    .map_err(|e| classify(&e))?;
            }
            for (key, bytes) in media.iter() {
                let v: wasm_bindgen::JsValue = js_sys::Uint8Array::from(bytes.as_slice()).into();
                tx.object_store(MEDIA)
                    .map_err(|e| classify(&e))?
                    .put(v)
                    .with_key(key.as_str())
                    .build()
                    .map_err(|e| classify(&e))?;
            }
            tx.commit().await.map_err(|e| classify(&e))
        }
    })
    .await
}

pub async fn put(store: &'static str, key: &str, json: String) -> Result<(), SaveError> {
    put_all(vec![(store, key.to_string(), json)]).await
}

pub async fn get(store: &'static str, key: &str) -> Result<Option<String>, SaveError> {
    let key = key.to_string();
    with_retry(move |db| {
        let key = key.clone();
        async move {
            let tx = db.transaction(store).build().map_err(|e| classify(&e))?;
            let os = tx.object_store(store).map_err(|e| classify(&e))?;
            text(&os, &key).await
        }
    })
    .await
}

/// Every record of a store, as JSON text.
pub async fn all(store: &'static str) -> Result<Vec<String>, SaveError> {
    with_retry(move |db| async move {
        let tx = db.transaction(store).build().map_err(|e| classify(&e))?;
        let os = tx.object_store(store).map_err(|e| classify(&e))?;
        texts(&os).await
    })
    .await
}

/// One record of an open store, as JSON text.
async fn text(
    os: &indexed_db_futures::object_store::ObjectStore<'_>,
    key: &str,
) -> Result<Option<String>, SaveError> {
    os.get(key)
        .primitive()
        .map_err(|e| classify(&e))?
        .await
        .map_err(|e| classify(&e))
}

/// Every record of an open store, as JSON text.
async fn texts(
    os: &indexed_db_futures::object_store::ObjectStore<'_>,
) -> Result<Vec<String>, SaveError> {
    os.get_all()
        .primitive()
        .map_err(|e| classify(&e))?
        .await
        .map_err(|e| classify(&e))?
        .collect::<Result<Vec<String>, _>>()
        .map_err(|e| classify(&e))
}

pub async fn delete(store: &'static str, key: &str) -> Result<(), SaveError> {
    let key = key.to_string();
    with_retry(move |db| {
        let key = key.clone();
        async move {
            let tx = db
                .transaction(store)
                .with_mode(TransactionMode::Readwrite)
                .with_options(strict())
                .build()
                .map_err(|e| classify(&e))?;
            let os = tx.object_store(store).map_err(|e| classify(&e))?;
            os.delete(key.as_str()).build().map_err(|e| classify(&e))?;
            tx.commit().await.map_err(|e| classify(&e))
        }
    })
    .await
}

/// The key of an attachment in the media store: `<instance_id>/<file>`.
pub fn media_key(instance_id: &str, file: &str) -> String {
    format!("{instance_id}/{file}")
}

/// Deletes an interview and every attachment stored under its id (`<instance_id>/…`) in one
/// strict transaction, so that deleting interviews gives their photos' space back; encrypted bundles
/// that held it forget their entropy in the same transaction.
pub async fn delete_interview(instance_id: &str) -> Result<(), SaveError> {
    let id = instance_id.to_string();
    with_retry(move |db| {
        let id = id.clone();
        async move {
            let tx = db
                .transaction([BUNDLES, MEDIA, SUBMISSIONS])
                .with_mode(TransactionMode::Readwrite)
                .with_options(strict())
                .build()
                .map_err(|e| classify(&e))?;
            // In the same transaction: encrypted bundles that held the interview forget the
            // entropy that would open them (`BundleRecord::forget_entropy`).
            let bundles = tx.object_store(BUNDLES).map_err(|e| classify(&e))?;
            let records = texts(&bundles).await?;
            for (key, json) in crate::record::BundleRecord::forget_entropy(&records, &id) {
                bundles
                    .put(json.as_str())
                    .with_key(key.as_str())
                    .build()
                    .map_err(|e| classify(&e))?;
            }
            let submissions = tx.object_store(SUBMISSIONS).map_err(|e| classify(&e))?;
            submissions
                .delete(id.as_str())
                .build()
                .map_err(|e| classify(&e))?;
            // Every key that starts with "<id>/": from "<id>/" up to "<id>0" ('0' follows '/').
            let (from, to) = (format!("{id}/"), format!("{id}0"));
            let media = tx.object_store(MEDIA).map_err(|e| classify(&e))?;
            media
                .delete(from.as_str()..to.as_str())
                .build()
                .map_err(|e| classify(&e))?;
            tx.commit().await.map_err(|e| classify(&e))
        }
    })
    .await
}

/// Stores an attachment's bytes (key: `<instance_id>/<file>`).
pub async fn put_media(key: &str, bytes: &[u8]) -> Result<(), SaveError> {
    let arr = js_sys::Uint8Array::from(bytes);
    let key = key.to_string();
    with_retry(move |db| {
        let key = key.clone();
        let arr = arr.clone();
        async move {
            let tx = db
                .transaction(MEDIA)
                .with_mode(TransactionMode::Readwrite)
                .with_options(strict())
                .build()
                .map_err(|e| classify(&e))?;
            let os = tx.object_store(MEDIA).map_err(|e| classify(&e))?;
            let v: wasm_bindgen::JsValue = arr.into();
            os.put(v)
                .with_key(key.as_str())
                .build()
                .map_err(|e| classify(&e))?;
            tx.commit().await.map_err(|e| classify(&e))
        }
    })
    .await
}

pub async fn get_media(key: &str) -> Result<Option<Vec<u8>>, SaveError> {
    let key = key.to_string();
    with_retry(move |db| {
        let key = key.clone();
        async move {
            let tx = db.transaction(MEDIA).build().map_err(|e| classify(&e))?;
            let os = tx.object_store(MEDIA).map_err(|e| classify(&e))?;
            let v: Option<wasm_bindgen::JsValue> = os
                .get(key.as_str())
                .primitive()
                .map_err(|e| classify(&e))?
                .await
                .map_err(|e| classify(&e))?;
            Ok(v.filter(|v| !v.is_undefined())
                .map(|v| js_sys::Uint8Array::new(&v).to_vec()))
        }
    })
    .await
}
