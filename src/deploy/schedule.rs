//! Which stacks may start now: dependencies first, independent stacks side by side, up to a
//! concurrency limit, and nothing that depends on a failed stack. Pure, so the order is tested
//! without a cloud; deploy uses it as given, destroy over the reversed graph.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Waiting,
    Running,
    Done,
    Failed,
    Skipped,
}

/// The progress of a multi-stack operation.
///
/// ```
/// use ordersctl::deploy::Schedule;
/// let mut s = Schedule::new([
///     ("Data", vec![]),
///     ("Services", vec!["Data"]),
///     ("Api", vec!["Services"]),
///     ("Other", vec![]),
/// ]);
/// assert_eq!(s.next(4), ["Data", "Other"]);
/// s.finish("Data", true);
/// assert_eq!(s.next(4), ["Services"]);
/// assert_eq!(s.finish("Services", false), ["Api"]); // Api is skipped
/// s.finish("Other", true);
/// assert!(s.is_over());
/// ```
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Stack -> the stacks it waits for (only those in the operation), in the given order.
    stacks: Vec<(String, Vec<String>)>,
    slots: BTreeMap<String, Slot>,
}

impl Schedule {
    /// Stacks in a stable order (the assembly's), each with what it depends on. Dependencies
    /// outside the set are taken as already in place.
    pub fn new<N, D>(stacks: impl IntoIterator<Item = (N, Vec<D>)>) -> Schedule
    where
        N: Into<String>,
        D: Into<String>,
    {
        let stacks: Vec<(String, Vec<String>)> = stacks
            .into_iter()
            .map(|(n, d)| (n.into(), d.into_iter().map(Into::into).collect()))
            .collect();
        let slots = stacks
            .iter()
            .map(|(n, _)| (n.clone(), Slot::Waiting))
            .collect();
        let mut s = Schedule { stacks, slots };
        for (_, deps) in s.stacks.iter_mut() {
            deps.retain(|d| s.slots.contains_key(d));
        }
        s
    }

    /// The same stacks with every edge turned around: a stack may go once everything that
    /// depends on it has gone (destroy).
    pub fn reversed(&self) -> Schedule {
        let stacks = self.stacks.iter().rev().map(|(name, _)| {
            let dependents: Vec<String> = self
                .stacks
                .iter()
                .filter(|(_, deps)| deps.contains(name))
                .map(|(n, _)| n.clone())
                .collect();
            (name.clone(), dependents)
        });
        Schedule::new(stacks.collect::<Vec<_>>())
    }

    /// Start what may start: stacks whose dependencies are all done, while fewer than
    /// `limit` (at least 1) are running. The returned stacks count as running.
    pub fn next(&mut self, limit: usize) -> Vec<String> {
        let mut free = limit.max(1).saturating_sub(self.running().len());
        let mut started = Vec::new();
        for (name, deps) in &self.stacks {
            if free == 0 {
                break;
            }
            let ready = self.slots[name] == Slot::Waiting
                && deps.iter().all(|d| self.slots[d] == Slot::Done);
            if ready {
                started.push(name.clone());
                free -= 1;
            }
        }
        for n in &started {
            self.slots.insert(n.clone(), Slot::Running);
        }
        started
    }

    /// Record how a running stack ended. On failure, returns the stacks that will now never
    /// start because they depend on it, directly or not.
    pub fn finish(&mut self, name: &str, ok: bool) -> Vec<String> {
        self.slots
            .insert(name.to_string(), if ok { Slot::Done } else { Slot::Failed });
        let mut skipped = Vec::new();
        if ok {
            return skipped;
        }
        loop {
            let blocked: Vec<String> = self
                .stacks
                .iter()
                .filter(|(n, deps)| {
                    self.slots[n] == Slot::Waiting
                        && deps
                            .iter()
                            .any(|d| matches!(self.slots[d], Slot::Failed | Slot::Skipped))
                })
                .map(|(n, _)| n.clone())
                .collect();
            if blocked.is_empty() {
                return skipped;
            }
            for n in blocked {
                self.slots.insert(n.clone(), Slot::Skipped);
                skipped.push(n);
            }
        }
    }

    /// The stacks started and not finished, in the given order.
    pub fn running(&self) -> Vec<String> {
        self.stacks
            .iter()
            .filter(|(n, _)| self.slots[n] == Slot::Running)
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Nothing runs and nothing more can start.
    pub fn is_over(&self) -> bool {
        self.slots
            .values()
            .all(|s| !matches!(s, Slot::Waiting | Slot::Running))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn omni() -> Schedule {
        Schedule::new([
            ("OrderPipeline", vec![]),
            ("OmniData", vec![]),
            ("OmniServices", vec!["OmniData"]),
            ("OmniApi", vec!["OmniData", "OmniServices"]),
        ])
    }

    #[test]
    fn dependencies_first_independent_stacks_together() {
        let mut s = omni();
        assert_eq!(s.next(4), ["OrderPipeline", "OmniData"]);
        assert!(s.next(4).is_empty(), "OmniServices waits for OmniData");
        s.finish("OmniData", true);
        assert_eq!(s.next(4), ["OmniServices"]);
        s.finish("OmniServices", true);
        assert_eq!(s.next(4), ["OmniApi"]);
        s.finish("OmniApi", true);
        assert!(!s.is_over(), "OrderPipeline still runs");
        s.finish("OrderPipeline", true);
        assert!(s.is_over());
    }

    #[test]
    fn the_limit_caps_what_runs_at_once() {
        let none = Vec::<String>::new;
        let mut s = Schedule::new([("A", none()), ("B", none()), ("C", none())]);
        assert_eq!(s.next(1), ["A"]);
        assert!(s.next(1).is_empty());
        s.finish("A", true);
        assert_eq!(s.next(2), ["B", "C"]);
        assert_eq!(s.running(), ["B", "C"]);
        // A limit of 0 still makes progress.
        let mut z = Schedule::new([("A", Vec::<String>::new())]);
        assert_eq!(z.next(0), ["A"]);
    }

    #[test]
    fn a_failure_skips_its_dependents_transitively_and_nothing_else() {
        let mut s = omni();
        s.next(4);
        assert_eq!(s.finish("OmniData", false), ["OmniServices", "OmniApi"]);
        assert!(s.next(4).is_empty());
        assert!(!s.is_over());
        assert!(s.finish("OrderPipeline", true).is_empty());
        assert!(s.is_over());
    }

    #[test]
    fn reversed_deletes_dependents_first() {
        let mut s = omni().reversed();
        assert_eq!(s.next(4), ["OmniApi", "OrderPipeline"]);
        s.finish("OmniApi", true);
        assert_eq!(s.next(4), ["OmniServices"]);
        s.finish("OmniServices", true);
        assert_eq!(s.next(4), ["OmniData"]);
    }

    #[test]
    fn dependencies_outside_the_operation_are_taken_as_in_place() {
        let mut s = Schedule::new([("OmniApi", vec!["OmniData"])]);
        assert_eq!(s.next(4), ["OmniApi"]);
    }
}
