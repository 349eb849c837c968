//! The words of a resource for the text searches `_text` (its narrative, `text.div`
//! without markup) and `_content` (every string and number of the resource, the narrative
//! without markup; attachments' base64 `data` and the server's `meta.versionId` and
//! `meta.lastUpdated` left out). Words are the runs of letters and
//! digits of the `normalize`d text (case and accents folded), so `Hélène Dupont-Martin`
//! gives `helene`, `dupont`, `martin`. The index keeps each word once, sorted, between
//! single spaces with a space at both ends (` dupont helene martin `), so that a word is
//! found with `LIKE '% word %'`. Pure.

use serde_json::Value;

use super::text::normalize;

/// The keys whose values are not content: base64 (`Attachment.data`, `Binary.data`), and
/// what the server sets on every version (`meta.versionId`, `meta.lastUpdated`).
const NOT_TEXT: [&str; 3] = ["data", "versionId", "lastUpdated"];

/// The normalised words of `text`, in order, repeats kept.
pub fn words(text: &str) -> Vec<String> {
    normalize(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The indexed form of a set of words: sorted, each once, space-delimited with spaces at
/// both ends; `None` when there is no word.
fn word_list(mut all: Vec<String>) -> Option<String> {
    all.sort();
    all.dedup();
    if all.is_empty() {
        return None;
    }
    Some(format!(" {} ", all.join(" ")))
}

/// The words of the narrative (`text.div`).
pub fn narrative_words(resource: &Value) -> Option<String> {
    let div = resource.get("text")?.get("div")?.as_str()?;
    word_list(words(&strip_markup(div)))
}

/// The words of every text of the resource.
pub fn content_words(resource: &Value) -> Option<String> {
    let mut all = Vec::new();
    collect(resource, None, &mut all);
    word_list(all)
}

fn collect(value: &Value, key: Option<&str>, out: &mut Vec<String>) {
    match value {
        Value::String(text) if key == Some("div") => out.extend(words(&strip_markup(text))),
        Value::String(text) => out.extend(words(text)),
        Value::Number(number) => out.extend(words(&number.to_string())),
        Value::Array(items) => items.iter().for_each(|item| collect(item, key, out)),
        Value::Object(fields) => {
            for (name, field) in fields {
                if !NOT_TEXT.contains(&name.as_str()) {
                    collect(field, Some(name), out);
                }
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
}

/// The text of XHTML: tags removed (each a word break), the common entities decoded.
fn strip_markup(xhtml: &str) -> String {
    let mut out = String::with_capacity(xhtml.len());
    let mut rest = xhtml;
    while let Some(start) = rest.find(['<', '&']) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        if tail.starts_with('<') {
            out.push(' ');
            rest = tail.find('>').map_or("", |end| &tail[end + 1..]);
        } else {
            let (decoded, used) = entity(tail);
            out.push_str(&decoded);
            rest = &tail[used..];
        }
    }
    out.push_str(rest);
    out
}

/// The character of the entity at the start of `text` (which starts with `&`) and how many
/// bytes it used; an unknown entity is a word break.
fn entity(text: &str) -> (String, usize) {
    let Some(end) = text.find(';').filter(|end| *end <= 10) else {
        return (" ".to_owned(), 1);
    };
    let name = &text[1..end];
    let decoded = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => name
            .strip_prefix("#x")
            .or_else(|| name.strip_prefix("#X"))
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .or_else(|| name.strip_prefix('#').and_then(|dec| dec.parse().ok()))
            .and_then(char::from_u32),
    };
    (
        decoded.map_or_else(|| " ".to_owned(), String::from),
        end + 1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn narrative_words_drop_markup_and_fold_case_and_accents() {
        let resource = json!({"text": {"status": "generated",
            "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>H&#233;l&egrave;ne <b>Dupont</b>-Martin &amp; Hélène</p></div>"}});
        assert_eq!(
            narrative_words(&resource).as_deref(),
            Some(" dupont hel helene martin ne ")
        );
    }

    #[test]
    fn content_words_cover_every_text_but_base64() {
        let resource = json!({"resourceType": "DocumentReference", "status": "current",
            "meta": {"versionId": "3", "lastUpdated": "2026-01-01T00:00:00Z"},
            "content": [{"attachment": {"data": "SGVsbG8=", "title": "Compte rendu"}}],
            "size": 12});
        assert_eq!(
            content_words(&resource).as_deref(),
            Some(" 12 compte current documentreference rendu ")
        );
        assert_eq!(content_words(&json!({"active": true})), None);
    }
}
