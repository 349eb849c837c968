//! The FHIRPath lexer: expression text -> tokens with their byte offsets (FHIRPath N1
//! §"Lexical elements": identifiers, delimited identifiers, string literals with escapes,
//! numbers, `%variables`, `$this` and the operator symbols). Depends on `std` only.

use super::parse::ParseError;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    /// A backtick-delimited identifier: never a keyword.
    Quoted(String),
    Str(String),
    Int(i64),
    Dec(f64),
    Var(String),
    This,
    Sym(&'static str),
    End,
}

const SYMBOLS: [&str; 22] = [
    "!=", "!~", "<=", ">=", "(", ")", "[", "]", "{", "}", ".", ",", "|", "=", "~", "<", ">", "+",
    "-", "*", "/", "&",
];

pub(super) fn error(position: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        position,
        message: message.into(),
    }
}

pub(super) fn lex(text: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'\'' || c == b'`' {
            let (s, next) = quoted(text, i)?;
            out.push((
                if c == b'`' {
                    Tok::Quoted(s)
                } else {
                    Tok::Str(s)
                },
                start,
            ));
            i = next;
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'%' || c == b'$' {
            i += 1;
            if c == b'%' && bytes.get(i) == Some(&b'`') {
                let (s, next) = quoted(text, i)?;
                out.push((Tok::Var(s), start));
                i = next;
                continue;
            }
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &text[start..i];
            let tok = match c {
                b'%' => Tok::Var(word[1..].to_owned()),
                b'$' if word == "$this" => Tok::This,
                b'$' => return Err(error(start, format!("unsupported variable `{word}`"))),
                _ => Tok::Ident(word.to_owned()),
            };
            out.push((tok, start));
        } else if c.is_ascii_digit() {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let decimal =
                bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(|b| b.is_ascii_digit());
            if decimal {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let word = &text[start..i];
            let tok = match word.parse::<i64>() {
                Ok(n) if !decimal => Some(Tok::Int(n)),
                _ => word.parse::<f64>().ok().map(Tok::Dec),
            };
            out.push((tok.ok_or_else(|| error(start, "invalid number"))?, start));
        } else if let Some(sym) = SYMBOLS.iter().find(|s| text[i..].starts_with(**s)) {
            out.push((Tok::Sym(sym), start));
            i += sym.len();
        } else {
            let ch = text[i..].chars().next().unwrap_or('?');
            return Err(error(start, format!("unexpected character `{ch}`")));
        }
    }
    out.push((Tok::End, text.len()));
    Ok(out)
}

/// A `'...'` or `` `...` `` literal starting at `start`, with FHIRPath escapes.
fn quoted(text: &str, start: usize) -> Result<(String, usize), ParseError> {
    let mut chars = text[start..].char_indices();
    let quote = chars.next().map(|(_, c)| c);
    let mut out = String::new();
    while let Some((offset, c)) = chars.next() {
        if Some(c) == quote {
            return Ok((out, start + offset + 1));
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next().map(|(_, e)| e) {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = (0..4)
                    .filter_map(|_| chars.next().map(|(_, h)| h))
                    .collect();
                let ch = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                out.push(ch.ok_or_else(|| error(start + offset, "invalid unicode escape"))?);
            }
            Some(e) => out.push(e),
            None => break,
        }
    }
    Err(error(start, "unterminated literal"))
}
