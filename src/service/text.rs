//! Checks for free text that users type: names, descriptions, emails.

use crate::error::{AppError, AppResult};

/// Characters that change how text is displayed rather than what it says: bidirectional marks,
/// overrides and isolates, which can make a name read as something else in a list, and
/// characters that show nothing at all, which make `SKU\u{200B}1` look exactly like `SKU1`.
/// (The zero-width joiner and non-joiner stay: scripts such as Persian and emoji need them.)
fn is_display_trick(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{061C}'
            | '\u{200B}'
            | '\u{2060}'..='\u{2064}'
            | '\u{FEFF}'
            | '\u{00AD}'
            | '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180E}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{3164}'
            | '\u{FFA0}'
    )
}

/// A trimmed single line of 1..=`max_chars` characters, without control characters (NUL
/// included) or bidirectional overrides.
pub fn single_line(field: &'static str, value: &str, max_chars: usize) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max_chars {
        return Err(AppError::bad_input(
            field,
            format!("{field} must be 1 to {max_chars} characters"),
        ));
    }
    if value.chars().any(|c| c.is_control() || is_display_trick(c)) {
        return Err(AppError::bad_input(
            field,
            format!("{field} must not contain control, invisible or text-direction characters"),
        ));
    }
    Ok(value.to_owned())
}

/// Like [`single_line`] but may be empty and may hold line breaks.
pub fn multi_line(field: &'static str, value: &str, max_chars: usize) -> AppResult<String> {
    let value = value.trim();
    if value.chars().count() > max_chars {
        return Err(AppError::bad_input(
            field,
            format!("{field} must be at most {max_chars} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| (c.is_control() && c != '\n' && c != '\t') || is_display_trick(c))
    {
        return Err(AppError::bad_input(
            field,
            format!("{field} must not contain control, invisible or text-direction characters"),
        ));
    }
    Ok(value.to_owned())
}

/// A lower-cased email address of a plausible shape.
pub fn email(field: &'static str, value: &str) -> AppResult<String> {
    let email = single_line(field, value, 254)?.to_lowercase();
    let plausible = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.contains('@')
    }) && !email.chars().any(char::is_whitespace);
    if !plausible {
        return Err(AppError::bad_input(field, "not a valid email address"));
    }
    Ok(email)
}

/// The longest organisation slug (a DNS label's limit, so a slug can become a host name).
pub const MAX_SLUG_CHARS: usize = 63;

/// An organisation's slug: 3 to 63 of `a-z`, `0-9` and `-`, starting and ending with a letter or
/// digit, so it is safe in a URL and a host name as it stands.
pub fn slug(field: &'static str, value: &str) -> AppResult<String> {
    let slug = value.trim().to_lowercase();
    let well_formed = (3..=MAX_SLUG_CHARS).contains(&slug.len())
        && slug
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if well_formed {
        Ok(slug)
    } else {
        Err(AppError::bad_input(
            field,
            format!(
                "a slug is 3 to {MAX_SLUG_CHARS} of a-z, 0-9 and '-', starting and ending with a letter or digit"
            ),
        ))
    }
}

/// A slug made from a name: ASCII letters and digits kept (lower-cased), every other run of
/// characters one '-'. May be too short to be a slug; the caller decides what then.
pub fn slug_from_name(name: &str) -> String {
    let mut slug = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.truncate(MAX_SLUG_CHARS);
    slug.trim_end_matches('-').to_owned()
}

/// The longest search text a list filter takes.
pub const MAX_SEARCH_CHARS: usize = 200;

/// A case-insensitive "contains" pattern for LIKE, or `None` when there is nothing to search
/// for. The user's `%`, `_` and `\` are escaped, so `WID_01` finds exactly that (underscores are
/// common in SKUs).
pub fn search_pattern(search: Option<&str>) -> AppResult<Option<sea_orm::sea_query::LikeExpr>> {
    let Some(search) = search.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    // Long patterns are refused before SQLite's LIKE refuses them ("pattern too complex").
    if search.chars().count() > MAX_SEARCH_CHARS {
        return Err(AppError::bad_input(
            "filter.search",
            format!("a search is at most {MAX_SEARCH_CHARS} characters"),
        ));
    }
    // No stored text holds a control character; PostgreSQL cannot even compare a NUL, so refuse
    // them here and both engines answer alike.
    if search.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            "filter.search",
            "a search must not contain control characters",
        ));
    }
    let mut pattern = String::from("%");
    for c in search.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    Ok(Some(
        sea_orm::sea_query::LikeExpr::new(pattern).escape('\\'),
    ))
}

/// `lower(column)`, for comparing with [`search_pattern`]: LIKE is case-sensitive on PostgreSQL
/// and not on SQLite, lower-casing both sides makes them agree. (SQLite's `lower` folds ASCII
/// only, so there a search for "élan" does not find "ÉLAN"; PostgreSQL folds all of Unicode.)
pub fn lower<C: sea_orm::sea_query::IntoColumnRef>(column: C) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Expr, Func};
    Expr::expr(Func::lower(Expr::col(column)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_control_and_direction_characters() {
        assert!(single_line("name", "Acme\u{0}", 50).is_err());
        assert!(single_line("name", "Acme\u{202E}emcA", 50).is_err());
        // Invisible characters make look-alikes: SKU\u{200B}1 shows as SKU1.
        for invisible in ['\u{200B}', '\u{2060}', '\u{FEFF}', '\u{00AD}', '\u{200F}'] {
            assert!(single_line("sku", &format!("SKU{invisible}1"), 50).is_err());
            assert!(multi_line("note", &format!("a{invisible}b"), 50).is_err());
        }
        // Joiners stay: Persian words and emoji sequences need them.
        assert!(single_line("name", "می\u{200C}خواهم", 50).is_ok());
        assert!(single_line("name", "👩\u{200D}🔧 Fitters", 50).is_ok());
        assert!(single_line("name", "  Acme Storage  ", 50).is_ok_and(|v| v == "Acme Storage"));
        assert!(single_line("name", "   ", 50).is_err());
        assert!(multi_line("description", "line one\nline two", 50).is_ok());
        assert!(multi_line("description", "", 50).is_ok());
        assert!(search_pattern(Some("a\u{0}b")).is_err());
        assert!(email("email", "Ops@Acme.Example").is_ok_and(|v| v == "ops@acme.example"));
        assert!(email("email", "ops@@acme.example").is_err());
        assert!(email("email", "ops@acme").is_err());
    }
}
