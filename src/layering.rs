//! The layer rule of `docs/ARCHITECTURE.md`, checked on the source: no module
//! uses a module above it in the graph, the domain, idempotency and the store
//! name no HTTP types (and the first two no SQL ones either), and no route
//! module uses another.
//!
//! A test rather than a workspace of crates: the boundaries are cheap to check
//! this way, and one package keeps builds and tests simple (see STYLE.md,
//! "split into a workspace only when a boundary hurts"). It reads `use` paths
//! and other `crate::`/`super::` paths line by line, outside comments; grouped
//! `use crate::{a, b}` imports are refused so that nothing hides from it.

use std::path::{Path, PathBuf};

/// Modules that use nothing else of this crate; any module may use them.
const LEAVES: &[&str] = &["clock", "keyring", "server", "telemetry"];

/// Every other top-level module, top of the graph first, with the modules it
/// may use besides the leaves. A module may only use modules listed after it,
/// which keeps the graph acyclic (a test checks the table itself).
const LAYERS: &[(&str, &[&str])] = &[
    (
        "cli",
        &[
            "app",
            "config",
            "http",
            "maintenance",
            "webhooks",
            "store",
            "idempotency",
            "domain",
        ],
    ),
    (
        "app",
        &[
            "config",
            "http",
            "maintenance",
            "webhooks",
            "store",
            "idempotency",
            "domain",
        ],
    ),
    (
        "config",
        &["http", "maintenance", "webhooks", "store", "domain"],
    ),
    ("http", &["store", "idempotency", "domain"]),
    (
        "maintenance",
        &["webhooks", "store", "idempotency", "domain"],
    ),
    ("webhooks", &["store", "idempotency", "domain"]),
    ("store", &["idempotency", "domain"]),
    ("idempotency", &["domain"]),
    ("domain", &[]),
];

/// Upward uses tolerated for now: the file, the module it uses, and why. The
/// test fails when one is no longer there, so this list only shrinks.
const EXCEPTIONS: &[(&str, &str, &str)] = &[];

/// The crates of the HTTP stack.
const HTTP_CRATES: &[&str] = &["axum", "hyper", "tower", "tower_http"];
/// The crates of the database drivers.
const SQL_CRATES: &[&str] = &["rusqlite", "sqlx_core", "sqlx_postgres"];

/// Modules that may not name some crates: the domain and idempotency are plain
/// Rust (no HTTP, no SQL), and the store speaks no HTTP.
const FORBIDDEN_CRATES: &[(&str, &[&[&str]])] = &[
    ("domain", &[HTTP_CRATES, SQL_CRATES]),
    ("idempotency", &[HTTP_CRATES, SQL_CRATES]),
    ("store", &[HTTP_CRATES]),
];

/// One source file: its path from the package root, its module path, its text.
struct Source {
    path: String,
    module: Vec<String>,
    text: String,
}

impl Source {
    /// The top-level module the file belongs to (`None` for the crate root).
    fn top(&self) -> Option<&str> {
        self.module.first().map(String::as_str)
    }
}

/// Every `.rs` file under `src/`.
fn sources() -> Vec<Source> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    files
        .into_iter()
        .map(|file| {
            let relative = file.strip_prefix(root).unwrap();
            let mut module: Vec<String> = relative
                .components()
                .skip(1)
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect();
            let last = module.pop().unwrap();
            match last.trim_end_matches(".rs") {
                "mod" | "lib" | "main" => {}
                name => module.push(name.to_owned()),
            }
            Source {
                path: relative.to_string_lossy().into_owned(),
                module,
                text: std::fs::read_to_string(&file).unwrap(),
            }
        })
        .collect()
}

/// The code of a line: without a `//` comment (whole-line or trailing).
fn code(line: &str) -> &str {
    line.find("//").map_or(line, |at| &line[..at])
}

/// Whether `byte` may continue an identifier or a path before a match.
fn joins(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b':' || byte == b'$'
}

