//! Milestone tasks across rules: a `complete` rule closes the task a `create` rule made
//! under the same rendered `task_key`, on the same contact, instead of making another.

use serde_json::Value;

use crate::support::{Backend, Env, tovuti_event};

/// The shipped mapping plus a rule that closes the halfway check-in when the course ends.
fn mapping_with_a_closing_rule() -> String {
    format!(
        "{}\n{}",
        include_str!("../../config/mapping.example.toml"),
        r#"
[[lms.milestones]]
id = "close-halfway-on-completion"
on = "course.completed"
action = "complete"
title = "Check in: {{ user.name }} finished {{ course.title }}"
task_key = "course-{{ course.id }}-halfway"
"#
    )
}

pub async fn a_completion_rule_closes_the_task_another_rule_created(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mapping.toml");
    std::fs::write(&path, mapping_with_a_closing_rule()).unwrap();
    let file = path.display().to_string();
    let Some(env) = Env::start_with(backend, |c| c.mapping.file = file).await else {
        return;
    };
    let mut halfway = tovuti_event("lesson.completed", "evt-halfway");
    halfway["data"]["progress"] = 60.into();
    assert_eq!(env.send_tovuti(&halfway).await.status, 200);
    env.drain().await;
    let done = tovuti_event("course.completed", "evt-done");
    assert_eq!(env.send_tovuti(&done).await.status, 200);
    env.drain().await;

    let contacts = env.ghl.contacts();
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    let id = contacts[0]["id"].as_str().unwrap();
    let tasks = env.ghl.activities("tasks", id);
    let check_ins: Vec<&Value> = tasks
        .iter()
        .filter(|t| t["title"].as_str().unwrap_or("").contains("Check in"))
        .collect();
    assert_eq!(check_ins.len(), 1, "one check-in task, closed: {tasks:?}");
    assert_eq!(check_ins[0]["completed"], true, "{tasks:?}");
    env.finish().await;
}
