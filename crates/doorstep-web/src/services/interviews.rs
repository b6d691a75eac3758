//! Forms and interviews on the device: installing forms, starting, opening, autosaving, finalizing,
//! editing and deleting submissions. The components call these; the records are in `record.rs`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use doorstep_core::form::{self, Diagnostic, Form};
use doorstep_core::session::{Host, Session};
use gloo::timers::callback::Timeout;
use serde::Deserialize;

use super::{device, files, storage};
use crate::components::Ctl;
use crate::filling::{Filling, Topic};
use crate::record::{Envelope, FormRecord, FormRef, Meta, Settings, SubmissionRecord, form_key};
use crate::save::{Conflict, Next, SaveError};

thread_local! {
    /// Loaded forms by key: a form is parsed and checked once per app start, then shared behind `Rc`.
    static FORMS: RefCell<HashMap<String, Rc<Form>>> = RefCell::new(HashMap::new());
    /// The stored record (JSON text) of every form loaded, by key: a draft kept after its database
    /// was deleted (storage cleared, `indexedDB.deleteDatabase` in another tab) stores its form
    /// again, or it could never be opened or exported.
    static FORM_RECORDS: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

const SETTINGS_KEY: &str = "settings";

pub async fn settings() -> Settings {
    let mut s: Settings = match storage::get(storage::SETTINGS, SETTINGS_KEY).await {
        Ok(Some(json)) => crate::record::from_json(&json).unwrap_or_default(),
        _ => Settings::default(),
    };
    if s.device_id.is_empty() {
        s.device_id = format!("web-{}", &device::new_instance_id()[5..13]);
        let _ = save_settings(&s).await;
    }
    s
}

pub async fn save_settings(s: &Settings) -> Result<(), SaveError> {
    storage::put(
        storage::SETTINGS,
        SETTINGS_KEY,
        serde_json::to_string(s).unwrap_or_default(),
    )
    .await
}

pub async fn installed_forms() -> Vec<FormRecord> {
    let mut list: Vec<FormRecord> = storage::all(storage::FORMS)
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|j| crate::record::from_json(j).ok())
        .collect();
    doorstep_core::sort::sort_by(&mut list, |a, b| {
        a.id.cmp(&b.id)
            .then_with(|| doorstep_core::form::compare_versions(&b.version, &a.version))
    });
    list
}

/// Checks a form and installs it, or returns every diagnostic; a refused form is never stored.
pub async fn install(bytes: &[u8], origin: &str) -> Result<FormRecord, Vec<Diagnostic>> {
    let loaded = form::load_bytes(bytes);
    let Some(f) = loaded.form else {
        return Err(loaded
            .diagnostics
            .into_iter()
            .filter(|d| d.is_error())
            .collect());
    };
    let key = form_key(&f.id, &f.version, &f.hash);
    let rec = FormRecord {
        key: key.clone(),
        id: f.id.clone(),
        version: f.version.clone(),
        hash: f.hash.clone(),
        title: f.title.clone(),
        source: f.source.clone(),
        origin: origin.to_string(),
        installed_at: device::now_rfc3339(),
    };
    let rec_json = serde_json::to_string(&rec).unwrap_or_default();
    if let Err(e) = storage::put(storage::FORMS, &key, rec_json.clone()).await {
        return Err(vec![Diagnostic::error(
            "app/storage",
            "",
            crate::i18n::form_not_stored(&e),
        )]);
    }
    FORM_RECORDS.with(|m| m.borrow_mut().insert(key.clone(), rec_json));
    FORMS.with(|m| m.borrow_mut().insert(key, Rc::new(f)));
    Ok(rec)
}

#[derive(Deserialize)]
struct ShippedIndex {
    forms: Vec<ShippedForm>,
}
#[derive(Deserialize)]
struct ShippedForm {
    file: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    id: String,
}

