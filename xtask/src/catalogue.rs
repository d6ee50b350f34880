//! `cargo xtask catalogue`: `docs/fault-catalogue.md` against the fault IDs and the tests.
//!
//! The reliability research lists 104 faults (§4 of `reliability.md`: TR, TE, CB, HL, RT, CLK,
//! FS, SEC). The project rule is that every ID has a test named after it that can fail, and
//! `docs/fault-catalogue.md` is the index. This checks that the index:
//!
//! - lists exactly the IDs of [`FAMILIES`], once each, family by family and in order (and, when
//!   a copy of the research is found next to the workspace, that its §4 lists the same IDs);
//! - names, for every row, tests as `` `path/to/file.rs::fn_name` `` (separated by `<br>` or
//!   commas) or `TODO`;
//! - points at tests that exist: the file, and `fn <name>` in it;
//! - names every test after its row's ID in lowercase snake form (`TE-14` → `te_14_…`).
//!
//! `TODO` rows are warnings while [`ALLOW_TODO`] is true, errors after. Warnings, never errors:
//! a test marked `#[ignore]`, and a test named like a fault ID that the index does not list
//! (or whose ID does not exist, such as `te_200_…`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The fault families of the research's §4 and how many IDs each has, in catalogue order.
const FAMILIES: &[(&str, u32)] = &[
    ("TR", 20),
    ("TE", 17),
    ("CB", 19),
    ("HL", 7),
    ("RT", 15),
    ("CLK", 5),
    ("FS", 14),
    ("SEC", 7),
];

/// Whether a `TODO` in place of a test is only a warning. Set to `false` once every row has its
/// tests, so that a new ID cannot be added without one.
const ALLOW_TODO: bool = false;

/// The index, relative to the workspace root.
const CATALOGUE: &str = "docs/fault-catalogue.md";

/// Where a copy of the research may be, relative to the workspace root, then absolute.
const REFERENCE_CANDIDATES: &[&str] = &[
    "../shared/reference/reliability.md",
    "/work/shared/reference/reliability.md",
];

/// Directories never searched for tests.
const SKIP_DIRS: &[&str] = &["target", "node_modules", ".git"];

/// This file: its unit tests hold sample `fn` names in strings, not tests of the catalogue.
const THIS_FILE: &str = "xtask/src/catalogue.rs";

/// One test named in a row.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TestRef {
    /// Still to be written.
    Todo,
    /// `fn name` in `file` (relative to the workspace root).
    Test { file: String, name: String },
}

/// One row of the index.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    id: String,
    line: usize,
    tests: Vec<TestRef>,
}

/// What the check found.
#[derive(Debug, Default)]
struct Report {
    errors: Vec<String>,
    warnings: Vec<String>,
}

pub(crate) fn run(root: &Path) -> Result<(), String> {
    eprintln!("\n==> catalogue: every fault ID of {CATALOGUE} has a test");
    let path = root.join(CATALOGUE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "cannot read {}: {e}; it indexes the tests of every fault ID",
            path.display()
        )
    })?;
    let mut report = Report::default();
    let rows = parse(&text, &mut report);
    let expected = expected_ids();
    check_ids(&rows, &expected, &mut report);
    match REFERENCE_CANDIDATES
        .iter()
        .map(|c| root.join(c))
        .find(|p| p.is_file())
    {
        Some(reference) => match std::fs::read_to_string(&reference) {
            Ok(text) => check_reference(&reference_ids(&text), &expected, &reference, &mut report),
            Err(e) => report.warnings.push(format!(
                "cannot read {} to cross-check the IDs: {e}",
                reference.display()
            )),
        },
        None => eprintln!(
            "    (no copy of reliability.md found next to the workspace: IDs checked against the built-in list only)"
        ),
    }
    check_tests(
        &rows,
        &|file| std::fs::read_to_string(root.join(file)).ok(),
        &mut report,
    );
    check_unlisted(&rows, &expected, &rust_files(root), root, &mut report);

    for warning in &report.warnings {
        eprintln!("    warning: {warning}");
    }
    let tests: usize = rows
        .iter()
        .map(|r| r.tests.iter().filter(|t| **t != TestRef::Todo).count())
        .sum();
    if report.errors.is_empty() {
        eprintln!(
            "<== catalogue: ok ({} IDs, {tests} tests, {} warnings)",
            rows.len(),
            report.warnings.len()
        );
        Ok(())
    } else {
        Err(format!(
            "{CATALOGUE}: {} problem{}:\n  - {}",
            report.errors.len(),
            if report.errors.len() == 1 { "" } else { "s" },
            report.errors.join("\n  - ")
        ))
    }
}

