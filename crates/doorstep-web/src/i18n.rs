//! The app's own words in Chinese (the default) and English, so the interface follows the surveyor's choice.
//!
//! Form labels are not here: they come from the form in the chosen language, with the form's default
//! language as the fallback (`Text::get`). Messages with a number use small functions rather than
//! templates so that word order can differ between the languages.

use doorstep_core::form::model::Text;

/// The interface language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// The BCP 47 tag, matched against a form's `languages` (`zh-CN`, `zh`, `en`, ...).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
    pub fn from_tag(tag: &str) -> Lang {
        if tag.to_ascii_lowercase().starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
    /// The form language to show for this interface language: the first of the form's languages with
    /// the same primary subtag, else the form's default (the first).
    pub fn pick_form_language(self, form_languages: &[String]) -> String {
        let want = self.primary();
        form_languages
            .iter()
            .find(|l| l.to_ascii_lowercase().split('-').next() == Some(want))
            .or_else(|| form_languages.first())
            .cloned()
            .unwrap_or_default()
    }
    /// A form's text (a title) in this language: a plain text as it is, a translated one in the
    /// first language with the same primary subtag; `None` when it has no such translation.
    pub fn text(self, text: &Text) -> Option<&str> {
        match text {
            Text::Plain(s) => Some(s),
            Text::Translated(m) => m
                .iter()
                .find(|(k, _)| k.to_ascii_lowercase().split('-').next() == Some(self.primary()))
                .map(|(_, v)| v.as_str()),
        }
    }
    fn primary(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
    pub fn t(self) -> &'static Strings {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }
}

/// Every fixed piece of interface text.
pub struct Strings {
    pub app_name: &'static str,
    pub switch_language: &'static str,
    pub forms: &'static str,
    pub drafts: &'static str,
    pub finalized: &'static str,
    pub export: &'static str,
    pub settings: &'static str,
    pub loading: &'static str,
    pub start_interview: &'static str,
    pub no_forms: &'static str,
    pub load_form_file: &'static str,
    pub load_form_url: &'static str,
    pub form_url_placeholder: &'static str,
    pub load: &'static str,
    pub form_refused: &'static str,
    /// In the review, for a photo, signature or recording that is there.
    pub attached: &'static str,
    /// The short notice when a form was refused (the details are below the loading buttons).
    pub form_refused_short: &'static str,
    /// The heading when the file or the address could not be read at all.
    pub form_not_read: &'static str,
    pub form_not_read_short: &'static str,
    pub form_installed: &'static str,
    pub version: &'static str,
    pub saved: &'static str,
    pub saving: &'static str,
    pub not_saved: &'static str,
    pub save_failed_quota: &'static str,
    pub save_failed_closed: &'static str,
    pub save_failed_other: &'static str,
    pub retry_now: &'static str,
    /// Another window of the app wrote the interview (`SaveError::Conflict`), and what to do.
    pub conflict_changed: &'static str,
    pub conflict_finalized: &'static str,
    pub conflict_deleted: &'static str,
    pub keep_this_window: &'static str,
    pub keep_as_correction: &'static str,
    pub use_saved: &'static str,
    pub discard_this_window: &'static str,
    /// A window with nothing unsaved follows what another window did (`app::follow_disk`).
    pub followed_other_window: &'static str,
    pub finalized_in_other_window: &'static str,
    pub deleted_in_other_window: &'static str,
    pub previous: &'static str,
    pub next: &'static str,
    pub contents: &'static str,
    pub close: &'static str,
    pub review: &'static str,
    pub finalize: &'static str,
    pub finalize_refused: &'static str,
    pub finalized_ok: &'static str,
    pub no_problems: &'static str,
    pub problems: &'static str,
    pub answers: &'static str,
    pub required_mark: &'static str,
    pub section_done: &'static str,
    pub section_errors: &'static str,
    pub section_todo: &'static str,
    /// A section that does not apply (everything in it is irrelevant now).
    pub section_not_applicable: &'static str,
    pub add_member: &'static str,
    pub remove: &'static str,
    pub move_up: &'static str,
    pub move_down: &'static str,
    pub open: &'static str,
    pub back_to_list: &'static str,
    pub confirm_remove_member: &'static str,
    pub confirm_delete: &'static str,
    pub confirm_clear_signature: &'static str,
    pub confirm_clear_file: &'static str,
    pub cancel: &'static str,
    pub delete: &'static str,
    pub edit: &'static str,
    /// Beside a draft that corrects a finalized interview (edit after finalize).
    pub correction: &'static str,
    pub search: &'static str,
    pub no_drafts: &'static str,
    pub no_finalized: &'static str,
    pub untitled: &'static str,
    pub not_exported: &'static str,
    pub export_selected: &'static str,
    pub bundles: &'static str,
    pub no_bundles: &'static str,
    pub storage: &'static str,
    pub persist_granted: &'static str,
    pub persist_denied: &'static str,
    pub persist_unknown: &'static str,
    pub space_used: &'static str,
    pub no_indexeddb: &'static str,
    pub capture_location: &'static str,
    pub locating: &'static str,
    pub accuracy: &'static str,
    pub latitude: &'static str,
    pub longitude: &'static str,
    pub location_failed: &'static str,
    /// Under a captured location whose accuracy is worse than `geo::POOR_ACCURACY_M`.
    pub accuracy_poor: &'static str,
    pub take_photo: &'static str,
    pub preparing_photo: &'static str,
    pub choose_file: &'static str,
    pub record_audio: &'static str,
    pub record_video: &'static str,
    pub choose_from_phone: &'static str,
    pub clear: &'static str,
    pub sign_here: &'static str,
    pub scan_code: &'static str,
    pub scanning: &'static str,
    pub scan_nothing_found: &'static str,
    pub scan_failed: &'static str,
    pub save_signature: &'static str,
    pub ok_box: &'static str,
    /// Beside a range question's slider until it is touched: the slider's place is no answer.
    pub not_answered: &'static str,
    pub choose: &'static str,
    pub not_a_whole_number: &'static str,
    pub not_a_number: &'static str,
    /// A date the form cannot hold (a six-digit year typed into the date field).
    pub not_a_date: &'static str,
    pub surveyor_name: &'static str,
    /// On the forms screen while the settings have no surveyor's name, and its button.
    pub no_surveyor: &'static str,
    pub enter_surveyor: &'static str,
    pub device_id: &'static str,
    pub app_version: &'static str,
    pub save: &'static str,
    pub home: &'static str,
    pub started: &'static str,
    pub updated: &'static str,
    pub form_newer_version: &'static str,
    pub exporting: &'static str,
    pub export_none: &'static str,
    pub save_again: &'static str,
    /// The export history's button that makes a bundle again and saves it.
    pub bundle_again: &'static str,
    pub bundle_making: &'static str,
    /// Between the chosen options of a multiple choice, where they are listed.
    pub list_sep: &'static str,
    pub bundle_holds: &'static str,
    pub export_failed_items: &'static str,
    pub member: &'static str,
    pub go_to_question: &'static str,
    pub page: &'static str,
    pub app_update: &'static str,
    pub reopen_now: &'static str,
}

pub static ZH: Strings = Strings {
    app_name: "入户调查",
    switch_language: "English",
    forms: "表单",
    drafts: "草稿",
    finalized: "已完成",
    export: "导出",
    settings: "设置",
    loading: "正在加载…",
    start_interview: "开始新调查",
    no_forms: "还没有安装任何表单。",
    load_form_file: "从文件加载表单",
    load_form_url: "从网址加载表单",
    form_url_placeholder: "https://…/表单.form.json",
    load: "加载",
    form_refused: "表单有错误，未安装：",
    attached: "✓ 已保存",
    form_refused_short: "表单有错误，未安装。错误见下方。",
    form_not_read: "无法读取表单（文件打不开，或网址下载失败），未安装：",
    form_not_read_short: "无法读取表单，未安装。原因见下方。",
    form_installed: "表单已安装。",
    version: "版本",
    saved: "已保存",
    saving: "正在保存…",
    not_saved: "未保存",
    save_failed_quota: "手机存储空间已满，最近的回答还没有保存。请删除手机上的照片或其他文件以腾出空间；回答仍保留在本页，会自动重试。",
    save_failed_closed: "数据库连接已关闭，最近的回答还没有保存。回答仍保留在本页，会自动重试。",
    save_failed_other: "保存失败，最近的回答还没有保存。回答仍保留在本页，会自动重试。",
    retry_now: "立即重试",
    conflict_changed: "这份调查在另一个窗口（标签页）里也开着，并且在那里保存过。为了不覆盖那边的回答，本窗口最近的回答没有保存。请选择保留哪一边的回答。",
    conflict_finalized: "这份调查已经在另一个窗口（标签页）里提交了。本窗口最近的回答没有保存。可以把本窗口的回答另存为一份更正（提交后代替已提交的调查），或者放弃本窗口的回答。",
    conflict_deleted: "这份调查已经在另一个窗口（标签页）里删除了。本窗口最近的回答没有保存。可以保留本窗口的回答（调查会恢复，已删除的照片和签名除外），或者放弃。",
    keep_this_window: "保留本窗口的回答",
    keep_as_correction: "另存为更正",
    use_saved: "改用已保存的回答",
    discard_this_window: "放弃本窗口的回答",
    followed_other_window: "这份调查在另一个窗口（标签页）里改过，这里显示的是那里保存的回答。",
    finalized_in_other_window: "这份调查已经在另一个窗口（标签页）里提交了。",
    deleted_in_other_window: "这份调查已经在另一个窗口（标签页）里删除了。",
    previous: "上一页",
    next: "下一页",
    contents: "目录",
    close: "关闭",
    review: "检查",
    finalize: "完成调查",
    finalize_refused: "还有问题没有解决，不能完成。请先处理下面列出的问题。",
    finalized_ok: "调查已完成。",
    no_problems: "没有问题，可以完成。",
    problems: "问题",
    answers: "回答",
    required_mark: "必答",
    section_done: "已完成",
    section_errors: "有错误",
    section_todo: "未完成",
    section_not_applicable: "不适用",
    add_member: "添加成员",
    remove: "删除",
    move_up: "上移",
    move_down: "下移",
    open: "打开",
    back_to_list: "返回列表",
    confirm_remove_member: "确定删除这位成员及其全部回答吗？",
    confirm_delete: "确定删除这份调查吗？删除后无法恢复。",
    confirm_clear_signature: "确定清除这个签名吗？清除后需要重新签名。",
    confirm_clear_file: "确定删除已保存的照片或文件吗？删除后无法恢复。",
    cancel: "取消",
    delete: "删除",
    edit: "修改",
    correction: "修改中",
    search: "搜索",
    no_drafts: "没有草稿。",
    no_finalized: "没有已完成的调查。",
    untitled: "（未命名）",
    not_exported: "未导出",
    export_selected: "导出选中的调查",
    bundles: "导出记录",
    no_bundles: "还没有导出过。",
    storage: "存储",
    persist_granted: "已获准永久保存：浏览器不会自动清除这些数据。",
    persist_denied: "浏览器没有允许永久保存：空间不足时数据可能被清除，请尽快导出。把本应用添加到主屏幕（浏览器菜单 →“添加到主屏幕”或“安装应用”），以后从主屏幕打开，浏览器通常就会允许永久保存。",
    persist_unknown: "无法确认是否永久保存。",
    space_used: "已用空间",
    no_indexeddb: "这个浏览器无法在本机保存数据（可能是无痕/隐私模式）。请用普通模式打开，否则回答会丢失。",
    capture_location: "获取位置",
    locating: "正在定位…",
    accuracy: "精度",
    latitude: "纬度",
    longitude: "经度",
    location_failed: "无法获取位置：",
    accuracy_poor: "误差较大，可以到屋外开阔处再获取一次。",
    take_photo: "拍照",
    preparing_photo: "正在处理照片…",
    choose_file: "选择文件",
    record_audio: "录音",
    record_video: "录像",
    choose_from_phone: "从手机里选择",
    clear: "清除",
    sign_here: "请在框内签名",
    scan_code: "用相机扫码",
    scanning: "正在识别…",
    scan_nothing_found: "照片里没有找到条码或二维码。请对准、拍清楚后再试，或直接输入。",
    scan_failed: "扫码失败，请直接输入。原因：",
    save_signature: "保存签名",
    ok_box: "确认",
    not_answered: "未选择",
    choose: "请选择",
    not_a_whole_number: "请输入整数。",
    not_a_number: "请输入数字。",
    not_a_date: "这个日期不对，请重新选择。",
    surveyor_name: "调查员姓名",
    no_surveyor: "还没有填写调查员姓名：新的调查和导出的数据包里将没有您的名字。",
    enter_surveyor: "填写调查员姓名",
    device_id: "设备编号",
    app_version: "应用版本",
    save: "保存",
    home: "首页",
    started: "开始于",
    updated: "更新于",
    form_newer_version: "此草稿使用旧版本表单",
    exporting: "正在导出…",
    export_none: "没有选中的调查。",
    save_again: "没存上？再保存一次",
    bundle_again: "重新保存这个数据包",
    bundle_making: "正在重新生成…",
    list_sep: "、",
    bundle_holds: "包含的调查",
    export_failed_items: "以下调查未通过检查，没有导出：",
    member: "成员",
    go_to_question: "转到问题",
    page: "页",
    app_update: "应用已更新，重新打开后生效；草稿都在。",
    reopen_now: "现在重新打开",
};

pub static EN: Strings = Strings {
    app_name: "Household survey",
    switch_language: "中文",
    forms: "Forms",
    drafts: "Drafts",
    finalized: "Finalized",
    export: "Export",
    settings: "Settings",
    loading: "Loading…",
    start_interview: "Start a new interview",
    no_forms: "No form is installed yet.",
    load_form_file: "Load a form from a file",
    load_form_url: "Load a form from a web address",
    form_url_placeholder: "https://…/form.form.json",
    load: "Load",
    form_refused: "The form has errors and was not installed:",
    attached: "✓ saved",
    form_refused_short: "The form has errors and was not installed; see below.",
    form_not_read: "The form could not be read (the file would not open, or the address could not be downloaded), so it was not installed:",
    form_not_read_short: "The form could not be read and was not installed; see below.",
    form_installed: "The form is installed.",
    version: "version",
    saved: "Saved",
    saving: "Saving…",
    not_saved: "Not saved",
    save_failed_quota: "The phone's storage is full: the latest answers are not saved yet. Free some space (delete photos or other files); your answers stay on this page and saving is retried.",
    save_failed_closed: "The database connection was closed: the latest answers are not saved yet. They stay on this page and saving is retried.",
    save_failed_other: "Saving failed: the latest answers are not saved yet. They stay on this page and saving is retried.",
    retry_now: "Retry now",
    conflict_changed: "This interview is also open in another window (tab), and was saved there. So as not to overwrite the answers there, this window's latest answers were not saved. Choose which answers to keep.",
    conflict_finalized: "This interview was finalized in another window (tab). This window's latest answers were not saved. Keep them as a correction (once finalized, it replaces the finalized interview), or discard them.",
    conflict_deleted: "This interview was deleted in another window (tab). This window's latest answers were not saved. Keep them (the interview comes back, without photos and signatures deleted with it), or discard them.",
    keep_this_window: "Keep this window's answers",
    keep_as_correction: "Keep as a correction",
    use_saved: "Use the saved answers",
    discard_this_window: "Discard this window's answers",
    followed_other_window: "This interview was changed in another window (tab): it now shows the answers saved there.",
    finalized_in_other_window: "This interview was finalized in another window (tab).",
    deleted_in_other_window: "This interview was deleted in another window (tab).",
    previous: "Previous",
    next: "Next",
    contents: "Contents",
    close: "Close",
    review: "Review",
    finalize: "Finalize",
    finalize_refused: "There are problems left, so the interview cannot be finalized. Fix the problems listed below first.",
    finalized_ok: "The interview is finalized.",
    no_problems: "No problems: the interview can be finalized.",
    problems: "Problems",
    answers: "Answers",
    required_mark: "required",
    section_done: "done",
    section_errors: "has errors",
    section_todo: "to do",
    section_not_applicable: "does not apply",
    add_member: "Add a member",
    remove: "Remove",
    move_up: "Move up",
    move_down: "Move down",
    open: "Open",
    back_to_list: "Back to the list",
    confirm_remove_member: "Remove this member and all their answers?",
    confirm_delete: "Delete this interview? It cannot be undone.",
    confirm_clear_signature: "Clear this signature? It will have to be signed again.",
    confirm_clear_file: "Remove the saved photo or file? It cannot be undone.",
    cancel: "Cancel",
    delete: "Delete",
    edit: "Edit",
    correction: "correction",
    search: "Search",
    no_drafts: "No drafts.",
    no_finalized: "No finalized interviews.",
    untitled: "(untitled)",
    not_exported: "not exported",
    export_selected: "Export the selected interviews",
    bundles: "Exports",
    no_bundles: "Nothing exported yet.",
    storage: "Storage",
    persist_granted: "Persistent storage granted: the browser will not clear this data by itself.",
    persist_denied: "Persistent storage was not granted: the browser may clear data when space runs low, so export soon. Add the app to the home screen (browser menu → \"Add to Home screen\" or \"Install app\") and open it from there: the browser then usually grants it.",
    persist_unknown: "Persistent storage could not be checked.",
    space_used: "Space used",
    no_indexeddb: "This browser cannot keep data on this device (perhaps a private window). Open the app in a normal window, or answers will be lost.",
    capture_location: "Capture location",
    locating: "Locating…",
    accuracy: "accuracy",
    latitude: "Latitude",
    longitude: "Longitude",
    location_failed: "Could not get the location: ",
    accuracy_poor: "That is far off: try again outdoors in the open.",
    take_photo: "Take a photo",
    preparing_photo: "Preparing the photo…",
    choose_file: "Choose a file",
    record_audio: "Record sound",
    record_video: "Record a video",
    choose_from_phone: "Choose from the phone",
    clear: "Clear",
    sign_here: "Sign inside the box",
    scan_code: "Scan with the camera",
    scanning: "Reading the code…",
    scan_nothing_found: "No barcode or QR code was found in the photo. Hold the camera steady and try again, or type it.",
    scan_failed: "Scanning failed; please type the code. Reason: ",
    save_signature: "Save the signature",
    ok_box: "OK",
    not_answered: "Not answered",
    choose: "Choose…",
    not_a_whole_number: "Enter a whole number.",
    not_a_number: "Enter a number.",
    not_a_date: "This date is not valid; choose it again.",
    surveyor_name: "Surveyor's name",
    no_surveyor: "No surveyor's name yet: new interviews and exported bundles will not say who made them.",
    enter_surveyor: "Enter the surveyor's name",
    device_id: "Device id",
    app_version: "App version",
    save: "Save",
    home: "Home",
    started: "started",
    updated: "updated",
    form_newer_version: "This draft uses an older version of the form",
    exporting: "Exporting…",
    export_none: "No interview is selected.",
    save_again: "Not saved? Save it again",
    bundle_again: "Save this bundle again",
    bundle_making: "Making it again…",
    list_sep: ", ",
    bundle_holds: "Interviews in it",
    export_failed_items: "These interviews did not pass the checks and were not exported:",
    member: "Member",
    go_to_question: "Go to the question",
    page: "page",
    app_update: "The app was updated; it takes effect when reopened. Your drafts are kept.",
    reopen_now: "Reopen now",
};

/// "3 problems" / "3 个问题".
pub fn n_problems(lang: Lang, n: usize) -> String {
    match lang {
        Lang::Zh => format!("{n} 个问题"),
        Lang::En if n == 1 => "1 problem".to_string(),
        Lang::En => format!("{n} problems"),
    }
}

/// The fallback name of a repeat instance, after the roster's label: "地块 2" / "Plot 2" for a roster
/// of plots, "成员 2" / "Member 2" for one without a label.
pub fn nth_member(lang: Lang, roster: &str, n: usize) -> String {
    match (lang, roster.trim()) {
        (Lang::Zh, "") => format!("{} {n}", ZH.member),
        (Lang::En, "") => format!("{} {n}", EN.member),
        (_, label) => format!("{label} {n}"),
    }
}

/// Under a count held while it is typed (`Filling::would_remove`): who goes when the field is left.
/// `who` names the members ("地块 3", "家庭成员 · 陈丽"), in list order.
pub fn removes_on_leaving(lang: Lang, who: &[String]) -> String {
    let t = lang.t();
    let mut list = who
        .iter()
        .take(3)
        .cloned()
        .collect::<Vec<_>>()
        .join(t.list_sep);
    if who.len() > 3 {
        list.push_str(match lang {
            Lang::Zh => "等",
            Lang::En => " and others",
        });
    }
    match lang {
        Lang::Zh => format!("离开这一题后，将删除{list}及其所有回答。"),
        Lang::En => {
            format!("When you leave this field, {list} will be removed with their answers.")
        }
    }
}

/// Beside a roster whose computed count was capped: "Only 5 listed: the form allows at most 5 (8 asked)".
/// When the session's own limit on instances stopped it first (`listed < max`), that is said instead.
pub fn capped(lang: Lang, c: &crate::filling::Capped) -> String {
    let asked = |zh: bool| match c.asked {
        Some(n) if zh => format!("（要求 {n} 项）"),
        Some(n) => format!(" ({n} asked)"),
        None => String::new(),
    };
    let listed = c.listed;
    match lang {
        Lang::Zh if listed as u64 >= c.max => {
            format!("按表单上限只列出 {listed} 项{}", asked(true))
        }
        Lang::Zh => format!(
            "本次调查的条目已达应用上限，只列出 {listed} 项{}",
            asked(true)
        ),
        Lang::En if listed as u64 >= c.max => {
            format!(
                "Only {listed} listed: the form allows at most {}{}",
                c.max,
                asked(false)
            )
        }
        Lang::En => format!(
            "Only {listed} listed: this interview reached the app's limit of entries{}",
            asked(false)
        ),
    }
}

/// After a photo was made smaller: "照片已缩小：8.2 MB → 412.3 KB".
pub fn photo_smaller(lang: Lang, from: f64, to: f64) -> String {
    match lang {
        Lang::Zh => format!("照片已缩小：{} → {}", bytes(from), bytes(to)),
        Lang::En => format!("Photo made smaller: {} → {}", bytes(from), bytes(to)),
    }
}

/// When a photo could not be made smaller and was stored as it was. The browser's reason (in English
/// whatever the phone's language, e.g. "The source image could not be decoded.") goes to the
/// console, not to the surveyor.
pub fn photo_kept(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "手机读不出这张照片，没有缩小，已按原样保存。",
        Lang::En => {
            "The phone could not read this photo, so it was not made smaller; it is stored as it was."
        }
    }
}