/// Installs the forms shipped with the app that are not installed yet (runs at every start; offline the
/// service worker answers from its cache, and without it nothing changes).
pub async fn install_shipped(installed: &[FormRecord]) -> Vec<String> {
    let mut problems = Vec::new();
    let Ok(bytes) = files::fetch_bytes("./forms/index.json").await else {
        return problems;
    };
    let Ok(index) = std::str::from_utf8(&bytes)
        .map_err(|_| ())
        .and_then(|t| crate::record::from_json::<ShippedIndex>(t).map_err(|_| ()))
    else {
        return problems;
    };
    for f in index.forms {
        if !f.id.is_empty()
            && installed
                .iter()
                .any(|i| i.id == f.id && i.version == f.version && i.origin == "shipped")
        {
            continue;
        }
        let Ok(bytes) = files::fetch_bytes(&format!("./forms/{}", f.file)).await else {
            continue;
        };
        if let Err(diags) = install(&bytes, "shipped").await {
            problems.push(format!(
                "{}: {}",
                f.file,
                diags.first().map(|d| d.to_string()).unwrap_or_default()
            ));
        }
    }
    problems
}

/// The form with this key, parsed once.
pub async fn form_by_key(key: &str) -> Result<Rc<Form>, String> {
    if let Some(f) = FORMS.with(|m| m.borrow().get(key).cloned()) {
        return Ok(f);
    }
    let json = storage::get(storage::FORMS, key)
        .await
        .map_err(|e| crate::i18n::storage_failed(&e))?
        .ok_or_else(|| crate::i18n::form_gone(key, true))?;
    let rec: FormRecord = crate::record::from_json(&json).map_err(|e| e.to_string())?;
    let loaded = form::load(&rec.source);
    let f = Rc::new(
        loaded
            .form
            .ok_or_else(|| crate::i18n::form_gone(key, false))?,
    );
    FORM_RECORDS.with(|m| m.borrow_mut().insert(key.to_string(), json));
    FORMS.with(|m| m.borrow_mut().insert(key.to_string(), f.clone()));
    Ok(f)
}

fn host(settings: &Settings) -> Host {
    Host {
        clock: device::clock(),
        device_id: settings.device_id.clone(),
        username: settings.surveyor.clone(),
        seed: device::seed(),
    }
}

/// Starts a new interview on a form and writes its first record at once.
pub async fn start(form_key: &str, settings: &Settings, lang: &str) -> Result<Ctl, String> {
    let form = form_by_key(form_key).await?;
    let mut session = Session::new(form.clone(), host(settings));
    session.set_language(lang);
    let now = device::now_rfc3339();
    let meta = Meta {
        instance_id: device::new_instance_id(),
        form: FormRef {
            id: form.id.clone(),
            version: form.version.clone(),
            hash: form.hash.clone(),
        },
        status: "draft".into(),
        started_at: now.clone(),
        updated_at: now,
        finalized_at: None,
        device_id: settings.device_id.clone(),
        surveyor: settings.surveyor.clone(),
        deprecated_id: None,
    };
    let ctl = Ctl(Rc::new(RefCell::new(Filling::new(session, meta))));
    write_now(&ctl)
        .await
        .map_err(|e| crate::i18n::storage_failed(&e))?;
    Ok(ctl)
}

pub async fn submission(id: &str) -> Result<SubmissionRecord, String> {
    let json = storage::get(storage::SUBMISSIONS, id)
        .await
        .map_err(|e| crate::i18n::storage_failed(&e))?
        .ok_or_else(crate::i18n::interview_gone)?;
    crate::record::from_json(&json).map_err(|e| e.to_string())
}

pub async fn submissions() -> Vec<SubmissionRecord> {
    let mut list: Vec<SubmissionRecord> = storage::all(storage::SUBMISSIONS)
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|j| SubmissionRecord::read(j).ok())
        .collect();
    doorstep_core::sort::sort_by(&mut list, |a, b| {
        b.envelope.meta.updated_at.cmp(&a.envelope.meta.updated_at)
    });
    // Records written before `form_titles` existed get their form's titles for the lists (not
    // stored: a draft stores them on its next save, a finalized interview is never rewritten).
    if list.iter().any(|r| r.form_titles.is_none()) {
        let forms = installed_forms().await;
        for r in list.iter_mut().filter(|r| r.form_titles.is_none()) {
            let f = &r.envelope.meta.form;
            let key = form_key(&f.id, &f.version, &f.hash);
            r.form_titles = forms.iter().find(|x| x.key == key).map(|x| x.title.clone());
        }
    }
    list
}

