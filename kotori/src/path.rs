//! Paths: joining prefixes like Flask, reading parameter names, checking node prefixes.

/// Flask's join: `prefix.trim_end('/') + '/' + rule.trim_start('/')`; an empty rule leaves the
/// prefix as it is.
pub(crate) fn join(prefix: &str, rule: &str) -> String {
    if rule.is_empty() {
        return prefix.to_owned();
    }
    format!(
        "{}/{}",
        prefix.trim_end_matches('/'),
        rule.trim_start_matches('/')
    )
}

/// The names of the parameters of a matchit pattern, in order (`{{` and `}}` are escapes).
pub(crate) fn param_names(pattern: &str) -> Vec<Box<str>> {
    let mut names = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        if rest[open + 1..].starts_with('{') {
            rest = &rest[open + 2..];
            continue;
        }
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        names.push(name.trim_start_matches('*').into());
        rest = &rest[open + close + 1..];
    }
    names
}

/// Why a node prefix is invalid, if it is.
pub(crate) fn check_prefix(prefix: &str) -> Option<String> {
    if prefix.contains(['?', '#']) || prefix.chars().any(char::is_whitespace) {
        return Some("a prefix is a path: no `?`, `#` or white space".into());
    }
    if prefix.contains("{*") {
        return Some(
            "a catch-all parameter belongs at the end of a route, not in a node prefix".into(),
        );
    }
    None
}

/// The root's empty path is `/`.
pub(crate) fn normalize(path: String) -> String {
    if path.is_empty() {
        "/".to_owned()
    } else {
        path
    }
}
