//! A signature pad: draw with a finger on a canvas, then save it as a PNG attachment.

use doorstep_core::expr::Node;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use super::Ctl;
use super::media::attach;
use crate::i18n::Lang;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctl: Ctl,
    pub node: Node,
    pub lang: Lang,
    pub instance_id: String,
    pub has_value: bool,
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

#[function_component(SignaturePad)]
pub fn signature_pad(p: &Props) -> Html {
    let t = p.lang.t();
    let canvas = use_node_ref();
    let drawing = use_mut_ref(|| false);
    let dirty = use_state(|| false);
    let failure = use_state(|| None::<String>);
    {
        let canvas = canvas.clone();
        use_effect_with((), move |_| {
            if let Some(c) = canvas.cast::<web_sys::HtmlCanvasElement>() {
                // Draw at the device's pixel density so the signature is sharp.
                let w = c.client_width().max(300) as u32;
                c.set_width(w);
                c.set_height(180);
                if let Some(g) = ctx2d(&c) {
                    g.set_fill_style_str("#fff");
                    g.fill_rect(0.0, 0.0, w as f64, 180.0);
                    g.set_line_width(2.5);
                    g.set_line_cap("round");
                    g.set_stroke_style_str("#111");
                }
            }
            || ()
        });
    }
    let down = {
        let canvas = canvas.clone();
        let drawing = drawing.clone();
        Callback::from(move |e: PointerEvent| {
            let Some(c) = canvas.cast::<web_sys::HtmlCanvasElement>() else {
                return;
            };
            let _ = c.set_pointer_capture(e.pointer_id());
            *drawing.borrow_mut() = true;
            let (x, y) = point(&c, &e);
            if let Some(g) = ctx2d(&c) {
                g.begin_path();
                g.move_to(x, y);
            }
        })
    };
    let moved = {
        let canvas = canvas.clone();
        let drawing = drawing.clone();
        let dirty = dirty.clone();
        Callback::from(move |e: PointerEvent| {
            if !*drawing.borrow() {
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
            if !*dirty {
                dirty.set(true);
            }
        })
    };
    let up = {
        let drawing = drawing.clone();
        Callback::from(move |_: PointerEvent| *drawing.borrow_mut() = false)
    };
    let clear = {
        let canvas = canvas.clone();
        let dirty = dirty.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(c) = canvas.cast::<web_sys::HtmlCanvasElement>() {
                if let Some(g) = ctx2d(&c) {
                    g.set_fill_style_str("#fff");
                    g.fill_rect(0.0, 0.0, c.width() as f64, c.height() as f64);
                }
            }
            dirty.set(false);
        })
    };
    let save = {
        let canvas = canvas.clone();
        let ctl = p.ctl.clone();
        let node = p.node;
        let id = p.instance_id.clone();
        let dirty = dirty.clone();
        let failure = failure.clone();
        Callback::from(move |_: MouseEvent| {
            let Some(c) = canvas.cast::<web_sys::HtmlCanvasElement>() else {
                return;
            };
            let Ok(url) = c.to_data_url_with_type("image/png") else {
                return;
            };
            let Some(b64) = url.split(',').nth(1) else {
                return;
            };
            let Ok(bin) = gloo::utils::window().atob(b64) else {
                return;
            };
            let bytes: Vec<u8> = bin.chars().map(|ch| ch as u32 as u8).collect();
            let ctl = ctl.clone();
            let id = id.clone();
            let dirty = dirty.clone();
            let failure = failure.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match attach(&ctl, node, &id, "signature.png", "image/png", bytes).await {
                    Ok(()) => {
                        dirty.set(false);
                        failure.set(None);
                    }
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    html! {
        <div>
            <p class="muted">{ t.sign_here }</p>
            <canvas ref={canvas} class="sigpad" role="img" aria-label={t.sign_here}
                onpointerdown={down} onpointermove={moved} onpointerup={up.clone()} onpointercancel={up} />
            <div class="row" style="margin-top:6px">
                <button class="btn grow" onclick={clear}>{ t.clear }</button>
                <button class="btn primary grow" onclick={save} disabled={!*dirty}>{ t.save_signature }</button>
            </div>
            if let Some(e) = &*failure { <p class="q-error" role="alert">{ e.clone() }</p> }
        </div>
    }
}
