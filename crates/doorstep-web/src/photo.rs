//! How a photo answer is made smaller before it is stored: a phone camera's 4-12 MB picture would
//! fill IndexedDB and every bundle, while about 1600 px on the longest side is plenty for a survey.
//!
//! These are the decisions, native and tested; `services::files::downscale_photo` decodes and
//! encodes in the browser. A photo that is already small, that does not decode, or whose JPEG would
//! not be smaller is stored as it is: nothing is ever lost by trying.

/// The longest side of a stored photo, in pixels.
pub const MAX_SIDE: u32 = 1600;
/// The JPEG quality of a made-smaller photo (the browser's scale, 0 to 1).
pub const QUALITY: f64 = 0.8;
/// A photo no larger than this (and no wider than `MAX_SIDE`) is stored as it is.
pub const SMALL_BYTES: f64 = 500.0 * 1024.0;

/// Whether a picked file of this media type is worth decoding: not an animation (GIF) or a
/// drawing (SVG), which a JPEG would spoil. An empty type (the browser did not know) is tried.
pub fn tries(media_type: &str) -> bool {
    let t = media_type.to_ascii_lowercase();
    (t.is_empty() || t.starts_with("image/")) && t != "image/gif" && t != "image/svg+xml"
}

/// The size to draw a decoded `width` x `height` photo of `bytes` at, or `None` to keep it as it is.
pub fn target(width: u32, height: u32, bytes: f64) -> Option<(u32, u32)> {
    let longest = width.max(height);
    if width == 0 || height == 0 || (longest <= MAX_SIDE && bytes <= SMALL_BYTES) {
        return None;
    }
    if longest <= MAX_SIDE {
        // Large in bytes only (a PNG, a camera's top quality): the same pixels as a JPEG.
        return Some((width, height));
    }
    let scale = f64::from(MAX_SIDE) / f64::from(longest);
    let side = |n: u32| ((f64::from(n) * scale).round() as u32).clamp(1, MAX_SIDE);
    Some((side(width), side(height)))
}

/// Whether the encoded photo replaces the original: only when it is smaller.
pub fn keeps_encoded(original: f64, encoded: usize) -> bool {
    encoded > 0 && (encoded as f64) < original
}

/// The stored file's name: the picked name with a `.jpg` extension (`IMG_0042.HEIC` ->
/// `IMG_0042.jpg`); the answer's file name is built from it.
pub fn jpeg_name(name: &str) -> String {
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    };
    format!("{}.jpg", if stem.is_empty() { "photo" } else { stem })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: f64 = 1024.0 * 1024.0;

    #[test]
    fn a_camera_photo_is_drawn_at_1600_px_on_its_longest_side() {
        assert_eq!(target(4000, 3000, 6.0 * MB), Some((1600, 1200)));
        assert_eq!(target(3024, 4032, 4.0 * MB), Some((1200, 1600)), "portrait");
        assert_eq!(target(8000, 10, 1.0 * MB), Some((1600, 2)));
        assert_eq!(target(100_000, 1, 1.0 * MB), Some((1600, 1)), "never 0 px");
    }

    #[test]
    fn a_small_photo_is_kept_and_a_heavy_one_is_encoded_at_its_size() {
        assert_eq!(target(1600, 1200, 400.0 * 1024.0), None);
        assert_eq!(target(800, 600, 80.0 * 1024.0), None);
        assert_eq!(target(1200, 900, 3.0 * MB), Some((1200, 900)));
        assert_eq!(target(0, 0, 3.0 * MB), None, "nothing decoded");
        assert!(keeps_encoded(3.0 * MB, 300_000));
        assert!(
            !keeps_encoded(200_000.0, 250_000),
            "a larger JPEG is not kept"
        );
        assert!(!keeps_encoded(200_000.0, 0));
    }

    #[test]
    fn only_still_pictures_are_tried_and_named_jpg() {
        assert!(tries("image/jpeg"));
        assert!(tries("image/heic"));
        assert!(tries(""));
        assert!(!tries("image/gif"));
        assert!(!tries("image/svg+xml"));
        assert!(!tries("application/pdf"));
        assert_eq!(jpeg_name("IMG_0042.HEIC"), "IMG_0042.jpg");
        assert_eq!(jpeg_name("a.b.png"), "a.b.jpg");
        assert_eq!(jpeg_name("photo"), "photo.jpg");
        assert_eq!(jpeg_name(".png"), ".png.jpg");
        assert_eq!(jpeg_name(""), "photo.jpg");
    }
}
