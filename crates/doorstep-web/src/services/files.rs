//! Files in and out: reading a picked file, making a photo smaller, fetching a form by URL, and
//! offering a download.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Largest file the app reads into memory (a form is at most 10 MB; photos are kept smaller than this).
pub const MAX_READ_BYTES: f64 = 20.0 * 1024.0 * 1024.0;

/// Reads a picked file's bytes; refuses files over `limit`.
pub async fn read_file(file: &web_sys::File, limit: f64) -> Result<Vec<u8>, String> {
    if file.size() > limit {
        return Err(crate::i18n::file_too_large(
            file.size() / 1048576.0,
            limit / 1048576.0,
        ));
    }
    let buf = JsFuture::from(file.array_buffer()).await.map_err(js_text)?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

/// The picked photo decoded, drawn at most `photo::MAX_SIDE` px on its longest side and encoded as
/// JPEG (`photo::QUALITY`); `Ok(None)` when it is small enough as it is or the JPEG would not be
/// smaller. An error (the browser cannot decode it) means: store the original.
pub async fn downscale_photo(file: &web_sys::File) -> Result<Option<Vec<u8>>, String> {
    use crate::photo;
    let window = web_sys::window().ok_or("no window")?;
    // Decoded straight from the file: the original's bytes never enter the wasm memory. The
    // browser applies the photo's EXIF orientation.
    let bitmap: web_sys::ImageBitmap = JsFuture::from(
        window
            .create_image_bitmap_with_blob(file)
            .map_err(js_text)?,
    )
    .await
    .map_err(js_text)?
    .unchecked_into();
    let Some((w, h)) = photo::target(bitmap.width(), bitmap.height(), file.size()) else {
        bitmap.close();
        return Ok(None);
    };
    let canvas: web_sys::HtmlCanvasElement = gloo::utils::document()
        .create_element("canvas")
        .map_err(js_text)?
        .unchecked_into();
    canvas.set_width(w);
    canvas.set_height(h);
    let drawn = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .map(|c| c.unchecked_into::<web_sys::CanvasRenderingContext2d>())
        .map(|g| {
            // A transparent picture gets a white ground (JPEG has no transparency), and the
            // browser's best resampling rather than its fastest.
            g.set_fill_style_str("#fff");
            g.fill_rect(0.0, 0.0, f64::from(w), f64::from(h));
            let _ = js_sys::Reflect::set(&g, &"imageSmoothingQuality".into(), &"high".into());
            g.draw_image_with_image_bitmap_and_dw_and_dh(
                &bitmap,
                0.0,
                0.0,
                f64::from(w),
                f64::from(h),
            )
        });
    bitmap.close();
    drawn.ok_or("no 2d canvas")?.map_err(js_text)?;
    let encoded = js_sys::Promise::new(&mut |done, fail| {
        let asked = canvas.to_blob_with_type_and_encoder_options(
            &done,
            "image/jpeg",
            &photo::QUALITY.into(),
        );
        if let Err(e) = asked {
            let _ = fail.call1(&wasm_bindgen::JsValue::NULL, &e);
        }
    });
    let blob = JsFuture::from(encoded).await.map_err(js_text)?;
    // The canvas's pixels are released now rather than when it is collected.
    canvas.set_width(0);
    let blob: web_sys::Blob = blob.dyn_into().map_err(|_| "the JPEG could not be made")?;
    let buf = JsFuture::from(blob.array_buffer()).await.map_err(js_text)?;
    let bytes = js_sys::Uint8Array::new(&buf).to_vec();
    Ok(photo::keeps_encoded(file.size(), bytes.len()).then_some(bytes))
}

/// Fetches a URL's body as bytes (forms loaded by a supervisor), refusing very large answers.
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let resp = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| crate::i18n::fetch_failed(&js_text(e)))?;
    let resp: web_sys::Response = resp.dyn_into().map_err(js_text)?;
    if !resp.ok() {
        return Err(crate::i18n::server_refused(
            resp.status(),
            &resp.status_text(),
        ));
    }
    if let Ok(Some(len)) = resp.headers().get("content-length")
        && let Ok(len) = len.parse::<f64>()
        && len > MAX_READ_BYTES
    {
        return Err(crate::i18n::file_too_large(
            len / 1048576.0,
            MAX_READ_BYTES / 1048576.0,
        ));
    }
    let buf = JsFuture::from(resp.array_buffer().map_err(js_text)?)
        .await
        .map_err(js_text)?;
    let bytes = js_sys::Uint8Array::new(&buf).to_vec();
    // A web page, not a file: most often a Wi-Fi's login page answering every address.
    if bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'<')
    {
        return Err(crate::i18n::web_page_not_form());
    }
    Ok(bytes)
}

/// Offers bytes as a download with a file name. Returns the object URL holding them, for a link
/// that saves them again: a phone may block a page's second download that no tap started (Chrome
/// asks whether the site may download several files), and a bundle must not be lost to that. The
/// caller gives it back with [`revoke_later`] when the link goes.
pub fn download(name: &str, bytes: &[u8], media_type: &str) -> Result<String, String> {
    let url = blob_url(bytes, media_type)?;
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = doc.create_element("a").map_err(js_text)?.unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.set_attribute("style", "display:none").ok();
    doc.body()
        .ok_or("no body")?
        .append_child(&a)
        .map_err(js_text)?;
    a.click();
    a.remove();
    Ok(url)
}

/// Releases object URLs made here, a minute from now: revoking one at once can cancel a download
/// the phone has not finished reading.
pub fn revoke_later(urls: Vec<String>) {
    gloo::timers::callback::Timeout::new(60_000, move || {
        for url in &urls {
            let _ = web_sys::Url::revoke_object_url(url);
        }
    })
    .forget();
}

fn blob_url(bytes: &[u8], media_type: &str) -> Result<String, String> {
    let arr = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&arr);
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(media_type);
    let blob =
        web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts).map_err(js_text)?;
    web_sys::Url::create_object_url_with_blob(&blob).map_err(js_text)
}

/// An object URL for showing stored bytes (a photo) in an `<img>`.
pub fn object_url(bytes: &[u8], media_type: &str) -> Option<String> {
    blob_url(bytes, media_type).ok()
}

pub fn js_text(v: wasm_bindgen::JsValue) -> String {
    if let Some(e) = v.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    if let Some(e) = v.dyn_ref::<web_sys::DomException>() {
        return format!("{}: {}", e.name(), e.message());
    }
    v.as_string().unwrap_or_else(|| format!("{v:?}"))
}
