//! Export: writes one bundle per form version with the engine's bundle writer, offers it as a download,
//! and records which submissions went into which bundle (by its SHA-256). Nothing is deleted or changed
//! except that record. No two bundles made on a device share a file name (see
//! `record::wait_for_unique_name`).

use std::collections::{BTreeMap, BTreeSet};

use doorstep_core::bundle::{Attachment, BundleInfo, write_bundle};
use serde_json::Value as Json;

use super::{device, files, interviews, storage};
use crate::record::{
    BundleRecord, CannotRemake, Remake, Settings, SubmissionRecord, form_key, wait_for_unique_name,
};

/// What one export did.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Outcome {
    pub bundles: Vec<Made>,
    /// Submissions left out, with the reasons.
    pub refused: Vec<(String, Vec<String>)>,
    pub errors: Vec<String>,
}

/// A bundle this export wrote, with the object URL of its bytes (for the link that saves it again,
/// `files::download`).
#[derive(Clone, Debug, PartialEq)]
pub struct Made {
    pub record: BundleRecord,
    pub url: String,
}

/// Every attachment reference (`{file, sha256, ...}`) in an answer tree.
pub(crate) fn attachment_files(v: &Json, out: &mut Vec<String>) {
    match v {
        Json::Object(o) => {
            if let (Some(Json::String(f)), Some(Json::String(_))) = (o.get("file"), o.get("sha256"))
            {
                out.push(f.clone());
            }
            o.values().for_each(|x| attachment_files(x, out));
        }
        Json::Array(a) => a.iter().for_each(|x| attachment_files(x, out)),
        _ => {}
    }
}

/// The app as named in a bundle's manifest.
fn app_version() -> String {
    format!("doorstep-web {}", env!("CARGO_PKG_VERSION"))
}

/// The media type a bundle is downloaded as.
pub fn media_type(file_name: &str) -> &'static str {
    if file_name.ends_with(".age") {
        "application/octet-stream"
    } else {
        "application/zip"
    }
}

/// The stored bytes of every attachment the interviews' answers name, and the files of those not
/// on the device (left out: the writer would refuse their interview, in its English words).
async fn attachments_of(records: &[SubmissionRecord]) -> (Vec<Attachment>, Vec<String>) {
    let (mut out, mut missing) = (Vec::new(), Vec::new());
    for r in records {
        let mut names = Vec::new();
        attachment_files(&r.envelope.data, &mut names);
        for file in names {
            let key = storage::media_key(r.id(), &file);
            match storage::get_media(&key).await {
                Ok(Some(bytes)) => out.push(Attachment {
                    instance_id: r.id().to_string(),
                    file,
                    bytes,
                }),
                Ok(None) => missing.push(key),
                Err(_) => {}
            }
        }
    }
    (out, missing)
}

/// The bytes of a bundle exported before, made again from what is stored (its interviews, their
/// attachments, its form and `record.made_with`) and given only when they are the very file first
/// exported: same interviews, same name, same SHA-256.
pub async fn make_again(
    record: &BundleRecord,
    settings: &Settings,
) -> Result<Vec<u8>, CannotRemake> {
    let mut held = Vec::new();
    let mut gone = 0;
    for id in &record.instance_ids {
        match storage::get(storage::SUBMISSIONS, id).await {
            Ok(Some(json)) => held.push(
                crate::record::from_json::<SubmissionRecord>(&json)
                    .map_err(|e| CannotRemake::Failed(format!("the interview {id}: {e}")))?,
            ),
            Ok(None) => gone += 1,
            Err(e) => return Err(CannotRemake::Failed(crate::i18n::storage_failed(&e))),
        }
    }
    let Remake { form_key, mut info } = record.remake(&held, gone, settings, &app_version())?;
    let form = interviews::form_by_key(&form_key)
        .await
        .map_err(|_| CannotRemake::FormGone)?;
    let subs = held
        .iter()
        .map(SubmissionRecord::submission)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CannotRemake::Differs(vec![e]))?;
    info.attachments = attachments_of(&held).await.0;
    let made =
        write_bundle(&form, &subs, &info).map_err(|e| CannotRemake::Failed(e.to_string()))?;
    Remake::check(record, &made)?;
    Ok(made.bytes)
}

pub async fn bundles() -> Vec<BundleRecord> {
    let mut list: Vec<BundleRecord> = storage::all(storage::BUNDLES)
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|j| crate::record::from_json(j).ok())
        .collect();
    doorstep_core::sort::sort_by(&mut list, |a, b| b.created_at.cmp(&a.created_at));
    list
}