/// Opens a stored draft with the exact form version it was started with, where the surveyor left it.
pub async fn open(id: &str, settings: &Settings, lang: &str) -> Result<Ctl, String> {
    let rec = submission(id).await?;
    let m = &rec.envelope.meta;
    let form = form_by_key(&form_key(&m.form.id, &m.form.version, &m.form.hash)).await?;
    let mut session = Session::resume(form, &rec.envelope.data, host(settings));
    session.set_language(lang);
    let mut f = Filling::new(session, rec.envelope.meta.clone());
    f.restore_pos(rec.page, rec.member.as_deref());
    f.disk_rev = Some(rec.rev);
    Ok(Ctl(Rc::new(RefCell::new(f))))
}

/// The record as it is written now.
fn record_of(ctl: &Ctl, previous: Option<SubmissionRecord>) -> SubmissionRecord {
    let f = ctl.0.borrow();
    let mut meta = f.meta.clone();
    meta.updated_at = device::now_rfc3339();
    let title = f
        .form
        .title
        .get(f.form.default_language(), f.form.default_language())
        .to_string();
    let mut rec = previous.unwrap_or(SubmissionRecord {
        envelope: Envelope {
            meta: meta.clone(),
            data: serde_json::Value::Null,
        },
        name: String::new(),
        form_title: title.clone(),
        form_titles: None,
        page: 0,
        member: None,
        exported_in: Vec::new(),
        superseded_by: None,
        rev: 0,
        extra: Default::default(),
    });
    rec.envelope = Envelope {
        meta,
        data: f.session.data(),
    };
    rec.name = f.session.instance_name().unwrap_or_default();
    rec.form_title = title;
    rec.form_titles = Some(f.form.title.clone());
    rec.page = f.pos.page;
    rec.member = f.member_path();
    rec
}

thread_local! {
    /// Attachments already given as answers whose bytes are not on disk yet, by media key (a
    /// signature's picture is the answer when the stroke ends and is written in the background).
    static WRITING: RefCell<HashMap<String, Rc<Vec<u8>>>> = RefCell::new(HashMap::new());
}

/// Notes that the bytes of media `key` are being written (`Some`), or are on disk or no longer
/// needed (`None`).
pub fn writing_media(key: &str, bytes: Option<Rc<Vec<u8>>>) {
    WRITING.with(|w| match bytes {
        Some(b) => {
            w.borrow_mut().insert(key.to_string(), b);
        }
        None => {
            w.borrow_mut().remove(key);
        }
    });
}

/// The bytes of media `key` while they are being written.
pub fn media_being_written(key: &str) -> Option<Rc<Vec<u8>>> {
    WRITING.with(|w| w.borrow().get(key).cloned())
}

/// The attachments of interview `instance_id` whose bytes may not be on disk yet (media key,
/// bytes): a write of its record stores them with it, so that no record on disk names an
/// attachment that is not.
fn pending_media(instance_id: &str) -> Vec<(String, Rc<Vec<u8>>)> {
    let prefix = storage::media_key(instance_id, "");
    WRITING.with(|w| {
        w.borrow()
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(k, b)| (k.clone(), b.clone()))
            .collect()
    })
}

/// Writes the draft now, in one strict transaction that first reads the record on disk: the record
/// keeps what only storage knows (exports), and nothing is written over a revision this window has
/// not seen (another tab of the app saved, finalized or deleted the interview): that is
/// `SaveError::Conflict`, for the surveyor to decide.
async fn write_now(ctl: &Ctl) -> Result<(), SaveError> {
    let id = ctl.0.borrow().meta.instance_id.clone();
    // The signatures whose pictures may not be on disk yet go in the same transaction, so that no
    // draft on disk names a picture that is not. If that fails for a reason that is not a conflict
    // (a full disk), the draft is written alone: the other answers are kept, the signature's own
    // write goes on retrying, and the indicator does not say saved until it is done.
    let media = pending_media(&id);
    match write_draft(ctl, &id, media.clone()).await {
        Err(e) if !media.is_empty() && !matches!(e, SaveError::Conflict(_)) => {
            write_draft(ctl, &id, Vec::new()).await
        }
        other => other,
    }
}

