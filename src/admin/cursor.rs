//! Opaque page cursors: base64 of a kind and a receive position, so a cursor of one
//! listing is refused by another and clients cannot depend on what is inside.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Which listing a cursor belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Events,
    Audit,
}

impl Kind {
    fn tag(self) -> &'static str {
        match self {
            Self::Events => "e1",
            Self::Audit => "a1",
        }
    }
}

/// Where a page ended: the next page holds rows stored before `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub kind: Kind,
    pub seq: i64,
}

/// A cursor that this listing did not hand out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a cursor of this listing; pass the `next` value of the previous page")]
pub struct CursorError;

impl Cursor {
    pub fn new(kind: Kind, seq: i64) -> Self {
        Self { kind, seq }
    }

    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}.{}", self.kind.tag(), self.seq))
    }

    /// The position inside `text` when it is a cursor of `kind`.
    pub fn decode(kind: Kind, text: &str) -> Result<i64, CursorError> {
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| CursorError)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| CursorError)?;
        let (tag, seq) = text.split_once('.').ok_or(CursorError)?;
        if tag != kind.tag() {
            return Err(CursorError);
        }
        seq.parse().map_err(|_| CursorError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_is_refused_by_another_listing() {
        let text = Cursor::new(Kind::Events, 42).encode();
        assert_eq!(Cursor::decode(Kind::Events, &text), Ok(42));
        assert_eq!(Cursor::decode(Kind::Audit, &text), Err(CursorError));
        assert_eq!(
            Cursor::decode(Kind::Events, "not base64!"),
            Err(CursorError)
        );
        let forged = URL_SAFE_NO_PAD.encode("e1.x");
        assert_eq!(Cursor::decode(Kind::Events, &forged), Err(CursorError));
    }
}