pub async fn export(records: Vec<SubmissionRecord>, settings: &Settings) -> Outcome {
    let mut out = Outcome::default();
    let mut made: BTreeSet<String> = bundles().await.into_iter().map(|b| b.file_name).collect();
    let mut groups: BTreeMap<String, Vec<SubmissionRecord>> = BTreeMap::new();
    for r in records {
        let m = &r.envelope.meta;
        groups
            .entry(form_key(&m.form.id, &m.form.version, &m.form.hash))
            .or_default()
            .push(r);
    }
    for (key, recs) in groups {
        let form = match interviews::form_by_key(&key).await {
            Ok(f) => f,
            Err(e) => {
                out.errors.push(e);
                continue;
            }
        };
        let (attachments, missing) = attachments_of(&recs).await;
        let mut subs = Vec::new();
        for r in &recs {
            // An interview whose photo or signature is gone from the phone is refused here, with
            // what to do, rather than by the writer.
            let gone: Vec<&str> = missing
                .iter()
                .filter_map(|k| k.strip_prefix(r.id())?.strip_prefix('/'))
                .collect();
            if !gone.is_empty() {
                let why =
                    crate::i18n::attachments_gone(&gone.join(crate::i18n::shown().t().list_sep));
                out.refused.push((r.id().to_string(), vec![why]));
                continue;
            }
            match r.submission() {
                Ok(s) => subs.push(s),
                Err(e) => out.refused.push((r.id().to_string(), vec![e])),
            }
        }
        if subs.is_empty() {
            continue;
        }
        let mut info = BundleInfo {
            device_id: settings.device_id.clone(),
            surveyor: settings.surveyor.clone(),
            app_version: app_version(),
            created_at: String::new(),
            attachments,
            entropy: Vec::new(),
        };
        // Two versions of one form exported together are two bundles of that form: the second is
        // made in the next second, so that it gets a name of its own.
        let bundle = loop {
            info.created_at = device::now_rfc3339();
            // For a form with settings.encrypt_to; if the OS has no randomness the engine refuses
            // to encrypt (and never writes a plaintext bundle instead).
            info.entropy = {
                let mut e = vec![0u8; 64];
                getrandom::fill(&mut e).map(|()| e).unwrap_or_default()
            };
            let bundle = match write_bundle(&form, &subs, &info) {
                Ok(b) => b,
                Err(e) => break Err(e),
            };
            match wait_for_unique_name(&bundle.file_name, &made, js_sys::Date::now() as i64) {
                Some(ms) if !bundle.included.is_empty() => {
                    drop(bundle);
                    gloo::timers::future::TimeoutFuture::new(ms).await;
                }
                _ => break Ok(bundle),
            }
        };
        let bundle = match bundle {
            Ok(b) => b,
            Err(e) => {
                out.errors.push(format!("{}: {e}", form.id));
                continue;
            }
        };
        out.refused.extend(bundle.refused.iter().cloned());
        if bundle.included.is_empty() {
            continue;
        }
        made.insert(bundle.file_name.clone());
        let url = match files::download(
            &bundle.file_name,
            &bundle.bytes,
            media_type(&bundle.file_name),
        ) {
            Ok(url) => url,
            Err(e) => {
                out.errors.push(e);
                continue;
            }
        };
        let rec = BundleRecord::of(&bundle, &form, &info);
        // The bundle's record and every included submission's note of it, in one transaction that
        // reads each submission as it is now (another window may have written it since `recs`).
        let bundle_entry = (
            storage::BUNDLES,
            rec.sha256.clone(),
            serde_json::to_string(&rec).unwrap_or_default(),
        );
        let sha = rec.sha256.clone();
        let marked = storage::update(
            vec![storage::BUNDLES, storage::SUBMISSIONS],
            storage::SUBMISSIONS,
            bundle.included.clone(),
            Box::new(move |read| {
                let mut entries = vec![bundle_entry.clone()];
                for json in read.into_iter().flatten() {
                    let Ok(mut r) = crate::record::from_json::<SubmissionRecord>(&json) else {
                        continue;
                    };
                    if !r.exported_in.contains(&sha) {
                        r.exported_in.push(sha.clone());
                    }
                    r.rev += 1;
                    entries.push((
                        storage::SUBMISSIONS,
                        r.id().to_string(),
                        serde_json::to_string(&r).unwrap_or_default(),
                    ));
                }
                Ok(entries)
            }),
        );
        if let Err(e) = marked.await {
            out.errors
                .push(crate::i18n::export_not_recorded(&rec.file_name, &e));
        }
        out.bundles.push(Made { record: rec, url });
    }
    out
}