/// What a `crate::` or `super::` path on a line resolves to.
#[derive(Debug, PartialEq, Eq)]
enum Reference {
    /// The absolute module path it names (its leading identifiers).
    Path(Vec<String>),
    /// `use crate::{…}` (or `super::{…}` up to the root): unreadable here.
    Grouped,
}

/// The absolute paths that the `crate::` and `super::` paths on `line` name,
/// as seen from `module`.
fn references(module: &[String], line: &str) -> Vec<Reference> {
    let bytes = line.as_bytes();
    let mut starts: Vec<usize> = line
        .match_indices("crate::")
        .chain(line.match_indices("super::"))
        .map(|(at, _)| at)
        .filter(|&at| at == 0 || !joins(bytes[at - 1]))
        .collect();
    starts.sort_unstable();
    let mut found = Vec::new();
    for at in starts {
        let mut segments = line[at..].split("::");
        let mut depth = match segments.next() {
            Some("crate") => 0,
            _ => module.len().saturating_sub(1),
        };
        let mut path: Vec<String> = Vec::new();
        for segment in segments {
            let ident: String = segment
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if ident == "super" && path.is_empty() {
                depth = depth.saturating_sub(1);
                continue;
            }
            if ident.is_empty() {
                if path.is_empty() && depth == 0 && segment.starts_with('{') {
                    found.push(Reference::Grouped);
                }
                break;
            }
            let whole = ident.len() == segment.len();
            path.push(ident);
            if !whole {
                break;
            }
        }
        if !path.is_empty() {
            let mut full = module[..depth].to_vec();
            full.extend(path);
            found.push(Reference::Path(full));
        }
    }
    found
}

/// Each line of `source` with the module its paths are written in: an inline
/// `mod name {` (a test module, by this codebase's habit the last item of its
/// file) is one level below the file's module from its first line on.
fn lines_in_modules(source: &Source) -> impl Iterator<Item = (usize, &str, Vec<String>)> + '_ {
    let mut module = source.module.clone();
    source.text.lines().enumerate().map(move |(index, line)| {
        let code = code(line);
        let trimmed = code.trim();
        if let Some(name) = trimmed
            .strip_prefix("mod ")
            .and_then(|rest| rest.strip_suffix('{'))
        {
            module.push(name.trim().to_owned());
        }
        (index + 1, code, module.clone())
    })
}

/// The modules `module` may use besides itself and the leaves, if it is known.
fn allowed(module: &str) -> Option<&'static [&'static str]> {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, allowed)| *allowed)
}

#[test]
fn the_layer_table_is_acyclic_and_names_every_module() {
    for (position, (module, uses)) in LAYERS.iter().enumerate() {
        for used in *uses {
            let below = LAYERS[position + 1..].iter().any(|(name, _)| name == used);
            assert!(below, "{module} may use {used}, which is not below it");
        }
    }
    let mut tops: Vec<String> = sources()
        .iter()
        .filter_map(|source| source.top().map(str::to_owned))
        .collect();
    tops.sort();
    tops.dedup();
    for top in &tops {
        assert!(
            LEAVES.contains(&top.as_str()) || allowed(top).is_some() || top == "layering",
            "the top-level module {top} is in no layer: add it to LAYERS or LEAVES here and to the graph in docs/ARCHITECTURE.md"
        );
    }
}

