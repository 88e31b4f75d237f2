//! Tidy checks of keyward-web's layout, read from its source:
//!
//! - The JSON API (`src/api`) and the pages (`src/pages`) never import each
//!   other, and `src/shared` imports neither: what both faces need lives in
//!   `shared` or another neutral module (`extract`, `signed_in`, `error`, …).
//! - No async function in `src/api` or `src/pages` (handlers and their
//!   helpers; tests aside) is longer than [`MAX_ASYNC_FN_LINES`] lines, from
//!   its `fn` line to its closing brace: a handler extracts, calls the core's
//!   use case and renders, and anything longer is split into named helpers.
//!
//! The scan is by lines and relies on rustfmt's layout, which CI enforces
//! (`cargo fmt --check`): a function's closing brace is the first later line
//! holding only `}` at the indentation of its `fn` line.

use std::path::{Path, PathBuf};

/// The longest an async function of `api` or `pages` may be, in lines.
const MAX_ASYNC_FN_LINES: usize = 30;

/// The two faces, and the modules that must stay out of each.
const FORBIDDEN: &[(&str, &[&str])] = &[
    ("api", &["pages"]),
    ("pages", &["api"]),
    ("shared", &["api", "pages"]),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// A file as the crate names it: `src/api/users.rs`.
fn shown(file: &Path) -> String {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    file.strip_prefix(crate_dir)
        .unwrap_or(file)
        .display()
        .to_string()
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read a source folder") {
            let path = entry.expect("read a folder entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The module path of a file under `src`: `src/api/mod.rs` is `["api"]`,
/// `src/api/users.rs` is `["api", "users"]`.
fn module_path(file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src()).expect("a file under src");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|last| last == "mod" || last == "lib")
    {
        parts.pop();
    }
    parts
}

/// The paths by which code at `depth` modules below the crate root names
/// the root: `crate`, and `super`, `super::super`, … up to it.
fn root_prefixes(depth: usize) -> Vec<String> {
    let mut prefixes = vec!["crate".to_owned()];
    if depth > 0 {
        prefixes.push(vec!["super"; depth].join("::"));
    }
    prefixes
}

/// The code of a file without its comment lines (doc comments included),
/// so that prose may mention any module.
fn code_of(text: &str) -> String {
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `code` names the top-level module `module` through one of the
/// root `prefixes`: `crate::pages::…`, `super::super::pages`, or a group
/// such as `use crate::{api, pages};`.
fn names_root_module(code: &str, prefixes: &[String], module: &str) -> bool {
    let code = squeeze(code);
    prefixes.iter().any(|prefix| {
        let direct = format!("{prefix}::{module}");
        let names_directly = code.match_indices(&direct).any(|(at, _)| {
            let before = code[..at].chars().next_back();
            let after = code[at + direct.len()..].chars().next();
            !before.is_some_and(|c| is_ident_char(c) || c == ':')
                && !after.is_some_and(is_ident_char)
        });
        let group = format!("{prefix}::{{");
        let names_in_group = code.match_indices(&group).any(|(at, _)| {
            let before = code[..at].chars().next_back();
            !before.is_some_and(|c| is_ident_char(c) || c == ':')
                && group_items(&code[at + group.len()..])
                    .iter()
                    .any(|item| first_segment(item) == module)
        });
        names_directly || names_in_group
    })
}

/// `code` with runs of whitespace made one space, and none left next to
/// `:`, `{`, `}` or `,`, so that paths and groups read the same however
/// they are broken across lines.
fn squeeze(code: &str) -> String {
    let words: Vec<&str> = code.split_whitespace().collect();
    let mut out = String::new();
    for word in words {
        let joins = |c: Option<char>| c.is_some_and(|c| ":{},".contains(c));
        if !out.is_empty() && !joins(out.chars().next_back()) && !joins(word.chars().next()) {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The top-level items of a `{…}` group whose opening brace is just before
/// `rest`.
fn group_items(rest: &str) -> Vec<String> {
    let mut items = vec![String::new()];
    let mut depth = 0usize;
    for c in rest.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(item) = items.last_mut() {
            item.push(c);
        }
    }
    items
}

fn first_segment(item: &str) -> &str {
    item.split(|c: char| !is_ident_char(c))
        .next()
        .unwrap_or_default()
}

#[test]
fn api_and_pages_do_not_import_each_other() {
    let mut offences = Vec::new();
    for (face, forbidden) in FORBIDDEN {
        for file in rust_files(&src().join(face)) {
            let text = std::fs::read_to_string(&file).expect("read a source file");
            let code = code_of(&text);
            let prefixes = root_prefixes(module_path(&file).len());
            for module in *forbidden {
                if names_root_module(&code, &prefixes, module) {
                    offences.push(format!("{} uses crate::{module}", shown(&file)));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "move what both faces need into a neutral module (src/shared/…):\n{}",
        offences.join("\n")
    );
}

/// An async function found in a file: its name, first line (1-based) and
/// length in lines.
#[derive(Debug, PartialEq)]
struct AsyncFn {
    name: String,
    line: usize,
    lines: usize,
}

/// The name of the async function a line starts, if it starts one.
fn async_fn_name(line: &str) -> Option<&str> {
    let mut rest = line.trim_start();
    if let Some(after) = rest.strip_prefix("pub") {
        rest = after.trim_start();
        if rest.starts_with('(') {
            rest = rest[rest.find(')')? + 1..].trim_start();
        }
    }
    let rest = rest.strip_prefix("async fn ")?;
    let end = rest.find(|c: char| !is_ident_char(c))?;
    Some(&rest[..end])
}

fn indentation(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// Every async function of a rustfmt-formatted file, outside test modules.
fn async_fns(text: &str) -> Vec<AsyncFn> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let closing = format!("{}}}", indentation(line));
        let test_module =
            line.trim_start().starts_with("mod ") && i > 0 && lines[i - 1].trim() == "#[cfg(test)]";
        if test_module {
            // Skip to the test module's closing brace.
            i = (i + 1..lines.len())
                .find(|&j| lines[j] == closing)
                .unwrap_or(lines.len());
        } else if let Some(name) = async_fn_name(line) {
            let end = if line.trim_end().ends_with('}') {
                i
            } else {
                (i + 1..lines.len()).find(|&j| lines[j] == closing).expect(
                    "a function's closing brace at its indentation (is the file formatted?)",
                )
            };
            found.push(AsyncFn {
                name: name.to_owned(),
                line: i + 1,
                lines: end - i + 1,
            });
            i = end;
        }
        i += 1;
    }
    found
}

#[test]
fn no_handler_is_longer_than_the_limit() {
    let mut offences = Vec::new();
    for face in ["api", "pages"] {
        for file in rust_files(&src().join(face)) {
            let text = std::fs::read_to_string(&file).expect("read a source file");
            for function in async_fns(&text) {
                if function.lines > MAX_ASYNC_FN_LINES {
                    offences.push(format!(
                        "{}:{} `{}` is {} lines",
                        shown(&file),
                        function.line,
                        function.name,
                        function.lines
                    ));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "split these into parse, call and render helpers (at most {MAX_ASYNC_FN_LINES} lines each):\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_scan_finds_imports_in_every_form() {
    let root = root_prefixes(2);
    for code in [
        "use crate::pages::query_param;",
        "let x = crate::pages::query_param(q, \"k\");",
        "use crate::{error::AppError, pages::Nav};",
        "use crate::{\n    error::AppError,\n    pages,\n};",
        "use super::super::pages::Nav;",
    ] {
        assert!(names_root_module(&code_of(code), &root, "pages"), "{code}");
    }
    for code in [
        "use crate::shared::pages_of;",
        "use crate::pageset::X;",
        "use crate::shared::{pages, query};",
        "// see crate::pages",
        "use super::pages::Nav;",
    ] {
        assert!(!names_root_module(&code_of(code), &root, "pages"), "{code}");
    }
    assert_eq!(root_prefixes(1), ["crate", "super"]);
    assert!(names_root_module(
        "use super::{Nav, pages};",
        &root_prefixes(1),
        "pages"
    ));
}

#[test]
fn the_scan_measures_async_functions_and_skips_tests() {
    let text = "\
pub async fn short(x: u8) -> u8 {
    x
}

pub(crate) async fn longer(
    a: u8,
) -> u8 {
    let b = a;
    b
}

async fn empty() {}

fn not_async() {
    let _ = 1;
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_test() {
        let _ = 1;
    }
}
";
    let found = async_fns(text);
    let summary: Vec<(&str, usize, usize)> = found
        .iter()
        .map(|f| (f.name.as_str(), f.line, f.lines))
        .collect();
    assert_eq!(
        summary,
        [("short", 1, 3), ("longer", 5, 6), ("empty", 12, 1)]
    );
}