async fn write_draft(
    ctl: &Ctl,
    id: &str,
    media: Vec<(String, Rc<Vec<u8>>)>,
) -> Result<(), SaveError> {
    let seen = ctl.0.borrow().disk_rev;
    let written = Rc::new(RefCell::new(None));
    let (c, w, key) = (ctl.clone(), written.clone(), id.to_string());
    storage::update_with_media(
        vec![storage::SUBMISSIONS],
        storage::SUBMISSIONS,
        vec![id.to_string()],
        Box::new(move |read| {
            let previous = stored_record(read.into_iter().next().flatten());
            SubmissionRecord::may_replace(previous.as_ref(), seen).map_err(SaveError::Conflict)?;
            let mut rec = record_of(&c, previous);
            rec.rev += 1;
            *w.borrow_mut() = Some((rec.rev, rec.envelope.meta.updated_at.clone()));
            Ok(vec![(
                storage::SUBMISSIONS,
                key.clone(),
                serde_json::to_string(&rec).unwrap_or_default(),
            )])
        }),
        media,
    )
    .await?;
    if let Some((rev, updated_at)) = written.borrow_mut().take() {
        let mut f = ctl.0.borrow_mut();
        f.disk_rev = Some(rev);
        f.meta.updated_at = updated_at;
    }
    Ok(())
}

/// A stored record's text, read (`None` when there is none, or it cannot be read).
fn stored_record(json: Option<String>) -> Option<SubmissionRecord> {
    json.and_then(|j| crate::record::from_json(&j).ok())
}

/// Carries out what the autosave state machine asks for, and publishes the indicator's changes.
pub fn autosave(ctl: &Ctl, next: Next) {
    match next {
        Next::Nothing => {}
        Next::Schedule(ms) => {
            let ctl = ctl.clone();
            Timeout::new(ms, move || {
                let next = ctl.0.borrow_mut().save.due();
                autosave(&ctl, next);
            })
            .forget();
        }
        Next::Write(rev) => {
            let ctl = ctl.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let result = write_now(&ctl).await;
                let (next, cbs) = {
                    let mut f = ctl.0.borrow_mut();
                    let next = f.save.finished(rev, result);
                    (next, f.subscribers(Topic::Save))
                };
                Ctl::run(cbs);
                autosave(&ctl, next);
            });
        }
    }
}

/// Writes at once whatever is pending (the page is being hidden or closed).
pub fn flush(ctl: &Ctl) {
    let next = ctl.0.borrow_mut().save.due();
    autosave(ctl, next);
}

/// A change that is not an answer (the position) still reaches the disk.
pub fn touch(ctl: &Ctl) {
    let (next, cbs) = {
        let mut f = ctl.0.borrow_mut();
        (f.save.changed(), f.subscribers(Topic::Save))
    };
    Ctl::run(cbs);
    autosave(ctl, next);
}

