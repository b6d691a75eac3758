//! Attachment questions (photo, audio, video, file, and signatures): the bytes go to IndexedDB under
//! `<instance_id>/<file>`, the answer is the reference `{file, media_type, size, sha256}`.
//!
//! A photo is made smaller first (`crate::photo`): the surveyor sees what was stored and its size,
//! and when the photo could not be made smaller, that the original was kept.

use doorstep_core::expr::Node;
use serde_json::{Value as Json, json};
use yew::prelude::*;

use super::Ctl;
use super::confirm::Confirm;
use super::question::answer;
use super::signature::SignaturePad;
use crate::i18n::{self, Lang};
use crate::photo;
use crate::services::{files, storage};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctl: Ctl,
    pub node: Node,
    pub lang: Lang,
    pub value: Option<Json>,
    pub read_only: bool,
    /// The item type (`image`, `audio`, `video`, `file`).
    pub kind: &'static str,
    pub signature: bool,
    pub instance_id: String,
}

/// The answer that names an attachment, and its file name: `<question>-<12 hex of the SHA-256>`
/// with the extension given (`{file, media_type, size, sha256}`, docs/bundle-format.md).
pub fn reference(
    ctl: &Ctl,
    node: Node,
    ext: Option<&str>,
    media_type: &str,
    bytes: &[u8],
) -> (String, Json) {
    let sha = doorstep_core::submission::sha256_hex(bytes);
    let item_name = ctl.0.borrow().form.item(node.item).name.clone();
    let file = match ext {
        Some(e) => format!("{item_name}-{}.{e}", &sha[..12]),
        None => format!("{item_name}-{}", &sha[..12]),
    };
    let v = json!({ "file": file, "media_type": media_type, "size": bytes.len(), "sha256": sha });
    (file, v)
}

/// Stores the bytes, then answers with their reference. The answer is set only once the bytes are on disk.
pub async fn attach(
    ctl: &Ctl,
    node: Node,
    instance_id: &str,
    name: &str,
    media_type: &str,
    bytes: Vec<u8>,
) -> Result<(), String> {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .filter(|e| e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()));
    let (file, v) = reference(ctl, node, ext.as_deref(), media_type, &bytes);
    storage::put_media(&storage::media_key(instance_id, &file), &bytes)
        .await
        .map_err(|e| crate::i18n::storage_failed(&e))?;
    answer(ctl, node, Some(v))
}

/// The stored file's name and size ("house_photo-3f2a….jpg · 412.3 KB").
fn stored(file: &str, value: Option<&Json>) -> String {
    match value.and_then(|v| v.get("size")).and_then(Json::as_f64) {
        // The size never breaks between its number and its unit.
        Some(n) => format!("{file} · {}", i18n::bytes(n).replace(' ', "\u{a0}")),
        None => file.to_string(),
    }
}