#[test]
fn no_module_uses_a_module_above_it() {
    let mut violations = Vec::new();
    let mut exceptions_seen = vec![false; EXCEPTIONS.len()];
    for source in sources() {
        let Some(top) = source.top() else { continue };
        if top == "layering" {
            continue;
        }
        let is_leaf = LEAVES.contains(&top);
        for (number, line, module) in lines_in_modules(&source) {
            for reference in references(&module, line) {
                let Reference::Path(path) = reference else {
                    violations.push(format!(
                        "{}:{number}: a grouped `use crate::{{…}}`: write one `use` per module",
                        source.path
                    ));
                    continue;
                };
                let used = path[0].as_str();
                if used == top {
                    continue;
                }
                let ok = !is_leaf
                    && (LEAVES.contains(&used)
                        || allowed(top).is_some_and(|uses| uses.contains(&used)));
                if ok {
                    continue;
                }
                let excepted = EXCEPTIONS
                    .iter()
                    .position(|(file, module, _)| *file == source.path && *module == used);
                if let Some(index) = excepted {
                    exceptions_seen[index] = true;
                    continue;
                }
                violations.push(format!(
                    "{}:{number}: {top} uses {used} ({})",
                    source.path,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "uses that go up the layer graph of docs/ARCHITECTURE.md:\n{}",
        violations.join("\n")
    );
    for ((file, module, why), seen) in EXCEPTIONS.iter().zip(exceptions_seen) {
        assert!(
            seen,
            "{file} no longer uses {module} ({why}): remove the exception"
        );
    }
}

#[test]
fn the_domain_idempotency_and_the_store_name_no_forbidden_crates() {
    let mut violations = Vec::new();
    for source in sources() {
        let Some(top) = source.top() else { continue };
        let Some((_, lists)) = FORBIDDEN_CRATES.iter().find(|(name, _)| *name == top) else {
            continue;
        };
        let crates: Vec<&str> = lists.concat();
        for (number, line) in source.text.lines().enumerate() {
            let code = code(line);
            for name in &crates {
                let needle = format!("{name}::");
                let bytes = code.as_bytes();
                let named = code
                    .match_indices(&needle)
                    .any(|(at, _)| at == 0 || !joins(bytes[at - 1]));
                if named {
                    violations.push(format!(
                        "{}:{}: {top} names {name}",
                        source.path,
                        number + 1
                    ));
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn no_route_module_uses_another() {
    let sources = sources();
    let routes: Vec<&str> = sources
        .iter()
        .filter(|source| source.module.len() == 3 && source.module[..2] == ["http", "routes"])
        .map(|source| source.module[2].as_str())
        .collect();
    let mut violations = Vec::new();
    for source in &sources {
        let Some(own) = routes
            .iter()
            .find(|name| source.module.get(2) == Some(&(**name).to_owned()))
        else {
            continue;
        };
        if source.module[..2] != ["http", "routes"] {
            continue;
        }
        for (number, line, module) in lines_in_modules(source) {
            for reference in references(&module, line) {
                if let Reference::Path(path) = reference
                    && path.len() >= 3
                    && path[..2] == ["http", "routes"]
                    && path[2] != *own
                    && routes.contains(&path[2].as_str())
                {
                    violations.push(format!("{}:{number}: {}", source.path, line.trim()));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "route modules using other route modules (shared wire types go in http::params or http::responses):\n{}",
        violations.join("\n")
    );
}

#[test]
fn paths_resolve_from_where_they_are_written() {
    let module: Vec<String> = ["http", "routes", "accounts"]
        .iter()
        .map(|part| (*part).to_owned())
        .collect();
    let path = |parts: &[&str]| Reference::Path(parts.iter().map(|p| (*p).to_owned()).collect());
    assert_eq!(
        references(&module, "use crate::app::AppState;"),
        [path(&["app", "AppState"])]
    );
    assert_eq!(
        references(&module, "use super::embedded::BankAccountResponse;"),
        [path(&["http", "routes", "embedded", "BankAccountResponse"])]
    );
    assert_eq!(
        references(&module, "use super::super::error::ApiError;"),
        [path(&["http", "error", "ApiError"])]
    );
    assert_eq!(
        references(&module, "let x = crate::domain::country::parse(&c);"),
        [path(&["domain", "country", "parse"])]
    );
    assert_eq!(
        references(&module, "use crate::{app, cli};"),
        [Reference::Grouped]
    );
    assert_eq!(references(&module, "pub(crate) fn f() {}"), []);
    assert_eq!(references(&module, "$crate::x!()"), []);
    let top: Vec<String> = vec!["app".to_owned()];
    assert_eq!(
        references(&top, "use super::http::router;"),
        [path(&["http", "router"])]
    );
}
