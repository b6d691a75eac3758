//! Writes synthetic submissions as real bundles with the core's [`write_bundle`], one bundle per
//! device, as the app would export them.

use std::rc::Rc;

use doorstep_core::bundle::{Attachment, BundleInfo, write_bundle};
use doorstep_core::form::compiled::Form;
use doorstep_core::submission::Submission;

use super::rng::Rng;
use super::{Args, Template, device_name, envelope};
use crate::CliError;

pub fn write_all(form: &Rc<Form>, pool: &[Template], args: &Args) -> Result<(), CliError> {
    let per = args.per_bundle.unwrap_or(args.count).max(1);
    let bundles = args.count.div_ceil(per).max(1);
    // One bundle goes to the path given; several go into the folder given, under their own names.
    let into_dir = bundles > 1 || args.out.is_dir();
    if into_dir {
        std::fs::create_dir_all(&args.out).map_err(|e| {
            CliError::msg(format!("cannot make folder {}: {e}", args.out.display()))
        })?;
    }
    // The form id goes into the seed so that bundles of different forms never share instance ids.
    let form_seed = form.id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut rng = Rng::new(args.seed.wrapping_mul(31).wrapping_add(7) ^ form_seed);
    let mut made = 0u64;
    for b in 0..bundles {
        let n = per.min(args.count - made);
        let (device_id, surveyor) = device_name(b);
        let mut subs = Vec::with_capacity(n as usize);
        let mut attachments = Vec::new();
        for k in 0..n {
            // The pool in order across all bundles (under this bundle's device name): every
            // distinct interview is used before any repeats, however the submissions are split
            // into bundles.
            let t = &pool[((made + k) % pool.len() as u64) as usize];
            let id = rng.uuid();
            let mut env = envelope(form, t, &id);
            env["meta"]["device_id"] = device_id.clone().into();
            env["meta"]["surveyor"] = surveyor.clone().into();
            let s: Submission = serde_json::from_value(env)
                .map_err(|e| CliError::msg(format!("synth made a malformed envelope: {e}")))?;
            for a in &t.attachments {
                attachments.push(Attachment {
                    instance_id: id.clone(),
                    file: a.file.clone(),
                    bytes: a.bytes.clone(),
                });
            }
            subs.push(s);
        }
        made += n;
        let info = BundleInfo {
            device_id: device_id.clone(),
            surveyor: surveyor.clone(),
            app_version: format!("doorstep-synth {}", env!("CARGO_PKG_VERSION")),
            // Distinct times make distinct file names for the bundles of one device.
            created_at: format!(
                "{}T{:02}:{:02}:{:02}Z",
                args.until,
                12 + (b / 3600) % 12,
                (b / 60) % 60,
                b % 60
            ),
            attachments,
            // Used only for a form with settings.encrypt_to: synth stays reproducible from its seed.
            entropy: (0..8).flat_map(|_| rng.next_u64().to_le_bytes()).collect(),
        };
        let bundle = write_bundle(form, &subs, &info)
            .map_err(|e| CliError::msg(format!("cannot write a bundle: {e}")))?;
        if let Some((id, why)) = bundle.refused.first() {
            return Err(CliError::msg(format!(
                "synth made a submission the engine refuses ({id}: {}); this is a bug in synth's filling, please report it with the form",
                why.join("; ")
            )));
        }
        let path = if into_dir {
            args.out.join(&bundle.file_name)
        } else {
            args.out.clone()
        };
        std::fs::write(&path, &bundle.bytes)
            .map_err(|e| CliError::msg(format!("cannot write {}: {e}", path.display())))?;
        say!("{}: {} submissions", path.display(), bundle.included.len());
    }
    Ok(())
}
