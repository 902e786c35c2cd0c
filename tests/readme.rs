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
