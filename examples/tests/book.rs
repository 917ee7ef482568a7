//! Every `{{#include file:anchor}}` in the book names a file and an anchor
//! that exist, so the book shows code the tests compile and run.

use std::path::{Path, PathBuf};

fn chapters(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            chapters(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

#[test]
fn book_includes_resolve() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src");
    let mut files = Vec::new();
    chapters(&root, &mut files);
    let mut includes = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (_, rest) in text
            .match_indices("{{#include ")
            .map(|(i, _)| ((), &text[i + 11..]))
        {
            let spec = &rest[..rest.find("}}").unwrap()];
            let (path, anchor) = spec.split_once(':').unwrap_or((spec, ""));
            let target = file.parent().unwrap().join(path);
            let code = std::fs::read_to_string(&target)
                .unwrap_or_else(|e| panic!("{}: {path}: {e}", file.display()));
            if !anchor.is_empty() {
                assert!(
                    code.contains(&format!("ANCHOR: {anchor}\n"))
                        && code.contains(&format!("ANCHOR_END: {anchor}\n")),
                    "{}: anchor {anchor} missing in {path}",
                    file.display()
                );
            }
            includes += 1;
        }
    }
    assert!(includes >= 10, "found only {includes} includes");
}
