//! The text of pages and emails is in one place per language
//! (`locales/<language>/*.ftl`), and this test keeps it whole:
//!
//! - every message id a template says (`t("…")`) or Rust code names
//!   (`i18n::text("…")`, `Message::new("…")`, and the ids handlers hand to
//!   templates, such as `"signin-notice-activated"`) is in English;
//! - every other language translates whole files: each of its files has
//!   exactly the messages of the English file of the same name, with the
//!   same arguments — so no language has a message English lacks;
//! - except `errors.ftl`, where a language translates the core's error
//!   messages by code (`error-<code>`, see `keyward_web::pages::words`):
//!   each must name a code of the one list;
//! - every language loads (no syntax error, no message twice).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use keyward_core::error::Code;
use keyward_core::i18n::{self, Locale};
use regex::Regex;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn locales() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("locales")
}

fn files_under(dir: &Path, extensions: &[&str], out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files_under(&path, extensions, out);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| extensions.contains(&e))
        {
            out.push(path);
        }
    }
}

/// A language's files: file name → (message id → its `$arguments`).
fn language(code: &str) -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let id = Regex::new(r"^([a-zA-Z][a-zA-Z0-9_-]*)\s*=").unwrap();
    let arg = Regex::new(r"\{\s*\$([a-zA-Z0-9_-]+)").unwrap();
    let mut files = Vec::new();
    files_under(&locales().join(code), &["ftl"], &mut files);
    let mut out = BTreeMap::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let mut messages: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut current: Option<String> = None;
        for line in fs::read_to_string(&file).unwrap().lines() {
            if let Some(m) = id.captures(line) {
                let key = m[1].to_owned();
                assert!(
                    messages.insert(key.clone(), BTreeSet::new()).is_none(),
                    "{code}/{name}: {key} twice"
                );
                current = Some(key);
            } else if !line.starts_with(' ') && !line.trim().is_empty() {
                current = None;
            }
            if let Some(key) = &current {
                let args = messages.get_mut(key).unwrap();
                args.extend(arg.captures_iter(line).map(|c| c[1].to_owned()));
            }
        }
        out.insert(name, messages);
    }
    out
}

fn english_ids() -> BTreeSet<String> {
    language("en")
        .into_values()
        .flat_map(|messages| messages.into_keys())
        .collect()
}

