//! A signature pad: the signer draws with a finger on a canvas, and the drawing is the answer as
//! soon as each stroke ends (a PNG attachment, like a photo). There is nothing to save by hand:
//! going to the next page right after the last stroke keeps it.
//!
//! At the end of a stroke the canvas is encoded and the answer (the file's reference) is given to
//! the session at once, in the same event, so the autosave has it within its usual delay; the
//! bytes are written to IndexedDB in the background, retried until they are on disk, and kept in
//! memory meanwhile (a pad opened again shows them from there). Pictures a newer stroke or a
//! clearing replaced are deleted once the draft that no longer names them is on disk.
//!
//! The pad is the one picture of the signature: opened again (next page and back, a reload) it
//! shows the stored signature, with one button to clear it and sign again.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use doorstep_core::expr::Node;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use super::Ctl;
use super::confirm::Confirm;
use super::question::answer;
use crate::filling::Topic;
use crate::i18n::Lang;
use crate::save::{RETRY_DELAYS_MS, SaveState};
use crate::services::{interviews, storage};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctl: Ctl,
    pub node: Node,
    pub lang: Lang,
    pub instance_id: String,
    pub has_value: bool,
}

const HEIGHT: u32 = 180;
/// A tap's dot: a little wider than the pen's line (2.5 px), so that it shows as a mark.
const DOT_RADIUS: f64 = 2.5;

thread_local! {
    /// Pictures an answer named before a newer stroke or a clearing: (instance id, node, file).
    static REPLACED: RefCell<Vec<(String, Node, String)>> = const { RefCell::new(Vec::new()) };
}

fn ctx2d(c: &web_sys::HtmlCanvasElement) -> Option<web_sys::CanvasRenderingContext2d> {
    c.get_context("2d").ok().flatten()?.dyn_into().ok()
}

fn point(c: &web_sys::HtmlCanvasElement, e: &PointerEvent) -> (f64, f64) {
    let r = c.get_bounding_client_rect();
    let sx = c.width() as f64 / r.width().max(1.0);
    let sy = c.height() as f64 / r.height().max(1.0);
    (
        (e.client_x() as f64 - r.left()) * sx,
        (e.client_y() as f64 - r.top()) * sy,
    )
}

/// White ground, and the pen.
fn blank(c: &web_sys::HtmlCanvasElement) {
    if let Some(g) = ctx2d(c) {
        g.set_fill_style_str("#fff");
        g.fill_rect(0.0, 0.0, c.width() as f64, c.height() as f64);
        g.set_line_width(2.5);
        g.set_line_cap("round");
        g.set_line_join("round");
        g.set_stroke_style_str("#111");
    }
}

/// The file the answer names now.
fn answered_file(ctl: &Ctl, node: Node) -> Option<String> {
    let f = ctl.0.borrow();
    let v = f.session.answer(node)?;
    Some(v.get("file")?.as_str()?.to_string())
}

/// The canvas as PNG bytes.
fn png(c: &web_sys::HtmlCanvasElement) -> Option<Vec<u8>> {
    let url = c.to_data_url_with_type("image/png").ok()?;
    let b64 = url.split_once(',')?.1;
    let bin = gloo::utils::window().atob(b64).ok()?;
    Some(bin.chars().map(|ch| ch as u32 as u8).collect())
}

/// Changes the save state and re-renders the save indicator.
fn on_save_state(ctl: &Ctl, change: impl FnOnce(&mut SaveState)) {
    let subscribers = {
        let mut f = ctl.0.borrow_mut();
        change(&mut f.save);
        f.subscribers(Topic::Save)
    };
    Ctl::run(subscribers);
}