/// A file that is not a picture was picked for a photo question (and not stored).
pub fn not_a_photo(lang: Lang, file: &str) -> String {
    match lang {
        Lang::Zh => format!("“{file}”不是照片，没有保存。请拍照，或选择一张照片。"),
        Lang::En => {
            format!("“{file}” is not a photo and was not stored. Take a photo, or choose one.")
        }
    }
}

/// Beside an interview on the export screen: in how many bundles it went out.
pub fn exported_in(lang: Lang, bundles: usize) -> String {
    match (lang, bundles) {
        (Lang::Zh, n) => format!("已导出到 {n} 个数据包"),
        (Lang::En, 1) => "exported in 1 bundle".to_string(),
        (Lang::En, n) => format!("exported in {n} bundles"),
    }
}

/// After an export: the bundle written, with how many interviews it holds and its size.
pub fn bundle_written(lang: Lang, file: &str, interviews: usize, size: u64) -> String {
    let (n, size) = (self::interviews(lang, interviews), bytes(size as f64));
    match lang {
        Lang::Zh => format!("已生成 {file}（{n}，{size}）"),
        Lang::En => format!("Written: {file} ({n}, {size})"),
    }
}

/// A bundle of the export history made again and found to be the very file first exported.
pub fn bundle_remade(lang: Lang, file: &str) -> String {
    match lang {
        Lang::Zh => format!("已重新生成 {file}，与第一次导出的文件完全相同（已核对 SHA-256）。"),
        Lang::En => {
            format!("{file} was made again: it is the very file first exported (SHA-256 checked).")
        }
    }
}

