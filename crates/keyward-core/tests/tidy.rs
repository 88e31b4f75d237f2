//! The house rules of keyward-core, checked on its sources, and the map in
//! `ARCHITECTURE.md` kept true:
//!
//! - the layers of keyward-core (the ```` ```layers ```` block of
//!   ARCHITECTURE.md): a module uses only modules of the lines above its
//!   own, so the import graph has no circle;
//! - SQL is written only in store modules (`store.rs` or files under a
//!   `store/` folder);
//! - each table is written (INSERT, UPDATE, DELETE) by the one store module
//!   the owners table of ARCHITECTURE.md names, and every table of the
//!   migrations is in that table;
//! - every module of the three crates is named in the code map.
//!
//! Test code (`tests.rs`, `#[cfg(test)]` items, `testing.rs`) is outside the
//! graph: a test may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use regex::Regex;
use syn::visit::Visit;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn architecture() -> String {
    fs::read_to_string(workspace().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md")
}

/// The lines of a fenced block of ARCHITECTURE.md with the given info string.
fn fenced_block(doc: &str, info: &str) -> Vec<String> {
    let open = format!("```{info}");
    let mut lines = doc.lines().skip_while(|l| l.trim() != open);
    assert!(
        lines.next().is_some(),
        "ARCHITECTURE.md has no ```{info} block"
    );
    lines
        .take_while(|l| l.trim() != "```")
        .map(|l| l.split('#').next().unwrap_or("").trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Module name → its layer (0 = top line of the block).
fn layers(doc: &str) -> BTreeMap<String, usize> {
    let mut layer_of = BTreeMap::new();
    for (depth, line) in fenced_block(doc, "layers").iter().enumerate() {
        for module in line.split_whitespace() {
            assert!(
                layer_of.insert(module.to_owned(), depth).is_none(),
                "{module} is named twice in the layers block"
            );
        }
    }
    layer_of
}

/// A source file of keyward-core outside test code.
struct SourceFile {
    /// Relative to `src/`, with `/`.
    rel: String,
    /// The module path of the file, for example `["accounts", "store"]`.
    module: Vec<String>,
    syntax: syn::File,
}

fn is_test_file(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name == "tests.rs"
        || name.ends_with("_tests.rs")
        || rel == "testing.rs"
        || rel.starts_with("tests/")
        || rel.contains("/tests/")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources(src: &Path) -> Vec<SourceFile> {
    let mut paths = Vec::new();
    rust_files(src, &mut paths);
    paths
        .into_iter()
        .filter_map(|path| {
            let rel = path
                .strip_prefix(src)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            if is_test_file(&rel) {
                return None;
            }
            let text = fs::read_to_string(&path).expect("read source");
            let syntax = syn::parse_file(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
            let mut module: Vec<String> = rel
                .trim_end_matches(".rs")
                .split('/')
                .map(str::to_owned)
                .collect();
            if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                module.pop();
            }
            Some(SourceFile {
                rel,
                module,
                syntax,
            })
        })
        .collect()
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .meta
                .require_list()
                .is_ok_and(|list| list.tokens.to_string().contains("test"))
    })
}

/// Collects the top-level modules a file names (through `crate::…`, or
/// through `super::…` that climbs out of its own top-level module), its
/// string literals (also inside macros), skipping test-only items.
struct Collector<'a> {
    module: &'a [String],
    used: BTreeSet<String>,
    strings: Vec<String>,
    /// Methods called by name (`kw.sign_in(…)`, `self.actor_of(…)`).
    methods: BTreeSet<String>,
}

impl Collector<'_> {
    /// The top-level module a path starting with these segments names.
    fn note_path(&mut self, segments: &[String]) {
        match segments.first().map(String::as_str) {
            Some("crate") => {
                if let Some(next) = segments.get(1) {
                    self.used.insert(next.clone());
                }
            }
            Some("super") => {
                let climbs = segments.iter().take_while(|s| *s == "super").count();
                // A file's own module is `self.module`; each `super` climbs
                // one level; reaching the crate root names a top-level module.
                if climbs >= self.module.len()
                    && let Some(next) = segments.get(climbs)
                {
                    self.used.insert(next.clone());
                }
            }
            _ => {}
        }
    }

    fn note_use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.note_use_tree(prefix, &path.tree);
                prefix.pop();
            }
            syn::UseTree::Name(name) => {
                prefix.push(name.ident.to_string());
                self.note_path(prefix);
                prefix.pop();
            }
            syn::UseTree::Rename(rename) => {
                prefix.push(rename.ident.to_string());
                self.note_path(prefix);
                prefix.pop();
            }
            syn::UseTree::Glob(_) => self.note_path(prefix),
            syn::UseTree::Group(group) => {
                for item in &group.items {
                    self.note_use_tree(prefix, item);
                }
            }
        }
    }

    fn note_tokens(&mut self, tokens: TokenStream) {
        let mut idents: Vec<String> = Vec::new();
        for token in tokens {
            match token {
                TokenTree::Group(group) => {
                    self.note_tokens(group.stream());
                    idents.clear();
                }
                TokenTree::Ident(ident) => idents.push(ident.to_string()),
                TokenTree::Punct(punct) if punct.as_char() == ':' => {}
                TokenTree::Literal(literal) => {
                    if let Ok(syn::Lit::Str(text)) =
                        syn::parse_str::<syn::Lit>(&literal.to_string())
                    {
                        self.strings.push(text.value());
                    }
                    idents.clear();
                }
                TokenTree::Punct(_) => {
                    self.note_path(&idents);
                    idents.clear();
                }
            }
            if idents.len() >= 2 {
                self.note_path(&idents);
                let last = idents.pop().unwrap_or_default();
                idents.clear();
                idents.push(last);
            }
        }
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs: &[syn::Attribute] = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Const(c) => &c.attrs,
            syn::Item::Struct(s) => &s.attrs,
            _ => &[],
        };
        if !is_cfg_test(attrs) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        if !is_cfg_test(&item.attrs) {
            syn::visit::visit_impl_item_fn(self, item);
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.note_use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.note_path(&segments);
        syn::visit::visit_path(self, path);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        self.methods.insert(call.method.to_string());
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_lit_str(&mut self, lit: &'ast syn::LitStr) {
        self.strings.push(lit.value());
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.note_tokens(mac.tokens.clone());
        syn::visit::visit_macro(self, mac);
    }
}