/// Makes what the pad shows the answer, now; the bytes follow in the background.
fn keep(
    ctl: &Ctl,
    node: Node,
    instance_id: &str,
    c: &web_sys::HtmlCanvasElement,
    lang: Lang,
    failure: &UseStateHandle<Option<String>>,
) {
    let Some(bytes) = png(c) else {
        failure.set(Some(lang.t().save_failed_other.to_string()));
        return;
    };
    let (file, v) = super::media::reference(ctl, node, Some("png"), "image/png", &bytes);
    let key = storage::media_key(instance_id, &file);
    let before = answered_file(ctl, node);
    if before.as_deref() == Some(file.as_str()) {
        return;
    }
    let bytes = Rc::new(bytes);
    interviews::writing_media(&key, Some(bytes.clone()));
    if let Err(e) = answer(ctl, node, Some(v)) {
        interviews::writing_media(&key, None);
        failure.set(Some(e));
        return;
    }
    if let Some(old) = before {
        REPLACED.with(|r| r.borrow_mut().push((instance_id.to_string(), node, old)));
    }
    // The save indicator says "saved" only once the picture is on disk too.
    on_save_state(ctl, SaveState::media_started);
    let (ctl, instance_id, failure) = (ctl.clone(), instance_id.to_string(), failure.clone());
    wasm_bindgen_futures::spawn_local(async move {
        let mut failures = 0;
        loop {
            match storage::put_media(&key, &bytes).await {
                Ok(()) => {
                    failure.set(None);
                    on_save_state(&ctl, |s| s.media_finished(Ok(())));
                    break;
                }
                Err(e) => {
                    // Kept in memory and tried again, as the draft is; said under the pad and in
                    // the save indicator.
                    failure.set(Some(crate::i18n::save_failure(lang, &e)));
                    on_save_state(&ctl, |s| s.media_finished(Err(e.clone())));
                    let delay = RETRY_DELAYS_MS[failures.min(RETRY_DELAYS_MS.len() - 1)];
                    failures += 1;
                    gloo::timers::future::TimeoutFuture::new(delay).await;
                    if answered_file(&ctl, node).as_deref() != Some(file.as_str()) {
                        // A newer stroke or a clearing replaced it: no longer needed.
                        failure.set(None);
                        on_save_state(&ctl, SaveState::media_dropped);
                        break;
                    }
                }
            }
        }
        interviews::writing_media(&key, None);
        tidy(&ctl, &instance_id).await;
    });
}

/// Deletes the replaced pictures of this interview once the draft on disk no longer names them
/// (a picture still being written is left to the end of its write).
async fn tidy(ctl: &Ctl, instance_id: &str) {
    let rev = ctl.0.borrow().save.latest;
    // The draft is written within a fraction of a second; after a failing minute, the pictures stay.
    for _ in 0..240 {
        if ctl.0.borrow().save.saved >= rev {
            break;
        }
        gloo::timers::future::TimeoutFuture::new(250).await;
    }
    if ctl.0.borrow().save.saved < rev {
        return;
    }
    let gone: Vec<String> = REPLACED.with(|r| {
        let mut r = r.borrow_mut();
        let mut gone = Vec::new();
        r.retain(|(id, node, file)| {
            let unused = id == instance_id
                && interviews::media_being_written(&storage::media_key(id, file)).is_none()
                && answered_file(ctl, *node).as_deref() != Some(file.as_str());
            if unused {
                gone.push(file.clone());
            }
            !unused
        });
        gone
    });
    for file in gone {
        let _ = storage::delete(storage::MEDIA, &storage::media_key(instance_id, &file)).await;
    }
}

/// Draws the stored signature into the pad (made smaller when it was signed on a wider screen).
async fn show_stored(
    c: &web_sys::HtmlCanvasElement,
    bytes: &[u8],
    touched: &Cell<bool>,
) -> Result<(), String> {
    let arr = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&arr);
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("image/png");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts)
        .map_err(|e| format!("{e:?}"))?;
    let promise = gloo::utils::window()
        .create_image_bitmap_with_blob(&blob)
        .map_err(|e| format!("{e:?}"))?;
    let bitmap: web_sys::ImageBitmap = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|e| format!("{e:?}"))?
        .unchecked_into();
    // Strokes made (or a clearing) while it loaded are the newer answer.
    if !touched.get() {
        let (w, h) = (bitmap.width() as f64, bitmap.height() as f64);
        let scale = (c.width() as f64 / w.max(1.0))
            .min(c.height() as f64 / h.max(1.0))
            .min(1.0);
        if let Some(g) = ctx2d(c) {
            let _ = g.draw_image_with_image_bitmap_and_dw_and_dh(
                &bitmap,
                0.0,
                0.0,
                w * scale,
                h * scale,
            );
        }
    }
    bitmap.close();
    Ok(())
}