/// Why a bundle of the export history cannot be saved again (nothing is offered then), and what
/// the surveyor can do instead.
pub fn cannot_remake(lang: Lang, file: &str, why: &crate::record::CannotRemake) -> String {
    use crate::record::CannotRemake as C;
    match (lang, why) {
        (Lang::Zh, C::InterviewsGone(n)) => format!(
            "无法重新保存 {file}：其中 {n} 份调查已从手机上删除。请使用其他地方保存的这个文件。"
        ),
        (Lang::En, C::InterviewsGone(1)) => format!(
            "Cannot save {file} again: 1 of its interviews was deleted from this phone. Use a copy of the file kept elsewhere."
        ),
        (Lang::En, C::InterviewsGone(n)) => format!(
            "Cannot save {file} again: {n} of its interviews were deleted from this phone. Use a copy of the file kept elsewhere."
        ),
        (Lang::Zh, C::FormGone) => format!(
            "无法重新保存 {file}：它所用的表单版本已不在手机上。请重新安装这个版本的表单，再试一次。"
        ),
        (Lang::En, C::FormGone) => format!(
            "Cannot save {file} again: the form version it holds is no longer on this phone. Install that version of the form again and retry."
        ),
        (Lang::Zh, C::NoEntropy) => format!(
            "无法重新保存 {file}：这是旧版应用导出的加密数据包，当时没有保留重新生成所需的信息。请在上面勾选其中的调查，重新导出（会生成新的数据包）。"
        ),
        (Lang::En, C::NoEntropy) => format!(
            "Cannot save {file} again: it is an encrypted bundle from an older version of the app, which did not keep what is needed to make it again. Select its interviews above and export them again (that makes a new bundle)."
        ),
        (Lang::Zh, C::Differs(_)) => format!(
            "无法重新保存 {file}：重新生成的文件与第一次导出的不一致（调查、照片或应用有了变化），所以不提供。请在上面勾选其中的调查，重新导出（会生成新的数据包，办公室会跳过已收到的调查）。"
        ),
        (Lang::En, C::Differs(_)) => format!(
            "Cannot save {file} again: the file made now differs from the one first exported (its interviews, photos or the app changed), so it is not offered. Select its interviews above and export them again: that makes a new bundle, and the office skips interviews it already has."
        ),
        (Lang::Zh, C::Failed(e)) => format!("无法重新保存 {file}，请稍后再试（{e}）。"),
        (Lang::En, C::Failed(e)) => format!("Cannot save {file} again; retry later ({e})."),
    }
}

