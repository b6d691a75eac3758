//! `doorstep keygen`: makes the office's age key pair for forms with `settings.encrypt_to`, and
//! reads identity files for `doorstep ingest --identity`, so an office needs no other tool.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Parser;
use doorstep_core::bundle::age::Identity;

use crate::{CliError, Outcome};

#[derive(Parser)]
pub struct Args {
    /// Where to write the secret key (an age identity file); never overwritten.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

pub fn run(args: Args) -> Result<Outcome, CliError> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| {
        CliError::msg(format!(
            "cannot get random bytes from the operating system ({e}); no key was made"
        ))
    })?;
    let id = Identity::from_bytes(secret);
    let public = id.recipient().to_string();
    let text = format!(
        "# doorstep keygen: the office's secret key for encrypted bundles; keep it private and backed up\n# public key: {public}\n{}\n",
        id.to_secret_string()
    );
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&args.output).map_err(|e| {
        CliError::msg(format!(
            "{}: cannot create the key file ({e}); an existing key is never overwritten: choose another name",
            args.output.display()
        ))
    })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| {
            CliError::msg(format!(
                "{}: cannot write the key ({e})",
                args.output.display()
            ))
        })?;
    eprintln!(
        "wrote the secret key to {}; put the public key below in the form's settings.encrypt_to:",
        args.output.display()
    );
    println!("{public}");
    Ok(Outcome::Clean)
}

/// The secret keys of the identity files (lines `AGE-SECRET-KEY-1…`; `#` comments and blank lines
/// skipped). Without any, an encrypted bundle among `bundles` is an error naming it, before anything
/// is ingested.
pub fn read_identities(files: &[PathBuf], bundles: &[PathBuf]) -> Result<Vec<String>, CliError> {
    let mut keys = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| {
            CliError::msg(format!(
                "{}: cannot read the identity file ({e})",
                f.display()
            ))
        })?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            Identity::parse(line)
                .map_err(|e| CliError::msg(format!("{} line {}: {e}", f.display(), n + 1)))?;
            keys.push(line.to_string());
        }
    }
    if files.is_empty() {
        if let Some(b) = bundles.iter().find(|b| is_encrypted_file(b)) {
            return Err(CliError::msg(format!(
                "{}: this bundle is encrypted: give the office's key with --identity FILE (made by `doorstep keygen`)",
                b.display()
            )));
        }
    } else if keys.is_empty() {
        return Err(CliError::msg(
            "the identity files hold no key (lines AGE-SECRET-KEY-1…)".to_string(),
        ));
    }
    Ok(keys)
}

/// Whether the file starts like an age file (a missing file is reported later, by ingest).
fn is_encrypted_file(path: &Path) -> bool {
    let mut head = [0u8; doorstep_core::bundle::age::INTRO.len()];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok_and(|()| doorstep_core::bundle::is_encrypted(&head))
}