struct Scanned {
    rel: String,
    top: String,
    used: BTreeSet<String>,
    strings: Vec<String>,
    methods: BTreeSet<String>,
    /// Methods this file defines on `Keyward` (the use cases), and on
    /// anything else.
    keyward_methods: BTreeSet<String>,
    other_methods: BTreeSet<String>,
}

/// The methods of the inherent and trait impls of a file, split into those
/// of `Keyward` and the rest (test items skipped).
fn impl_methods(file: &syn::File) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut keyward, mut other) = (BTreeSet::new(), BTreeSet::new());
    let mut stack: Vec<&syn::Item> = file.items.iter().collect();
    while let Some(item) = stack.pop() {
        match item {
            syn::Item::Impl(imp) if !is_cfg_test(&imp.attrs) => {
                let is_keyward = imp.trait_.is_none()
                    && matches!(&*imp.self_ty, syn::Type::Path(p)
                        if p.path.segments.last().is_some_and(|s| s.ident == "Keyward"));
                for member in &imp.items {
                    if let syn::ImplItem::Fn(f) = member
                        && !is_cfg_test(&f.attrs)
                    {
                        let name = f.sig.ident.to_string();
                        if is_keyward {
                            keyward.insert(name)
                        } else {
                            other.insert(name)
                        };
                    }
                }
            }
            syn::Item::Mod(m) if !is_cfg_test(&m.attrs) => {
                if let Some((_, items)) = &m.content {
                    stack.extend(items.iter());
                }
            }
            _ => {}
        }
    }
    (keyward, other)
}

fn scan(src: &Path) -> Vec<Scanned> {
    sources(src)
        .into_iter()
        .map(|file| {
            let mut collector = Collector {
                module: &file.module,
                used: BTreeSet::new(),
                strings: Vec::new(),
                methods: BTreeSet::new(),
            };
            collector.visit_file(&file.syntax);
            let (keyward_methods, other_methods) = impl_methods(&file.syntax);
            let top = file.module.first().cloned().unwrap_or_else(|| "lib".into());
            Scanned {
                rel: file.rel,
                top,
                used: collector.used,
                strings: collector.strings,
                methods: collector.methods,
                keyward_methods,
                other_methods,
            }
        })
        .collect()
}

fn core_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Names the crate root re-exports (`pub use types::Ctx;`), by the module
/// that defines them.
fn root_reexports(src: &Path) -> BTreeMap<String, String> {
    let lib = syn::parse_file(&fs::read_to_string(src.join("lib.rs")).expect("lib.rs"))
        .expect("lib.rs parses");
    let mut map = BTreeMap::new();
    for item in lib.items {
        if let syn::Item::Use(item) = item
            && let syn::UseTree::Path(path) = &item.tree
        {
            let module = path.ident.to_string();
            let mut names = Vec::new();
            collect_names(&path.tree, &mut names);
            for name in names {
                map.insert(name, module.clone());
            }
        }
    }
    map
}