/// How many interviews a bundle holds: "3 份调查" / "3 interviews".
pub fn interviews(lang: Lang, n: usize) -> String {
    match (lang, n) {
        (Lang::Zh, n) => format!("{n} 份调查"),
        (Lang::En, 1) => "1 interview".to_string(),
        (Lang::En, n) => format!("{n} interviews"),
    }
}

/// A byte count for people: "1.2 MB".
pub fn bytes(n: f64) -> String {
    if n < 1024.0 {
        format!("{n:.0} B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.1} KB", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MB", n / 1024.0 / 1024.0)
    } else {
        format!("{:.1} GB", n / 1024.0 / 1024.0 / 1024.0)
    }
}

/// Typed digits as ASCII: a Chinese keyboard in full-width mode types "１２" and "－５", and a
/// Chinese input method types "。" for a decimal point; the number parsers read them as 12, -5 and
/// ".". Everything else is left as it is (and refused by the parser if it is not a number).
pub fn ascii_digits(s: &str) -> std::borrow::Cow<'_, str> {
    if s.is_ascii() {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .map(|c| match c {
                '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
                '－' | '−' => '-',
                '＋' => '+',
                '．' | '。' => '.',
                '　' => ' ',
                c => c,
            })
            .collect(),
    )
}

/// A typed number as the parser reads it: full-width characters made plain (`ascii_digits`), and
/// commas as a Chinese writer means them. "12,000" and "1,200,000.50" group thousands (read as a
/// decimal point, "12,000" yuan was stored as 12); a comma that groups nothing ("12,5") is a
/// decimal point, as some phone keyboards type it. Anything else is left for the parser to refuse.
pub fn number_input(s: &str) -> String {
    let s = ascii_digits(s).replace('，', ",");
    let s = s.trim();
    if !s.contains(',') {
        return s.to_string();
    }
    let (whole, fraction) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    let groups: Vec<&str> = whole.split(',').collect();
    let digits = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
    let head = groups[0].trim_start_matches(['-', '+']);
    if head.len() <= 3 && digits(head) && groups[1..].iter().all(|g| g.len() == 3 && digits(g)) {
        let point = fraction.map(|f| format!(".{f}")).unwrap_or_default();
        return format!("{}{point}", groups.concat());
    }
    match (fraction, groups.as_slice()) {
        (None, [w, f]) => format!("{w}.{f}"),
        _ => s.to_string(),
    }
}

