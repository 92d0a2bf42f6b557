//! Which part of the chat export a stream has committed: a contiguous frontier plus ranges
//! beyond it that parallel slices have finished. Saved in the state so that a resumed sync
//! emits exactly what is missing.

use serde_json::{json, Value};

use super::cursor::{secs_to_iso, value_to_secs};

/// A position in the export order: (`update_timestamp` second, chat id). An empty id sorts
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

    /// True when any position from `first` to `last` (inclusive) is covered.
    pub fn overlaps(&self, first: &Position, last: &Position) -> bool {
        *first <= self.frontier || self.ranges.iter().any(|(a, b)| a < last && b >= first)
    }

    /// Adds `(after, through]` and merges what touches.
    pub fn add(&mut self, after: Position, through: Position) {
        if through > after {
            self.ranges.push((after, through));
        }
        self.normalize();
    }

    /// Adds everything another coverage holds.
    pub fn merge(&mut self, other: &Coverage) {
        if other.frontier > self.frontier {
            self.frontier = other.frontier.clone();
        }
        self.ranges.extend(other.ranges.iter().cloned());
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

    /// The stream state: `{"update_timestamp", "start_id"?, "done_ranges"?}`.
    pub fn to_state(&self) -> Value {
        let mut state = json!({ "update_timestamp": secs_to_iso(self.frontier.secs) });
        if !self.frontier.id.is_empty() {
            state["start_id"] = json!(self.frontier.id);
        }
        if !self.ranges.is_empty() {
            state["done_ranges"] = Value::Array(
                self.ranges
                    .iter()
                    .map(|(a, b)| {
                        json!({"after": secs_to_iso(a.secs), "after_id": a.id, "through": secs_to_iso(b.secs), "through_id": b.id})
                    })
                    .collect(),
            );
        }
        state
    }

    /// Reads the `done_ranges` of a saved state (ignores malformed entries: they only cost a
    /// re-read, never data).
    pub fn ranges_from_state(state: &Value) -> Vec<(Position, Position)> {
        let Some(items) = state.get("done_ranges").and_then(Value::as_array) else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|r| {
                let pos = |t: &str, i: &str| {
                    Some(Position {
                        secs: value_to_secs(r.get(t)?)?,
                        id: r.get(i).and_then(Value::as_str).unwrap_or("").to_owned(),
                    })
                };
                Some((pos("after", "after_id")?, pos("through", "through_id")?))
            })
            .collect()
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

    #[test]
    fn overlaps_any_covered_position() {
        let mut c = Coverage::up_to(p(10, "a"));
        c.add(p(20, ""), p(30, "x"));
        assert!(c.overlaps(&p(5, ""), &p(8, "")));
        assert!(c.overlaps(&p(10, "a"), &p(12, "")));
        assert!(!c.overlaps(&p(10, "b"), &p(20, "")));
        assert!(c.overlaps(&p(15, ""), &p(20, "a")));
        assert!(c.overlaps(&p(30, "x"), &p(40, "")));
        assert!(!c.overlaps(&p(30, "y"), &p(40, "")));
    }

    #[test]
    fn state_round_trip() {
        let mut c = Coverage::up_to(p(1_700_000_000, "id1"));
        c.add(p(1_700_001_000, ""), p(1_700_002_000, "z"));
        let s = c.to_state();
        assert_eq!(s["start_id"], "id1");
        let ranges = Coverage::ranges_from_state(&s);
        assert_eq!(ranges, c.ranges);
    }
}