/// Finalizes when the submission is valid; returns the number of problems otherwise, or 0 when
/// another window changed the interview meanwhile (the save bar then asks what to do).
pub async fn finalize(ctl: &Ctl) -> Result<(), usize> {
    let before = {
        let mut f = ctl.0.borrow_mut();
        let n = f.session.validate().len();
        if n > 0 {
            f.show_all_errors = true;
            f.finalize_refused = true;
            return Err(n);
        }
        let before = f.meta.clone();
        // Started before a name was entered in the settings: the office still learns whose it is
        // (the name the interview was opened again with).
        if f.meta.surveyor.trim().is_empty() {
            f.meta.surveyor = f.session.host().username.trim().to_string();
        }
        f.session.set_clock(device::clock());
        f.session.stamp_end();
        let now = device::now_rfc3339();
        f.meta.status = "finalized".into();
        f.meta.finalized_at = Some(now);
        before
    };
    let (id, seen, old_id) = {
        let f = ctl.0.borrow();
        (
            f.meta.instance_id.clone(),
            f.disk_rev,
            f.meta.deprecated_id.clone(),
        )
    };
    let mut keys = vec![id.clone()];
    keys.extend(old_id);
    let mut with_media = true;
    loop {
        let c = ctl.clone();
        let key = id.clone();
        let written = Rc::new(RefCell::new(None));
        let w = written.clone();
        // As in `write_now`: pictures not on disk yet go with the record, unless that failed once.
        let media = if with_media {
            pending_media(&id)
        } else {
            Vec::new()
        };
        let had_media = !media.is_empty();
        let result = storage::update_with_media(
            vec![storage::SUBMISSIONS],
            storage::SUBMISSIONS,
            keys.clone(),
            Box::new(move |read| {
                let mut read = read.into_iter();
                let previous = stored_record(read.next().flatten());
                SubmissionRecord::may_replace(previous.as_ref(), seen)
                    .map_err(SaveError::Conflict)?;
                let mut rec = record_of(&c, previous);
                rec.rev += 1;
                // The finalized submission holds what is exported: answers of non-relevant questions
                // are dropped.
                rec.envelope.data = c.0.borrow().session.export_data();
                *w.borrow_mut() = Some(rec.rev);
                let mut entries = vec![(
                    storage::SUBMISSIONS,
                    key.clone(),
                    serde_json::to_string(&rec).unwrap_or_default(),
                )];
                // An edit of a finalized submission supersedes the old one, in the same transaction.
                if let Some(mut old) = stored_record(read.next().flatten()) {
                    old.superseded_by = Some(key.clone());
                    old.rev += 1;
                    entries.push((
                        storage::SUBMISSIONS,
                        old.id().to_string(),
                        serde_json::to_string(&old).unwrap_or_default(),
                    ));
                }
                Ok(entries)
            }),
            media,
        )
        .await;
        let (stop, cbs) = {
            let mut f = ctl.0.borrow_mut();
            match result {
                Ok(()) => {
                    f.disk_rev = *written.borrow();
                    f.save.error = None;
                    f.save.saved = f.save.latest;
                    (Some(Ok(())), f.subscribers(Topic::Save))
                }
                Err(e @ SaveError::Conflict(_)) => {
                    // Not finalized: the window goes on as the draft it was, and the surveyor chooses.
                    f.meta = before.clone();
                    f.save.in_flight = None;
                    f.save.error = Some(e);
                    (Some(Err(0)), f.subscribers(Topic::Save))
                }
                Err(e) => {
                    // Finalizing must not be lost either: report and retry until it is on disk.
                    f.save.in_flight = None;
                    f.save.error = Some(e);
                    (None, f.subscribers(Topic::Save))
                }
            }
        };
        Ctl::run(cbs);
        if stop.is_none() && had_media {
            with_media = false;
        }
        if let Some(done) = stop {
            return done;
        }
        gloo::timers::future::TimeoutFuture::new(2_000).await;
    }
}

/// Whether another window wrote the interview since this one last read or wrote it (the conflict
/// its next write would meet), asked without writing anything when a window is shown again. With
/// changes of its own not yet written, the window shows the conflict at once, before more typing;
/// without, there is nothing of this window's to keep, and the caller follows the disk
/// (`Some(conflict)` is returned only then).
pub async fn check_disk(ctl: &Ctl) -> Option<Conflict> {
    let (id, seen) = {
        let f = ctl.0.borrow();
        if f.save.error.is_some() || f.save.in_flight.is_some() {
            return None;
        }
        (f.meta.instance_id.clone(), f.disk_rev)
    };
    let json = storage::get(storage::SUBMISSIONS, &id).await.ok()?;
    let c = SubmissionRecord::may_replace(stored_record(json).as_ref(), seen).err()?;
    let cbs = {
        let mut f = ctl.0.borrow_mut();
        // Unless a write of this window's finished or started meanwhile.
        if f.disk_rev != seen || f.save.in_flight.is_some() || f.save.error.is_some() {
            return None;
        }
        if f.save.is_clean() && f.save.media_pending == 0 {
            return Some(c);
        }
        f.save.error = Some(SaveError::Conflict(c));
        f.subscribers(Topic::Save)
    };
    Ctl::run(cbs);
    None
}

