//! `doorstep export` (being written).
use crate::{CliError, Outcome};
#[derive(clap::Parser)]
pub struct Args {}
pub fn run(_a: Args) -> Result<Outcome, CliError> {
    Ok(Outcome::Clean)
}
