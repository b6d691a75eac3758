//! The autosave state machine: which revision of the draft is on disk, so the "saved" indicator never lies.
//!
//! Every change to a draft bumps `latest`. A write carries the revision it wrote; only a *successful*
//! write of the newest revision makes the indicator say "saved". A failed write keeps the draft in memory
//! (the session is the truth until a write succeeds) and schedules a retry.

/// Why the last write failed, as the surveyor needs to hear it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SaveError {
    /// The disk (or the browser's quota) is full.
    Quota,
    /// The database connection was closed (by the browser, another tab's upgrade, or clearing data).
    Closed,
    /// Anything else, with the browser's message.
    Other(String),
    /// Another window (a second tab of the app) wrote this interview since this one last read or
    /// wrote it: writing would silently undo what was done there, so nothing is written until the
    /// surveyor chooses (`SaveState::resolved`). Not retried: it would fail again.
    Conflict(Conflict),
}

/// What another window did to an interview this window holds (see [`SaveError::Conflict`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conflict {
    /// It saved the draft; the record on disk is now at revision `rev`.
    Changed { rev: u64 },
    /// It finalized the interview (revision `rev`).
    Finalized { rev: u64 },
    /// It deleted the interview.
    Deleted,
}

impl Conflict {
    /// The revision on disk now (`None`: nothing is there), which a write that keeps this window's
    /// answers replaces.
    pub fn stored_rev(self) -> Option<u64> {
        match self {
            Conflict::Changed { rev } | Conflict::Finalized { rev } => Some(rev),
            Conflict::Deleted => None,
        }
    }
}

impl SaveError {
    /// Classifies a DOMException name and message.
    pub fn classify(name: &str, message: &str) -> SaveError {
        let both = format!("{name} {message}");
        if both.contains("Quota") || both.contains("quota") {
            SaveError::Quota
        } else if both.contains("InvalidStateError")
            || both.contains("closing")
            || both.contains("closed")
        {
            SaveError::Closed
        } else {
            SaveError::Other(both.trim().to_string())
        }
    }
}

/// What the indicator shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Indicator {
    Saved,
    Saving,
    Failed(SaveError),
}

/// Delay before writing after the first unsaved change. Writes are not postponed by further typing,
/// so every change reaches the disk within this delay plus one write.
pub const SAVE_DELAY_MS: u32 = 150;
/// Delays between retries after a failure (the last repeats).
pub const RETRY_DELAYS_MS: [u32; 4] = [1_000, 2_000, 5_000, 10_000];

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SaveState {
    /// Revision of the newest change in memory.
    pub latest: u64,
    /// Newest revision known to be on disk.
    pub saved: u64,
    /// Revision being written now.
    pub in_flight: Option<u64>,
    /// A write is scheduled (timer running).
    pub scheduled: bool,
    pub error: Option<SaveError>,
    /// Consecutive failures, for the retry delay.
    pub failures: usize,
    /// Attachment writes that started outside the draft's own write (a signature is the answer as
    /// its stroke ends, and its picture is written beside the draft) and have not finished.
    pub media_pending: u32,
    /// Why the last of those writes failed, until one succeeds (they are retried).
    pub media_error: Option<SaveError>,
}

/// What the caller must do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    Nothing,
    /// Start a timer and call `due` after this many milliseconds.
    Schedule(u32),
    /// Write revision `latest` now.
    Write(u64),
}

impl SaveState {
    /// A draft already on disk at revision 0 (opened or resumed).
    pub fn clean() -> SaveState {
        SaveState::default()
    }

    /// "Saved" only when the newest change and every attachment it names are on disk.
    pub fn indicator(&self) -> Indicator {
        if let Some(e) = self.error.as_ref().or(self.media_error.as_ref()) {
            return Indicator::Failed(e.clone());
        }
        if self.saved >= self.latest && self.media_pending == 0 {
            Indicator::Saved
        } else {
            Indicator::Saving
        }
    }

    /// An attachment's write started beside the draft's.
    pub fn media_started(&mut self) {
        self.media_pending += 1;
    }

    /// An attachment's write ended: stored, failed (it will be tried again), or given up because
    /// the answer no longer names it.
    pub fn media_finished(&mut self, result: Result<(), SaveError>) {
        match result {
            Ok(()) => {
                self.media_pending = self.media_pending.saturating_sub(1);
                self.media_error = None;
            }
            Err(e) => self.media_error = Some(e),
        }
    }

    /// An attachment's write was abandoned (a newer stroke or a clearing replaced it).
    pub fn media_dropped(&mut self) {
        self.media_pending = self.media_pending.saturating_sub(1);
        if self.media_pending == 0 {
            self.media_error = None;
        }
    }

    pub fn is_clean(&self) -> bool {
        self.saved >= self.latest
    }

    /// The draft changed in memory.
    pub fn changed(&mut self) -> Next {
        self.latest += 1;
        if self.scheduled || self.in_flight.is_some() {
            // The running timer or the write's completion picks this revision up.
            Next::Nothing
        } else if self.error.is_some() {
            // A retry timer is pending; it writes the newest revision.
            Next::Nothing
        } else {
            self.scheduled = true;
            Next::Schedule(SAVE_DELAY_MS)
        }
    }

    /// The timer fired (or the page is being hidden and must flush now).
    pub fn due(&mut self) -> Next {
        self.scheduled = false;
        if self.in_flight.is_some() || self.is_clean() || self.in_conflict().is_some() {
            return Next::Nothing;
        }
        self.in_flight = Some(self.latest);
        Next::Write(self.latest)
    }