fn collect_names(tree: &syn::UseTree, out: &mut Vec<String>) {
    match tree {
        syn::UseTree::Path(p) => collect_names(&p.tree, out),
        syn::UseTree::Name(n) => out.push(n.ident.to_string()),
        syn::UseTree::Rename(r) => out.push(r.rename.to_string()),
        syn::UseTree::Glob(_) => {}
        syn::UseTree::Group(g) => g.items.iter().for_each(|t| collect_names(t, out)),
    }
}

/// Each file's uses of other top-level modules, as (file, from, to): by
/// path, and by calling a use case (a method of `Keyward`) that another
/// module defines — `impl Keyward` is spread over the modules, so a call
/// like `self.actor_of(…)` is a use of the module that defines it. (A
/// method name some other type also has is not counted.)
fn module_edges() -> Vec<(String, String, String)> {
    let src = core_src();
    let reexports = root_reexports(&src);
    let files = scan(&src);
    let mut defined_in: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut elsewhere = BTreeSet::new();
    for file in &files {
        for name in &file.keyward_methods {
            defined_in
                .entry(name.clone())
                .or_default()
                .insert(file.top.clone());
        }
        elsewhere.extend(file.other_methods.iter().cloned());
    }
    let mut edges = Vec::new();
    for file in &files {
        for method in file.methods.iter().filter(|m| !elsewhere.contains(*m)) {
            for module in defined_in.get(method).into_iter().flatten() {
                if *module != file.top && file.top != "lib" {
                    edges.push((
                        format!("{} ({method})", file.rel),
                        file.top.clone(),
                        module.clone(),
                    ));
                }
            }
        }
    }
    for file in files {
        if file.top == "lib" {
            continue;
        }
        for used in &file.used {
            let target = reexports.get(used).unwrap_or(used);
            let is_module = src.join(format!("{target}.rs")).exists()
                || src.join(target).join("mod.rs").exists();
            if is_module && *target != file.top {
                edges.push((file.rel.clone(), file.top.clone(), target.clone()));
            }
        }
    }
    edges
}

#[test]
fn every_module_of_core_is_in_one_layer() {
    let layer_of = layers(&architecture());
    let src = core_src();
    let mut missing = Vec::new();
    for entry in fs::read_dir(&src).expect("src") {
        let path = entry.expect("entry").path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        // Test files stand outside the layers (see `is_test_file`'s rule):
        // the crate root's own, like every `*_tests.rs`.
        if name == "lib" || name == "tests" || name.ends_with("_tests") {
            continue;
        }
        if !layer_of.contains_key(&name) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "modules missing from the layers block of ARCHITECTURE.md: {missing:?}"
    );
    for module in layer_of.keys() {
        assert!(
            src.join(format!("{module}.rs")).exists() || src.join(module).join("mod.rs").exists(),
            "the layers block names {module}, which is not a module of keyward-core"
        );
    }
}

