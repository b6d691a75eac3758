//! The export history: every bundle made on this device, newest first, with its form version and the
//! interviews it holds, and a button that saves it again at any later time. The bundle is made
//! again from what is stored (`services::export::make_again`) and offered only when it is the very
//! file first exported; otherwise the row says why, and what to do instead.

use yew::prelude::*;

use super::app::Interviews;
use crate::i18n::Lang;
use crate::record::{BundleRecord, CannotRemake, Held, Settings};
use crate::services::{export, files};

/// The history under the export screen. A plain function of the screen's state rather than a
/// component of its own (each component type costs the wasm Yew's mounting and props code, about
/// 0.5 KiB gzip): the rows are components, so each keeps its state across the screen's renders.
/// `settings` are used only for bundles recorded before the app kept who made them
/// (`BundleRecord::remake`); `subs` are the finalized interviews, to name each bundle's.
pub fn view(lang: Lang, settings: &Settings, bundles: &[BundleRecord], subs: &Interviews) -> Html {
    let t = lang.t();
    let held = Held::new(subs.0.as_deref().map_or(&[], Vec::as_slice));
    html! {
        <>
            <h3 style="margin-top:18px">{ t.bundles }</h3>
            if bundles.is_empty() { <p class="muted">{ t.no_bundles }</p> }
            <ul class="list" data-testid="bundles">
                { for bundles.iter().map(|b| {
                    let names = b.instance_ids.iter().map(|id| held.name(id, t.untitled)).collect::<Vec<_>>().join(t.list_sep);
                    html! { <BundleRow key={b.sha256.clone()} record={b.clone()} {names} {lang} settings={settings.clone()} /> }
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

enum Again {
    Idle,
    Making,
    /// Made again, checked, and offered: the object URL of its bytes (kept for a link, since a
    /// phone may block the download, until the row goes).
    Ready(Url),
    Cannot(CannotRemake),
}

/// An object URL that is revoked (`files::revoke_later`) when the row's state lets it go, that is
/// when the row goes. Rather than an effect hook that watches the state: smaller in the wasm.
struct Url(String);

impl Drop for Url {
    fn drop(&mut self) {
        files::revoke_later(vec![std::mem::take(&mut self.0)]);
    }
}

#[function_component(BundleRow)]
fn bundle_row(p: &RowProps) -> Html {
    let lang = p.lang;
    let t = lang.t();
    let b = &p.record;
    let again = use_state(|| Again::Idle);
    let make = {
        let again = again.clone();
        let record = p.record.clone();
        let settings = p.settings.clone();
        Callback::from(move |_: MouseEvent| {
            if matches!(*again, Again::Making) {
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
                    Ok(url) => Again::Ready(Url(url)),
                    Err(why) => Again::Cannot(why),
                });
            });
        })
    };
    let making = matches!(*again, Again::Making);
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
                        <a class="btn block" style="margin-top:8px" href={url.0.clone()} download={b.file_name.clone()}
                            aria-label={format!("{}: {}", t.save_again, b.file_name)}>{ t.save_again }</a>
                    </div>
                },
                // Once the bundle is known not to be makeable (its interviews or form gone, or other
                // bytes), a second try could only say so again; a storage failure may pass.
                Again::Cannot(why) if !matches!(why, CannotRemake::Failed(_)) => Html::default(),
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