/// Why a write did not reach the disk, as the surveyor needs to hear it (the save indicator, and
/// under a signature pad whose picture could not be stored).
pub fn save_failure(lang: Lang, e: &crate::save::SaveError) -> String {
    use crate::save::{Conflict, SaveError};
    let t = lang.t();
    match e {
        SaveError::Quota => t.save_failed_quota.to_string(),
        SaveError::Closed => t.save_failed_closed.to_string(),
        SaveError::Other(m) => format!("{} ({m})", t.save_failed_other),
        SaveError::Conflict(Conflict::Changed { .. }) => t.conflict_changed.to_string(),
        SaveError::Conflict(Conflict::Finalized { .. }) => t.conflict_finalized.to_string(),
        SaveError::Conflict(Conflict::Deleted) => t.conflict_deleted.to_string(),
    }
}

/// The list's message when a search finds nothing (not "no drafts", which would look like loss).
/// The export tab's name when finalized interviews are in no bundle yet.
pub fn export_waiting(lang: Lang, n: usize) -> String {
    match lang {
        Lang::Zh => format!("导出（{n} 份调查还没导出）"),
        Lang::En => match n {
            1 => "Export (1 interview not exported yet)".into(),
            n => format!("Export ({n} interviews not exported yet)"),
        },
    }
}