/// `TR-1` … `SEC-7`, in catalogue order.
fn expected_ids() -> Vec<String> {
    FAMILIES
        .iter()
        .flat_map(|(family, count)| (1..=*count).map(move |n| format!("{family}-{n}")))
        .collect()
}

/// Whether `text` is a fault ID: upper-case letters, `-`, digits without a leading zero.
fn is_id(text: &str) -> bool {
    let Some((family, number)) = text.split_once('-') else {
        return false;
    };
    !family.is_empty()
        && family.chars().all(|c| c.is_ascii_uppercase())
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
        && !number.starts_with('0')
}

/// `TE-14` → `te_14_`: the prefix every test of the row must start with.
fn test_prefix(id: &str) -> String {
    format!("{}_", id.to_ascii_lowercase().replace('-', "_"))
}

/// The cells of a Markdown table line (`\|` is a literal bar), or `None` for other lines.
fn cells(line: &str) -> Option<Vec<String>> {
    let line = line.trim();
    let inner = line.strip_prefix('|')?;
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut out = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                out.last_mut()?.push('|');
                chars.next();
            }
            '|' => out.push(String::new()),
            _ => out.last_mut()?.push(c),
        }
    }
    Some(out.into_iter().map(|c| c.trim().to_owned()).collect())
}

/// The rows of every table whose first cell is a fault ID. Malformed rows are reported.
fn parse(text: &str, report: &mut Report) -> Vec<Row> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        let Some(cells) = cells(line) else { continue };
        let first = cells.first().map(String::as_str).unwrap_or_default();
        let separator = cells
            .iter()
            .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':' | ' ')));
        if separator || first == "ID" {
            continue;
        }
        if !is_id(first) {
            report.errors.push(format!(
                "line {number}: a table row whose first cell {first:?} is not a fault ID such as TE-14; fix the ID or move the row out of the tables"
            ));
            continue;
        }
        if cells.len() != 3 {
            report.errors.push(format!(
                "{first} (line {number}): {} cells; a row is `| ID | Expected behaviour | Tests |`",
                cells.len()
            ));
            continue;
        }
        if cells[1].is_empty() {
            report.errors.push(format!(
                "{first} (line {number}): no expected behaviour; summarise the row in one line"
            ));
        }
        let tests = parse_tests(first, number, &cells[2], report);
        rows.push(Row {
            id: first.to_owned(),
            line: number,
            tests,
        });
    }
    rows
}

/// The tests cell: `` `file.rs::name` `` entries separated by `<br>` or commas, or `TODO`.
fn parse_tests(id: &str, line: usize, cell: &str, report: &mut Report) -> Vec<TestRef> {
    let mut tests = Vec::new();
    for item in cell
        .split("<br>")
        .flat_map(|part| part.split(','))
        .map(|s| s.trim().trim_matches('`').trim())
        .filter(|s| !s.is_empty())
    {
        if item == "TODO" {
            tests.push(TestRef::Todo);
            continue;
        }
        let parsed = item.rsplit_once("::").filter(|(file, name)| {
            file.ends_with(".rs")
                && !file.starts_with('/')
                && !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        });
        match parsed {
            Some((file, name)) => tests.push(TestRef::Test {
                file: file.to_owned(),
                name: name.to_owned(),
            }),
            None => report.errors.push(format!(
                "{id} (line {line}): {item:?} is not a test reference; write `crate/path/file.rs::fn_name` (path from the workspace root) or TODO"
            )),
        }
    }
    if tests.is_empty() {
        report.errors.push(format!(
            "{id} (line {line}): no test named; name the tests that prove the row, or TODO"
        ));
    }
    tests
}

