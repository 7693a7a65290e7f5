//! Finds lines and dotted keys in the mapping file's text, so every validation message can
//! say where the problem is. Works on the text only: headers `[a.b]` / `[[a.b]]` and `key =` lines.

/// A mapping file's name and text.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

/// One section header: its dotted name, array index (for `[[…]]`), and 0-based line.
#[derive(Debug, Clone)]
struct Header {
    name: String,
    index: Option<usize>,
    line: usize,
}

impl<'a> Source<'a> {
    pub fn new(file: &'a str, text: &'a str) -> Self {
        Self { file, text }
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn headers(&self) -> Vec<Header> {
        let mut counts = std::collections::BTreeMap::<String, usize>::new();
        let mut out = Vec::new();
        for (line, raw) in self.text.lines().enumerate() {
            let t = raw.trim();
            if let Some(name) = t.strip_prefix("[[").and_then(|r| r.split("]]").next()) {
                let name = name.trim().to_owned();
                let n = counts.entry(name.clone()).or_insert(0);
                out.push(Header {
                    name,
                    index: Some(*n),
                    line,
                });
                *n += 1;
            } else if let Some(name) = t.strip_prefix('[').and_then(|r| r.split(']').next()) {
                out.push(Header {
                    name: name.trim().to_owned(),
                    index: None,
                    line,
                });
            }
        }
        out
    }

    /// The dotted key (`fields[2].type`) of the item at a byte offset.
    pub fn key_at(&self, offset: usize) -> String {
        self.key_at_line(self.line_of(offset))
    }

    /// The dotted key of the item on a 1-based line.
    pub fn key_at_line(&self, line: usize) -> String {
        let line = line.saturating_sub(1);
        let header = self.headers().into_iter().rev().find(|h| h.line <= line);
        let own_key = self
            .text
            .lines()
            .nth(line)
            .and_then(|l| l.split_once('='))
            .map(|(k, _)| k.trim().trim_matches('"').to_owned())
            .filter(|k| !k.starts_with('['));
        let section = header.map(|h| match h.index {
            Some(i) => format!("{}[{i}]", h.name),
            None => h.name,
        });
        match (section, own_key) {
            (Some(s), Some(k)) => format!("{s}.{k}"),
            (Some(s), None) => s,
            (None, Some(k)) => k,
            (None, None) => "(file)".to_owned(),
        }
    }

    /// 1-based line of `key` inside section `section` (element `index` of an array of tables);
    /// the section's header line when the key is not written on a line of its own.
    pub fn locate(&self, section: &str, index: Option<usize>, key: Option<&str>) -> usize {
        let headers = self.headers();
        let pos = headers
            .iter()
            .position(|h| h.name == section && h.index == index);
        let start = pos.map_or(0, |p| headers[p].line);
        let end = match pos {
            Some(p) => headers.get(p + 1).map_or(usize::MAX, |h| h.line),
            None => headers.first().map_or(usize::MAX, |h| h.line),
        };
        let found = key.and_then(|k| {
            self.text
                .lines()
                .enumerate()
                .skip(start)
                .take(end.saturating_sub(start))
                .find(|(_, l)| l.split_once('=').is_some_and(|(lk, _)| lk.trim() == k))
                .map(|(n, _)| n)
        });
        found.unwrap_or(start) + 1
    }

    /// The section header (name, array index) that a 1-based line belongs to.
    pub fn section_of_line(&self, line: usize) -> Option<(String, Option<usize>)> {
        let line = line.saturating_sub(1);
        let header = self.headers().into_iter().rev().find(|h| h.line <= line)?;
        Some((header.name, header.index))
    }

    /// The text with the section holding `offset` blanked out (lines kept, so later line
    /// numbers stay right); the line alone when it is outside any section.
    pub fn blank_region(&self, offset: usize) -> String {
        let line = self.line_of(offset) - 1;
        let headers = self.headers();
        let (start, end) = match headers.iter().rposition(|h| h.line <= line) {
            Some(p) => (
                headers[p].line,
                headers.get(p + 1).map_or(usize::MAX, |h| h.line),
            ),
            None => (line, line + 1),
        };
        let mut out = String::with_capacity(self.text.len());
        for (n, l) in self.text.lines().enumerate() {
            if n < start || n >= end {
                out.push_str(l);
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "version = 1\n[settings]\na = 1\n[[fields]]\nghl = \"x\"\n[[fields]]\nghl = \"y\"\ntype = 5\n";

    #[test]
    fn keys_are_named_with_their_section_and_array_index() {
        let s = Source::new("m.toml", TEXT);
        let off = TEXT.find("type").unwrap();
        assert_eq!(s.line_of(off), 8);
        assert_eq!(s.key_at(off), "fields[1].type");
        assert_eq!(s.key_at(0), "version");
    }

    #[test]
    fn keys_are_located_inside_their_element() {
        let s = Source::new("m.toml", TEXT);
        assert_eq!(s.locate("fields", Some(1), Some("ghl")), 7);
        assert_eq!(s.locate("fields", Some(0), Some("type")), 4);
        assert_eq!(s.locate("", None, Some("version")), 1);
    }

    #[test]
    fn blanking_keeps_line_numbers() {
        let s = Source::new("m.toml", TEXT);
        let blanked = s.blank_region(TEXT.find("type").unwrap());
        assert_eq!(blanked.lines().count(), TEXT.lines().count());
        assert!(!blanked.contains("type"));
        assert!(blanked.contains("ghl = \"x\""));
    }
}