pub fn no_match(lang: Lang, query: &str) -> String {
    match lang {
        Lang::Zh => format!("没有符合“{}”的调查。", query.trim()),
        Lang::En => format!("No interview matches “{}”.", query.trim()),
    }
}

/// The confirmation before an interview is deleted, naming it.
/// A finalized interview in no bundle yet (`unsent`) is on this phone only: deleting it means the
/// office never gets it, which is said.
pub fn confirm_delete_named(lang: Lang, name: &str, unsent: bool) -> String {
    match (lang, unsent) {
        (Lang::Zh, false) => format!("确定删除“{name}”吗？删除后无法恢复。"),
        (Lang::En, false) => format!("Delete “{name}”? It cannot be undone."),
        (Lang::Zh, true) => format!(
            "“{name}”还没有导出，只存在这部手机上：删除后办公室将收不到它，也无法恢复。确定删除吗？"
        ),
        (Lang::En, true) => format!(
            "“{name}” has not been exported and is only on this phone: once deleted, the office will never get it and it cannot be undone. Delete it?"
        ),
    }
}

/// The confirmation before a roster entry is removed, naming it ("家庭成员 · 陈丽", "发放明细 2").
pub fn confirm_remove_named(lang: Lang, who: &str) -> String {
    match lang {
        Lang::Zh => format!("确定删除“{who}”及其全部回答吗？"),
        Lang::En => format!("Remove “{who}” and all their answers?"),
    }
}

/// The button that adds an entry to a roster, after the roster's label: "添加家庭成员",
/// "Add “Household members”"; without a label, "添加成员" / "Add a member".
pub fn add_to(lang: Lang, roster: &str) -> String {
    match (lang, roster.trim()) {
        (Lang::Zh, "") => ZH.add_member.to_string(),
        (Lang::En, "") => EN.add_member.to_string(),
        (Lang::Zh, label) => format!("添加{label}"),
        (Lang::En, label) => format!("Add “{label}”"),
    }
}

/// A short Chinese summary of a form diagnostic, shown before its (English) detail when the
/// interface is Chinese: a supervisor reading on a phone learns what kind of mistake it is, and the
/// detail names the place for whoever fixes the file. `None` in English (the detail says it all).
pub fn diagnostic_summary(lang: Lang, code: &str) -> Option<&'static str> {
    if lang == Lang::En {
        return None;
    }
    Some(match code {
        "form/json-syntax" => "文件不是完整有效的 JSON（可能下载或复制不完整）",
        "form/too-large" | "form/too-many-items" | "form/too-deep" | "form/repeats-too-deep" => {
            "表单太大或嵌套太深"
        }
        "form/format" => "不是本应用的表单格式",
        "form/duplicate-name" | "form/duplicate-choice" => "名称重复",
        "form/unknown-key" | "form/key-not-allowed" | "form/missing-key" => "表单里的字段不对",
        "form/unknown-type" | "form/type" => "题目类型不对",
        "form/unknown-choices" | "form/bad-choice-value" => "选项列表有误",
        "form/languages" | "text/missing-translation" => "语言或翻译有误",
        code if code.starts_with("expr/") => "条件或计算公式有误",
        code if code.starts_with("item/") => "题目缺少内容",
        _ => "表单定义有误",
    })
}

/// A number for reading: a whole decimal shows no ".0" (96000, not 96000.0).
pub fn number_text(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(x) if n.is_f64() && x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.0}"),
        _ => n.to_string(),
    }
}

/// A computed number as a read-only question shows it: to 15 significant digits, as labels show
/// numbers (1.1 + 2.2 is 3.3, not 3.3000000000000003), and a whole one without ".0".
pub fn computed_number(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(x) if n.is_f64() && x.is_finite() => {
            let x: f64 = format!("{x:.14e}").parse().unwrap_or(x);
            let n = serde_json::Number::from_f64(x);
            n.as_ref().map_or_else(|| x.to_string(), number_text)
        }
        _ => n.to_string(),
    }
}

/// The interface language now, for messages made away from the components (the services'
/// failures); the app sets it as it renders.
pub fn shown() -> Lang {
    SHOWN.with(|l| l.get())
}

pub fn show(lang: Lang) {
    SHOWN.with(|l| l.set(lang));
}

thread_local! {
    static SHOWN: std::cell::Cell<Lang> = const { std::cell::Cell::new(Lang::Zh) };
}

/// A picked or fetched file over the size the app reads.
pub fn file_too_large(mb: f64, limit_mb: f64) -> String {
    match shown() {
        Lang::Zh => format!("文件有 {mb:.1} MB，超过了 {limit_mb:.0} MB 的上限。"),
        Lang::En => format!("The file is {mb:.1} MB; the limit is {limit_mb:.0} MB."),
    }
}

/// A form's address could not be reached at all (no network, a wrong address); `detail` is the
/// browser's words.
pub fn fetch_failed(detail: &str) -> String {
    match shown() {
        Lang::Zh => format!("无法从这个地址下载：手机没有联网，或者地址不对。（{detail}）"),
        Lang::En => format!(
            "Nothing could be downloaded from this address: the phone is offline, or the address is wrong. ({detail})"
        ),
    }
}

/// The server answered, but not with the file.
pub fn server_refused(status: u16, text: &str) -> String {
    match shown() {
        Lang::Zh => format!("服务器返回 {status} {text}，没有给出文件：请检查地址。"),
        Lang::En => {
            format!("The server answered {status} {text} instead of the file: check the address.")
        }
    }
}

