//! How deploy and destroy show what happens: plain timestamped lines, or on a terminal a
//! progress bar per stack (resources done / total) with the same lines printed above the bars.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::deploy::{Progress, ResourceChange};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Bars on a terminal, lines otherwise (CI logs, pipes, NO_COLOR has no bearing on this).
pub fn display() -> Box<dyn Progress> {
    if std::io::stderr().is_terminal() {
        Box::new(Bars::default())
    } else {
        Box::new(Lines)
    }
}

fn clock() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        % 86_400;
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

fn resource_line(stack: &str, logical_id: &str, status: &str) -> String {
    format!("{} {stack} {logical_id} {status}", clock())
}

fn change_lines(stack: &str, changes: &[ResourceChange]) -> Vec<String> {
    if changes.is_empty() {
        return vec![format!(
            "{} {stack}: the change set holds no resource changes",
            clock()
        )];
    }
    changes
        .iter()
        .map(|c| {
            let replace = match c.replacement.as_deref() {
                Some("True") => "  REPLACES the resource",
                Some("Conditional") => "  may replace the resource",
                _ => "",
            };
            format!(
                "{} {stack}: {:<7} {} ({}){replace}",
                clock(),
                c.action,
                c.logical_id,
                c.resource_type
            )
        })
        .collect()
}

fn note_line(stack: &str, message: &str) -> String {
    format!("{} {stack}: {message}", clock())
}

/// Plain timestamped lines on stderr (UTC time of day).
pub struct Lines;

impl Progress for Lines {
    fn resource(&self, stack: &str, logical_id: &str, status: &str) {
        errln!("{}", resource_line(stack, logical_id, status));
    }
    fn changes(&self, stack: &str, changes: &[ResourceChange]) {
        for l in change_lines(stack, changes) {
            errln!("{l}");
        }
    }
    fn note(&self, stack: &str, message: &str) {
        errln!("{}", note_line(stack, message));
    }
}

/// One indicatif bar per running stack; resources count as done once `_COMPLETE`.
pub struct Bars {
    multi: MultiProgress,
    bars: Mutex<BTreeMap<String, (ProgressBar, BTreeSet<String>)>>,
}

impl Default for Bars {
    fn default() -> Self {
        Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(BTreeMap::new()),
        }
    }
}

impl Bars {
    fn println(&self, line: &str) {
        // Printed above the bars; when they are hidden, straight to stderr.
        if self.multi.println(line).is_err() || self.multi.is_hidden() {
            errln!("{line}");
        }
    }
}

impl Progress for Bars {
    fn started(&self, stack: &str, total: usize) {
        let bar = self.multi.add(ProgressBar::new(total as u64));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>16} [{bar:30}] {pos}/{len} resources {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(stack.to_string());
        if let Ok(mut bars) = self.bars.lock() {
            bars.insert(stack.to_string(), (bar, BTreeSet::new()));
        }
    }
    fn finished(&self, stack: &str) {
        if let Some((bar, _)) = self.bars.lock().ok().and_then(|mut b| b.remove(stack)) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
    }
    fn resource(&self, stack: &str, logical_id: &str, status: &str) {
        self.println(&resource_line(stack, logical_id, status));
        if let Ok(mut bars) = self.bars.lock() {
            if let Some((bar, done)) = bars.get_mut(stack) {
                if status.ends_with("_COMPLETE") {
                    done.insert(logical_id.to_string());
                }
                bar.set_position(done.len() as u64);
                bar.set_message(status.to_string());
            }
        }
    }
    fn changes(&self, stack: &str, changes: &[ResourceChange]) {
        for l in change_lines(stack, changes) {
            self.println(&l);
        }
    }
    fn note(&self, stack: &str, message: &str) {
        self.println(&note_line(stack, message));
    }
}
