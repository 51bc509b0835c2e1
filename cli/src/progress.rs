//! A progress bar on stderr for the runs that take longer than a second
//! (`bench`, `accuracy`, a large `apply`). indicatif hides it where stderr
//! is not a terminal, so pipes, logs and tests see only the results. Shared
//! by the CLI and `examples/{bench,accuracy}.rs` (included with `#[path]`).

#![allow(dead_code)] // each includer uses its own part

use std::fmt::Display;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// The bar, or a spinner where the amount of work is not known.
pub struct Progress(ProgressBar);

impl Progress {
    /// A bar over `total` units of work.
    pub fn new(total: u64) -> Progress {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] [{bar:30}] {percent:>3}% ~{eta} left  {wide_msg}",
            )
            .expect("a valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress(bar)
    }

    /// A spinner saying `what` (one long call of unknown length).
    pub fn spinner(what: impl Display) -> Progress {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                .expect("a valid template"),
        );
        bar.set_message(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress(bar)
    }

    /// `units` more done.
    pub fn inc(&self, units: u64) {
        self.0.inc(units);
    }

    /// What is being done now.
    pub fn set_message(&self, message: impl Display) {
        self.0.set_message(message.to_string());
    }

    /// Runs `f` (which prints) with the bar cleared from the terminal, then
    /// draws it again, so that the lines printed do not tear it.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.0.suspend(f)
    }

    /// `line` on stdout, above the bar.
    pub fn println(&self, line: impl Display) {
        self.suspend(|| println!("{line}"));
    }

    /// `line` on stderr, above the bar.
    pub fn eprintln(&self, line: impl Display) {
        self.suspend(|| eprintln!("{line}"));
    }
}

impl Progress {
    /// Removes the bar now (before a result goes to stdout).
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// Removes the bar.
impl Drop for Progress {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
