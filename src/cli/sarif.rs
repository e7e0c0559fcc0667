//! `ipt lint --format sarif`: a SARIF 2.1.0 log, for code scanning.

use serde_json::{Value, json};

use super::lint::split_code;
use crate::diag::{Diagnostic, Severity, render_json};
use crate::lint::{Level, rules};

/// A SARIF log being built: one run of ipt.
pub struct Log {
    rules: Vec<Value>,
    rule_ids: Vec<String>,
    results: Vec<Value>,
    notifications: Vec<Value>,
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Advice => "note",
    }
}

/// A file name as a SARIF `uri`: `file:///...` for an absolute path, else a relative reference;
/// both with `/` between segments and anything outside RFC 3986's unreserved and sub-delims
/// characters percent-encoded.
pub fn file_uri(path: &str) -> String {
    let mut out = String::new();
    let path = path.replace('\\', "/");
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => out.push(b as char),
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' | b':' | b'@' => {
                out.push(b as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn region(line: u32, column: u32, end_line: u32, end_column: u32) -> Value {
    // SARIF's end column is exclusive, as ours is
    json!({ "startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column.max(column) })
}

impl Log {
    pub fn new() -> Log {
        let mut log = Log { rules: Vec::new(), rule_ids: Vec::new(), results: Vec::new(), notifications: Vec::new() };
        for lint in rules::ALL {
            let default = match lint.category.default_level() {
                Level::Allow => "none",
                Level::Warn => "warning",
                Level::Error => "error",
            };
            log.rule_ids.push(lint.code.to_string());
            log.rules.push(json!({
                "id": lint.code,
                "name": lint.name,
                "shortDescription": { "text": lint.summary() },
                "help": { "text": lint.docs(), "markdown": lint.docs() },
                "defaultConfiguration": { "level": default },
                "properties": { "tags": [lint.category.as_str()] },
            }));
        }
        log
    }

    /// The index of a rule, added on first use for codes that are not lints (`ipt check`'s).
    fn rule_index(&mut self, id: &str, message: &str) -> usize {
        if let Some(i) = self.rule_ids.iter().position(|r| r == id) {
            return i;
        }
        self.rule_ids.push(id.to_string());
        self.rules.push(json!({ "id": id, "shortDescription": { "text": message } }));
        self.rules.len() - 1
    }

    pub fn add(&mut self, diagnostics: &[Diagnostic]) {
        for d in diagnostics {
            let j = render_json(d);
            let (code, _) = split_code(&j.code);
            let index = self.rule_index(&code, &j.message);
            let text = match &j.help {
                Some(help) => format!("{} ({help})", j.message),
                None => j.message.clone(),
            };
            let uri = file_uri(&j.file);
            let artifact = json!({ "uri": uri });
            let mut location = json!({ "physicalLocation": { "artifactLocation": artifact } });
            if let Some(at) = &j.at {
                location["physicalLocation"]["region"] = region(at.line, at.column, at.end_line, at.end_column);
            }
            let related: Vec<Value> = j
                .labels
                .iter()
                .skip(1)
                .enumerate()
                .map(|(i, l)| {
                    json!({
                        "id": i,
                        "physicalLocation": {
                            "artifactLocation": { "uri": uri },
                            "region": region(l.line, l.column, l.end_line, l.end_column),
                        },
                        "message": { "text": l.text.clone().unwrap_or_default() },
                    })
                })
                .collect();
            let mut result = json!({
                "ruleId": code,
                "ruleIndex": index,
                "level": level(j.severity),
                "message": { "text": text },
                "locations": [location],
            });
            if !related.is_empty() {
                result["relatedLocations"] = Value::Array(related);
            }
            self.results.push(result);
        }
    }

    /// A file that could not be read.
    pub fn notification(&mut self, file: &str, message: &str) {
        self.notifications.push(json!({
            "level": "error",
            "message": { "text": format!("{file}: {message}") },
            "locations": [{ "physicalLocation": { "artifactLocation": { "uri": file_uri(file) } } }],
        }));
    }

    pub fn finish(self) -> Value {
        let mut run = json!({
            "tool": { "driver": {
                "name": "ipt",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": self.rules,
            } },
            "results": self.results,
        });
        if !self.notifications.is_empty() {
            run["invocations"] =
                json!([{ "executionSuccessful": false, "toolExecutionNotifications": self.notifications }]);
        }
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [run],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::file_uri;

    #[test]
    fn file_names_become_uris() {
        assert_eq!(file_uri("rules.v4"), "rules.v4");
        assert_eq!(file_uri("/etc/iptables/rules.v4"), "file:///etc/iptables/rules.v4");
        assert_eq!(file_uri("a dir/r#1.rules"), "a%20dir/r%231.rules");
        assert_eq!(file_uri("cleaned,hairpin=false.golden"), "cleaned,hairpin=false.golden");
        assert_eq!(file_uri("<stdin>"), "%3Cstdin%3E");
    }
}
