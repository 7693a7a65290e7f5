//! Opaque page cursors: base64url of a kind byte and a receive position (big-endian
//! i64), so a cursor of one listing is refused by another and clients cannot depend on
//! what is inside. Every cursor is 12 characters, and every 12-character base64url string
//! with the right kind decodes, so `openapi.yaml` can state exactly which strings are
//! cursors (a forged one only names a position, and shows nothing a page would not).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Which listing a cursor belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Events,
    Audit,
    Backfills,
}

impl Kind {
    /// The first byte of the cursor: `E`, `A` and `B`, which make cursors start with `R`
    /// and `Q` (the patterns in `openapi.yaml`).
    fn tag(self) -> u8 {
        match self {
            Self::Events => b'E',
            Self::Audit => b'A',
            Self::Backfills => b'B',
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
        let mut bytes = [0; 9];
        bytes[0] = self.kind.tag();
        bytes[1..].copy_from_slice(&self.seq.to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The position inside `text` when it is a cursor of `kind`.
    pub fn decode(kind: Kind, text: &str) -> Result<i64, CursorError> {
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| CursorError)?;
        let (tag, seq) = bytes.split_first().ok_or(CursorError)?;
        let seq: [u8; 8] = seq.try_into().map_err(|_| CursorError)?;
        if *tag != kind.tag() {
            return Err(CursorError);
        }
        Ok(i64::from_be_bytes(seq))
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
        assert_eq!(Cursor::decode(Kind::Events, "RQ"), Err(CursorError));
        assert_eq!(text.len(), 12);
        assert!(text.starts_with('R'));
        assert!(Cursor::new(Kind::Audit, i64::MAX).encode().starts_with('Q'));
        // Any string of the documented shape is a cursor.
        assert!(Cursor::decode(Kind::Events, "Rf__________").is_ok());
        assert!(Cursor::decode(Kind::Audit, "QQAAAAAAAAAA").is_ok());
    }
}