    /// The surveyor chose what to do about a conflict; the newest revision is written (it was
    /// not, while the choice was open).
    pub fn resolved(&mut self) -> Next {
        self.error = None;
        self.failures = 0;
        self.scheduled = false;
        if self.in_flight.is_some() {
            return Next::Nothing;
        }
        self.in_flight = Some(self.latest);
        Next::Write(self.latest)
    }

    /// True while a conflict waits for the surveyor's choice.
    pub fn in_conflict(&self) -> Option<Conflict> {
        match self.error {
            Some(SaveError::Conflict(c)) => Some(c),
            _ => None,
        }
    }

    /// A write of `rev` finished.
    pub fn finished(&mut self, rev: u64, result: Result<(), SaveError>) -> Next {
        self.in_flight = None;
        match result {
            Ok(()) => {
                self.saved = self.saved.max(rev);
                self.error = None;
                self.failures = 0;
                if self.is_clean() {
                    Next::Nothing
                } else {
                    self.in_flight = Some(self.latest);
                    Next::Write(self.latest)
                }
            }
            Err(e @ SaveError::Conflict(_)) => {
                // Waits for the surveyor's choice; changes meanwhile stay in memory.
                self.error = Some(e);
                self.failures = 0;
                self.scheduled = false;
                Next::Nothing
            }
            Err(e) => {
                self.error = Some(e);
                let delay = RETRY_DELAYS_MS[self.failures.min(RETRY_DELAYS_MS.len() - 1)];
                self.failures += 1;
                self.scheduled = true;
                Next::Schedule(delay)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_waits_for_the_pictures_written_beside_the_draft() {
        let mut s = SaveState::clean();
        s.media_started();
        assert_eq!(
            s.indicator(),
            Indicator::Saving,
            "the picture is not on disk yet"
        );
        s.media_finished(Err(SaveError::Quota));
        assert_eq!(s.indicator(), Indicator::Failed(SaveError::Quota));
        s.media_finished(Ok(()));
        assert_eq!(s.indicator(), Indicator::Saved);
        s.media_started();
        s.media_finished(Err(SaveError::Closed));
        s.media_dropped();
        assert_eq!(
            s.indicator(),
            Indicator::Saved,
            "a replaced picture is not waited for"
        );
    }

    #[test]
    fn saved_only_after_the_newest_write_succeeds() {
        let mut s = SaveState::clean();
        assert_eq!(s.indicator(), Indicator::Saved);
        assert_eq!(s.changed(), Next::Schedule(SAVE_DELAY_MS));
        assert_eq!(s.changed(), Next::Nothing);
        assert_eq!(s.indicator(), Indicator::Saving);
        assert_eq!(s.due(), Next::Write(2));
        // Typing during the write.
        assert_eq!(s.changed(), Next::Nothing);
        assert_eq!(s.finished(2, Ok(())), Next::Write(3));
        assert_eq!(s.indicator(), Indicator::Saving);
        assert_eq!(s.finished(3, Ok(())), Next::Nothing);
        assert_eq!(s.indicator(), Indicator::Saved);
    }

    #[test]
    fn a_failure_is_shown_and_retried_until_it_succeeds() {
        let mut s = SaveState::clean();
        s.changed();
        let Next::Write(r) = s.due() else { panic!() };
        assert_eq!(s.finished(r, Err(SaveError::Quota)), Next::Schedule(1_000));
        assert_eq!(s.indicator(), Indicator::Failed(SaveError::Quota));
        assert_eq!(s.changed(), Next::Nothing);
        assert_eq!(s.indicator(), Indicator::Failed(SaveError::Quota));
        let Next::Write(r) = s.due() else { panic!() };
        assert_eq!(r, 2);
        assert_eq!(s.finished(r, Err(SaveError::Quota)), Next::Schedule(2_000));
        let Next::Write(r) = s.due() else { panic!() };
        assert_eq!(s.finished(r, Ok(())), Next::Nothing);
        assert_eq!(s.indicator(), Indicator::Saved);
    }

    #[test]
    fn a_conflict_is_not_retried_and_the_choice_writes_the_newest_answers() {
        let mut s = SaveState::clean();
        s.changed();
        let Next::Write(r) = s.due() else { panic!() };
        let c = Conflict::Changed { rev: 4 };
        assert_eq!(
            s.finished(r, Err(SaveError::Conflict(c))),
            Next::Nothing,
            "writing again would fail again, or undo the other window's work"
        );
        assert_eq!(s.indicator(), Indicator::Failed(SaveError::Conflict(c)));
        assert_eq!(s.in_conflict(), Some(c));
        assert_eq!(s.changed(), Next::Nothing, "typing on writes nothing");
        assert_eq!(s.due(), Next::Nothing, "nor does hiding the page");
        assert_eq!(s.resolved(), Next::Write(2), "the choice writes the newest");
        assert_eq!(s.in_conflict(), None);
        assert_eq!(s.finished(2, Ok(())), Next::Nothing);
        assert_eq!(s.indicator(), Indicator::Saved);
    }

    #[test]
    fn classifies_browser_errors() {
        assert_eq!(
            SaveError::classify("QuotaExceededError", "x"),
            SaveError::Quota
        );
        assert_eq!(
            SaveError::classify("InvalidStateError", "The database connection is closing."),
            SaveError::Closed
        );
        assert!(matches!(
            SaveError::classify("UnknownError", "disk"),
            SaveError::Other(_)
        ));
    }
}
