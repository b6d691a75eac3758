//! IndexedDB: the only place interview data is written. Every write is one transaction, committed
//! explicitly, with `durability: "strict"` so that "saved" means on disk even if the phone dies next.
//!
//! Records are JSON text under an explicit key (see `record.rs`); attachments are stored as bytes.
//! A closed connection (the browser may close it, or another tab upgrades the database) is reopened on
//! the next operation.
//!
//! Written on `web-sys` directly (no IndexedDB wrapper crate): the few operations below do not need
//! one, and the wrapper with its channels was some 12 KiB of the compressed download.

use std::cell::RefCell;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbObjectStore, IdbRequest, IdbTransaction};

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
    static DB: RefCell<Option<IdbDatabase>> = const { RefCell::new(None) };
}

#[wasm_bindgen]
extern "C" {
    /// An `IDBDatabase`, seen through the one binding web-sys keeps behind its unstable APIs.
    type RawDb;
    /// `db.transaction(names, mode, options)`: strict durability needs the options argument.
    #[wasm_bindgen(catch, method, js_name = transaction)]
    fn transaction_with_options(
        this: &RawDb,
        names: &js_sys::Array,
        mode: &str,
        options: &js_sys::Object,
    ) -> Result<IdbTransaction, JsValue>;
}

/// Turns any IndexedDB failure (a `DOMException`, or anything thrown) into what the surveyor is told.
pub fn classify(e: &JsValue) -> SaveError {
    match e.dyn_ref::<web_sys::DomException>() {
        Some(x) => SaveError::classify(&x.name(), &x.message()),
        None => {
            let text = e
                .dyn_ref::<js_sys::Error>()
                .map(|x| String::from(x.to_string()))
                .or_else(|| e.as_string())
                .unwrap_or_else(|| "unknown IndexedDB error".into());
            SaveError::classify("", &text)
        }
    }
}

/// True when this browser offers IndexedDB at all (private modes of some browsers do not).
pub fn available() -> bool {
    let Some(w) = web_sys::window() else { return false };
    matches!(js_sys::Reflect::get(&w, &"indexedDB".into()), Ok(v) if !v.is_undefined() && !v.is_null())
}

/// Waits until `target` fires `ok` (true) or one of `fail` (false). The listeners are removed
/// (dropped) once it has happened.
async fn settle(target: &web_sys::EventTarget, ok: &str, fail: &[&str]) -> bool {
    let mut listeners: Vec<Closure<dyn FnMut()>> = Vec::new();
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        for (event, outcome) in std::iter::once((ok, true)).chain(fail.iter().map(|e| (*e, false))) {
            let resolve = resolve.clone();
            let cb = Closure::<dyn FnMut()>::new(move || {
                let _ = resolve.call1(&JsValue::UNDEFINED, &JsValue::from_bool(outcome));
            });
            let _ = target.add_event_listener_with_callback(event, cb.as_ref().unchecked_ref());
            listeners.push(cb);
        }
    });
    let outcome = JsFuture::from(promise).await.ok().and_then(|v| v.as_bool()).unwrap_or(false);
    for (i, cb) in listeners.iter().enumerate() {
        let event = if i == 0 { ok } else { fail[i - 1] };
        let _ = target.remove_event_listener_with_callback(event, cb.as_ref().unchecked_ref());
    }
    outcome
}

/// The result of a request, or its error.
async fn result(req: IdbRequest) -> Result<JsValue, SaveError> {
    if settle(&req, "success", &["error"]).await {
        req.result().map_err(|e| classify(&e))
    } else {
        Err(req.error().ok().flatten().map_or_else(|| SaveError::Other("IndexedDB request failed".into()), |e| classify(&e)))
    }
}

/// Commits `tx` and waits until it is on disk.
async fn commit(tx: IdbTransaction) -> Result<(), SaveError> {
    // `commit()` is standard (Chromium 76+); web-sys marks it deprecated.
    #[allow(deprecated)]
    tx.commit().map_err(|e| classify(&e))?;
    if settle(&tx, "complete", &["error", "abort"]).await {
        Ok(())
    } else {
        Err(tx.error().map_or_else(|| SaveError::Other("the transaction was aborted".into()), |e| classify(&e)))
    }
}

/// Opens (or reuses) the database, creating the stores on first use.
pub async fn db() -> Result<IdbDatabase, SaveError> {
    if let Some(db) = DB.with(|d| d.borrow().clone()) {
        return Ok(db);
    }
    if !available() {
        return Err(SaveError::Other("IndexedDB is not available".into()));
    }
    let factory = web_sys::window()
        .and_then(|w| w.indexed_db().ok().flatten())
        .ok_or_else(|| SaveError::Other("IndexedDB is not available".into()))?;
    let req = factory.open_with_u32(DB_NAME, DB_VERSION).map_err(|e| classify(&e))?;
    let upgrade_req = req.clone();
    let on_upgrade = Closure::<dyn FnMut()>::new(move || {
        let Ok(db) = upgrade_req.result() else { return };
        let db: IdbDatabase = db.unchecked_into();
        let existing = db.object_store_names();
        for name in STORES {
            if !existing.contains(name) {
                let _ = db.create_object_store(name);
            }
        }
    });
    req.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let opened = result(req.clone().unchecked_into()).await;
    req.set_onupgradeneeded(None);
    drop(on_upgrade);
    let db: IdbDatabase = opened?.unchecked_into();
    // Another tab upgrading the schema asks us to let go; we close and reopen on the next operation.
    let on_versionchange = Closure::<dyn FnMut()>::new(|| forget_db(true));
    db.set_onversionchange(Some(on_versionchange.as_ref().unchecked_ref()));
    on_versionchange.forget();
    let on_close = Closure::<dyn FnMut()>::new(|| forget_db(false));
    db.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    on_close.forget();
    DB.with(|d| *d.borrow_mut() = Some(db.clone()));
    Ok(db)
}

