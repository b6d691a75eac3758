//! All IO of the app: IndexedDB (`storage`), files, downloads and fetching (`files`), the device's
//! location (`geo`), and the browser's clock, ids and storage quota (`device`). Components call these;
//! they never touch browser storage themselves.

pub mod device;
pub mod export;
pub mod files;
pub mod geo;
pub mod interviews;
pub mod storage;