/// Every message id the templates and the code name, with where.
fn ids_in_use() -> Vec<(String, String)> {
    let root = workspace().join("crates");
    let mut used = Vec::new();
    // Templates: {{ t("id") }} (also inside expressions and macro calls).
    let in_template = Regex::new(r#"\bt\("([^"]+)"\)"#).unwrap();
    let mut templates = Vec::new();
    files_under(
        &root.join("keyward-web/templates"),
        &["html"],
        &mut templates,
    );
    files_under(
        &root.join("keyward-core/templates"),
        &["html", "txt"],
        &mut templates,
    );
    for file in templates {
        let text = fs::read_to_string(&file).unwrap();
        for m in in_template.captures_iter(&text) {
            used.push((m[1].to_owned(), file.display().to_string()));
        }
    }
    // Rust: any string literal shaped like an id whose first word is one
    // the English files use ("signin-…", "menu-…"), so an id handed to a
    // template through a field is checked too.
    let english = english_ids();
    let prefixes: BTreeSet<&str> = english
        .iter()
        .filter_map(|id| id.split('-').next())
        .collect();
    let literal = Regex::new(r#""([a-z]+(?:-[a-z0-9]+)+)""#).unwrap();
    // Literals of that shape that are not message ids.
    let not_ids = [
        "form-errors",
        "password-rules",
        "password-reset",
        "test-support",
        "sso-nonce",
        "sso-pkce-verifier",
    ];
    let mut sources = Vec::new();
    files_under(&root.join("keyward-web/src"), &["rs"], &mut sources);
    files_under(&root.join("keyward-core/src"), &["rs"], &mut sources);
    for file in sources {
        let path = file.display().to_string();
        if path.ends_with("tests.rs") || path.contains("/tests/") || path.ends_with("testing.rs") {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap();
        // Comments may show ids as examples.
        let code: String = (text.lines())
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for m in literal.captures_iter(&code) {
            let id = &m[1];
            let prefix = id.split('-').next().unwrap_or("");
            if prefixes.contains(prefix) && !not_ids.contains(&id) {
                used.push((id.to_owned(), path.clone()));
            }
        }
    }
    used
}

#[test]
fn every_message_id_in_use_is_in_english() {
    let english = english_ids();
    let used = ids_in_use();
    assert!(used.len() > 100, "the scan found only {} ids", used.len());
    let missing: Vec<String> = used
        .iter()
        .filter(|(id, _)| !english.contains(id))
        .map(|(id, file)| format!("{id} (in {file})"))
        .collect();
    assert!(
        missing.is_empty(),
        "ids missing from locales/en:\n{}",
        missing.join("\n")
    );
}

#[test]
fn other_languages_translate_whole_english_files_with_the_same_arguments() {
    let english = language("en");
    for locale in Locale::ALL.into_iter().filter(|l| *l != Locale::En) {
        let code = locale.code();
        let files = language(code);
        assert!(!files.is_empty(), "locales/{code} has no file");
        for (name, messages) in files {
            if name == "errors.ftl" {
                continue;
            }
            let en = english
                .get(&name)
                .unwrap_or_else(|| panic!("locales/{code}/{name} has no English file"));
            let (ours, theirs): (BTreeSet<_>, BTreeSet<_>) =
                (messages.keys().collect(), en.keys().collect());
            assert_eq!(
                ours, theirs,
                "locales/{code}/{name} must have exactly the messages of locales/en/{name}"
            );
            for (id, args) in &messages {
                assert_eq!(
                    args, &en[id],
                    "{code}/{name}: {id} takes other arguments than in English"
                );
            }
        }
    }
}

#[test]
fn translated_errors_name_codes_of_the_one_list() {
    for locale in Locale::ALL {
        let files = language(locale.code());
        assert!(
            locale != Locale::En || !files.contains_key("errors.ftl"),
            "English errors are the core's own words: no locales/en/errors.ftl"
        );
        let Some(errors) = files.get("errors.ftl") else {
            continue;
        };
        for id in errors.keys() {
            let code = id.strip_prefix("error-").unwrap_or_else(|| {
                panic!("{}/errors.ftl: {id} is not error-<code>", locale.code())
            });
            assert!(
                Code::ALL.iter().any(|c| c.as_str() == code),
                "{}/errors.ftl: {code} is not an error code",
                locale.code()
            );
        }
    }
}

#[test]
fn every_language_loads() {
    for locale in Locale::ALL {
        assert!(i18n::has(locale, "language-own-name"), "{locale}");
        for messages in language(locale.code()).values() {
            for id in messages.keys() {
                assert!(i18n::has(locale, id), "{locale}: {id} did not load");
            }
        }
    }
}

/// A template's own words: what is left of it once its comments, tags,
/// expressions, scripts and HTML are taken away, and the attributes a
/// person reads or hears (`aria-label`, `title`, `alt`, `placeholder`)
/// once their expressions are. Whatever letters remain are English said
/// outside a message.
fn words_outside_messages(template: &str) -> Vec<String> {
    let comment = Regex::new(r"(?s)\{#.*?#\}").unwrap();
    let statement = Regex::new(r"(?s)\{%.*?%\}").unwrap();
    let expression = Regex::new(r"(?s)\{\{.*?\}\}").unwrap();
    let script = Regex::new(r"(?is)<(script|style)\b.*?</(script|style)>").unwrap();
    let spoken = Regex::new(r#"\b(aria-label|title|alt|placeholder)="([^"]*)""#).unwrap();
    let tag = Regex::new(r"(?s)<[^>]*>").unwrap();
    let entity = Regex::new(r"&#?[a-zA-Z0-9]+;").unwrap();
    let word = Regex::new(r"[A-Za-z][A-Za-z']+").unwrap();
    // Words that are no language's: the product's name.
    let nobodys = ["keyward"];
    let text = comment.replace_all(template, "");
    let text = statement.replace_all(&text, " ");
    let text = expression.replace_all(&text, " ");
    let text = script.replace_all(&text, " ");
    let mut found = Vec::new();
    for attribute in spoken.captures_iter(&text) {
        if word.is_match(&attribute[2]) {
            found.push(format!("{}=\"{}\"", &attribute[1], &attribute[2]));
        }
    }
    let text = tag.replace_all(&text, " ");
    let text = entity.replace_all(&text, " ");
    for line in text.lines() {
        let words: Vec<&str> = word
            .find_iter(line)
            .map(|m| m.as_str())
            .filter(|w| !nobodys.contains(w))
            .collect();
        if !words.is_empty() {
            found.push(line.trim().to_owned());
        }
    }
    found
}

#[test]
fn the_guard_sees_english_outside_messages() {
    let page = r#"{# a comment #}<h1>{{ t("x") }}</h1><p class="a">Hello {{ name }}</p>
<button aria-label="Close">{{ t("y") }}</button><span title="{{ t("z") }}">keyward</span>"#;
    assert_eq!(
        words_outside_messages(page),
        vec!["aria-label=\"Close\"".to_owned(), "Hello".to_owned()]
    );
}

/// English complete (issue 15): every word a page shows comes from a
/// Fluent message, so each template's own text is tags and expressions only.
#[test]
fn templates_say_every_word_through_a_message() {
    let mut templates = Vec::new();
    files_under(
        &workspace().join("crates/keyward-web/templates"),
        &["html"],
        &mut templates,
    );
    files_under(
        &workspace().join("crates/keyward-core/templates"),
        &["html", "txt"],
        &mut templates,
    );
    let mut offences = Vec::new();
    for file in templates {
        let text = fs::read_to_string(&file).unwrap();
        for words in words_outside_messages(&text) {
            offences.push(format!("{}: {words}", file.display()));
        }
    }
    assert!(
        offences.is_empty(),
        "{} places in templates say English outside a message (locales/en/*.ftl):\n{}",
        offences.len(),
        offences.join("\n")
    );
}

/// The page handlers hand templates message ids, not sentences: a string
/// literal that reads like English words (a capital, then a space and a
/// word) in `keyward-web/src/pages` is text outside the locales. Log lines
/// and internal errors (never shown as a page's text) are not counted.
#[test]
fn page_handlers_say_no_sentence_of_their_own() {
    let sentence = Regex::new(r#""[A-Z][a-z']*[ ,][A-Za-z]"#).unwrap();
    let mut sources = Vec::new();
    files_under(
        &workspace().join("crates/keyward-web/src/pages"),
        &["rs"],
        &mut sources,
    );
    let mut offences = Vec::new();
    for file in sources {
        let path = file.display().to_string();
        if path.ends_with("tests.rs") {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in code.lines().enumerate() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//")
                || trimmed.starts_with("#[")
                || line.contains("tracing::")
                || line.contains("Code::Internal")
                || line.contains(".expect(")
            {
                continue;
            }
            if sentence.is_match(line) {
                offences.push(format!("{path}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "{} lines of page handlers say English of their own (use a message id):\n{}",
        offences.len(),
        offences.join("\n")
    );
}
