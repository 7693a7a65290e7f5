//! Templates for tags, task and note text, appointment titles and summaries (minijinja).
//! Compiled once at validation; rendering never reads the clock or anything outside its context.

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use serde_json::{Value, json};

/// All templates of one mapping, compiled, by their dotted key in the file.
#[derive(Debug, Clone)]
pub struct Templates {
    env: Environment<'static>,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(String);

impl Templates {
    pub fn new() -> Self {
        let mut env = Environment::new();
        // At run time a value the event lacks renders empty (a lesson event has no award);
        // typos are caught at validation, which renders every template strictly.
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        env.set_keep_trailing_newline(false);
        Self { env }
    }

    /// Compiles `source` under `name`, then renders it strictly against `sample` so that
    /// unknown variables are reported now, not at the first event.
    pub fn add(&mut self, name: &str, source: &str, sample: &Value) -> Result<(), TemplateError> {
        let mut strict = Environment::new();
        strict.set_undefined_behavior(UndefinedBehavior::Strict);
        strict
            .render_str(source, sample)
            .map_err(|e| TemplateError(describe(&e)))?;
        self.env
            .add_template_owned(name.to_owned(), source.to_owned())
            .map_err(|e| TemplateError(describe(&e)))
    }

    /// Renders a template added under `name`.
    pub fn render(&self, name: &str, ctx: &impl Serialize) -> Result<String, TemplateError> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| TemplateError(describe(&e)))?;
        tmpl.render(ctx).map_err(|e| TemplateError(describe(&e)))
    }
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

fn describe(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.to_string(),
    }
}

/// The name a template is stored under: its dotted key in the file (`lms.milestones[0].title`).
pub fn name(section: &str, index: Option<usize>, key: &str) -> String {
    match index {
        Some(i) => format!("{section}[{i}].{key}"),
        None => format!("{section}.{key}"),
    }
}

/// The variables a `[lms]` rule template may use, with sample values (see docs/mapping.md).
pub fn tovuti_sample() -> Value {
    json!({
        "event": {"id": "evt_1", "type": "course.completed", "occurred_at": "2024-01-01T00:00:00Z"},
        "user": {"id": 1, "name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace",
                 "email": "ada@example.com", "username": "ada"},
        "course": {"id": 101, "title": "Course"},
        "lesson": {"id": 7, "title": "Lesson"},
        "award": {"id": 3, "title": "Award"},
        "progress": 50,
        "note": {"kind": "note", "title": "Title", "body": "Body", "author": "Author"},
        "call": {"duration_seconds": 60, "recording_url": "https://example.com/r"},
        "registration": {"id": 9, "title": "Session", "start": "2024-01-01T10:00:00Z",
                         "end": "2024-01-01T11:00:00Z", "location": "Room 1"},
        "milestone": "course.completed",
        "priority": "high",
        "status": "open",
    })
}

/// The variables a summary template may use, with sample values.
pub fn summary_sample() -> Value {
    json!({
        "tasks": [{"title": "Call", "body": "", "due_date": "2024-01-01T00:00:00Z"}],
        "note": {"body": "Body", "date_added": "2024-01-01T00:00:00Z"},
        "appointment": {"title": "Meeting", "start_time": "2024-01-01T10:00:00Z",
                        "end_time": "2024-01-01T11:00:00Z", "status": "confirmed", "address": ""},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_variables_and_syntax_errors_are_caught_when_added() {
        let mut t = Templates::new();
        assert!(
            t.add("a", "course:{{ course.title }}", &tovuti_sample())
                .is_ok()
        );
        let typo = t.add("b", "course:{{ cours.title }}", &tovuti_sample());
        assert!(typo.is_err());
        let syntax = t.add("c", "{{ course.title ", &tovuti_sample());
        assert!(syntax.unwrap_err().to_string().contains("syntax"));
    }

    #[test]
    fn missing_values_render_empty_at_run_time() {
        let mut t = Templates::new();
        t.add("a", "x{{ award.title }}y", &tovuti_sample()).unwrap();
        assert_eq!(t.render("a", &json!({})).unwrap(), "xy");
    }
}
