//! The table a per-variant check prints: one row a variant, printed as it is made so a
//! long tier shows its progress, then the whole table, then one failure listing every
//! variant that failed.

use std::{fmt, time::Instant};

use crate::helpers::{Failures, Variant};

/// The rows of one check and the failures behind them.
pub struct Table {
    title: String,
    header: String,
    rows: Vec<String>,
    failures: Failures,
}

impl Table {
    /// A table headed by `title` and the column names in `header` (`variant | ...`).
    pub fn new(title: impl Into<String>, header: &str) -> Self {
        Self {
            title: title.into(),
            header: header.to_owned(),
            rows: Vec::new(),
            failures: Failures::default(),
        }
    }

    /// The row `variant | cells`.
    pub fn row(&mut self, variant: &Variant, cells: impl fmt::Display) {
        let row = format!("{variant} | {cells}");
        println!("{row}");
        self.rows.push(row);
    }

    /// A row from a check's outcome: its cells, or `FAILED` with the error recorded.
    pub fn outcome(&mut self, variant: &Variant, outcome: Result<String, String>) {
        match outcome {
            Ok(cells) => self.row(variant, cells),
            Err(error) => {
                self.row(variant, "FAILED");
                self.failures.add(variant, error);
            }
        }
    }

    /// A row from `check`, which records its own failures, ended by the seconds it took.
    pub fn timed(&mut self, variant: &Variant, check: impl FnOnce(&mut Failures) -> String) {
        let started = Instant::now();
        let cells = check(&mut self.failures);
        let seconds = started.elapsed().as_secs();
        self.row(variant, format!("{cells} | {seconds}"));
    }

    /// Prints the table, then fails once with every failure, under the name `check`.
    pub fn finish(self, check: &str) {
        println!(
            "\n{}\n{}\n{}",
            self.title,
            self.header,
            self.rows.join("\n")
        );
        self.failures.assert_none(check);
    }
}

/// `pass` or `FAIL`, for a table cell.
pub fn verdict(passed: bool) -> &'static str {
    if passed { "pass" } else { "FAIL" }
}
