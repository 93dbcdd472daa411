//! JSON documents: xling's `{"id","text","title"?,"url"?,"lang"?}` objects
//! and BEIR `corpus.jsonl` lines `{"_id","title","text"}`, one per line or
//! in one array.

use std::io::BufRead;
use std::path::Path;

use serde_json::{Map, Value};

use super::InputError;
use crate::Document;

type Result<T> = std::result::Result<T, InputError>;

/// One JSON object per line; blank lines are skipped. `path` names the
/// source in errors and in each document's "file:line".
pub fn read_json_lines(path: &Path, mut reader: impl BufRead) -> Result<Vec<(Document, String)>> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut line_no = 0usize;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| InputError::io(format!("cannot read {}", path.display()), e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let here = || format!("{}:{line_no}", path.display());
        let mut line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        line = line.strip_suffix(b"\r").unwrap_or(line);
        if line_no == 1 {
            line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
        }
        let line = std::str::from_utf8(line).map_err(|e| {
            InputError::Invalid(format!(
                "{}: not valid UTF-8 (at byte {} of the line)",
                here(),
                e.valid_up_to()
            ))
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line).map_err(|e| {
            InputError::Invalid(format!(
                "{}:{}: invalid JSON: {}",
                here(),
                e.column(),
                json_error_message(&e)
            ))
        })?;
        let doc = document_from_json(&value)
            .map_err(|msg| InputError::Invalid(format!("{}: {msg}", here())))?;
        out.push((doc, here()));
    }
    Ok(out)
}

/// A `.json` file holding one array of document objects.
pub fn read_json_array(path: &Path, bytes: &[u8]) -> Result<Vec<(Document, String)>> {
    let values: Vec<Value> = serde_json::from_slice(bytes).map_err(|e| {
        InputError::Invalid(format!(
            "{}:{}:{}: invalid JSON: {}",
            path.display(),
            e.line(),
            e.column(),
            json_error_message(&e)
        ))
    })?;
    let mut out = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let here = format!("{} (array element {})", path.display(), i + 1);
        let doc = document_from_json(value)
            .map_err(|msg| InputError::Invalid(format!("{here}: {msg}")))?;
        out.push((doc, here));
    }
    Ok(out)
}

/// serde_json's message without its " at line L column C" (we give our own position).
fn json_error_message(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    }
}

/// One object in xling's format or BEIR's (`_id` present); the error is the
/// message without a position (the caller adds where).
pub fn document_from_json(value: &Value) -> std::result::Result<Document, String> {
    let obj = value
        .as_object()
        .ok_or_else(|| format!("expected a JSON object, found {}", json_type(value)))?;
    if obj.contains_key("_id") {
        return Ok(Document {
            id: required_str(obj, "_id")?,
            text: required_str(obj, "text")?,
            title: optional_str(obj, "title")?,
            url: None,
            lang: None,
        });
    }
    Ok(Document {
        id: required_str(obj, "id")?,
        text: required_str(obj, "text")?,
        title: optional_str(obj, "title")?,
        url: optional_str(obj, "url")?,
        lang: optional_str(obj, "lang")?,
    })
}

fn required_str(obj: &Map<String, Value>, key: &str) -> std::result::Result<String, String> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!(
            "\"{key}\" must be a string, found {}",
            json_type(other)
        )),
        None => Err(format!("missing \"{key}\"")),
    }
}

/// A string field that may be absent or null; empty or blank counts as absent
/// (BEIR writes `"title": ""` for untitled documents).
fn optional_str(
    obj: &Map<String, Value>,
    key: &str,
) -> std::result::Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!(
            "\"{key}\" must be a string or null, found {}",
            json_type(other)
        )),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use crate::documents::read_inputs;
    use crate::documents::test_dir::{error_of, TempDir};
    use crate::documents::InputError;
    use crate::Document;

    #[test]
    fn jsonl_reads_both_flavours() -> Result<(), InputError> {
        let t = TempDir::new();
        let path = t.write(
            "corpus.jsonl",
            concat!(
                "{\"id\":\"a\",\"text\":\"alpha\",\"title\":\"A\",\"url\":\"https://a.example\",\"lang\":\"en\"}\n",
                "\n",
                "  \r\n",
                "{\"_id\":\"b\",\"title\":\"\",\"text\":\"beta\",\"metadata\":{}}\r\n",
                "{\"_id\":\"c\",\"title\":\"Gamma\",\"text\":\"gamma\"}\n",
                "{\"id\":\"d\",\"text\":\"delta\",\"title\":null,\"extra\":1}",
            ),
        );
        let docs = read_inputs(&[path])?;
        assert_eq!(docs.len(), 4);
        assert_eq!(
            docs[0],
            Document {
                id: "a".into(),
                text: "alpha".into(),
                title: Some("A".into()),
                url: Some("https://a.example".into()),
                lang: Some("en".into()),
            }
        );
        assert_eq!((docs[1].id.as_str(), docs[1].title.as_deref()), ("b", None));
        assert_eq!(docs[2].title.as_deref(), Some("Gamma"));
        assert_eq!((docs[3].id.as_str(), docs[3].title.as_deref()), ("d", None));
        Ok(())
    }

    #[test]
    fn json_array_files_are_read() -> Result<(), InputError> {
        let t = TempDir::new();
        let path = t.write(
            "docs.json",
            "[\n {\"id\": \"1\", \"text\": \"one\"},\n {\"_id\": \"2\", \"text\": \"two\"}\n]\n",
        );
        let docs = read_inputs(&[path])?;
        assert_eq!(docs.len(), 2);
        let bad = t.write("bad.json", "[{\"id\": \"1\", \"text\": 5}]");
        let msg = error_of(&[bad]);
        assert!(msg.contains("array element 1") && msg.contains("\"text\" must be a string"));
        Ok(())
    }

    #[test]
    fn jsonl_errors_name_file_and_line() {
        let t = TempDir::new();
        let cases: &[(&[u8], &str)] = &[
            (
                b"{\"id\":\"a\",\"text\":\"x\"}\n\n{\"id\": \"b\", \"text\": }",
                ":3:",
            ),
            (b"{\"id\":\"a\"}", ":1: missing \"text\""),
            (b"\n{\"_id\":\"a\",\"title\":\"t\"}", ":2: missing \"text\""),
            (
                b"{\"id\":7,\"text\":\"x\"}",
                ":1: \"id\" must be a string, found a number",
            ),
            (
                b"{\"id\":\"a\",\"text\":\"x\",\"url\":[]}",
                "\"url\" must be a string or null",
            ),
            (b"[1]", ":1: expected a JSON object, found an array"),
            (
                b"{\"id\":\"a\",\"text\":\"x\"}\n{\"id\":\"b\",\"text\":\"\xff\"}",
                ":2: not valid UTF-8",
            ),
            (b"{\"id\":\"  \",\"text\":\"x\"}", ":1: document id"),
        ];
        for (i, (contents, expected)) in cases.iter().enumerate() {
            let path = t.write(&format!("case{i}.jsonl"), contents);
            let msg = error_of(&[path]);
            assert!(
                msg.contains(&format!("case{i}.jsonl")) && msg.contains(expected),
                "case {i}: {msg}"
            );
        }
        let empty = t.write("empty.jsonl", "\n\n");
        assert!(error_of(&[empty]).contains("no documents found"));
    }
}
