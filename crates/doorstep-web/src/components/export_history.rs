//! The export history: every bundle made on this device, newest first, with its form version and the
//! interviews it holds, and a button that saves it again at any later time. The bundle is made
//! again from what is stored (`services::export::make_again`) and offered only when it is the very
//! file first exported; otherwise the row says why, and what to do instead.

use std::rc::Rc;

use yew::prelude::*;

use crate::i18n::Lang;
use crate::record::{BundleRecord, CannotRemake, Held, Settings, SubmissionRecord};
use crate::services::{export, files};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub lang: Lang,
    /// Used only for bundles recorded before the app kept who made them (`BundleRecord::remake`).
    pub settings: Settings,
    pub bundles: Rc<Vec<BundleRecord>>,
    /// The finalized interviews, to name each bundle's.
    pub subs: Rc<Vec<SubmissionRecord>>,
}

#[function_component(ExportHistory)]
pub fn export_history(p: &Props) -> Html {
    let lang = p.lang;
    let t = lang.t();
    let held = Held::new(&p.subs);
    html! {
        <>
            <h3 style="margin-top:18px">{ t.bundles }</h3>
            if p.bundles.is_empty() { <p class="muted">{ t.no_bundles }</p> }
            <ul class="list" data-testid="bundles">
                { for p.bundles.iter().map(|b| {
                    let names = b.instance_ids.iter().map(|id| held.name(id, t.untitled)).collect::<Vec<_>>().join(t.list_sep);
                    html! { <BundleRow key={b.sha256.clone()} record={b.clone()} {names} {lang} settings={p.settings.clone()} /> }
                }) }
            </ul>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct RowProps {
    record: BundleRecord,
    /// The names of the interviews it holds, joined.
    names: String,
    lang: Lang,
    settings: Settings,
}

#[derive(Clone, PartialEq)]
enum Again {
    Idle,
    Making,
    /// Made again, checked, and offered: the object URL of its bytes (kept for a link, since a
    /// phone may block the download, until the row goes).
    Ready(String),
    Cannot(CannotRemake),
}

#[function_component(BundleRow)]
fn bundle_row(p: &RowProps) -> Html {
    let lang = p.lang;
    let t = lang.t();
    let b = &p.record;
    let again = use_state(|| Again::Idle);
    use_effect_with((*again).clone(), |a| {
        let url = match a {
            Again::Ready(url) => Some(url.clone()),
            _ => None,
        };
        move || files::revoke_later(url.into_iter().collect())
    });
    let make = {
        let again = again.clone();
        let record = p.record.clone();
        let settings = p.settings.clone();
        Callback::from(move |_: MouseEvent| {
            if *again == Again::Making {
                return;
            }
            again.set(Again::Making);
            let again = again.clone();
            let record = record.clone();
            let settings = settings.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let got = export::make_again(&record, &settings)
                    .await
                    .and_then(|bytes| {
                        let name = &record.file_name;
                        files::download(name, &bytes, export::media_type(name))
                            .map_err(CannotRemake::Failed)
                    });
                again.set(match got {
                    Ok(url) => Again::Ready(url),
                    Err(why) => Again::Cannot(why),
                });
            });
        })
    };
    let making = *again == Again::Making;
    let label = if making {
        t.bundle_making
    } else {
        t.bundle_again
    };
    html! {
        <li data-bundle={b.sha256.clone()}>
            <div class="name" style="word-break:break-all">{ b.file_name.clone() }</div>
            <div class="muted">{ format!("{}{} · {} · sha256 {}…",
                b.created_at.replace('T', " ").chars().take(16).collect::<String>(),
                if b.form_version.is_empty() { String::new() } else { format!(" · {} {}", t.version, b.form_version) },
                crate::i18n::interviews(lang, b.instance_ids.len()), &b.sha256[..16.min(b.sha256.len())]) }</div>
            <details class="held">
                <summary>{ t.bundle_holds }</summary>
                <p>{ p.names.clone() }</p>
            </details>
            { match &*again {
                Again::Ready(url) => html! {
                    <div class="notice ok" role="status" data-testid="bundle-remade" style="overflow-wrap:anywhere">
                        { crate::i18n::bundle_remade(lang, &b.file_name) }
                        <a class="btn block" style="margin-top:8px" href={url.clone()} download={b.file_name.clone()}
                            aria-label={format!("{}: {}", t.save_again, b.file_name)}>{ t.save_again }</a>
                    </div>
                },
                _ => html! {
                    <button class="btn block" onclick={make} disabled={making} data-testid="save-bundle-again"
                        aria-label={format!("{label}: {}", b.file_name)}>{ label }</button>
                },
            } }
            if let Again::Cannot(why) = &*again {
                <div class="notice error" role="alert" data-testid="bundle-not-remade" style="margin-top:8px;overflow-wrap:anywhere">
                    { crate::i18n::cannot_remake(lang, &b.file_name, why) }
                    if let CannotRemake::Differs(reasons) = why {
                        { for reasons.iter().map(|r| html! { <p key={r.clone()} class="diag">{ r.clone() }</p> }) }
                    }
                </div>
            }
        </li>
    }
}
