//! A contact's tasks: list, get, create, update, mark completed, delete.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Call, GhlError, LocationApi};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: String,
    pub title: Option<String>,
    pub body: Option<String>,
    pub assigned_to: Option<String>,
    /// ISO 8601, e.g. `2021-07-08T02:30:00.000Z`.
    pub due_date: Option<String>,
    #[serde(default)]
    pub completed: bool,
    pub contact_id: Option<String>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

/// `CreateTaskParams`: title, due date and completed are required by GHL.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewTask {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    pub due_date: String,
    pub completed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
}

/// `UpdateTaskBody`: only the fields to change.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
}

#[derive(Deserialize)]
struct One {
    task: Task,
}

#[derive(Deserialize)]
struct Many {
    #[serde(default)]
    tasks: Vec<Task>,
}

impl LocationApi {
    pub async fn list_tasks(&self, contact_id: &str) -> Result<Vec<Task>, GhlError> {
        let call = Call::new(
            Method::GET,
            "tasks.list",
            &["contacts", contact_id, "tasks"],
        );
        Ok(self.send::<Many>(call).await?.tasks)
    }

    pub async fn get_task(&self, contact_id: &str, task_id: &str) -> Result<Task, GhlError> {
        let call = Call::new(
            Method::GET,
            "tasks.get",
            &["contacts", contact_id, "tasks", task_id],
        );
        Ok(self.send::<One>(call).await?.task)
    }

    pub async fn create_task(&self, contact_id: &str, task: &NewTask) -> Result<Task, GhlError> {
        let call = Call::new(
            Method::POST,
            "tasks.create",
            &["contacts", contact_id, "tasks"],
        )
        .json(task)?;
        Ok(self.send::<One>(call).await?.task)
    }

    pub async fn update_task(
        &self,
        contact_id: &str,
        task_id: &str,
        update: &TaskUpdate,
    ) -> Result<Task, GhlError> {
        let segments = ["contacts", contact_id, "tasks", task_id];
        let call = Call::new(Method::PUT, "tasks.update", &segments).json(update)?;
        Ok(self.send::<One>(call).await?.task)
    }

    /// Marks the task completed (or open again with `false`).
    pub async fn complete_task(
        &self,
        contact_id: &str,
        task_id: &str,
        completed: bool,
    ) -> Result<Task, GhlError> {
        let segments = ["contacts", contact_id, "tasks", task_id, "completed"];
        let body = serde_json::json!({ "completed": completed });
        let call = Call::new(Method::PUT, "tasks.complete", &segments).json(&body)?;
        Ok(self.send::<One>(call).await?.task)
    }

    pub async fn delete_task(&self, contact_id: &str, task_id: &str) -> Result<(), GhlError> {
        let segments = ["contacts", contact_id, "tasks", task_id];
        let call = Call::new(Method::DELETE, "tasks.delete", &segments);
        self.send::<Value>(call).await.map(drop)
    }
}
