//! Which part of an export a stream has committed: a contiguous frontier plus ranges
//! beyond it that parallel slices have finished. Saved in the state so that a resumed sync
//! emits exactly what is missing.

/// A position in the export order: (time in the export's cursor units, id), e.g. (a chat's
/// `update_timestamp` second, its id) or (a timeline entry's µs, its agent). An empty id sorts
/// before every chat of that second.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub secs: i64,
    pub id: String,
}

impl Position {
    pub fn start_of(secs: i64) -> Self {
        Self {
            secs,
            id: String::new(),
        }
    }
}

/// Everything at or before `frontier`, plus every position in each `(after, through]` range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub frontier: Position,
    pub ranges: Vec<(Position, Position)>,
}

impl Coverage {
    pub fn up_to(frontier: Position) -> Self {
        Self {
            frontier,
            ranges: Vec::new(),
        }
    }

    /// True when the chat at `p` is already committed.
    pub fn contains(&self, p: &Position) -> bool {
        *p <= self.frontier || self.ranges.iter().any(|(a, b)| a < p && p <= b)
    }

    /// Adds `(after, through]` and merges what touches.
    pub fn add(&mut self, after: Position, through: Position) {
        if through > after {
            self.ranges.push((after, through));
        }
        self.normalize();
    }

    fn normalize(&mut self) {
        self.ranges.sort();
        let mut merged: Vec<(Position, Position)> = Vec::with_capacity(self.ranges.len());
        for (a, b) in self.ranges.drain(..) {
            if a <= self.frontier {
                if b > self.frontier {
                    self.frontier = b;
                }
                continue;
            }
            match merged.last_mut() {
                Some((_, last_b)) if a <= *last_b => {
                    if b > *last_b {
                        *last_b = b;
                    }
                }
                _ => merged.push((a, b)),
            }
        }
        // A merged range may now touch the frontier.
        let mut rest = Vec::with_capacity(merged.len());
        for (a, b) in merged {
            if a <= self.frontier {
                if b > self.frontier {
                    self.frontier = b;
                }
            } else {
                rest.push((a, b));
            }
        }
        self.ranges = rest;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(secs: i64, id: &str) -> Position {
        Position {
            secs,
            id: id.into(),
        }
    }

    #[test]
    fn ranges_merge_into_the_frontier() {
        let mut c = Coverage::up_to(p(10, "a"));
        c.add(p(20, ""), p(30, "x"));
        c.add(p(40, ""), p(50, ""));
        assert!(c.contains(&p(10, "a")) && !c.contains(&p(10, "b")));
        assert!(c.contains(&p(25, "q")) && !c.contains(&p(20, "")) && c.contains(&p(20, "a")));
        assert!(!c.contains(&p(35, "")));
        c.add(p(10, "a"), p(20, ""));
        assert_eq!(c.frontier, p(30, "x"));
        assert_eq!(c.ranges, vec![(p(40, ""), p(50, ""))]);
        c.add(p(30, "x"), p(45, ""));
        assert_eq!(c, Coverage::up_to(p(50, "")));
    }
}