#[function_component(SignaturePad)]
pub fn signature_pad(p: &Props) -> Html {
    let t = p.lang.t();
    let canvas = use_node_ref();
    // The pointer drawing now, and whether this stroke drew anything.
    let pointer = use_mut_ref(|| None::<i32>);
    let drew = use_mut_ref(|| false);
    // Where the stroke began: a tap that never moves leaves a dot there.
    let at = use_mut_ref(|| (0.0, 0.0));
    // A stroke or a clearing happened since the pad opened.
    let touched = use_memo((), |_| Cell::new(false));
    let failure = use_state(|| None::<String>);
    // Clearing is asked first: one slip would lose a signature the signer is no longer there to redo.
    let asking = use_state(|| false);
    let read_only = p.ctl.0.borrow().session.state(p.node).read_only;
    {
        let canvas = canvas.clone();
        let ctl = p.ctl.clone();
        let node = p.node;
        let id = p.instance_id.clone();
        let touched = touched.clone();
        use_effect_with((), move |_| {
            if let Some(c) = canvas.cast::<web_sys::HtmlCanvasElement>() {
                // One canvas pixel per CSS pixel of the pad (the stored picture stays small).
                c.set_width(c.client_width().max(300) as u32);
                c.set_height(HEIGHT);
                blank(&c);
                if let Some(file) = answered_file(&ctl, node) {
                    let key = storage::media_key(&id, &file);
                    wasm_bindgen_futures::spawn_local(async move {
                        let bytes = match interviews::media_being_written(&key) {
                            Some(b) => Some((*b).clone()),
                            None => match storage::get_media(&key).await {
                                Ok(b) => b,
                                // Not readable now: the answer stays, the pad shows nothing.
                                Err(_) => return,
                            },
                        };
                        match bytes {
                            Some(bytes) => {
                                if let Err(e) = show_stored(&c, &bytes, &touched).await {
                                    web_sys::console::warn_1(
                                        &format!("signature not shown: {e}").into(),
                                    );
                                }
                            }
                            // The picture never reached the disk (the phone died during its write): a
                            // signature that is not on the phone is no answer, and the review asks for it.
                            None => {
                                let ours =
                                    answered_file(&ctl, node).as_deref() == Some(file.as_str());
                                let ro = ctl.0.borrow().session.state(node).read_only;
                                if ours && !ro && !touched.get() {
                                    web_sys::console::warn_1(
                                        &format!("signature {key} is not stored; cleared").into(),
                                    );
                                    let _ = answer(&ctl, node, None);
                                }
                            }
                        }
                    });
                }
            }
            || ()
        });
    }
    let down = {
        let canvas = canvas.clone();
        let pointer = pointer.clone();
        let drew = drew.clone();
        let at = at.clone();
        Callback::from(move |e: PointerEvent| {
            if read_only || pointer.borrow().is_some() {
                return;
            }
            let Some(c) = canvas.cast::<web_sys::HtmlCanvasElement>() else {
                return;
            };
            let _ = c.set_pointer_capture(e.pointer_id());
            *pointer.borrow_mut() = Some(e.pointer_id());
            *drew.borrow_mut() = false;
            let (x, y) = point(&c, &e);
            *at.borrow_mut() = (x, y);
            if let Some(g) = ctx2d(&c) {
                g.begin_path();
                g.move_to(x, y);
            }
        })
    };
    let moved = {
        let canvas = canvas.clone();
        let pointer = pointer.clone();
        let drew = drew.clone();
        let touched = touched.clone();
        Callback::from(move |e: PointerEvent| {
            if *pointer.borrow() != Some(e.pointer_id()) {
                return;
            }
            let Some(c) = canvas.cast::<web_sys::HtmlCanvasElement>() else {
                return;
            };
            let (x, y) = point(&c, &e);
            if let Some(g) = ctx2d(&c) {
                g.line_to(x, y);
                g.stroke();
            }
            *drew.borrow_mut() = true;
            touched.set(true);
        })
    };
    // The stroke ended (finger lifted, the browser took the pointer, or it left the pad): the
    // drawing is the answer now, before anything else (a tap on "next") can happen.
    let end = {
        let canvas = canvas.clone();
        let pointer = pointer.clone();
        let drew = drew.clone();
        let at = at.clone();
        let touched = touched.clone();
        let ctl = p.ctl.clone();
        let node = p.node;
        let id = p.instance_id.clone();
        let lang = p.lang;
        let failure = failure.clone();
        Callback::from(move |e: PointerEvent| {
            if *pointer.borrow() != Some(e.pointer_id()) {
                return;
            }
            *pointer.borrow_mut() = None;
            let Some(c) = canvas.cast::<web_sys::HtmlCanvasElement>() else {
                return;
            };
            if !std::mem::take(&mut *drew.borrow_mut()) {
                // A tap that did not move (the dot of 点, a signature that is one mark) is a dot;
                // a pointer the browser took or that left the pad without moving drew nothing.
                if e.type_() != "pointerup" {
                    return;
                }
                let Some(g) = ctx2d(&c) else { return };
                let (x, y) = *at.borrow();
                g.begin_path();
                let _ = g.arc(x, y, DOT_RADIUS, 0.0, std::f64::consts::TAU);
                g.set_fill_style_str("#111");
                g.fill();
                touched.set(true);
            }
            keep(&ctl, node, &id, &c, lang, &failure);
        })
    };
    let clear = {
        let canvas = canvas.clone();
        let ctl = p.ctl.clone();
        let node = p.node;
        let id = p.instance_id.clone();
        let failure = failure.clone();
        let touched = touched.clone();
        Callback::from(move |()| {
            touched.set(true);
            if let Some(c) = canvas.cast::<web_sys::HtmlCanvasElement>() {
                blank(&c);
            }
            let before = answered_file(&ctl, node);
            match answer(&ctl, node, None) {
                Ok(()) => {
                    failure.set(None);
                    if let Some(old) = before {
                        REPLACED.with(|r| r.borrow_mut().push((id.clone(), node, old)));
                        let (ctl, id) = (ctl.clone(), id.clone());
                        wasm_bindgen_futures::spawn_local(async move { tidy(&ctl, &id).await });
                    }
                }
                Err(e) => failure.set(Some(e)),
            }
        })
    };
    let ask = {
        let asking = asking.clone();
        Callback::from(move |_: MouseEvent| asking.set(true))
    };
    let dialog = (*asking).then(|| {
        let on_yes = {
            let asking = asking.clone();
            Callback::from(move |()| {
                asking.set(false);
                clear.emit(());
            })
        };
        let on_no = {
            let asking = asking.clone();
            Callback::from(move |()| asking.set(false))
        };
        html! { <Confirm text={t.confirm_clear_signature} yes={t.clear} no={t.cancel} {on_yes} {on_no} /> }
    });
    // The pad is the signature's one picture: the attachment widget around it (media.rs) shows no
    // thumbnail, file name or clear button of its own for a signature.
    html! {
        <div class="sig">
            if !read_only { <p class="muted">{ t.sign_here }</p> }
            <canvas ref={canvas} class="sigpad" role="img" aria-label={t.sign_here}
                onpointerdown={down} onpointermove={moved} onpointerup={end.clone()}
                onpointercancel={end.clone()} onpointerleave={end.clone()} onlostpointercapture={end} />
            if p.has_value && !read_only {
                <div class="row" style="margin-top:6px">
                    <button class="btn grow" onclick={ask} data-testid="clear-signature">{ t.clear }</button>
                </div>
            }
            { dialog.unwrap_or_default() }
            if let Some(e) = &*failure { <p class="q-error" role="alert">{ e.clone() }</p> }
        </div>
    }
}
