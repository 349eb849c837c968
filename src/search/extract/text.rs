//! String normalisation for FHIR string search (R4 search.html §3.1.1.4.5: matching is
//! case- and accent-insensitive): lower case, diacritics removed (`Hélène` -> `helene`,
//! `Ærøskøbing` -> `aeroskobing`), whitespace trimmed and collapsed to single spaces.
//! The same function must normalise the indexed values and the searched ones. Pure; `std`
//! only (a table for the Latin ranges instead of a Unicode normalisation crate).

/// The normalised form of `text` under which a string value is indexed and searched.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        fold(c, &mut out);
    }
    out
}

fn fold(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    let expanded = match c {
        'æ' | 'Æ' | 'ǽ' | 'Ǽ' | 'ǣ' | 'Ǣ' => "ae",
        'œ' | 'Œ' => "oe",
        'ß' | 'ẞ' => "ss",
        'þ' | 'Þ' => "th",
        'ĳ' | 'Ĳ' => "ij",
        _ => "",
    };
    if !expanded.is_empty() {
        out.push_str(expanded);
        return;
    }
    if let Some(base) = base_letter(c) {
        out.push(base);
        return;
    }
    for lower in c.to_lowercase() {
        if !is_combining(lower) {
            out.push(lower);
        }
    }
}

/// The unaccented ASCII letter of a Latin character, from the tables below.
fn base_letter(c: char) -> Option<char> {
    let cp = u32::from(c);
    let (table, start) = match cp {
        0xC0..=0x24F => (LATIN, 0xC0),
        0x1E00..=0x1EFF => (LATIN_ADDITIONAL, 0x1E00),
        _ => return None,
    };
    let index = usize::try_from(cp - start).ok()?;
    match table.as_bytes().get(index) {
        Some(b'.') | None => None,
        Some(b) => Some(char::from(*b)),
    }
}

/// Combining diacritical marks (dropped: they only carry accents).
fn is_combining(c: char) -> bool {
    matches!(
        u32::from(c),
        0x300..=0x36F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F
    )
}

/// U+00C0..=U+024F: the base letter of each character, `.` for none.
const LATIN: &str = concat!(
    "aaaaaa.ceeeeiiiidnooooo.ouuuuy..aaaaaa.ceeeeiiiidnooooo.ouuuuy.y",
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii..jjkk.lllllll",
    "lllnnnnnn.nnoooooo..rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs",
    "bb.....cc.d......ffg...ikkl..nnooo..pp.....ttttuu.vyyzz.........",
    ".............aaiioouuuuuuuuuu.aaaa....ggkkoooo..j...gg..nnaa....",
    "aaaaeeeeiiiioooorrrruuuusstt..hh.d..zzaaeeooooooooyylntj..acclts",
    "z..bu.eejj..rryy",
);
/// U+1E00..=U+1EFF: the base letter of each character, `.` for none.
const LATIN_ADDITIONAL: &str = concat!(
    "aabbbbbbccddddddddddeeeeeeeeeeffgghhhhhhhhhhiiiikkkkkkllllllllmm",
    "mmmmnnnnnnnnoooooooopppprrrrrrrrssssssssssttttttttuuuuuuuuuuvvvv",
    "wwwwwwwwwwxxxxyyzzzzzzhtwy.s....aaaaaaaaaaaaaaaaaaaaaaaaeeeeeeee",
    "eeeeeeeeiiiioooooooooooooooooooooooouuuuuuuuuuuuuuyyyyyyyyll....",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_case_accents_and_extra_spaces() {
        assert_eq!(normalize("Hélène"), "helene");
        assert_eq!(
            normalize("  Jean-François   DUPONT\t"),
            "jean-françois dupont".replace('ç', "c")
        );
        assert_eq!(normalize("Ærøskøbing Straße"), "aeroskobing strasse");
        assert_eq!(normalize("Łódź Nguyễn Ōtsuka"), "lodz nguyen otsuka");
        // Already decomposed: e + combining acute.
        assert_eq!(normalize("He\u{301}le\u{300}ne"), "helene");
        assert_eq!(normalize("ΑΘΉΝΑ"), "αθήνα");
        assert_eq!(normalize(""), "");
        assert_eq!(normalize(" \n "), "");
    }

    #[test]
    fn the_tables_cover_their_ranges() {
        assert_eq!(LATIN.len(), 0x250 - 0xC0);
        assert_eq!(LATIN_ADDITIONAL.len(), 0x100);
        assert_eq!(base_letter('Ç'), Some('c'));
        assert_eq!(base_letter('×'), None);
        assert_eq!(base_letter('ỹ'), Some('y'));
    }
}
