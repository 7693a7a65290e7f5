//! A contact's notes: list, get, create, update, delete.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Call, GhlError, LocationApi};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    pub id: String,
    pub body: Option<String>,
    pub user_id: Option<String>,
    pub date_added: Option<String>,
    pub contact_id: Option<String>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

/// `NotesDTO`: the body is required.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewNote {
    pub body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// `UpdateNoteDTO`: only the fields to change.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

#[derive(Deserialize)]
struct One {
    note: Note,
}

#[derive(Deserialize)]
struct Many {
    #[serde(default)]
    notes: Vec<Note>,
}

impl LocationApi {
    pub async fn list_notes(&self, contact_id: &str) -> Result<Vec<Note>, GhlError> {
        let call = Call::new(
            Method::GET,
            "notes.list",
            &["contacts", contact_id, "notes"],
        );
        Ok(self.send::<Many>(call).await?.notes)
    }

    pub async fn get_note(&self, contact_id: &str, note_id: &str) -> Result<Note, GhlError> {
        let call = Call::new(
            Method::GET,
            "notes.get",
            &["contacts", contact_id, "notes", note_id],
        );
        Ok(self.send::<One>(call).await?.note)
    }

    pub async fn create_note(&self, contact_id: &str, note: &NewNote) -> Result<Note, GhlError> {
        let call = Call::new(
            Method::POST,
            "notes.create",
            &["contacts", contact_id, "notes"],
        )
        .json(note)?;
        Ok(self.send::<One>(call).await?.note)
    }

    pub async fn update_note(
        &self,
        contact_id: &str,
        note_id: &str,
        update: &NoteUpdate,
    ) -> Result<Note, GhlError> {
        let segments = ["contacts", contact_id, "notes", note_id];
        let call = Call::new(Method::PUT, "notes.update", &segments).json(update)?;
        Ok(self.send::<One>(call).await?.note)
    }

    pub async fn delete_note(&self, contact_id: &str, note_id: &str) -> Result<(), GhlError> {
        let segments = ["contacts", contact_id, "notes", note_id];
        let call = Call::new(Method::DELETE, "notes.delete", &segments);
        self.send::<Value>(call).await.map(drop)
    }
}