/// Exactly the expected IDs, once each, in order.
fn check_ids(rows: &[Row], expected: &[String], report: &mut Report) {
    let known: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for row in rows {
        if let Some(first) = seen.insert(row.id.as_str(), row.line) {
            report.errors.push(format!(
                "{} (line {}): listed again (first on line {first}); merge the rows",
                row.id, row.line
            ));
        }
        if !known.contains(row.id.as_str()) {
            report.errors.push(format!(
                "{} (line {}): not a fault ID of the research (families {}); remove the row or fix the ID",
                row.id,
                row.line,
                FAMILIES
                    .iter()
                    .map(|(f, n)| format!("{f}-1…{f}-{n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    for id in expected {
        if !seen.contains_key(id.as_str()) {
            report.errors.push(format!(
                "{id}: missing; add its row with the tests that prove it (or TODO)"
            ));
        }
    }
    // Order: the known rows, as listed, must follow the catalogue order.
    let position: BTreeMap<&str, usize> = expected
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut previous: Option<(&str, usize)> = None;
    for row in rows {
        let Some(&at) = position.get(row.id.as_str()) else {
            continue;
        };
        if let Some((before, before_at)) = previous
            && at < before_at
        {
            report.errors.push(format!(
                "{} (line {}): out of order after {before}; keep the rows family by family ({}) and by number",
                row.id,
                row.line,
                FAMILIES.iter().map(|(f, _)| *f).collect::<Vec<_>>().join(", ")
            ));
        }
        previous = Some((row.id.as_str(), at));
    }
}

/// The IDs of the research's §4 tables (from its `## 4.` heading to the next `## `).
fn reference_ids(text: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut in_section = false;
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            in_section = heading.trim_start().starts_with("4.");
            continue;
        }
        if !in_section {
            continue;
        }
        if let Some(cells) = cells(line)
            && let Some(first) = cells.first()
            && is_id(first)
        {
            ids.push(first.clone());
        }
    }
    ids
}

fn check_reference(found: &[String], expected: &[String], path: &Path, report: &mut Report) {
    let found_set: BTreeSet<&str> = found.iter().map(String::as_str).collect();
    let expected_set: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
    if found.is_empty() {
        report.errors.push(format!(
            "{}: no fault IDs found under its \"## 4.\" heading; has the research changed shape? Update reference_ids() in xtask/src/catalogue.rs",
            path.display()
        ));
        return;
    }
    for id in expected_set.difference(&found_set) {
        report.errors.push(format!(
            "{id}: in the built-in list but not in {}; update FAMILIES in xtask/src/catalogue.rs and the row",
            path.display()
        ));
    }
    for id in found_set.difference(&expected_set) {
        report.errors.push(format!(
            "{id}: in {} but not in the built-in list; update FAMILIES in xtask/src/catalogue.rs and add its row",
            path.display()
        ));
    }
}

/// Where `fn name` is declared in `source` (a whole word: not `fn name_more`), as a line index.
fn find_fn(source: &str, name: &str) -> Option<usize> {
    source.lines().position(|line| {
        let code = line.trim_start();
        if code.starts_with("//") {
            return false;
        }
        let mut rest = code;
        // `pub fn`, `async fn`, `pub(crate) async fn`, …
        while let Some(i) = rest.find("fn ") {
            let before_ok =
                i == 0 || !rest[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
            let after = &rest[i + 3..];
            if before_ok
                && let Some(tail) = after.strip_prefix(name)
                && !tail.starts_with(|c: char| c.is_alphanumeric() || c == '_')
            {
                return true;
            }
            rest = &rest[i + 3..];
        }
        false
    })
}

/// Whether the attributes right above line `at` include `#[ignore`.
fn is_ignored(source: &str, at: usize) -> bool {
    let lines: Vec<&str> = source.lines().collect();
    lines[..at.min(lines.len())]
        .iter()
        .rev()
        .map(|l| l.trim())
        .take_while(|l| l.starts_with("#[") || l.starts_with("///") || l.starts_with("//"))
        .any(|l| l.starts_with("#[ignore"))
}

/// Every named test exists, is named after its row, and runs.
fn check_tests(rows: &[Row], read: &dyn Fn(&str) -> Option<String>, report: &mut Report) {
    let mut cache: BTreeMap<String, Option<String>> = BTreeMap::new();
    for row in rows {
        let prefix = test_prefix(&row.id);
        for test in &row.tests {
            let TestRef::Test { file, name } = test else {
                let message = format!(
                    "{} (line {}): TODO — write a test named {prefix}… and list it",
                    row.id, row.line
                );
                if ALLOW_TODO {
                    report.warnings.push(message);
                } else {
                    report.errors.push(message);
                }
                continue;
            };
            if !name.starts_with(&prefix) {
                report.errors.push(format!(
                    "{} (line {}): test {name} must be named after its row: rename it to {prefix}…",
                    row.id, row.line
                ));
            }
            let source = cache.entry(file.clone()).or_insert_with(|| read(file));
            let Some(source) = source else {
                report.errors.push(format!(
                    "{} (line {}): {file} does not exist; fix the path (relative to the workspace root)",
                    row.id, row.line
                ));
                continue;
            };
            match find_fn(source, name) {
                None => report.errors.push(format!(
                    "{} (line {}): no `fn {name}` in {file}; fix the name or the file in {CATALOGUE}",
                    row.id, row.line
                )),
                Some(at) if is_ignored(source, at) => report.warnings.push(format!(
                    "{} (line {}): {file}::{name} is #[ignore]d, so it proves nothing until it runs",
                    row.id, row.line
                )),
                Some(_) => {}
            }
        }
    }
}

/// The `.rs` files of the workspace (relative paths), skipping build output.
fn rust_files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path: PathBuf = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !SKIP_DIRS.contains(&name.as_str()) && !name.starts_with('.') {
                    dirs.push(path);
                }
            } else if name.ends_with(".rs")
                && let Ok(relative) = path.strip_prefix(root)
            {
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// The `fn <family>_<n>_…` names in `source`.
fn id_named_fns(source: &str) -> Vec<(String, String)> {
    let families: Vec<String> = FAMILIES
        .iter()
        .map(|(f, _)| f.to_ascii_lowercase())
        .collect();
    let mut out = Vec::new();
    for line in source.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(i) = rest.find("fn ") {
            let after = &rest[i + 3..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let mut parts = name.splitn(3, '_');
            if let (Some(family), Some(number), Some(_)) =
                (parts.next(), parts.next(), parts.next())
                && families.iter().any(|f| f == family)
                && !number.is_empty()
                && number.chars().all(|c| c.is_ascii_digit())
            {
                out.push((
                    format!("{}-{number}", family.to_ascii_uppercase()),
                    name.clone(),
                ));
            }
            rest = after;
        }
    }
    out
}

/// Warns about tests named like a fault ID that the index does not list.
fn check_unlisted(
    rows: &[Row],
    expected: &[String],
    files: &[String],
    root: &Path,
    report: &mut Report,
) {
    let listed: BTreeSet<(&str, &str)> = rows
        .iter()
        .flat_map(|r| r.tests.iter())
        .filter_map(|t| match t {
            TestRef::Test { file, name } => Some((file.as_str(), name.as_str())),
            TestRef::Todo => None,
        })
        .collect();
    let known: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
    for file in files.iter().filter(|f| *f != THIS_FILE) {
        let Ok(source) = std::fs::read_to_string(root.join(file)) else {
            continue;
        };
        for (id, name) in id_named_fns(&source) {
            if !known.contains(id.as_str()) {
                report.warnings.push(format!(
                    "{file}::{name} is named like fault {id}, which does not exist; rename it"
                ));
            } else if !listed.contains(&(file.as_str(), name.as_str())) {
                report.warnings.push(format!(
                    "{file}::{name} is not listed under {id} in {CATALOGUE}; add it to the row"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "# Catalogue\n\n## TR\n\n| ID | Expected behaviour | Tests |\n|---|---|---|\n";

    fn parsed(text: &str) -> (Vec<Row>, Report) {
        let mut report = Report::default();
        let rows = parse(text, &mut report);
        (rows, report)
    }

    /// A complete, valid index: every ID with one test `<id>_works` in `t.rs`.
    fn complete() -> String {
        let mut text = String::from(HEADER);
        for id in expected_ids() {
            text.push_str(&format!(
                "| {id} | Does the thing. | `a/t.rs::{}works` |\n",
                test_prefix(&id)
            ));
        }
        text
    }

    fn complete_source() -> String {
        expected_ids()
            .iter()
            .map(|id| format!("#[test]\nfn {}works() {{}}\n", test_prefix(id)))
            .collect()
    }

    fn check_all(text: &str, source: &str) -> Report {
        let mut report = Report::default();
        let rows = parse(text, &mut report);
        check_ids(&rows, &expected_ids(), &mut report);
        let source = source.to_owned();
        check_tests(
            &rows,
            &|file| (file == "a/t.rs").then(|| source.clone()),
            &mut report,
        );
        report
    }

    #[test]
    fn the_built_in_list_has_104_ids_in_order() {
        let ids = expected_ids();
        assert_eq!(ids.len(), 104);
        assert_eq!(ids.first().map(String::as_str), Some("TR-1"));
        assert_eq!(ids.get(20).map(String::as_str), Some("TE-1"));
        assert_eq!(ids.last().map(String::as_str), Some("SEC-7"));
        assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 104);
    }

    #[test]
    fn ids_and_prefixes() {
        for ok in ["TR-1", "SEC-7", "CLK-5", "TE-14"] {
            assert!(is_id(ok), "{ok}");
        }
        for bad in ["TR1", "tr-1", "TR-", "-1", "TR-01", "TR-1a", "ID", "T R-1"] {
            assert!(!is_id(bad), "{bad}");
        }
        assert_eq!(test_prefix("TE-14"), "te_14_");
        assert_eq!(test_prefix("CLK-2"), "clk_2_");
    }

    #[test]
    fn table_cells_split_on_unescaped_bars() {
        assert_eq!(
            cells("| TR-1 | a \\| b | `x.rs::tr_1_y` |"),
            Some(vec![
                "TR-1".to_owned(),
                "a | b".to_owned(),
                "`x.rs::tr_1_y`".to_owned()
            ])
        );
        assert_eq!(cells("not a table"), None);
    }

    #[test]
    fn a_complete_index_passes() {
        let report = check_all(&complete(), &complete_source());
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    }

    #[test]
    fn rows_with_several_tests_and_todo_are_parsed() {
        let text = format!(
            "{HEADER}| TR-1 | x | `a/t.rs::tr_1_a`<br>`b/u.rs::tr_1_b`, `c/v.rs::tr_1_c` |\n| TR-2 | y | TODO |\n"
        );
        let (rows, report) = parsed(&text);
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].tests.len(), 3);
        assert_eq!(
            rows[0].tests[1],
            TestRef::Test {
                file: "b/u.rs".into(),
                name: "tr_1_b".into()
            }
        );
        assert_eq!(rows[1].tests, vec![TestRef::Todo]);
        assert_eq!(rows[1].line, 8);
    }

    #[test]
    fn missing_duplicate_unknown_and_misordered_ids_are_errors() {
        let text = complete()
            .replace("| TE-3 |", "| TE-99 |")
            .replace("| CB-2 |", "| CB-1 |")
            + "| TR-5 | late | `a/t.rs::tr_5_works` |\n";
        let report = check_all(&text, &complete_source());
        let all = report.errors.join("\n");
        assert!(all.contains("TE-3: missing"), "{all}");
        assert!(all.contains("CB-2: missing"), "{all}");
        assert!(
            all.contains("TE-99") && all.contains("not a fault ID of the research"),
            "{all}"
        );
        assert!(
            all.contains("CB-1") && all.contains("listed again"),
            "{all}"
        );
        assert!(
            all.contains("TR-5") && all.contains("out of order"),
            "{all}"
        );
    }

    #[test]
    fn malformed_rows_and_test_references_are_errors() {
        let text = format!(
            "{HEADER}| TR-1 | x |\n| TR-2 | | `a/t.rs::tr_2_a` |\n| TR-3 | y | tr_3_a |\n| TR-4 | y | `/abs/t.rs::tr_4_a` |\n| TR-5 | y | |\n| XX | y | z |\n"
        );
        let (_, report) = parsed(&text);
        let all = report.errors.join("\n");
        assert!(all.contains("TR-1 (line 7): 2 cells"), "{all}");
        assert!(
            all.contains("TR-2 (line 8): no expected behaviour"),
            "{all}"
        );
        assert!(
            all.contains("TR-3 (line 9): \"tr_3_a\" is not a test reference"),
            "{all}"
        );
        assert!(all.contains("TR-4 (line 10)"), "{all}");
        assert!(all.contains("TR-5 (line 11): no test named"), "{all}");
        assert!(
            all.contains("line 12: a table row whose first cell \"XX\""),
            "{all}"
        );
    }

    #[test]
    fn tests_must_exist_and_be_named_after_their_row() {
        let text = complete()
            // TE-1's test named for TE-14: `te_14_` does not start with `te_1_`.
            .replace("`a/t.rs::te_1_works`", "`a/t.rs::te_14_works`")
            .replace("`a/t.rs::te_2_works`", "`a/gone.rs::te_2_works`")
            .replace("`a/t.rs::te_3_works`", "`a/t.rs::te_3_works_not`");
        let report = check_all(&text, &complete_source());
        let all = report.errors.join("\n");
        assert!(
            all.contains("TE-1 (line") && all.contains("rename it to te_1_"),
            "{all}"
        );
        assert!(
            all.contains("TE-2") && all.contains("a/gone.rs does not exist"),
            "{all}"
        );
        assert!(
            all.contains("TE-3") && all.contains("no `fn te_3_works_not`"),
            "{all}"
        );
        assert_eq!(report.errors.len(), 3, "{all}");
    }

    #[test]
    fn todo_is_a_warning_while_allowed() {
        let text = complete().replace("`a/t.rs::rt_2_works`", "TODO");
        let report = check_all(&text, &complete_source());
        let todo = "RT-2 (line 71): TODO — write a test named rt_2_… and list it";
        if ALLOW_TODO {
            assert!(report.errors.is_empty(), "{:?}", report.errors);
            assert_eq!(report.warnings, vec![todo.to_owned()]);
        } else {
            assert_eq!(report.errors, vec![todo.to_owned()]);
        }
    }

    #[test]
    fn fn_lookup_matches_whole_names_only() {
        let source = "// fn tr_1_commented() {}\n#[tokio::test]\nasync fn tr_1_a_b() {}\npub(crate) fn tr_2_x<T>() {}\nfn tr_3_longer() {}\n";
        assert_eq!(find_fn(source, "tr_1_a_b"), Some(2));
        assert_eq!(find_fn(source, "tr_2_x"), Some(3));
        assert_eq!(find_fn(source, "tr_3_long"), None);
        assert_eq!(find_fn(source, "tr_1_commented"), None);
        assert_eq!(find_fn(source, "tr_1_a"), None);
    }

    #[test]
    fn ignored_tests_are_a_warning() {
        let text = complete();
        let source = complete_source().replace(
            "#[test]\nfn sec_4_works",
            "#[test]\n#[ignore = \"later\"]\nfn sec_4_works",
        );
        let report = check_all(&text, &source);
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
        assert!(report.warnings[0].contains("sec_4_works is #[ignore]d"));
    }

    #[test]
    fn the_reference_section_4_is_read_up_to_the_next_section() {
        let text = "## 3. Other\n| TR-99 | not here |\n## 4. Fault-injection test plan\n### F-TR\n| ID | Injected fault | Expected |\n|---|---|---|\n| TR-1 | a | b |\n| TR-2 | a \\| c | b |\n### F-SEC\n| SEC-1 | x | y |\n## 5. Sources\n| TE-1 | no | no |\n";
        assert_eq!(reference_ids(text), ["TR-1", "TR-2", "SEC-1"]);
        let mut report = Report::default();
        check_reference(
            &reference_ids(text),
            &["TR-1".to_owned(), "TR-2".to_owned(), "TR-3".to_owned()],
            Path::new("r.md"),
            &mut report,
        );
        let all = report.errors.join("\n");
        assert!(
            all.contains("TR-3: in the built-in list but not in r.md"),
            "{all}"
        );
        assert!(
            all.contains("SEC-1: in r.md but not in the built-in list"),
            "{all}"
        );
        let mut report = Report::default();
        check_reference(&[], &["TR-1".to_owned()], Path::new("r.md"), &mut report);
        assert!(report.errors[0].contains("no fault IDs found"));
    }

    #[test]
    fn id_named_functions_are_found_for_the_unlisted_scan() {
        let source = "fn te_14_a() {}\nasync fn te_200_with_an_error() {}\nfn tee_1_x() {}\nfn clk_2_y() {}\n// fn sec_1_z() {}\nfn te_lenient() {}\nfn cb_3() {}\n";
        assert_eq!(
            id_named_fns(source),
            vec![
                ("TE-14".to_owned(), "te_14_a".to_owned()),
                ("TE-200".to_owned(), "te_200_with_an_error".to_owned()),
                ("CLK-2".to_owned(), "clk_2_y".to_owned()),
            ]
        );
    }

    /// The real index of this workspace passes (warnings allowed).
    #[test]
    fn the_workspace_catalogue_is_consistent() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        if let Err(e) = run(&root) {
            panic!("{e}");
        }
    }
}
