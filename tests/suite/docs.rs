//! The examples in README.md and docs/*.md are run: every ```` ```console ```` block holds
//! `$ command` lines, each followed by what it prints (standard output and error together), and
//! `? N` first when it exits with N rather than 0. Commands run from the repository root with
//! the `ipt` under test first on `PATH`, without colour, 100 columns wide.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::support::root;

struct Example {
    file: String,
    line: usize,
    command: String,
    code: i32,
    output: String,
}

fn examples(path: &Path) -> Vec<Example> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = path.strip_prefix(root()).unwrap_or(path).display().to_string();
    let mut examples: Vec<Example> = Vec::new();
    let mut in_console = false;
    for (i, line) in text.lines().enumerate() {
        if !in_console {
            in_console = line.trim_end() == "```console";
            continue;
        }
        if line.trim_end() == "```" {
            in_console = false;
        } else if let Some(command) = line.strip_prefix("$ ") {
            examples.push(Example {
                file: file.clone(),
                line: i + 1,
                command: command.to_string(),
                code: 0,
                output: String::new(),
            });
        } else {
            let example = examples.last_mut().unwrap_or_else(|| panic!("{file}:{}: output before any `$ `", i + 1));
            match line.strip_prefix("? ") {
                Some(code) if example.output.is_empty() => {
                    example.code = code.parse().unwrap_or_else(|_| panic!("{file}:{}: `? N` needs a number", i + 1));
                }
                _ => {
                    example.output.push_str(line);
                    example.output.push('\n');
                }
            }
        }
    }
    assert!(!in_console, "{file}: a console block is not closed");
    examples
}

fn documents() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .map(|e| e.expect("a docs entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// Lines without trailing blanks, as an editor keeps a Markdown file.
fn normalise(text: &str) -> String {
    text.lines().map(str::trim_end).collect::<Vec<_>>().join("\n").trim_end().to_string()
}

#[test]
fn every_console_example_prints_what_the_docs_say() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_ipt"));
    let path = format!(
        "{}:{}",
        bin.parent().expect("the binary's directory").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut failures = Vec::new();
    let mut count = 0;
    for doc in documents() {
        for example in examples(&doc) {
            count += 1;
            let out = Command::new("sh")
                .args(["-c", &format!("{} 2>&1", example.command)])
                .current_dir(root())
                .env("PATH", &path)
                .env("NO_COLOR", "1")
                .env("COLUMNS", "100")
                .output()
                .expect("sh runs");
            let code = out.status.code().unwrap_or(-1);
            let printed = String::from_utf8_lossy(&out.stdout);
            if code != example.code || normalise(&printed) != normalise(&example.output) {
                failures.push(format!(
                    "{}:{}: `{}`\n--- documented (exit {})\n{}\n--- printed (exit {code})\n{}",
                    example.file,
                    example.line,
                    example.command,
                    example.code,
                    example.output.trim_end(),
                    printed.trim_end()
                ));
            }
        }
    }
    assert!(count >= 5, "only {count} console examples in the docs");
    assert!(failures.is_empty(), "{} examples differ:\n\n{}", failures.len(), failures.join("\n\n"));
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_diagnostic_code_is_documented() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let docs: String = documents().iter().map(|p| std::fs::read_to_string(p).expect("a document")).collect();
    let mut codes = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a source file");
        for (at, _) in text.match_indices("code(ipt::") {
            let code: String =
                text[at + 5..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '_').collect();
            codes.push(code);
        }
    }
    codes.sort();
    codes.dedup();
    assert!(codes.len() > 50, "found only {} codes", codes.len());
    let missing: Vec<&String> = codes.iter().filter(|c| !docs.contains(&format!("`{c}`"))).collect();
    assert!(missing.is_empty(), "no document lists {missing:?}");
}