/// After a conflict, the surveyor keeps this window's answers. Over a draft another window saved,
/// or in place of one it deleted, they are written as they are; an interview another window
/// finalized is never written over, so they become a correction of it (a new draft that replaces
/// it once finalized, as "edit" on a finalized interview makes), with their own copies of the
/// attachments.
pub async fn keep_this_window(ctl: &Ctl) -> Result<(), String> {
    let Some(conflict) = ctl.0.borrow().save.in_conflict() else {
        return Ok(());
    };
    if let Conflict::Finalized { .. } = conflict {
        let (old_id, data) = {
            let f = ctl.0.borrow();
            (f.meta.instance_id.clone(), f.session.data())
        };
        let new_id = device::new_instance_id();
        copy_attachments(&old_id, &new_id, &data).await?;
        let mut f = ctl.0.borrow_mut();
        f.meta.deprecated_id = Some(old_id);
        f.meta.instance_id = new_id;
        f.meta.status = "draft".into();
        f.meta.finalized_at = None;
        f.disk_rev = None;
    } else {
        if let Conflict::Deleted = conflict {
            restore_form(ctl).await?;
        }
        ctl.0.borrow_mut().disk_rev = conflict.stored_rev();
    }
    let (next, cbs) = {
        let mut f = ctl.0.borrow_mut();
        (f.save.resolved(), f.subscribers(Topic::Save))
    };
    Ctl::run(cbs);
    autosave(ctl, next);
    Ok(())
}

/// Stores the form of a kept draft again when it is gone from the phone (the whole database was
/// deleted, not only the interview), from the record this app start loaded it from.
async fn restore_form(ctl: &Ctl) -> Result<(), String> {
    let key = {
        let f = ctl.0.borrow();
        let m = &f.meta.form;
        form_key(&m.id, &m.version, &m.hash)
    };
    let stored = storage::get(storage::FORMS, &key)
        .await
        .map_err(|e| crate::i18n::storage_failed(&e))?;
    if stored.is_some() {
        return Ok(());
    }
    let Some(json) = FORM_RECORDS.with(|m| m.borrow().get(&key).cloned()) else {
        return Ok(());
    };
    storage::put(storage::FORMS, &key, json)
        .await
        .map_err(|e| crate::i18n::storage_failed(&e))
}

/// Copies the attachments `data` names from interview `from` to interview `to` (each interview's
/// are stored under its own id).
async fn copy_attachments(from: &str, to: &str, data: &serde_json::Value) -> Result<(), String> {
    let mut files = Vec::new();
    super::export::attachment_files(data, &mut files);
    for file in files {
        let bytes = storage::get_media(&storage::media_key(from, &file))
            .await
            .map_err(|e| crate::i18n::storage_failed(&e))?;
        if let Some(bytes) = bytes {
            storage::put_media(&storage::media_key(to, &file), &bytes)
                .await
                .map_err(|e| crate::i18n::storage_failed(&e))?;
        }
    }
    Ok(())
}

/// Starts editing a finalized submission: a new draft with a new id that records the old one.
pub async fn edit_finalized(id: &str, settings: &Settings, lang: &str) -> Result<Ctl, String> {
    // A correction already started is opened again: two would both replace the same interview.
    let started = submissions()
        .await
        .into_iter()
        .find(|r| !r.is_finalized() && r.envelope.meta.deprecated_id.as_deref() == Some(id));
    if let Some(draft) = started {
        return open(draft.id(), settings, lang).await;
    }
    let rec = submission(id).await?;
    let m = &rec.envelope.meta;
    let form = form_by_key(&form_key(&m.form.id, &m.form.version, &m.form.hash)).await?;
    let mut session = Session::resume(form, &rec.envelope.data, host(settings));
    session.set_language(lang);
    let mut meta = rec.envelope.meta.clone();
    meta.deprecated_id = Some(meta.instance_id.clone());
    meta.instance_id = device::new_instance_id();
    meta.status = "draft".into();
    meta.finalized_at = None;
    meta.updated_at = device::now_rfc3339();
    // Attachments are stored under their interview's id: the correction gets its own copies of
    // the photos and signatures before the draft that names them is written.
    copy_attachments(id, &meta.instance_id, &rec.envelope.data).await?;
    let ctl = Ctl(Rc::new(RefCell::new(Filling::new(session, meta))));
    write_now(&ctl)
        .await
        .map_err(|e| crate::i18n::storage_failed(&e))?;
    Ok(ctl)
}

pub async fn delete(id: &str) -> Result<(), SaveError> {
    storage::delete_interview(id).await
}