fn forget_db(close: bool) {
    if let Some(db) = DB.with(|d| d.borrow_mut().take()) {
        if close {
            db.close();
        }
    }
}

/// Runs `op`, and once more on a fresh connection when the old one turned out to be closed.
async fn with_retry<T, F, Fut>(op: F) -> Result<T, SaveError>
where
    F: Fn(IdbDatabase) -> Fut,
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

/// A transaction over `names`: read-only, or read-write with strict durability.
fn transaction(db: &IdbDatabase, names: &[&str], write: bool) -> Result<IdbTransaction, SaveError> {
    let list: js_sys::Array = names.iter().map(|n| JsValue::from_str(n)).collect();
    let options = js_sys::Object::new();
    if write {
        let _ = js_sys::Reflect::set(&options, &"durability".into(), &"strict".into());
    }
    db.unchecked_ref::<RawDb>()
        .transaction_with_options(&list, if write { "readwrite" } else { "readonly" }, &options)
        .map_err(|e| classify(&e))
}

fn store(tx: &IdbTransaction, name: &str) -> Result<IdbObjectStore, SaveError> {
    tx.object_store(name).map_err(|e| classify(&e))
}

/// Writes records (store, key, JSON text) in one strict transaction: all or nothing.
pub async fn put_all(entries: Vec<(&'static str, String, String)>) -> Result<(), SaveError> {
    let entries = std::rc::Rc::new(entries);
    with_retry(move |db| {
        let entries = entries.clone();
        async move {
            let mut names: Vec<&str> = entries.iter().map(|e| e.0).collect();
            doorstep_core::sort::sort(&mut names);
            names.dedup();
            let tx = transaction(&db, &names, true)?;
            for (name, key, json) in entries.iter() {
                let put = store(&tx, name).and_then(|os| {
                    os.put_with_key(&JsValue::from_str(json), &JsValue::from_str(key)).map_err(|e| classify(&e))
                });
                if let Err(e) = put {
                    let _ = tx.abort();
                    return Err(e);
                }
            }
            commit(tx).await
        }
    })
    .await
}

pub async fn put(store: &'static str, key: &str, json: String) -> Result<(), SaveError> {
    put_all(vec![(store, key.to_string(), json)]).await
}

/// The value under `key`, `None` when there is none.
async fn get_value(name: &'static str, key: &str) -> Result<Option<JsValue>, SaveError> {
    let key = JsValue::from_str(key);
    with_retry(move |db| {
        let key = key.clone();
        async move {
            let tx = transaction(&db, &[name], false)?;
            let req = store(&tx, name)?.get(&key).map_err(|e| classify(&e))?;
            let v = result(req).await?;
            Ok((!v.is_undefined()).then_some(v))
        }
    })
    .await
}

pub async fn get(store: &'static str, key: &str) -> Result<Option<String>, SaveError> {
    match get_value(store, key).await? {
        None => Ok(None),
        Some(v) => v.as_string().map(Some).ok_or_else(|| SaveError::Other(format!("{store}/{key} is not text"))),
    }
}

/// Every record of a store, as JSON text.
pub async fn all(name: &'static str) -> Result<Vec<String>, SaveError> {
    with_retry(move |db| async move {
        let tx = transaction(&db, &[name], false)?;
        let req = store(&tx, name)?.get_all().map_err(|e| classify(&e))?;
        let list: js_sys::Array = result(req).await?.unchecked_into();
        list.iter()
            .map(|v| v.as_string().ok_or_else(|| SaveError::Other(format!("a record of {name} is not text"))))
            .collect()
    })
    .await
}

pub async fn delete(name: &'static str, key: &str) -> Result<(), SaveError> {
    let key = JsValue::from_str(key);
    with_retry(move |db| {
        let key = key.clone();
        async move {
            let tx = transaction(&db, &[name], true)?;
            if let Err(e) = store(&tx, name).and_then(|os| os.delete(&key).map_err(|e| classify(&e))) {
                let _ = tx.abort();
                return Err(e);
            }
            commit(tx).await
        }
    })
    .await
}

/// Stores an attachment's bytes (key: `<instance_id>/<file>`).
pub async fn put_media(key: &str, bytes: &[u8]) -> Result<(), SaveError> {
    let arr: JsValue = js_sys::Uint8Array::from(bytes).into();
    let key = JsValue::from_str(key);
    with_retry(move |db| {
        let key = key.clone();
        let arr = arr.clone();
        async move {
            let tx = transaction(&db, &[MEDIA], true)?;
            if let Err(e) = store(&tx, MEDIA).and_then(|os| os.put_with_key(&arr, &key).map_err(|e| classify(&e))) {
                let _ = tx.abort();
                return Err(e);
            }
            commit(tx).await
        }
    })
    .await
}

pub async fn get_media(key: &str) -> Result<Option<Vec<u8>>, SaveError> {
    Ok(get_value(MEDIA, key).await?.map(|v| js_sys::Uint8Array::new(&v).to_vec()))
}