/// Why the phone gave no location (the browser's `GeolocationPositionError.code`: 1 not allowed,
/// 2 unavailable, 3 timed out; 0 no location in this browser), and what to do instead.
pub fn location_problem(lang: Lang, code: u16) -> &'static str {
    match (lang, code) {
        (Lang::Zh, 1) => {
            "没有允许使用位置。请在手机或浏览器的设置里允许本应用使用位置，再试一次；也可以在下面填写经纬度。"
        }
        (Lang::Zh, 3) => "30 秒内没有定到位置。请到屋外开阔处再试一次，或在下面填写经纬度。",
        (Lang::Zh, 0) => "这个浏览器不能定位。请在下面填写经纬度。",
        (Lang::Zh, _) => {
            "手机现在定不到位置。请打开手机的定位（GPS），到屋外开阔处再试，或在下面填写经纬度。"
        }
        (Lang::En, 1) => {
            "Location is not allowed. Allow this app to use the location in the phone's or browser's settings and try again, or type the coordinates below."
        }
        (Lang::En, 3) => {
            "No location was found within 30 seconds. Try again outdoors in the open, or type the coordinates below."
        }
        (Lang::En, 0) => "This browser cannot give a location. Type the coordinates below.",
        (Lang::En, _) => {
            "The phone cannot find its location now. Turn on its location (GPS) and try again outdoors in the open, or type the coordinates below."
        }
    }
}

/// A form installed while a newer version of it is on the phone: new interviews keep the newer.
pub fn form_installed_older(lang: Lang, newest: &str) -> String {
    match lang {
        Lang::Zh => format!(
            "表单已安装，但手机上已有更新的版本（版本 {newest}），新调查仍使用版本 {newest}。"
        ),
        Lang::En => format!(
            "The form is installed, but a newer version ({newest}) is already on the phone: new interviews use version {newest}."
        ),
    }
}

/// Why an interview was not exported: the photos or signatures its answers name (`files`) are no
/// longer on the phone, and how to make it exportable again.
pub fn attachments_gone(files: &str) -> String {
    match shown() {
        Lang::Zh => format!(
            "手机上找不到它的照片或签名文件（{files}）。请在“已完成”里点这份调查的“修改”，重新拍照或签名，完成后再导出。"
        ),
        Lang::En => format!(
            "Its photo or signature files ({files}) are no longer on the phone. Tap “Edit” on it under Finalized, take the photo or sign again, finalize it, then export."
        ),
    }
}

/// A form's address gave a web page instead of a file.
pub fn web_page_not_form() -> String {
    match shown() {
        Lang::Zh => "这个地址给出的是一个网页，不是表单文件：可能要先在浏览器里登录 Wi-Fi，或者地址不对。".into(),
        Lang::En => "This address gave a web page, not a form file: the Wi-Fi may want a login in the browser first, or the address is wrong.".into(),
    }
}

/// Why storage failed, in a few words (not the save bar's sentence about answers).
pub fn storage_reason(e: &crate::save::SaveError) -> String {
    use crate::save::SaveError;
    let zh = shown() == Lang::Zh;
    match e {
        SaveError::Quota if zh => "手机存储空间已满".into(),
        SaveError::Quota => "the phone's storage is full".into(),
        SaveError::Closed if zh => "数据库连接已关闭".into(),
        SaveError::Closed => "the database connection was closed".into(),
        SaveError::Other(m) => m.clone(),
        SaveError::Conflict(_) if zh => "另一个窗口同时改了它".into(),
        SaveError::Conflict(_) => "another window changed it meanwhile".into(),
    }
}

/// Reading or writing the phone's storage failed (not a draft's autosave, which the save bar tells).
pub fn storage_failed(e: &crate::save::SaveError) -> String {
    match shown() {
        Lang::Zh => format!("手机存储出错：{}。", storage_reason(e)),
        Lang::En => format!("The phone's storage failed: {}.", storage_reason(e)),
    }
}

/// A form that was checked could not be stored.
pub fn form_not_stored(e: &crate::save::SaveError) -> String {
    match shown() {
        Lang::Zh => format!("表单没有存到手机上：{}。", storage_reason(e)),
        Lang::En => format!(
            "The form could not be stored on the phone: {}.",
            storage_reason(e)
        ),
    }
}

/// An interview (opened from a list, say) is gone from the phone.
pub fn interview_gone() -> String {
    match shown() {
        Lang::Zh => "这份调查已经不在手机上了（可能已在另一个窗口里删除）。".into(),
        Lang::En => {
            "This interview is no longer on the phone (it may have been deleted in another window)."
                .into()
        }
    }
}

/// The form an interview was started with is missing, or no longer loads.
pub fn form_gone(key: &str, loads: bool) -> String {
    match (shown(), loads) {
        (Lang::Zh, true) => format!("这份调查所用的表单（{key}）不在手机上。"),
        (Lang::Zh, false) => format!("手机上保存的表单（{key}）无法再读取。"),
        (Lang::En, true) => {
            format!("The form this interview was started with ({key}) is not on the phone.")
        }
        (Lang::En, false) => format!("The form stored on the phone ({key}) no longer loads."),
    }
}

