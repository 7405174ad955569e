//! Structured JSON logs (one object per line) with the request id.
//! Never pass secrets, keys, `session_key` or personal data here.

use std::cell::RefCell;

thread_local! {
    static REQUEST_ID: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Sets the request id attached to every log line of this request.
pub fn set_request_id(id: &str) {
    REQUEST_ID.with(|r| *r.borrow_mut() = id.to_string());
}

/// The current request id.
pub fn request_id() -> String {
    REQUEST_ID.with(|r| r.borrow().clone())
}

fn emit(level: &str, event: &str, fields: &[(&str, String)]) {
    let mut o = serde_json::Map::new();
    o.insert("level".into(), level.into());
    o.insert("event".into(), event.into());
    o.insert("request_id".into(), request_id().into());
    o.insert("ts".into(), (js_sys::Date::now() as i64).into());
    for (k, v) in fields {
        o.insert((*k).into(), v.clone().into());
    }
    let line = serde_json::Value::Object(o).to_string();
    if level == "error" {
        worker::console_error!("{line}");
    } else {
        worker::console_log!("{line}");
    }
}

/// An informational line.
pub fn info(event: &str, fields: &[(&str, String)]) {
    emit("info", event, fields);
}

/// A warning (e.g. a rejected notify).
pub fn warn(event: &str, fields: &[(&str, String)]) {
    emit("warn", event, fields);
}

/// An error.
pub fn error(event: &str, fields: &[(&str, String)]) {
    emit("error", event, fields);
}
