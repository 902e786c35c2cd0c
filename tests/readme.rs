//! The README's table of error classes is the code's: every `ErrorClass`, in order, with its
//! retryability, and nothing else.

use fleet_core::ErrorClass;
use fleet_testkit::workspace_root;

#[test]
fn the_error_class_table_matches_the_code() {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let section = readme
        .split("## Error classes")
        .nth(1)
        .unwrap_or_else(|| panic!("README has no '## Error classes' section"));
    let rows: Vec<(String, String)> = section
        .lines()
        .skip_while(|l| !l.starts_with("| Class"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_owned(), cells[3].to_owned())
        })
        .collect();
    let expected: Vec<(String, String)> = ErrorClass::ALL
        .iter()
        .map(|c| {
            let retryable = if c.is_retryable() { "yes" } else { "no" };
            (c.as_str().to_owned(), retryable.to_owned())
        })
        .collect();
    assert_eq!(rows, expected);
}

/// The README's "Every function locally" table is the list the `cargo lambda watch` test and the
/// cold-start benchmark run (`fleet_local::fleet::FLEET`), row for row.
#[test]
fn the_every_function_table_matches_what_the_tests_run() {
    use fleet_local::fleet::{Expect, FLEET};
    let answer = |expect: Expect| match expect {
        Expect::Response(None) => "a response".to_owned(),
        Expect::Response(Some(status)) => format!("HTTP {status}"),
        Expect::Error(kind) => format!("error `{kind}`"),
    };
    let expected: Vec<String> = FLEET
        .iter()
        .map(|f| {
            let vars: Vec<String> = f.env.iter().map(|(k, v)| format!("`{k}={v}`")).collect();
            let offline = f.offline_sample.map_or_else(
                || "—".to_owned(),
                |(sample, expect)| format!("`events/{sample}`: {}", answer(expect)),
            );
            format!(
                "| `{}` | {} | `events/{}` | {} | {offline} |",
                f.binary,
                vars.join(" "),
                f.sample,
                answer(f.expect)
            )
        })
        .collect();
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let section = readme
        .split("### Every function locally")
        .nth(1)
        .unwrap_or_else(|| panic!("README has no '### Every function locally' section"));
    let rows: Vec<String> = section
        .lines()
        .skip_while(|l| !l.starts_with("| Function"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(str::to_owned)
        .collect();
    assert_eq!(rows, expected, "expected rows:\n{}", expected.join("\n"));
}

/// The README's fault and duplicate-delivery tables name their tests: every name in their last
/// column is a test function of the workspace, so a renamed or deleted test cannot leave a row
/// unbacked.
#[test]
fn every_test_named_in_the_fault_and_duplicate_tables_exists() {
    let root = workspace_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = |title: &str| -> String {
        readme
            .split(title)
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .unwrap_or_else(|| panic!("README has no {title:?} section"))
            .to_owned()
    };
    let mut named = Vec::new();
    for (title, column) in [("### Faults\n", 4), ("### Duplicate deliveries\n", 2)] {
        let text = section(title);
        let rows = text
            .lines()
            .skip_while(|l| !l.starts_with("| function"))
            .skip(2)
            .take_while(|l| l.starts_with('|'));
        for row in rows {
            let cell = row.split('|').nth(column).unwrap_or_default();
            named.extend(cell.split('`').skip(1).step_by(2).map(str::to_owned));
        }
    }
    assert!(named.len() > 100, "{} names", named.len());
    let mut sources = String::new();
    let mut stack = vec![root.join("crates"), root.join("tests")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() && !path.ends_with("target") && !path.ends_with("node_modules") {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                sources.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let missing: Vec<&String> = named
        .iter()
        .filter(|name| !sources.contains(&format!("fn {name}(")))
        .collect();
    assert!(missing.is_empty(), "no such test: {missing:?}");
}
