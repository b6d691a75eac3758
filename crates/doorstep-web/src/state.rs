//! The app's screen state as a plain reducer (Yew's `Reducible` pattern), testable without a browser.
//! The interview being filled is not here: it lives in `filling::Filling`, shared by the fill screen.

use crate::i18n::Lang;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Forms,
    Drafts,
    Finalized,
    Export,
    Settings,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Screen {
    /// The database is opening and the last draft is being looked up.
    Starting,
    /// The app cannot work here (no IndexedDB): say why instead of a blank page.
    Fatal(String),
    Tab(Tab),
    Fill,
    Review,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub error: bool,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AppState {
    pub screen: Screen,
    pub lang: Lang,
    pub notice: Option<Notice>,
    /// Bumped when stored lists changed, and when a tab that lists interviews is opened from
    /// another screen: what the lists show is read again then, and a read made for an older value
    /// is not shown as the list (it may miss what was saved since).
    pub refresh: u64,
    /// A new version of the app took over while this one was open: said on the lists until the
    /// app is reopened (it is true until then), whatever else happens.
    pub updated: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AppAction {
    SetLang(Lang),
    Go(Screen),
    Say(Notice),
    Dismiss,
    Refresh,
    /// The service worker of a newer build controls the page now.
    Updated,
}

impl Default for AppState {
    fn default() -> Self {
        AppState {
            screen: Screen::Starting,
            lang: Lang::Zh,
            notice: None,
            refresh: 0,
            updated: false,
        }
    }
}

impl AppState {
    pub fn reduce(mut self, action: AppAction) -> AppState {
        match action {
            AppAction::SetLang(l) => self.lang = l,
            AppAction::Go(s) => {
                // A fatal screen is final: nothing in the app works without storage.
                if !matches!(self.screen, Screen::Fatal(_)) {
                    if self.screen != s {
                        self.notice = None;
                        if matches!(s, Screen::Tab(Tab::Drafts | Tab::Finalized | Tab::Export)) {
                            self.refresh += 1;
                        }
                    }
                    self.screen = s;
                }
            }
            AppAction::Say(n) => self.notice = Some(n),
            AppAction::Dismiss => self.notice = None,
            AppAction::Refresh => self.refresh += 1,
            AppAction::Updated => self.updated = true,
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_clears_the_notice_and_fatal_is_final() {
        let s = AppState::default()
            .reduce(AppAction::Go(Screen::Tab(Tab::Forms)))
            .reduce(AppAction::Say(Notice {
                error: false,
                text: "ok".into(),
            }));
        assert!(s.notice.is_some());
        let s = s.reduce(AppAction::Go(Screen::Fill));
        assert!(s.notice.is_none());
        let s = s
            .reduce(AppAction::Go(Screen::Fatal("no db".into())))
            .reduce(AppAction::Go(Screen::Fill));
        assert_eq!(s.screen, Screen::Fatal("no db".into()));
        assert_eq!(s.reduce(AppAction::SetLang(Lang::En)).lang, Lang::En);
    }

    #[test]
    fn opening_a_list_reads_the_interviews_again() {
        let s = AppState::default().reduce(AppAction::Go(Screen::Tab(Tab::Forms)));
        let r = s.refresh;
        let s = s.reduce(AppAction::Go(Screen::Tab(Tab::Drafts)));
        assert_eq!(s.refresh, r + 1);
        let s = s.reduce(AppAction::Go(Screen::Tab(Tab::Drafts)));
        assert_eq!(s.refresh, r + 1, "staying on a list is not opening it");
        let s = s
            .reduce(AppAction::Go(Screen::Fill))
            .reduce(AppAction::Go(Screen::Tab(Tab::Drafts)));
        assert_eq!(
            s.refresh,
            r + 2,
            "back from an interview: it was saved meanwhile"
        );
        let s = s
            .reduce(AppAction::Go(Screen::Tab(Tab::Finalized)))
            .reduce(AppAction::Go(Screen::Tab(Tab::Export)));
        assert_eq!(s.refresh, r + 4);
        assert_eq!(
            s.reduce(AppAction::Go(Screen::Tab(Tab::Settings))).refresh,
            r + 4
        );
    }

    #[test]
    fn the_update_notice_stays_until_the_app_is_reopened() {
        let s = AppState::default()
            .reduce(AppAction::Go(Screen::Fill))
            .reduce(AppAction::Updated)
            .reduce(AppAction::Go(Screen::Tab(Tab::Drafts)))
            .reduce(AppAction::Say(Notice {
                error: false,
                text: "ok".into(),
            }))
            .reduce(AppAction::Dismiss)
            .reduce(AppAction::Go(Screen::Tab(Tab::Settings)));
        assert!(s.updated, "moving and other notices leave it");
        assert!(!AppState::default().updated);
    }
}
