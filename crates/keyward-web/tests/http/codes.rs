//! The one list of error codes (`keyward_core::error::Code`) and what
//! documents it: the README's table of codes is the list's (rewritten with
//! `KEYWARD_BLESS=1 cargo test -p keyward-web --test http codes`), and every
//! code the README names after a status (`422 \`password_policy\``) is one
//! of the list.

use keyward_core::error::Code;
use keyward_web::status_of;
use regex::Regex;

const BEGIN: &str = "<!-- error-codes:begin (generated from keyward_core::error::Code; see crates/keyward-web/tests/http/codes.rs) -->";
const END: &str = "<!-- error-codes:end -->";

fn readme_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")
}

fn table() -> String {
    let mut text = String::from("| code | status | meaning |\n|---|---|---|\n");
    for code in Code::ALL {
        text.push_str(&format!(
            "| `{}` | {} | {} |\n",
            code.as_str(),
            status_of(code.kind()).as_u16(),
            code.meaning()
        ));
    }
    text
}

#[test]
fn the_readme_table_of_error_codes_is_the_list() {
    let path = readme_path();
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let start = readme
        .find(BEGIN)
        .expect("README.md has the error-codes markers")
        + BEGIN.len();
    let end = readme
        .find(END)
        .expect("README.md has the error-codes end marker");
    let expected = format!("\n{}", table());
    if std::env::var_os("KEYWARD_BLESS").is_some() {
        let updated = format!("{}{}{}", &readme[..start], expected, &readme[end..]);
        std::fs::write(&path, updated).expect("write README.md");
        return;
    }
    assert_eq!(
        &readme[start..end],
        expected,
        "README.md's table of error codes differs from keyward_core::error::Code; \
         rewrite it with KEYWARD_BLESS=1 cargo test -p keyward-web --test http codes"
    );
}

#[test]
fn every_code_the_readme_names_is_in_the_list() {
    let readme = std::fs::read_to_string(readme_path()).expect("README.md");
    let after_status =
        Regex::new(r"\b[45]\d\d\s+`([a-z_]+)`((?:\s*(?:,|or)\s*`[a-z_]+`)*)").unwrap();
    let word = Regex::new(r"`([a-z_]+)`").unwrap();
    let mut unknown = Vec::new();
    for found in after_status.captures_iter(&readme) {
        let mut named = vec![found[1].to_owned()];
        named.extend(word.captures_iter(&found[2]).map(|w| w[1].to_owned()));
        unknown.extend(named.into_iter().filter(|n| Code::parse(n).is_none()));
    }
    assert!(
        unknown.is_empty(),
        "the README names codes that are not in the list: {unknown:?}"
    );
}