#[test]
fn no_module_uses_its_own_layer_or_one_below() {
    let layer_of = layers(&architecture());
    let mut wrong = Vec::new();
    for (file, from, to) in module_edges() {
        let (Some(&from_layer), Some(&to_layer)) = (layer_of.get(&from), layer_of.get(&to)) else {
            continue; // every_module_of_core_is_in_one_layer reports it
        };
        if to_layer >= from_layer {
            wrong.push(format!("{file}: {from} uses {to}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "a module may use only modules of the lines above its own in the layers block of ARCHITECTURE.md:\n{}",
        wrong.join("\n")
    );
}

fn is_store_file(rel: &str) -> bool {
    rel.ends_with("/store.rs") || rel == "store.rs" || rel.contains("store/")
}

fn sql_statement() -> Regex {
    Regex::new(r"^\s*(SELECT|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|WITH\s+\w+\s+AS|CREATE\s+TABLE|BEGIN|PRAGMA)\b|\bSELECT\b[\s\S]*\bFROM\b")
        .expect("regex")
}

#[test]
fn sql_is_written_only_in_store_modules() {
    let sql = sql_statement();
    let mut outside = Vec::new();
    for file in scan(&core_src()) {
        if is_store_file(&file.rel) {
            continue;
        }
        for text in &file.strings {
            if sql.is_match(text) {
                outside.push(format!(
                    "{}: {:?}",
                    file.rel,
                    text.chars().take(60).collect::<String>()
                ));
            }
        }
    }
    assert!(
        outside.is_empty(),
        "SQL outside store modules:\n{}",
        outside.join("\n")
    );
}

/// The owners table of ARCHITECTURE.md: table → owning store file.
fn owners(doc: &str) -> BTreeMap<String, String> {
    fenced_block(doc, "owners")
        .iter()
        .map(|line| {
            let mut parts = line.split_whitespace();
            let table = parts.next().unwrap_or_default().to_owned();
            let owner = parts
                .next()
                .unwrap_or_else(|| panic!("owners: {line} names no store"))
                .to_owned();
            (table, owner)
        })
        .collect()
}

/// Tables each store file writes.
fn writers() -> BTreeMap<String, BTreeSet<String>> {
    let write = Regex::new(
        r"\b(?:INSERT\s+INTO\s+([a-z_]+)|UPDATE\s+([a-z_]+)\s+SET\b|DELETE\s+FROM\s+([a-z_]+))",
    )
    .expect("regex");
    let mut tables: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in scan(&core_src()) {
        for text in &file.strings {
            for found in write.captures_iter(text) {
                let Some(table) = found.iter().skip(1).flatten().next() else {
                    continue;
                };
                let table = table.as_str().to_owned();
                tables.entry(table).or_default().insert(file.rel.clone());
            }
        }
    }
    tables
}

fn migration_tables() -> BTreeSet<String> {
    let create =
        Regex::new(r"(?i)CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([a-z_]+)").expect("regex");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let mut tables = BTreeSet::new();
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let text = fs::read_to_string(entry.expect("entry").path()).expect("migration");
        for found in create.captures_iter(&text) {
            tables.insert(found[1].to_lowercase());
        }
    }
    tables.remove("_sqlx_migrations");
    tables
}

#[test]
fn each_table_is_written_by_its_owner_alone() {
    let owners = owners(&architecture());
    let mut wrong = Vec::new();
    for (table, files) in writers() {
        match owners.get(&table) {
            None => wrong.push(format!(
                "{table} (written by {files:?}) is not in the owners block"
            )),
            Some(owner) => {
                for file in files.iter().filter(|f| *f != owner) {
                    wrong.push(format!("{file} writes {table}, which {owner} owns"));
                }
            }
        }
    }
    for table in migration_tables() {
        if !owners.contains_key(&table) {
            wrong.push(format!(
                "{table} (a table of the migrations) is not in the owners block"
            ));
        }
    }
    for (table, owner) in &owners {
        if !core_src().join(owner).exists() {
            wrong.push(format!(
                "the owner of {table}, {owner}, is not a file of keyward-core"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "table owners (ARCHITECTURE.md):\n{}",
        wrong.join("\n")
    );
}

/// Every module of the three crates and the bench harness is named in ARCHITECTURE.md's code map
/// as `name` or `name/` or `name.rs`.
#[test]
fn the_code_map_names_every_module() {
    let doc = architecture();
    let mut missing = Vec::new();
    for krate in ["keyward-core", "keyward-web", "keyward", "keyward-bench"] {
        let src = workspace().join("crates").join(krate).join("src");
        let mut dirs = vec![src.clone()];
        if krate == "keyward-web" {
            dirs.push(src.join("api"));
            dirs.push(src.join("pages"));
        }
        if krate == "keyward" {
            dirs.push(src.join("commands"));
        }
        for dir in dirs {
            for entry in fs::read_dir(&dir).expect("src dir") {
                let path = entry.expect("entry").path();
                let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                    continue;
                };
                if matches!(
                    stem,
                    "lib" | "main" | "mod" | "templates" | "assets" | "migrations"
                ) || is_test_file(&format!("x/{stem}.rs"))
                    || (path.is_file() && path.extension().is_none_or(|e| e != "rs"))
                {
                    continue;
                }
                let named = [
                    format!("`{stem}`"),
                    format!("`{stem}/`"),
                    format!("`{stem}.rs`"),
                ]
                .iter()
                .any(|n| doc.contains(n.as_str()));
                if !named {
                    missing.push(format!(
                        "{krate}: {}",
                        path.strip_prefix(&src).unwrap_or(&path).display()
                    ));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "modules missing from ARCHITECTURE.md's code map:\n{}",
        missing.join("\n")
    );
}

/// `cargo test -p keyward-core --test tidy -- --ignored --nocapture` prints
/// the import graph of keyward-core (by module, with the files behind each
/// edge) in Graphviz's DOT.
#[test]
#[ignore = "prints the import graph"]
fn print_the_import_graph() {
    let mut edges: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for (file, from, to) in module_edges() {
        edges.entry((from, to)).or_default().insert(file);
    }
    println!("digraph keyward_core {{");
    for ((from, to), files) in edges {
        let files: Vec<_> = files.into_iter().collect();
        println!("  {from} -> {to}; // {}", files.join(", "));
    }
    println!("}}");
}

/// The core knows no HTTP: no web framework among its dependencies.
#[test]
fn the_core_depends_on_no_http_crate() {
    let manifest = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .expect("Cargo.toml");
    for http in [
        "axum",
        "http",
        "hyper",
        "tower",
        "tower-http",
        "reqwest",
        "utoipa",
    ] {
        let listed = manifest.lines().any(|line| {
            line.trim_start().starts_with(&format!("{http} "))
                || line.trim_start().starts_with(&format!("{http}."))
        });
        assert!(!listed, "keyward-core depends on {http}");
    }
}