#[function_component(Media)]
pub fn media(p: &Props) -> Html {
    let t = p.lang.t();
    let failure = use_state(|| None::<String>);
    // What happened to the last photo picked (made smaller, or kept as it was), for this visit.
    let note = use_state(|| None::<String>);
    let preview = use_state(|| None::<String>);
    // Removing a stored photo or recording is asked first (it may not be possible to take again).
    let asking = use_state(|| false);
    let file_name = p
        .value
        .as_ref()
        .and_then(|v| v.get("file"))
        .and_then(|f| f.as_str())
        .map(str::to_string);
    // Shows the stored photo (from IndexedDB) when the question is opened again.
    {
        let preview = preview.clone();
        let key = file_name
            .as_deref()
            .map(|f| storage::media_key(&p.instance_id, f));
        let mt = p
            .value
            .as_ref()
            .and_then(|v| v.get("media_type"))
            .and_then(|f| f.as_str())
            .unwrap_or("")
            .to_string();
        use_effect_with(key, move |key| {
            let key = key.clone();
            if let Some(key) = key.filter(|_| mt.starts_with("image/")) {
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok(Some(bytes)) = storage::get_media(&key).await {
                        preview.set(files::object_url(&bytes, &mt));
                    }
                });
            } else {
                preview.set(None);
            }
            || ()
        });
    }
    let on_file = {
        let ctl = p.ctl.clone();
        let node = p.node;
        let id = p.instance_id.clone();
        let failure = failure.clone();
        let note = note.clone();
        let (lang, image) = (p.lang, p.kind == "image");
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|l| l.get(0)) else {
                return;
            };
            let ctl = ctl.clone();
            let id = id.clone();
            let failure = failure.clone();
            let note = note.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let mt = if file.type_().is_empty() {
                    "application/octet-stream".to_string()
                } else {
                    file.type_()
                };
                // A document or a recording picked for a photo (the phone's picker may offer any
                // file) is not stored as the photo: the office would get it as one.
                if image && !mt.starts_with("image/") && !file.type_().is_empty() {
                    note.set(None);
                    failure.set(Some(i18n::not_a_photo(lang, &file.name())));
                    return;
                }
                let mut kept = None;
                if image && photo::tries(&file.type_()) {
                    note.set(Some(lang.t().preparing_photo.to_string()));
                    match files::downscale_photo(&file).await {
                        Ok(Some(jpeg)) => {
                            let said = i18n::photo_smaller(lang, file.size(), jpeg.len() as f64);
                            let name = photo::jpeg_name(&file.name());
                            let r = attach(&ctl, node, &id, &name, "image/jpeg", jpeg).await;
                            note.set(r.is_ok().then_some(said));
                            failure.set(r.err());
                            return;
                        }
                        Ok(None) => {}
                        Err(e) => {
                            web_sys::console::warn_1(
                                &format!("photo not made smaller: {e}").into(),
                            );
                            kept = Some(i18n::photo_kept(lang).to_string());
                        }
                    }
                }
                let r = match files::read_file(&file, files::MAX_READ_BYTES).await {
                    Ok(bytes) => attach(&ctl, node, &id, &file.name(), &mt, bytes).await,
                    Err(e) => Err(e),
                };
                note.set(kept.filter(|_| r.is_ok()));
                failure.set(r.err());
            });
        })
    };
    let clear = {
        let asking = asking.clone();
        Callback::from(move |_: MouseEvent| asking.set(true))
    };
    let dialog = (*asking).then(|| {
        let on_yes = {
            let (ctl, node, asking) = (p.ctl.clone(), p.node, asking.clone());
            Callback::from(move |()| {
                asking.set(false);
                let _ = answer(&ctl, node, None);
            })
        };
        let on_no = {
            let asking = asking.clone();
            Callback::from(move |()| asking.set(false))
        };
        html! { <Confirm text={t.confirm_clear_file} yes={t.clear} no={t.cancel} {on_yes} {on_no} /> }
    });
    let id = super::question::dom_id(p.node);
    let accept = match p.kind {
        "image" => "image/*",
        "audio" => "audio/*",
        "video" => "video/*",
        _ => "",
    };
    let body = if p.signature {
        html! { <SignaturePad ctl={p.ctl.clone()} node={p.node} lang={p.lang} instance_id={p.instance_id.clone()} has_value={file_name.is_some()} /> }
    } else if p.read_only {
        html! {}
    } else {
        // Photos, sound and video are made on the phone (`capture` opens its camera or recorder
        // directly), or picked from what is already on it; other files are only picked.
        let (record, capture) = match p.kind {
            "image" => (Some(t.take_photo), "environment"),
            "audio" => (Some(t.record_audio), "user"),
            "video" => (Some(t.record_video), "environment"),
            _ => (None, ""),
        };
        let pick_id = format!("{id}-pick");
        html! {
            <div class="media-buttons">
                if let Some(record) = record {
                    <label class="btn block primary" for={id.clone()}>{ record }</label>
                    <input id={id.clone()} class="sr-only" type="file" accept={accept} {capture} onchange={on_file.clone()} />
                    <label class="btn block" for={pick_id.clone()}>{ t.choose_from_phone }</label>
                    <input id={pick_id} class="sr-only" type="file" accept={accept} onchange={on_file} />
                } else {
                    <label class="btn block" for={id.clone()}>{ t.choose_file }</label>
                    <input id={id.clone()} class="sr-only" type="file" accept={accept} onchange={on_file} />
                }
            </div>
        }
    };
    html! {
        <div>
            // A signature's pad is its picture and has its own clear button (signature.rs).
            if let (false, Some(url)) = (p.signature, &*preview) {
                // A picture the browser cannot decode (kept as it was) shows no broken-image box.
                <img class="thumb" src={url.clone()} alt={file_name.clone().unwrap_or_default()}
                    onerror={let preview = preview.clone(); Callback::from(move |_: Event| preview.set(None))} />
            }
            if let (false, Some(f)) = (p.signature, &file_name) {
                <div class="row"><span class="muted grow" data-testid="stored-file">{ stored(f, p.value.as_ref()) }</span>
                    if !p.read_only { <button class="btn small" onclick={clear}>{ t.clear }</button> }</div>
            }
            { body }
            <div role="status">if let Some(n) = &*note { <p class="muted">{ n.clone() }</p> }</div>
            if let Some(e) = &*failure { <p class="q-error" role="alert">{ e.clone() }</p> }
            { dialog.unwrap_or_default() }
        </div>
    }
}
