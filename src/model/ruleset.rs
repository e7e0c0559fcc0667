use serde::Serialize;

use super::{Family, Table, TableName};

/// Everything one input holds: its tables, in the order they appear.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Ruleset {
    pub tables: Vec<Table>,
    /// `#` lines outside any table (file headers and trailers), with the index of the table they
    /// come before (`tables.len()` for the end of the file).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<(usize, Box<str>)>,
}

impl Ruleset {
    pub fn table(&self, family: Family, name: TableName) -> Option<&Table> {
        self.tables.iter().find(|t| t.family == family && t.name == name)
    }

    pub fn rule_count(&self) -> usize {
        self.tables.iter().map(Table::rule_count).sum()
    }

    /// The families present, in order.
    pub fn families(&self) -> Vec<Family> {
        let mut families: Vec<Family> = self.tables.iter().map(|t| t.family).collect();
        families.sort();
        families.dedup();
        families
    }
}