/// A bundle was downloaded, but its record (which interviews went into it) could not be written.
pub fn export_not_recorded(file: &str, e: &crate::save::SaveError) -> String {
    match shown() {
        Lang::Zh => format!(
            "{file} 已经下载，但没能记下其中有哪些调查：{}。这些调查仍显示为“未导出”。",
            storage_reason(e)
        ),
        Lang::En => format!(
            "{file} was downloaded, but which interviews it holds could not be recorded: {}. They still show as not exported.",
            storage_reason(e)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_digits_and_whole_decimals() {
        assert_eq!(ascii_digits("１２"), "12");
        assert_eq!(ascii_digits("－５。５"), "-5.5");
        assert_eq!(ascii_digits("12"), "12");
        assert_eq!(ascii_digits("１a"), "1a");
        let n = |v: serde_json::Value| match v {
            serde_json::Value::Number(n) => number_text(&n),
            _ => unreachable!(),
        };
        assert_eq!(n(serde_json::json!(96000.0)), "96000");
        assert_eq!(n(serde_json::json!(500.5)), "500.5");
        assert_eq!(n(serde_json::json!(-3)), "-3");
        assert_eq!(n(serde_json::json!(1e20)), "1e+20");
    }

    /// A read-only question computed from decimals (a total of amounts in yuan) showed the binary
    /// fraction, and a whole one its ".0".
    #[test]
    fn computed_numbers_show_as_a_person_would_write_them() {
        let n = |v: serde_json::Value| match v {
            serde_json::Value::Number(n) => computed_number(&n),
            _ => unreachable!(),
        };
        assert_eq!(n(serde_json::json!(1.1 + 2.2)), "3.3");
        assert_eq!(n(serde_json::json!(96000.0)), "96000");
        assert_eq!(n(serde_json::json!(0.1 * 3.0)), "0.3");
        assert_eq!(n(serde_json::json!(41152263.208333336)), "41152263.2083333");
        assert_eq!(n(serde_json::json!(-7)), "-7");
        assert_eq!(
            n(serde_json::json!(12345678901234567_i64)),
            "12345678901234567"
        );
    }

    #[test]
    fn commas_in_a_typed_number() {
        for (typed, read) in [
            ("12,000", "12000"),
            ("１２，０００", "12000"),
            ("1,200,000.50", "1200000.50"),
            ("-3,500", "-3500"),
            (" 96000 ", "96000"),
            ("12,5", "12.5"),
            ("0,75", "0.75"),
            ("12,", "12."),
            ("1,2,3", "1,2,3"),
            ("12,5.5", "12,5.5"),
        ] {
            assert_eq!(number_input(typed), read, "{typed}");
        }
        let who = ["地块 3".to_string(), "地块 4".to_string()];
        assert_eq!(
            removes_on_leaving(Lang::Zh, &who),
            "离开这一题后，将删除地块 3、地块 4及其所有回答。"
        );
        let many: Vec<String> = (1..=5).map(|i| format!("Plots {i}")).collect();
        assert_eq!(
            removes_on_leaving(Lang::En, &many),
            "When you leave this field, Plots 1, Plots 2, Plots 3 and others will be removed with their answers."
        );
    }

    #[test]
    fn diagnostics_get_a_chinese_summary() {
        assert_eq!(
            diagnostic_summary(Lang::Zh, "form/json-syntax"),
            Some("文件不是完整有效的 JSON（可能下载或复制不完整）")
        );
        assert_eq!(
            diagnostic_summary(Lang::Zh, "expr/syntax"),
            Some("条件或计算公式有误")
        );
        assert_eq!(
            diagnostic_summary(Lang::Zh, "new/code"),
            Some("表单定义有误")
        );
        assert_eq!(diagnostic_summary(Lang::En, "form/json-syntax"), None);
    }

    #[test]
    fn confirmations_and_buttons_name_what_they_act_on() {
        assert_eq!(add_to(Lang::Zh, "家庭成员"), "添加家庭成员");
        assert_eq!(add_to(Lang::En, "Item given"), "Add “Item given”");
        assert_eq!(add_to(Lang::Zh, " "), "添加成员");
        assert_eq!(
            confirm_delete_named(Lang::Zh, "王家", false),
            "确定删除“王家”吗？删除后无法恢复。"
        );
        assert_eq!(
            confirm_delete_named(Lang::Zh, "王家", true),
            "“王家”还没有导出，只存在这部手机上：删除后办公室将收不到它，也无法恢复。确定删除吗？"
        );
        assert_eq!(
            confirm_remove_named(Lang::En, "Members · Chen Li"),
            "Remove “Members · Chen Li” and all their answers?"
        );
        assert_eq!(no_match(Lang::Zh, " 王 "), "没有符合“王”的调查。");
    }

    #[test]
    fn picks_the_form_language_with_fallback() {
        let langs = vec!["zh-CN".to_string(), "en".to_string()];
        assert_eq!(Lang::En.pick_form_language(&langs), "en");
        assert_eq!(Lang::Zh.pick_form_language(&langs), "zh-CN");
        let only_zh = vec!["zh-CN".to_string()];
        assert_eq!(Lang::En.pick_form_language(&only_zh), "zh-CN");
        assert_eq!(Lang::from_tag("en-GB"), Lang::En);
        assert_eq!(Lang::from_tag("zh"), Lang::Zh);
    }

    #[test]
    fn unnamed_entries_are_called_after_their_roster() {
        assert_eq!(nth_member(Lang::Zh, "地块", 2), "地块 2");
        assert_eq!(nth_member(Lang::En, " Item given ", 3), "Item given 3");
        assert_eq!(nth_member(Lang::Zh, "", 1), "成员 1");
        assert_eq!(nth_member(Lang::En, "", 4), "Member 4");
    }

    #[test]
    fn counts_read_as_words() {
        assert_eq!(exported_in(Lang::En, 1), "exported in 1 bundle");
        assert_eq!(exported_in(Lang::Zh, 2), "已导出到 2 个数据包");
        assert_eq!(
            bundle_written(Lang::En, "a.zip", 3, 2048),
            "Written: a.zip (3 interviews, 2.0 KB)"
        );
        assert_eq!(
            bundle_written(Lang::Zh, "a.zip", 1, 2048),
            "已生成 a.zip（1 份调查，2.0 KB）"
        );
    }

    #[test]
    fn a_capped_roster_says_so_in_both_languages() {
        let c = crate::filling::Capped {
            listed: 5,
            max: 5,
            asked: Some(8),
        };
        assert_eq!(capped(Lang::Zh, &c), "按表单上限只列出 5 项（要求 8 项）");
        assert_eq!(
            capped(Lang::En, &c),
            "Only 5 listed: the form allows at most 5 (8 asked)"
        );
        let nested = crate::filling::Capped { asked: None, ..c };
        assert_eq!(
            capped(Lang::En, &nested),
            "Only 5 listed: the form allows at most 5"
        );
        let limit = crate::filling::Capped { listed: 3, ..c };
        assert!(capped(Lang::En, &limit).contains("limit"));
    }

    #[test]
    fn counts_read_naturally() {
        assert_eq!(n_problems(Lang::En, 1), "1 problem");
        assert_eq!(n_problems(Lang::En, 2), "2 problems");
        assert_eq!(n_problems(Lang::Zh, 2), "2 个问题");
        assert_eq!(bytes(2048.0), "2.0 KB");
        assert_eq!(
            export_waiting(Lang::En, 1),
            "Export (1 interview not exported yet)"
        );
        assert_eq!(export_waiting(Lang::Zh, 3), "导出（3 份调查还没导出）");
    }
}
